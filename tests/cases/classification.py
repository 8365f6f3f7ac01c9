import numpy as np

from . import Case


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
