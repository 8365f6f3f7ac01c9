"""Inputs for the pair losses: +-1 labels, values kept off the hinges."""

import numpy as np

from . import Case, away_from


def distances(margin: float = 1.0):
    def make(rng: np.random.Generator, n: int) -> dict:
        x = away_from(rng.uniform(0.0, 2.5, size=(n, 2)), [margin], gap=1e-2)
        return {"pred": x, "target": rng.choice([-1.0, 1.0], size=(n, 2))}

    return make


def ranked(margin: float = 0.0):
    def make(rng: np.random.Generator, n: int) -> dict:
        x2 = rng.normal(size=(n, 2))
        y = rng.choice([-1.0, 1.0], size=(n, 2))
        # -y (x1 - x2) + margin kept off 0
        z = away_from(rng.normal(size=(n, 2)), [0.0], gap=1e-2)
        return {"pred": x2 + y * (margin - z), "second": x2, "target": y}

    return make


CASES = {
    "hinge_embedding": [Case("margin 1", distances()), Case("margin 2", distances(2.0), {"margin": 2.0})],
    "margin_ranking": [Case("margin 0", ranked()), Case("margin 0.5", ranked(0.5), {"margin": 0.5})],
}
