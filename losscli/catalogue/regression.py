"""Regression losses: elementwise over every prediction column, residual r = pred - target."""

from __future__ import annotations

import numpy as np

from .base import Explain, Loss, Param, pred_role, target_role

PRED = pred_role("predicted values (real numbers)")
TARGET = target_role("true values, one column per prediction column")


def squared_error(pred, target):
    """(p - y)^2, as torch MSELoss elementwise."""
    return (pred - target) ** 2


def squared_error_grad(pred, target):
    return 2.0 * (pred - target)


def absolute_error(pred, target):
    """|p - y|, as torch L1Loss elementwise."""
    return np.abs(pred - target)


def absolute_error_grad(pred, target):
    # torch takes sign(0) = 0, the subgradient at a perfect prediction.
    return np.sign(pred - target)


def huber(pred, target, *, delta=1.0):
    """0.5 r^2 where |r| <= delta, else delta (|r| - 0.5 delta); torch HuberLoss."""
    a = np.abs(pred - target)
    return np.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))


def huber_grad(pred, target, *, delta=1.0):
    return np.clip(pred - target, -delta, delta)


def smooth_l1(pred, target, *, beta=1.0):
    """0.5 r^2 / beta where |r| < beta, else |r| - 0.5 beta; torch SmoothL1Loss (beta 0 is L1)."""
    a = np.abs(pred - target)
    if beta == 0.0:
        return a
    return np.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)


def smooth_l1_grad(pred, target, *, beta=1.0):
    r = pred - target
    if beta == 0.0:
        return np.sign(r)
    return np.where(np.abs(r) < beta, r / beta, np.sign(r))


def log_cosh(pred, target):
    """log(cosh(r)), accurate from residuals of 1e-9 to 1e6 and beyond.

    cosh overflows float64 beyond |r| ~ 710, and log(cosh r) loses every digit to
    cancellation for tiny r. Two exact rewrites cover both ends:
    log1p(2 sinh^2(r/2)) for |r| <= 20 (cosh r - 1 = 2 sinh^2(r/2) has no cancellation),
    |r| + log1p(exp(-2|r|)) - log 2 beyond (only exponentiates -2|r| <= 0).
    """
    a = np.abs(pred - target)
    small = np.minimum(a, 20.0)
    near = np.log1p(2.0 * np.sinh(0.5 * small) ** 2)
    far = a + np.log1p(np.exp(-2.0 * a)) - np.log(2.0)
    return np.where(a <= 20.0, near, far)


def log_cosh_grad(pred, target):
    return np.tanh(pred - target)


def pinball(pred, target, *, q=0.5):
    """q max(y - p, 0) + (1 - q) max(p - y, 0); sklearn mean_pinball_loss with alpha=q."""
    r = target - pred
    return np.maximum(q * r, (q - 1.0) * r)


def pinball_grad(pred, target, *, q=0.5):
    # At r = 0 the subgradient 0 is taken, as torch does for |r|.
    r = target - pred
    return np.where(r > 0, -q, np.where(r < 0, 1.0 - q, 0.0))


_RESIDUAL = "pred and target are real numbers, one target column per prediction column; the loss is elementwise and the mean runs over all elements."

MSE = Loss(
    name="mse", family="regression", summary="Mean squared error.",
    formula="mean (p - y)^2",
    inputs=(PRED, TARGET), value=squared_error, grad=squared_error_grad,
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="2 (p - y) per element, divided by the number of elements for the mean.",
        use="The default for regression when errors are roughly Gaussian and outliers are rare; it estimates the conditional mean.",
        avoid="Data with heavy-tailed errors or outliers: one residual of 1e3 outweighs a million residuals of 1. Use huber, log_cosh or robust there.",
        relations="rmse is its square root, in the target's units. huber and smooth_l1 equal half of it for small residuals; robust with alpha=2 is half of it on (x/c).",
        reference="torch.nn.MSELoss; sklearn.metrics.mean_squared_error.",
    ),
)

RMSE = Loss(
    name="rmse", family="regression", summary="Root mean squared error.",
    formula="sqrt(mean (p - y)^2)",
    inputs=(PRED, TARGET), value=squared_error, grad=squared_error_grad, finish="sqrt",
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="(p - y) / (N * rmse) per element, N the number of elements; taken as 0 when every residual is 0 (the square root has no derivative there).",
        use="Reporting: it is in the target's units, so it reads as a typical error size.",
        avoid="As a sum: with --reduction sum it is the root of the summed squares, the Euclidean norm of the residuals.",
        relations="The square root of mse. The weighted form is sqrt(sum w r^2 / sum w).",
        reference="sklearn.metrics.root_mean_squared_error.",
    ),
)

MAE = Loss(
    name="mae", family="regression", summary="Mean absolute error (L1).",
    formula="mean |p - y|",
    inputs=(PRED, TARGET), value=absolute_error, grad=absolute_error_grad,
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="sign(p - y) per element, 0 where p = y (the subgradient torch uses).",
        use="Robust regression that estimates the conditional median; every unit of error costs the same.",
        avoid="When you need a smooth gradient near zero error: it jumps from -1 to 1. huber or log_cosh are smooth there.",
        relations="quantile with q=0.5 is exactly half of it. smooth_l1 with beta=0 equals it.",
        reference="torch.nn.L1Loss; sklearn.metrics.mean_absolute_error.",
    ),
)

HUBER = Loss(
    name="huber", family="regression", summary="Huber loss: quadratic near zero, linear beyond delta.",
    formula="0.5 r^2 if |r| <= delta else delta (|r| - delta/2)",
    inputs=(PRED, TARGET), value=huber, grad=huber_grad,
    params=(Param("delta", 1.0, "where the quadratic part ends and the linear part begins", low=0.0, low_open=True),),
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="r clipped to [-delta, delta]: outliers pull with at most delta.",
        use="Regression with some outliers: squared error for the bulk, absolute error for the tails.",
        avoid="When the outlier threshold is unknown and varies between targets; a robust loss with a learned scale may fit better.",
        relations="huber(delta) = delta * smooth_l1(beta=delta). For delta=1 the two coincide. Behaves like mse/2 for small r and like delta*mae for large r.",
        reference="Huber (1964), Robust Estimation of a Location Parameter; torch.nn.HuberLoss.",
    ),
)

SMOOTH_L1 = Loss(
    name="smooth_l1", family="regression", summary="Smooth L1: Huber divided by beta (Fast R-CNN's box loss).",
    formula="0.5 r^2 / beta if |r| < beta else |r| - beta/2",
    inputs=(PRED, TARGET), value=smooth_l1, grad=smooth_l1_grad,
    params=(Param("beta", 1.0, "where the quadratic part ends; 0 gives plain L1", low=0.0),),
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="r / beta inside the quadratic zone, sign(r) outside: the slope of large errors is always 1.",
        use="Box regression and other tasks where large errors should all pull with the same force.",
        avoid="If you want the quadratic zone to keep mse's scale; use huber, whose quadratic part does not depend on delta.",
        relations="smooth_l1(beta) = huber(delta=beta) / beta; beta=0 is mae.",
        reference="Girshick (2015), Fast R-CNN; torch.nn.SmoothL1Loss.",
    ),
)

LOG_COSH = Loss(
    name="log_cosh", family="regression", summary="Log-cosh: smooth everywhere, ~r^2/2 near 0 and ~|r| - log 2 far out.",
    formula="log(cosh(p - y))",
    inputs=(PRED, TARGET), value=log_cosh, grad=log_cosh_grad,
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="tanh(p - y): bounded by 1 like huber, but smooth.",
        use="Regression with outliers when you want a twice-differentiable loss (second-order optimisers, gradient boosting).",
        avoid="Targets on a tiny scale: for |r| << 1 it is just mse/2, so it only helps once residuals are of order 1 or more.",
        relations="A smooth cousin of huber with delta=1. Computed without cosh itself, which overflows at |r| ~ 710, and without the cancellation that ruins tiny residuals.",
        reference="Keras losses.log_cosh; Chen et al. (2019), Log Hyperbolic Cosine Loss.",
    ),
)

QUANTILE = Loss(
    name="quantile", family="regression", summary="Pinball (quantile) loss at level q.",
    formula="q max(y - p, 0) + (1 - q) max(p - y, 0)",
    inputs=(PRED, TARGET), value=pinball, grad=pinball_grad,
    params=(Param("q", 0.5, "the quantile level the prediction should estimate", low=0.0, high=1.0),),
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="-q where the prediction is below the target, 1 - q where it is above, 0 at equality.",
        use="Prediction intervals and quantile regression: the minimiser is the q-th quantile of the target given the inputs.",
        avoid="Judging point forecasts of the mean; use mse.",
        relations="q=0.5 is half of mae. Pair q=0.1 and q=0.9 for an 80% interval.",
        reference="Koenker and Bassett (1978), Regression Quantiles; sklearn.metrics.mean_pinball_loss(alpha=q).",
    ),
)

LOSSES = (MSE, RMSE, MAE, HUBER, SMOOTH_L1, LOG_COSH, QUANTILE)
