import numpy as np

from . import Case, away_from


def residuals(scale: float = 1.0, kinks=(0.0,)):
    def make(rng: np.random.Generator, n: int) -> dict:
        target = rng.normal(size=(n, 2)) * scale
        r = away_from(rng.normal(size=(n, 2)) * 2 * scale, [k * s for k in kinks for s in (1, -1)])
        return {"pred": target + r, "target": target}

    return make


CASES = {
    "mse": [Case("random", residuals())],
    "rmse": [Case("random", residuals())],
    "mae": [Case("random", residuals())],
    "huber": [Case("delta 1", residuals(kinks=(0.0, 1.0))), Case("delta 0.3", residuals(kinks=(0.0, 0.3)), {"delta": 0.3})],
    "smooth_l1": [Case("beta 1", residuals(kinks=(0.0, 1.0))), Case("beta 0.5", residuals(kinks=(0.0, 0.5)), {"beta": 0.5}),
                  Case("beta 0", residuals(), {"beta": 0.0})],
    "log_cosh": [Case("random", residuals()), Case("large", residuals(scale=1e3))],
    "quantile": [Case("median", residuals()), Case("q 0.9", residuals(), {"q": 0.9})],
}
