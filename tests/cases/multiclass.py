import numpy as np

from . import Case, away_from

K = 4


def logits_index(k: int = K, ignore: bool = False):
    def make(rng: np.random.Generator, n: int) -> dict:
        target = rng.integers(0, k, size=n).astype(float)
        if ignore:  # every third row (never the first) is ignored
            target[2::3] = -100.0
        return {"pred": rng.normal(size=(n, k)) * 2.0, "target": target}

    return make


def logits_soft(k: int = K):
    def make(rng: np.random.Generator, n: int) -> dict:
        return {"pred": rng.normal(size=(n, k)) * 2.0, "target": rng.dirichlet(np.ones(k), size=n)}

    return make


def probs(k: int = K, target: str = "soft", floor: float = 0.02):
    """Probability predictions kept >= floor, so finite differences of 1e-6 stay inside (0, 1)."""
    def make(rng: np.random.Generator, n: int) -> dict:
        p = rng.dirichlet(np.ones(k) * 2.0, size=n) * (1 - k * floor) + floor
        if target == "index":
            t = rng.integers(0, k, size=n).astype(float)
        else:
            t = rng.dirichlet(np.ones(k), size=n)
        return {"pred": p, "target": t}

    return make


def log_probs(k: int = K):
    def make(rng: np.random.Generator, n: int) -> dict:
        x = rng.normal(size=(n, k))
        logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        return {"pred": logp, "target": rng.integers(0, k, size=n).astype(float)}

    return make


def margin_scores(margin: float = 1.0, k: int = K):
    """Scores whose hinge arguments z_j = margin - x_y + x_j stay away from 0 (the kink)."""
    def make(rng: np.random.Generator, n: int) -> dict:
        y = rng.integers(0, k, size=n)
        rows = np.arange(n)
        xy = rng.normal(size=n)
        z = away_from(rng.normal(size=(n, k)), [0.0], gap=0.05)
        x = z + xy[:, None] - margin
        x[rows, y] = xy
        return {"pred": x, "target": y.astype(float)}

    return make


def binary_probs():
    def make(rng: np.random.Generator, n: int) -> dict:
        return {"pred": rng.uniform(0.05, 0.95, size=(n, 1)), "target": rng.integers(0, 2, size=n).astype(float)}

    return make


CASES = {
    "cross_entropy": [
        Case("index", logits_index()),
        Case("soft targets", logits_soft()),
        Case("smoothing + weight", logits_index(), {"label_smoothing": 0.1, "weight": (1.0, 2.0, 0.5, 3.0)}),
        Case("ignore_index", logits_index(ignore=True), {"weight": (1.0, 2.0, 0.5, 3.0), "label_smoothing": 0.2}),
        Case("soft + smoothing + weight", logits_soft(), {"label_smoothing": 0.3, "weight": (0.5, 1.0, 2.0, 1.5)}),
        Case("probabilities", probs(), {"from_logits": False}),
        Case("probabilities, index", probs(target="index"), {"from_logits": False, "label_smoothing": 0.1}),
        Case("keras probabilities", probs(), {"from_logits": False, "compat": "keras"}),
    ],
    "nll": [
        Case("plain", log_probs()),
        Case("weight", log_probs(), {"weight": (1.0, 2.0, 0.5, 3.0)}),
    ],
    "kl_div": [Case("random", probs())],
    "multi_margin": [
        Case("p 1", margin_scores()),
        Case("p 2 margin 0.5", margin_scores(0.5), {"p": 2, "margin": 0.5}),
        Case("weight", margin_scores(), {"weight": (1.0, 2.0, 0.5, 3.0)}),
    ],
    "poly1": [
        Case("index", logits_index()),
        Case("soft, epsilon -0.5", logits_soft(), {"epsilon": -0.5}),
    ],
    "focal_ce": [
        Case("index", logits_index()),
        Case("soft, gamma 0.5, alpha", logits_soft(), {"gamma": 0.5, "alpha": (0.25, 0.5, 0.75, 1.0)}),
        Case("gamma 0", logits_index(), {"gamma": 0.0}),
    ],
    "brier": [
        Case("multi-class index", probs(target="index")),
        Case("soft", probs()),
        Case("binary one column", binary_probs()),
        Case("binary, no half", binary_probs(), {"scale_by_half": "false"}),
        Case("two columns", probs(k=2, target="index")),
    ],
    "js_div": [Case("random", probs())],
    "hellinger": [Case("random", probs())],
}
