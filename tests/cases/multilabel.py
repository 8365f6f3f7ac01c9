"""Inputs for the multi-label losses: 4 labels per row, multi-hot targets, scores off the kinks and ties."""

import numpy as np

from . import Case, away_from

C = 4


def multi_hot(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.random((n, C)) < 0.4).astype(float)


def logits(rng: np.random.Generator, n: int) -> dict:
    return {"pred": rng.normal(size=(n, C)) * 3, "target": multi_hot(rng, n)}


def soft(rng: np.random.Generator, n: int) -> dict:
    return {"pred": rng.normal(size=(n, C)) * 3, "target": rng.uniform(size=(n, C))}


def separated(rng: np.random.Generator, n: int) -> dict:
    """Scores whose pairwise gaps stay away from 1 (the hinge) and from 0 (ties of the rankings)."""
    x = np.zeros((n, C))
    for j in range(C):
        x[:, j] = rng.normal(size=n) * 2
        for k in range(j):
            gap = x[:, j] - x[:, k]
            x[:, j] = x[:, k] + away_from(gap, [-1.0, 0.0, 1.0], gap=0.02)
    return {"pred": x, "target": multi_hot(rng, n)}


def probabilities(threshold: float = 0.5):
    def make(rng: np.random.Generator, n: int) -> dict:
        return {"pred": away_from(rng.uniform(size=(n, C)), [threshold], gap=0.01), "target": multi_hot(rng, n)}

    return make


CASES = {
    "multilabel_soft_margin": [Case("multi-hot", logits), Case("soft, weight", soft, {"weight": (1.0, 2.0, 0.5, 0.0)})],
    "multilabel_margin": [Case("separated", separated)],
    "hamming": [Case("probabilities", probabilities()), Case("threshold 0.3", probabilities(0.3), {"threshold": 0.3})],
    "label_ranking": [Case("separated", separated)],
    "coverage_error": [Case("separated", separated)],
}
