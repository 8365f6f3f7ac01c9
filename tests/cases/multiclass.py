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


def crammer_singer(margin: float = 1.0, k: int = K):
    """Scores whose hinge max(0, margin + max rival - x_y) and leading rival stay away from their switches."""
    def make(rng: np.random.Generator, n: int) -> dict:
        y = rng.integers(0, k, size=n)
        x = rng.normal(size=(n, k)) * 2.0
        rows = np.arange(n)
        x[rows, y] = -np.inf
        order = np.sort(x, axis=1)
        # keep the best rival at least 0.05 above the second best, and the hinge at least 0.05 from 0
        x[rows, np.argmax(x, axis=1)] = np.maximum(order[:, -1], order[:, -2] + 0.05)
        best = x.max(axis=1)
        z = away_from(rng.normal(size=n), [0.0], gap=0.05)
        x[rows, y] = best + margin - z
        return {"pred": x, "target": y.astype(float)}

    return make


def keras_hinge(rng: np.random.Generator, n: int) -> dict:
    d = crammer_singer()(rng, n)
    d["pred"] = d["pred"] + 3.0  # keep the rivals' scores positive, away from Keras' (1 - t) x = 0 entry
    d["target"] = np.eye(K)[d["target"].astype(int)]
    return d


def distinct_scores(rng: np.random.Generator, n: int) -> dict:
    """Scores whose largest entry leads the second by at least 0.05 (the perceptron's argmax switch)."""
    x = rng.normal(size=(n, K)) * 2.0
    rows = np.arange(n)
    top = np.argmax(x, axis=1)
    second = np.sort(x, axis=1)[:, -2]
    x[rows, top] = np.maximum(x[rows, top], second + 0.05)
    return {"pred": x, "target": rng.integers(0, K, size=n).astype(float)}


def sparse_scores(rng: np.random.Generator, n: int) -> dict:
    """Scores whose sparsemax support does not change under a step of 1e-6 (gaps from the threshold >= 1e-3)."""
    from losscli.catalogue.multiclass import sparsemax_probabilities

    x = rng.normal(size=(n, K)) * 0.8
    p = sparsemax_probabilities(x)
    tau = (x - x.max(axis=1, keepdims=True))[p > 0] - p[p > 0]
    near = np.abs(x - x.max(axis=1, keepdims=True) - np.median(tau)) < 1e-3
    x[near] += 0.01
    return {"pred": x, "target": rng.integers(0, K, size=n).astype(float)}


def ordered(target: str = "soft"):
    """Distributions whose cumulative sums never tie (the kinks of wasserstein_1d and total_variation)."""
    def make(rng: np.random.Generator, n: int) -> dict:
        p = rng.dirichlet(np.ones(K) * 2.0, size=n) * (1 - K * 0.02) + 0.02
        if target == "index":
            y = rng.integers(0, K, size=n).astype(float)
            return {"pred": p, "target": y}
        q = rng.dirichlet(np.ones(K), size=n)
        q = np.where(np.abs(p - q) < 1e-3, q + 2e-3, q)
        q = q / q.sum(axis=1, keepdims=True)
        return {"pred": p, "target": q}

    return make


def measures(rng: np.random.Generator, n: int) -> dict:
    t = rng.gamma(2.0, size=(n, K))
    t[rng.random((n, K)) < 0.2] = 0.0  # exact zeros: 0 log 0 = 0
    return {"pred": rng.normal(size=(n, K)), "target": t}


def ranked(k: int):
    """Scores where no score sits within 1e-3 of the target's (top_k_error jumps where they swap)."""
    def make(rng: np.random.Generator, n: int) -> dict:
        d = distinct_scores(rng, n)
        own = d["pred"][np.arange(n), d["target"].astype(int)][:, None]
        d["pred"] = np.where((np.abs(d["pred"] - own) < 1e-3) & (d["pred"] != own), d["pred"] + 0.01, d["pred"])
        return d

    return make


CASES.update({
    "multiclass_hinge": [Case("random", crammer_singer())],
    "categorical_hinge": [Case("one-hot", keras_hinge), Case("index", crammer_singer())],
    "multiclass_perceptron": [Case("random", distinct_scores)],
    "multiclass_sparsemax": [Case("random", sparse_scores)],
    "generalized_ce": [Case("q 0.5", probs(target="index")), Case("q 0.1", probs(target="index"), {"q": 0.1}),
                       Case("q 1", probs(target="index"), {"q": 1.0})],
    "top_k_error": [Case("k 2", ranked(2)), Case("k 1", ranked(1), {"k": 1})],
    "generalized_kl": [Case("measures", measures)],
    "total_variation": [Case("soft", ordered()), Case("index", ordered("index"))],
    "wasserstein_1d": [Case("soft", ordered()), Case("index", ordered("index"))],
})


def ordinal(target: str = "index"):
    def make(rng: np.random.Generator, n: int) -> dict:
        p = rng.dirichlet(np.ones(K) * 2.0, size=n)
        y = rng.integers(0, K, size=n)
        return {"pred": p, "target": y.astype(float) if target == "index" else np.eye(K)[y]}

    return make


CASES["weighted_kappa"] = [Case("quadratic, index", ordinal()), Case("linear, one-hot", ordinal("onehot"), {"weightage": "linear"})]
