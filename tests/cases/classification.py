import numpy as np

from . import Case, away_from


def probabilities(soft: bool = False):
    def make(rng: np.random.Generator, n: int) -> dict:
        target = rng.uniform(0, 1, size=(n, 2)) if soft else (rng.random((n, 2)) < 0.4).astype(float)
        return {"pred": rng.uniform(0.05, 0.95, size=(n, 2)), "target": target}

    return make


def logits(soft: bool = False, scale: float = 3.0):
    def make(rng: np.random.Generator, n: int) -> dict:
        target = rng.uniform(0, 1, size=(n, 2)) if soft else (rng.random((n, 2)) < 0.4).astype(float)
        return {"pred": rng.normal(size=(n, 2)) * scale, "target": target}

    return make


def iou_scores(rng: np.random.Generator, n: int) -> dict:
    q = np.where(rng.random((n, 2)) < 0.5, 0.0, rng.uniform(0.1, 1.0, size=(n, 2)))
    return {"pred": rng.normal(size=(n, 2)) * 3, "target": q}


CASES = {
    "bce": [Case("hard", probabilities()), Case("soft", probabilities(soft=True)),
            Case("keras", probabilities(), {"compat": "keras"}), Case("sklearn", probabilities(), {"compat": "sklearn"})],
    "bce_logits": [Case("hard", logits()), Case("soft", logits(soft=True)), Case("pos_weight", logits(), {"pos_weight": 3.0})],
    "focal": [Case("default", logits()), Case("soft", logits(soft=True)), Case("gamma 0.5", logits(), {"gamma": 0.5}),
              Case("no alpha", logits(), {"alpha": -1.0, "gamma": 1.5}), Case("gamma 0", logits(), {"gamma": 0.0}),
              Case("keras", logits(), {"compat": "keras"}), Case("ultralytics alpha 0", logits(), {"compat": "ultralytics", "alpha": 0.0})],
    "varifocal": [Case("default", iou_scores), Case("alpha gamma", iou_scores, {"alpha": 0.5, "gamma": 1.5})],
}


def raw_scores(soft: bool = False):
    def make(rng: np.random.Generator, n: int) -> dict:
        target = rng.uniform(0, 1, size=(n, 2)) if soft else (rng.random((n, 2)) < 0.4).astype(float)
        return {"pred": rng.normal(size=(n, 2)) * 1.5, "target": target}

    return make


def thresholded(from_logits: bool = False, threshold: float = 0.5, columns: int = 1):
    """Predictions kept 0.01 away from the threshold, where zero_one jumps."""
    def make(rng: np.random.Generator, n: int) -> dict:
        pred = rng.normal(size=(n, columns)) * 2 if from_logits else rng.uniform(0, 1, size=(n, columns))
        pred = away_from(pred, [threshold], gap=0.01)
        return {"pred": pred, "target": (rng.random((n, columns)) < 0.5).astype(float)}

    return make


def sparse_logits(rng: np.random.Generator, n: int) -> dict:
    # sparse_plus has kinks at z = -1 and z = 1 (z = +-x)
    x = away_from(rng.normal(size=(n, 2)) * 1.5, [-1.0, 1.0], gap=1e-2)
    return {"pred": x, "target": (rng.random((n, 2)) < 0.5).astype(float)}


CASES.update({
    "exponential": [Case("hard", raw_scores()), Case("soft", raw_scores(soft=True))],
    "zero_one": [Case("probabilities", thresholded()), Case("logits, 3 labels", thresholded(True, 0.0, 3), {"from_logits": True}),
                 Case("threshold 0.3", thresholded(threshold=0.3, columns=2), {"threshold": 0.3})],
    "sparsemax": [Case("random", sparse_logits)],
})
