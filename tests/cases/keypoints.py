"""Inputs for the keypoint loss: 3 keypoints per object (x, y interleaved), some unlabelled."""

import numpy as np

from . import Case

K = 3


def objects(k: int = K):
    def make(rng: np.random.Generator, n: int) -> dict:
        target = rng.uniform(0, 100, size=(n, 2 * k))
        visibility = rng.choice([0.0, 1.0, 2.0], size=(n, k), p=[0.2, 0.3, 0.5])
        return {"pred": target + rng.normal(size=(n, 2 * k)) * 3, "target": target, "visibility": visibility,
                "area": rng.uniform(20, 400, size=n)}

    return make


CASES = {
    "oks": [Case("1/K sigmas", objects()), Case("own sigmas", objects(), {"sigmas": (0.05, 0.1, 0.5)}),
            Case("17 COCO keypoints", objects(17))],
}
