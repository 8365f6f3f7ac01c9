import numpy as np

from . import Case, away_from


def scores(labels=(-1.0, 1.0), margin: float = 1.0):
    def make(rng: np.random.Generator, n: int) -> dict:
        target = rng.choice(labels, size=(n, 2))
        y = np.where(target == 0, -1.0, target)
        # keep y s away from the margin, where hinge has its kink
        ys = away_from(rng.normal(size=(n, 2)) * 2, [margin], gap=1e-2)
        return {"pred": ys * y, "target": target}

    return make


CASES = {
    "hinge": [Case("signed", scores()), Case("binary", scores((0.0, 1.0))), Case("margin 2", scores(margin=2.0), {"margin": 2.0})],
    "squared_hinge": [Case("signed", scores()), Case("margin 0.5", scores(margin=0.5), {"margin": 0.5})],
    "soft_margin": [Case("signed", scores()), Case("binary", scores((0.0, 1.0)))],
}

CASES["perceptron"] = [Case("signed", scores(margin=0.0)), Case("binary", scores((0.0, 1.0), margin=0.0))]
