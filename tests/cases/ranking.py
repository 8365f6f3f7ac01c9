"""Inputs for the learning-to-rank losses: a score and a graded relevance per row, rows in a few queries."""

import numpy as np

from . import QUERY, Case


def lists(grades: int = 4, queries: int | None = None, spread: float = 1.0):
    def make(rng: np.random.Generator, n: int) -> dict:
        k = queries or max(1, n // 5)
        return {"pred": rng.normal(size=n) * spread, "target": rng.integers(0, grades, size=n).astype(float),
                QUERY: rng.integers(0, k, size=n)}

    return make


def soft_labels(rng: np.random.Generator, n: int) -> dict:
    return {"pred": rng.normal(size=n), "target": rng.uniform(0.0, 2.0, size=n), QUERY: rng.integers(0, max(1, n // 4), size=n)}


CASES = {
    "ranking_softmax": [Case("graded", lists()), Case("soft grades, one query", soft_labels),
                        Case("large scores", lists(spread=30.0))],
    "pairwise_logistic": [Case("graded", lists()), Case("sigma 2.5", lists(grades=6), {"sigma": 2.5})],
    "lambdarank": [Case("graded, k 30", lists()), Case("k 3, sigma 0.5", lists(grades=5), {"k": 3, "sigma": 0.5}),
                   Case("binary, k 1", lists(grades=2), {"k": 1})],
    "ndcg_loss": [Case("all positions", lists()), Case("k 3", lists(grades=5), {"k": 3})],
}
