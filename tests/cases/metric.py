"""Inputs for the in-batch metric-learning losses: embeddings and class labels, rows in a few batches."""

import numpy as np

from . import QUERY, Case


def batches(d: int = 3, classes: int = 3, unit: bool = False, scale: float = 1.0):
    def make(rng: np.random.Generator, n: int) -> dict:
        x = rng.normal(size=(n, d)) * scale
        if unit:
            x *= scale / np.linalg.norm(x, axis=1, keepdims=True)
        return {"pred": x, "label": rng.integers(0, classes, size=n).astype(float),
                QUERY: rng.integers(0, max(1, n // 8), size=n)}

    return make


def pairs(d: int = 3, classes: int = 4):
    def make(rng: np.random.Generator, n: int) -> dict:
        a = rng.normal(size=(n, d)) * 0.7
        return {"anchor": a, "positive": a + 0.3 * rng.normal(size=(n, d)),
                "label": rng.integers(0, classes, size=n).astype(float), QUERY: rng.integers(0, max(1, n // 6), size=n)}

    return make


CASES = {
    "triplet_hard": [Case("squared euclidean", batches()), Case("euclidean, margin 0.3", batches(), {"distance": "euclidean", "margin": 0.3}),
                     Case("angular, soft", batches(d=4), {"distance": "angular", "soft": True})],
    "triplet_semihard": [Case("squared euclidean", batches()),
                         Case("euclidean, margin 0.5", batches(d=4), {"distance": "euclidean", "margin": 0.5}),
                         Case("angular", batches(), {"distance": "angular", "margin": 0.2})],
    "ntxent": [Case("temperature 0.07", batches()), Case("temperature 0.5, 2 classes", batches(classes=2), {"temperature": 0.5})],
    "npairs": [Case("random pairs", pairs())],
    "circle": [Case("unit embeddings", batches(unit=True)),
               # norms of 0.9 keep the self-pairs off the kink of D = max(1 - x.x, 0) at |x| = 1
               Case("gamma 4, margin 0.25, diagonal kept", batches(d=4, unit=True, scale=0.9),
                    {"gamma": 4.0, "margin": 0.25, "remove_diagonal": False})],
}
