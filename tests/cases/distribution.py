import numpy as np

from . import Case


def bins(k: int = 16):
    def make(rng: np.random.Generator, n: int) -> dict:
        # positions across the whole range, a few beyond it (clamped to [0, k - 1.01])
        return {"pred": rng.normal(size=(n, k)) * 2.0, "target": rng.uniform(-0.5, k + 0.5, size=n)}

    return make


CASES = {
    "dfl": [Case("reg_max 16", bins()), Case("two bins", bins(2))],
}
