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


def away_from_zero_pred(rng: np.random.Generator, n: int) -> dict:
    # smape has kinks at p = y and at p = 0 (and is discontinuous at p = y = 0): keep central differences off both
    d = residuals()(rng, n)
    d["pred"] = away_from(d["pred"], [0.0], gap=1e-2)
    d["pred"] = d["target"] + away_from(d["pred"] - d["target"], [0.0], gap=1e-2)
    return d


def negative_targets(rng: np.random.Generator, n: int) -> dict:
    # power < 0 needs only mu > 0; y may be any real (sklearn), so half of the targets are negative
    d = positive(rng, n)
    d["target"][::2] *= -1.0
    return d


CASES["quantile"].append(Case("three levels", levels, {"q": (0.1, 0.5, 0.9)}))
CASES.update({
    "msle": [Case("positive", positive), Case("near -1", lambda rng, n: {"pred": rng.uniform(-0.9, 1.0, size=(n, 2)),
                                                                          "target": rng.uniform(-0.9, 5.0, size=(n, 2))})],
    "mape": [Case("random", residuals())],
    "smape": [Case("random", away_from_zero_pred)],
    "poisson": [Case("log input", counts), Case("full", counts, {"full": True}),
                Case("rates", lambda rng, n: {**positive(rng, n, zeros=True)}, {"log_input": False}),
                Case("rates eps 0.1 full", lambda rng, n: {**positive(rng, n, zeros=True)},
                     {"log_input": False, "eps": 0.1, "full": True})],
    "gaussian_nll": [Case("shared var", with_var(1)), Case("per column var full", with_var(2), {"full": True}),
                     # eps=0.5 clamps about a fifth of the variances (uniform on [0.1, 2])
                     Case("eps clamps", with_var(2), {"eps": 0.5})],
    "tweedie": [Case("power 1.5", lambda rng, n: positive(rng, n, zeros=True)),
                Case("power 0", residuals(), {"power": 0.0}),
                Case("power 1", lambda rng, n: positive(rng, n, zeros=True), {"power": 1.0}),
                Case("power 2", positive, {"power": 2.0}), Case("power 3", positive, {"power": 3.0}),
                Case("power -1", negative_targets, {"power": -1.0}),
                Case("power 1.2", lambda rng, n: positive(rng, n, zeros=True), {"power": 1.2}),
                Case("power 2.5", positive, {"power": 2.5})],
})


def wide_residuals(rng: np.random.Generator, n: int) -> dict:
    # residuals on both sides of w = 10 (wing's switch), kept off it and off 0
    target = rng.normal(size=(n, 2))
    r = away_from(rng.normal(size=(n, 2)) * 12.0, [0.0, 10.0, -10.0], gap=1e-2)
    return {"pred": target + r, "target": target}


CASES.update({
    "wing": [Case("default w 10", wide_residuals), Case("w 1 epsilon 0.5", residuals(kinks=(0.0, 1.0)),
                                                      {"w": 1.0, "epsilon": 0.5})],
    "student_t_nll": [Case("cauchy", residuals()), Case("df 4 scale 0.5", residuals(scale=3.0), {"df": 4.0, "scale": 0.5}),
                      Case("large residuals", residuals(scale=1e6), {"df": 2.5})],
})


def distinct_residuals(rng: np.random.Generator, n: int) -> dict:
    # order statistics move with the selected element only: keep |r| apart (no ties, no sign changes)
    target = rng.normal(size=(n, 2))
    size = rng.permutation(n * 2).reshape(n, 2) * 0.37 + 0.5 + rng.uniform(0, 0.05, size=(n, 2))
    return {"pred": target + size * rng.choice([-1.0, 1.0], size=(n, 2)), "target": target}


CASES.update({
    "max_error": [Case("distinct", distinct_residuals)],
    "median_absolute_error": [Case("distinct", distinct_residuals)],
})
