"""Regression losses against torch (values and autograd) and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from .harness import assert_matches_torch, ours

rng = np.random.default_rng(42)


def data(kind: str, n: int = 50, width: int = 2) -> dict:
    if kind == "random":
        target = rng.normal(size=(n, width))
        return {"pred": target + rng.normal(size=(n, width)), "target": target}
    if kind == "huge":  # residuals of 1e6 and more
        target = rng.normal(size=(n, width)) * 1e6
        return {"pred": target + rng.normal(size=(n, width)) * 1e6, "target": target}
    if kind == "tiny":
        target = rng.normal(size=(n, width))
        return {"pred": target + rng.normal(size=(n, width)) * 1e-9, "target": target}
    if kind == "single":
        return {"pred": np.array([[3.5]]), "target": np.array([[-1.25]])}
    raise ValueError(kind)


KINDS = ["random", "huge", "tiny", "single"]


def torch_log_cosh(pred, target):
    # log cosh r = logaddexp(r, -r) - log 2, exact for large r; its Taylor series
    # r^2/2 - r^4/12 + r^6/45 where that form would cancel (|r| < 1e-3).
    r = pred - target
    series = r**2 / 2 - r**4 / 12 + r**6 / 45
    return torch.where(r.abs() < 1e-3, series, torch.logaddexp(r, -r) - math.log(2.0)).mean()


def torch_pinball(q):
    def fn(pred, target):
        r = target - pred
        return torch.maximum(q * r, (q - 1) * r).mean()

    return fn


CASES = [
    ("mse", {}, lambda pred, target: F.mse_loss(pred, target)),
    ("rmse", {}, lambda pred, target: torch.sqrt(F.mse_loss(pred, target))),
    ("mae", {}, lambda pred, target: F.l1_loss(pred, target)),
    ("huber", {}, lambda pred, target: F.huber_loss(pred, target)),
    ("huber", {"delta": 0.3}, lambda pred, target: F.huber_loss(pred, target, delta=0.3)),
    ("huber", {"delta": 2.5}, lambda pred, target: F.huber_loss(pred, target, delta=2.5)),
    ("smooth_l1", {}, lambda pred, target: F.smooth_l1_loss(pred, target)),
    ("smooth_l1", {"beta": 0.2}, lambda pred, target: F.smooth_l1_loss(pred, target, beta=0.2)),
    ("smooth_l1", {"beta": 0.0}, lambda pred, target: F.smooth_l1_loss(pred, target, beta=0.0)),
    ("log_cosh", {}, torch_log_cosh),
    ("quantile", {}, torch_pinball(0.5)),
    ("quantile", {"q": 0.1}, torch_pinball(0.1)),
    ("quantile", {"q": 0.95}, torch_pinball(0.95)),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name,params,fn", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_matches_torch(name, params, fn, kind):
    assert_matches_torch(name, params, data(kind), fn)


@pytest.mark.parametrize("name,params,fn", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_sum_reduction_matches_torch(name, params, fn):
    arrays = data("random")
    if name == "rmse":  # the root of the summed squares
        ref = lambda pred, target: torch.sqrt(F.mse_loss(pred, target, reduction="sum"))  # noqa: E731
    else:
        n = arrays["pred"].size
        ref = lambda pred, target: fn(pred, target) * n  # noqa: E731  mean * count = sum
    assert_matches_torch(name, params, arrays, ref, reduction="sum")


def test_weighted_mean_is_sum_w_l_over_sum_w():
    arrays = data("random", n=30, width=1)
    w = rng.uniform(0, 2, size=30)

    def ref(pred, target):
        wt = torch.tensor(w)[:, None]
        return (wt * (pred - target) ** 2).sum() / wt.sum()

    assert_matches_torch("mse", {}, arrays, ref, weight=w)


def test_log_cosh_does_not_overflow_where_cosh_does():
    # cosh(1e4) is inf in float64; log cosh(1e4) = 1e4 - log 2
    value, grad = ours("log_cosh", {}, {"pred": [[1e4], [-1e6]], "target": [[0.0], [0.0]]})
    assert value == pytest.approx(((1e4 - math.log(2)) + (1e6 - math.log(2))) / 2, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.5], [-0.5]])


def test_quantile_matches_sklearn_mean_pinball_loss():
    from sklearn.metrics import mean_pinball_loss

    arrays = data("random", width=1)
    for q in (0.05, 0.5, 0.8):
        ref = mean_pinball_loss(arrays["target"][:, 0], arrays["pred"][:, 0], alpha=q)
        value, _ = ours("quantile", {"q": q}, arrays)
        assert value == pytest.approx(ref, rel=1e-12)


def test_rmse_gradient_at_zero_error_is_zero():
    value, grad = ours("rmse", {}, {"pred": [[1.0], [2.0]], "target": [[1.0], [2.0]]})
    assert value == 0.0 and np.all(grad == 0.0)


def test_million_rows_match_torch_value():
    big = {"pred": rng.normal(size=(1_000_000, 1)), "target": rng.normal(size=(1_000_000, 1))}
    t = {k: torch.tensor(v) for k, v in big.items()}
    for name, fn in [("mse", F.mse_loss), ("huber", F.huber_loss), ("mae", F.l1_loss)]:
        value, _ = ours(name, {}, big)
        assert value == pytest.approx(fn(t["pred"], t["target"]).item(), rel=1e-9)
