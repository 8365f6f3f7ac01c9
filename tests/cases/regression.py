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


def positive(rng: np.random.Generator, n: int, zeros: bool = False) -> dict:
    pred = rng.uniform(0.5, 3.0, size=(n, 2))
    target = rng.uniform(0.2, 4.0, size=(n, 2))
    if zeros:
        target[::3] = 0.0
    return {"pred": pred, "target": target}


def counts(rng: np.random.Generator, n: int) -> dict:
    return {"pred": rng.normal(size=(n, 2)), "target": rng.poisson(2.0, size=(n, 2)).astype(float)}


def with_var(width: int):
    def make(rng: np.random.Generator, n: int) -> dict:
        d = residuals()(rng, n)
        d["var"] = rng.uniform(0.1, 2.0, size=(n, width))
        return d

    return make


def levels(rng: np.random.Generator, n: int) -> dict:
    target = rng.normal(size=(n, 1))
    pred = target + away_from(rng.normal(size=(n, 3)), [0.0])
    return {"pred": pred, "target": target}


CASES["quantile"].append(Case("three levels", levels, {"q": (0.1, 0.5, 0.9)}))
CASES.update({
    "msle": [Case("positive", positive), Case("near -1", lambda rng, n: {"pred": rng.uniform(-0.9, 1.0, size=(n, 2)),
                                                                          "target": rng.uniform(-0.9, 5.0, size=(n, 2))})],
    "mape": [Case("random", residuals())],
    "smape": [Case("random", residuals())],
    "poisson": [Case("log input", counts), Case("full", counts, {"full": True}),
                Case("rates", lambda rng, n: {**positive(rng, n, zeros=True)}, {"log_input": False})],
    "gaussian_nll": [Case("shared var", with_var(1)), Case("per column var full", with_var(2), {"full": True})],
    "tweedie": [Case("power 1.5", lambda rng, n: positive(rng, n, zeros=True)),
                Case("power 0", residuals(), {"power": 0.0}),
                Case("power 1", lambda rng, n: positive(rng, n, zeros=True), {"power": 1.0}),
                Case("power 2", positive, {"power": 2.0}), Case("power 3", positive, {"power": 3.0}),
                Case("power -1", positive, {"power": -1.0})],
})
