"""Regression losses: elementwise over every prediction column, residual r = pred - target."""

from __future__ import annotations

import numpy as np

from ..errors import InputDataError
from .base import (NON_NEGATIVE, POSITIVE, Domain, Explain, Loss, Param, Problem, Role, piecewise_linear_hess, pred_role,
                   target_role)

PRED = pred_role("predicted values (real numbers)")
TARGET = target_role("true values, one column per prediction column")


def squared_error(pred, target):
    """(p - y)^2, as torch MSELoss elementwise."""
    return (pred - target) ** 2


def squared_error_grad(pred, target):
    return 2.0 * (pred - target)


def squared_error_value_and_grad(pred, target):
    r = pred - target
    return r * r, 2.0 * r


def squared_error_hess(pred, target):
    return np.full(np.broadcast_shapes(pred.shape, target.shape), 2.0)


def absolute_error(pred, target):
    """|p - y|, as torch L1Loss elementwise."""
    return np.abs(pred - target)


def absolute_error_grad(pred, target):
    # torch takes sign(0) = 0, the subgradient at a perfect prediction.
    return np.sign(pred - target)


def huber(pred, target, *, delta=1.0):
    """0.5 r^2 where |r| <= delta, else delta (|r| - 0.5 delta); torch HuberLoss."""
    return _huber_parts(pred - target, delta)[0]


def _huber_parts(r, delta):
    """Huber's value and gradient at residuals r: g (r - g/2) and g = clip(r, -delta, delta).

    g (r - g/2) is both branches without np.where: r (r - r/2) = r^2/2 inside (r/2 is exact), and
    +-delta (r -+ delta/2) = delta (|r| - delta/2) beyond, bit for bit the two-branch formula. The
    gradient is the value's own factor, and the value is formed in place: five passes where there were eight.
    """
    g = np.clip(r, -delta, delta)
    value = g * -0.5
    value += r
    value *= g
    return value, g


def huber_grad(pred, target, *, delta=1.0):
    return np.clip(pred - target, -delta, delta)


def huber_value_and_grad(pred, target, *, delta=1.0):
    return _huber_parts(pred - target, delta)


def huber_hess(pred, target, *, delta=1.0):
    # 1 on the quadratic part; at |r| = delta, where it jumps to 0, the quadratic side is taken (as the value does)
    return np.where(np.abs(pred - target) <= delta, 1.0, 0.0)


def smooth_l1(pred, target, *, beta=1.0):
    """0.5 r^2 / beta where |r| < beta, else |r| - 0.5 beta; torch SmoothL1Loss (beta 0 is L1)."""
    r = pred - target
    if beta == 0.0:
        return np.abs(r)
    return _huber_parts(r, beta)[0] / beta


def smooth_l1_grad(pred, target, *, beta=1.0):
    r = pred - target
    if beta == 0.0:
        return np.sign(r)
    return np.clip(r / beta, -1.0, 1.0)  # r / beta inside, sign(r) where |r| >= beta


def smooth_l1_value_and_grad(pred, target, *, beta=1.0):
    r = pred - target
    if beta == 0.0:
        return np.abs(r), np.sign(r)
    value, clipped = _huber_parts(r, beta)
    return value / beta, clipped / beta  # r / beta inside, sign(r) beyond


def smooth_l1_hess(pred, target, *, beta=1.0):
    if beta == 0.0:
        return piecewise_linear_hess(pred, target)
    return np.where(np.abs(pred - target) < beta, 1.0 / beta, 0.0)


def log_cosh(pred, target):
    """log(cosh(r)), accurate from residuals of 1e-9 to 1e6 and beyond.

    cosh overflows float64 beyond |r| ~ 710, and log(cosh r) loses every digit to
    cancellation for tiny r. Two exact rewrites cover both ends:
    log1p(E^2 / (2 (1 + E))) with E = expm1(|r|) for |r| <= 20 (that is cosh r - 1, with no
    cancellation), |r| + log1p(exp(-2|r|)) - log 2 beyond, where the log1p term is below half an
    ulp of |r|, so the value is |r| - log 2.
    """
    return _log_cosh_of(np.abs(pred - target))[0]


def log_cosh_grad(pred, target):
    return np.tanh(pred - target)


def _log_cosh_of(a):
    """log cosh a for a = |r|, and E = expm1(min(a, 20)), which the gradient shares."""
    e = np.expm1(np.minimum(a, 20.0))
    value = np.log1p(e * e / (2.0 * (1.0 + e)))
    far = a > 20.0
    if far.any():  # large residuals are redone alone, without np.where over every element
        value[far] = a[far] - np.log(2.0)
    return value, e


def log_cosh_value_and_grad(pred, target):
    r = pred - target
    value, e = _log_cosh_of(np.abs(r))
    # tanh|r| = expm1(2|r|) / (expm1(2|r|) + 2) and expm1(2|r|) = E (E + 2): no second exp;
    # beyond |r| = 20 it rounds to 1, as tanh does
    e2 = e * (e + 2.0)
    return value, np.copysign(e2 / (e2 + 2.0), r)


def log_cosh_hess(pred, target):
    """sech^2(r) = 4 e / (1 + e)^2 with e = exp(-2|r|): no overflow, and no 1 - tanh^2 cancelling to 0 for |r| > 19."""
    e = np.exp(-2.0 * np.abs(pred - target))
    return 4.0 * e / (1.0 + e) ** 2


def _levels(q) -> np.ndarray:
    """The levels as a 1-D array: the CLI gives a tuple, an API caller may pass a plain float (q=0.9)."""
    return np.atleast_1d(np.asarray(q, dtype=np.float64))


def pinball(pred, target, *, q=(0.5,)):
    """q max(y - p, 0) + (1 - q) max(p - y, 0); sklearn mean_pinball_loss with alpha=q.

    ``q`` is a tuple of levels: one level applies to every pred column; L levels take
    pred column k at level q[k] against the single target column (broadcast).
    """
    q = _levels(q)
    r = target - pred
    return np.maximum(q * r, (q - 1.0) * r)


def pinball_grad(pred, target, *, q=(0.5,)):
    # At r = 0 the subgradient 0 is taken, as torch does for |r|.
    q = _levels(q)
    r = target - pred
    return np.where(r > 0, -q, np.where(r < 0, 1.0 - q, 0.0)) + np.zeros_like(pred)


def pinball_check(pred, target, *, q=(0.5,)):
    levels = _levels(q).size
    q = tuple(_levels(q))
    if levels > 1 and pred.shape[1] != levels:
        raise InputDataError(f"Loss 'quantile': {levels} levels q={';'.join(f'{v:g}' for v in q)} need exactly "
                             f"{levels} pred columns (one per level, in order), got {pred.shape[1]}.")
    if levels > 1 and target.shape[1] != 1:
        raise InputDataError(f"Loss 'quantile': with {levels} levels the target is one column shared by all "
                             f"levels, got {target.shape[1]}.")
    if levels == 1 and target.shape[1] != pred.shape[1]:
        # one level is elementwise like mae: a lone target column is not silently reused for every pred column
        raise InputDataError(f"Loss 'quantile': with one level the target needs one column per pred column "
                             f"({pred.shape[1]}), got {target.shape[1]}. For one pred column per level, give the "
                             "levels as q=0.1;0.5;0.9.")
    return []


# ----------------------------------------------------------------------------- log, percentage and count losses

ABOVE_MINUS_ONE = Domain("numbers > -1 (log1p must exist)", lambda a: ~(a > -1.0))


def squared_log_error(pred, target):
    """(log1p(p) - log1p(y))^2; sklearn mean_squared_log_error (both > -1, as sklearn 1.9 requires)."""
    return (np.log1p(pred) - np.log1p(target)) ** 2


def squared_log_error_grad(pred, target):
    return 2.0 * (np.log1p(pred) - np.log1p(target)) / (1.0 + pred)


def squared_log_error_value_and_grad(pred, target):
    d = np.log1p(pred) - np.log1p(target)  # the two logs, once
    return d**2, 2.0 * d / (1.0 + pred)


def squared_log_error_hess(pred, target):
    return 2.0 * (1.0 - (np.log1p(pred) - np.log1p(target))) / (1.0 + pred) ** 2


EPS64 = np.finfo(np.float64).eps


def percentage_error(pred, target):
    """|y - p| / max(|y|, eps): sklearn mean_absolute_percentage_error (a fraction, not percent)."""
    return np.abs(target - pred) / np.maximum(np.abs(target), EPS64)


def percentage_error_grad(pred, target):
    return np.sign(pred - target) / np.maximum(np.abs(target), EPS64)


def symmetric_percentage_error(pred, target):
    """2 |y - p| / (|y| + |p|), defined as 0 where y = p = 0."""
    d = np.abs(target) + np.abs(pred)
    both_zero = d == 0.0
    # the division is only done where d > 0 (safe denominator elsewhere)
    return np.where(both_zero, 0.0, 2.0 * np.abs(pred - target) / np.where(both_zero, 1.0, d))


def symmetric_percentage_error_grad(pred, target):
    # d/dp = 2 sign(p - y) / d - 2 |p - y| sign(p) / d^2, with sign(0) = 0 (the subgradient at p = 0)
    # and 0 where y = p = 0 (the loss is 0 there and 2 at every other point of p when y = 0).
    d = np.abs(target) + np.abs(pred)
    both_zero = d == 0.0
    safe = np.where(both_zero, 1.0, d)
    g = 2.0 * np.sign(pred - target) / safe - 2.0 * np.abs(pred - target) * np.sign(pred) / (safe * safe)
    return np.where(both_zero, 0.0, g)


def symmetric_percentage_error_hess(pred, target):
    # d/dp of the gradient away from the kinks: -4 sign(p - y) sign(p) / d^2 + 4 |p - y| sign(p)^2 / d^3,
    # with the same sign(0) = 0 conventions, and 0 where y = p = 0
    d = np.abs(target) + np.abs(pred)
    both_zero = d == 0.0
    safe = np.where(both_zero, 1.0, d)
    s, t = np.sign(pred - target), np.sign(pred)
    h = -4.0 * s * t / (safe * safe) + 4.0 * np.abs(pred - target) * t * t / safe**3
    return np.where(both_zero, 0.0, h)


def _stirling(target):
    # torch PoissonNLLLoss(full=True): y log y - y + 0.5 log(2 pi y), added only where y > 1
    big = target > 1.0
    y = np.where(big, target, 2.0)
    return np.where(big, y * np.log(y) - y + 0.5 * np.log(2.0 * np.pi * y), 0.0)


def poisson_nll(pred, target, *, log_input=True, full=False, eps=1e-8):
    """torch PoissonNLLLoss: exp(p) - y p (log_input) or p - y log(p + eps); plus Stirling's term if full."""
    if log_input:
        v = np.exp(pred) - target * pred
    else:
        v = pred - target * np.log(pred + eps)
    return v + _stirling(target) if full else v


def poisson_nll_grad(pred, target, *, log_input=True, full=False, eps=1e-8):
    if log_input:
        return np.exp(pred) - target
    return 1.0 - target / (pred + eps)


def poisson_nll_hess(pred, target, *, log_input=True, full=False, eps=1e-8):
    if log_input:
        return np.exp(pred) + np.zeros_like(target)
    return target / (pred + eps) ** 2


def poisson_check(pred, target, *, log_input=True, full=False, eps=1e-8):
    if log_input:
        return []
    return [Problem("pred", pred < 0.0, "with log_input=false pred is a rate and must be >= 0 "
                                       "(use log_input=true for log-rates)")]


def gaussian_nll(pred, target, var, *, full=False, eps=1e-6):
    """torch GaussianNLLLoss: 0.5 (log max(var, eps) + (p - y)^2 / max(var, eps)) [+ 0.5 log 2 pi]."""
    v = np.maximum(var, eps)
    out = 0.5 * (np.log(v) + (pred - target) ** 2 / v)
    out = out + 0.5 * np.log(2.0 * np.pi) if full else out
    return out + np.zeros_like(pred)  # a shared variance column broadcasts over every pred column


def gaussian_nll_grad(pred, target, var, *, full=False, eps=1e-6):
    return (pred - target) / np.maximum(var, eps) + np.zeros_like(pred)


def gaussian_nll_hess(pred, target, var, *, full=False, eps=1e-6):
    return 1.0 / np.maximum(var, eps) + np.zeros_like(pred)


class _PowerParam(Param):
    """A float that must not lie in (0, 1): no Tweedie distribution exists there (sklearn refuses it)."""

    def check(self, value):
        super().check(value)
        if 0.0 < value < 1.0:
            raise ValueError(f"must be <= 0 or >= 1 (no Tweedie distribution has 0 < power < 1). Got {value!r}.")

    def domain_text(self) -> str:
        return "a float <= 0 or >= 1"


def tweedie_deviance(pred, target, *, power=1.5):
    """Unit Tweedie deviance, as sklearn mean_tweedie_deviance (mu = pred, y = target)."""
    p, mu, y = power, pred, target
    if p == 0.0:
        return (y - mu) ** 2
    if p == 1.0:
        # 2 (y log(y/mu) - y + mu), with 0 log 0 = 0 (sklearn uses xlogy)
        safe = np.where(y > 0, y, 1.0)
        return 2.0 * (np.where(y > 0, y * np.log(safe / mu), 0.0) - y + mu)
    if p == 2.0:
        return 2.0 * (np.log(mu / y) + y / mu - 1.0)
    return 2.0 * (np.maximum(y, 0.0) ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
                  - y * mu ** (1.0 - p) / (1.0 - p) + mu ** (2.0 - p) / (2.0 - p))


def tweedie_grad(pred, target, *, power=1.5):
    # d/dmu of every branch is 2 (mu - y) mu^(-p)
    if power == 0.0:
        return 2.0 * (pred - target)
    return 2.0 * (pred - target) * pred ** (-power)


def tweedie_hess(pred, target, *, power=1.5):
    # d/dmu of 2 (mu - y) mu^(-p) = 2 mu^(-p-1) ((1 - p) mu + p y)
    if power == 0.0:
        return squared_error_hess(pred, target)
    return 2.0 * pred ** (-power - 1.0) * ((1.0 - power) * pred + power * target)


def tweedie_check(pred, target, *, power=1.5):
    problems = []
    if power != 0.0:
        problems.append(Problem("pred", ~(pred > 0.0), f"with power={power:g} pred (the mean) must be > 0"))
    if 1.0 <= power < 2.0:
        problems.append(Problem("target", target < 0.0, f"with power={power:g} target must be >= 0"))
    elif power >= 2.0:
        problems.append(Problem("target", ~(target > 0.0), f"with power={power:g} target must be > 0"))
    return problems


_RESIDUAL = "pred and target are real numbers, one target column per prediction column; the loss is elementwise and the mean runs over all elements."

MSE = Loss(
    name="mse", family="regression", summary="Mean squared error.",
    formula="mean (p - y)^2",
    inputs=(PRED, TARGET), value=squared_error, grad=squared_error_grad, value_and_grad=squared_error_value_and_grad,
    hess=squared_error_hess,
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
    inputs=(PRED, TARGET), value=squared_error, grad=squared_error_grad, value_and_grad=squared_error_value_and_grad,
    hess=squared_error_hess,
    finish="sqrt",
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
    hess=piecewise_linear_hess,
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
    hess=huber_hess,
    params=(Param("delta", 1.0, "where the quadratic part ends and the linear part begins", low=0.0, low_open=True),),
    value_and_grad=huber_value_and_grad,
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
    hess=smooth_l1_hess,
    params=(Param("beta", 1.0, "where the quadratic part ends; 0 gives plain L1", low=0.0),),
    value_and_grad=smooth_l1_value_and_grad,
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
    value_and_grad=log_cosh_value_and_grad,
    hess=log_cosh_hess,
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
    formula="q max(y - p, 0) + (1 - q) max(p - y, 0), averaged over levels and rows",
    value=pinball, grad=pinball_grad,
    hess=piecewise_linear_hess,
    params=(Param("q", (0.5,), "the quantile level(s) the prediction should estimate; several levels "
                  "(q=0.1;0.5;0.9) take one pred column each against a single target column", kind="floats",
                  low=0.0, high=1.0),),
    check=pinball_check, inputs=(PRED, target_role("true values: one column per prediction column, or one column "
                                                   "shared by all levels when several q are given", width="1|pred")),
    explain=Explain(
        inputs=_RESIDUAL + " With L levels q1;...;qL pred has L columns in level order and target one column.",
        gradient="-q where the prediction is below the target, 1 - q where it is above, 0 at equality. The Hessian "
                 "is 0 wherever it exists and is taken as 0 at equality too (the loss is piecewise linear). Newton "
                 "boosting cannot step on a zero Hessian, so XGBoost's and LightGBM's own quantile objectives use a "
                 "constant Hessian of 1 (the sample weight) and refit each leaf to a quantile of its residuals; "
                 "losscli.boosting's adapters use that constant 1 for this loss too.",
        use="Prediction intervals and quantile regression: the minimiser is the q-th quantile of the target given the inputs.",
        avoid="Judging point forecasts of the mean; use mse.",
        relations="q=0.5 is half of mae. Pair q=0.1 and q=0.9 for an 80% interval.",
        reference="Koenker and Bassett (1978), Regression Quantiles; sklearn.metrics.mean_pinball_loss(alpha=q).",
    ),
)

_LOG_PRED = pred_role("predicted values > -1 (log1p is taken)", ABOVE_MINUS_ONE)
_LOG_TARGET = target_role("true values > -1, one column per prediction column", ABOVE_MINUS_ONE)

MSLE = Loss(
    name="msle", family="regression", summary="Mean squared logarithmic error.",
    formula="mean (log(1 + p) - log(1 + y))^2",
    inputs=(_LOG_PRED, _LOG_TARGET), value=squared_log_error, grad=squared_log_error_grad,
    value_and_grad=squared_log_error_value_and_grad,
    hess=squared_log_error_hess,
    explain=Explain(
        inputs="pred and target must both be > -1 (scikit-learn 1.9 refuses values <= -1); elementwise, mean over all elements.",
        gradient="2 (log1p p - log1p y) / (1 + p): large near p = -1, small for large predictions.",
        use="Targets spanning orders of magnitude (counts, prices) where relative error matters and under-prediction should cost more than over-prediction.",
        avoid="Targets that may be <= -1, or when absolute errors matter.",
        relations="mse on log1p-transformed values; sqrt of it is RMSLE.",
        reference="sklearn.metrics.mean_squared_log_error (domain check: values <= -1 raise).",
    ),
)

MAPE = Loss(
    name="mape", family="regression", summary="Mean absolute percentage error (a fraction, not percent).",
    formula="mean |y - p| / max(|y|, eps), eps = float64 machine epsilon",
    inputs=(PRED, TARGET), value=percentage_error, grad=percentage_error_grad,
    hess=piecewise_linear_hess,
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="sign(p - y) / max(|y|, eps); 0 where p = y.",
        use="Reporting errors relative to the target's size, when targets are well away from zero.",
        avoid="Targets at or near zero: a zero target makes the term |p| / 2.2e-16, enormous (sklearn does the same). Use smape or mae.",
        relations="mae weighted by 1/|y|. 0.1 means 10%; multiply by 100 for percent.",
        reference="sklearn.metrics.mean_absolute_percentage_error (denominator max(|y|, np.finfo(float64).eps)).",
    ),
)

SMAPE = Loss(
    name="smape", family="regression", summary="Symmetric mean absolute percentage error (a fraction in [0, 2]).",
    formula="mean 2 |y - p| / (|y| + |p|), 0 where y = p = 0",
    inputs=(PRED, TARGET), value=symmetric_percentage_error, grad=symmetric_percentage_error_grad,
    hess=symmetric_percentage_error_hess,
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="2 sign(p - y)/(|y| + |p|) - 2 |p - y| sign(p)/(|y| + |p|)^2 with sign(0) = 0. So at p = y != 0 (a kink "
                 "of |p - y|) it is 0, the middle of the one-sided slopes -1/|y| and +1/|y|; at p = 0 != y (the loss's maximum 2, "
                 "another kink) it is -2 sign(y)/|y|, the middle of the slopes 0 and -4 sign(y)/|y|; where y = p = 0 the loss is "
                 "taken as 0 and its gradient as 0 (it jumps to 2 for any p != 0 there, so no derivative exists).",
        use="Relative errors when targets can be zero; bounded by 2.",
        avoid="As a training loss around zero targets (discontinuous there) or when over- and under-prediction should cost the same: it is not symmetric in that sense.",
        relations="A bounded variant of mape; the M3/M4 forecasting competitions' definition without the factor 100.",
        reference="Makridakis (1993); Hyndman and Koehler (2006), Another look at measures of forecast accuracy.",
    ),
)

POISSON = Loss(
    name="poisson", family="regression", summary="Poisson negative log-likelihood (torch PoissonNLLLoss).",
    formula="exp(p) - y p (log_input) or p - y log(p + eps); + y log y - y + 0.5 log(2 pi y) for y > 1 if full",
    inputs=(pred_role("predicted log-rates (log_input=true) or rates >= 0 (log_input=false)"),
            target_role("observed counts (>= 0), one column per prediction column", NON_NEGATIVE)),
    value=poisson_nll, grad=poisson_nll_grad, check=poisson_check,
    hess=poisson_nll_hess,
    params=(Param("log_input", True, "pred is the log of the rate (true) or the rate itself (false)", kind=bool),
            Param("full", False, "add Stirling's approximation of log(y!) where y > 1 (a constant in pred)", kind=bool),
            Param("eps", 1e-8, "added to the rate inside the log when log_input=false", low=0.0)),
    explain=Explain(
        inputs="pred: log-rates by default, or rates >= 0 with log_input=false; target: counts >= 0. Elementwise, mean over all elements.",
        gradient="exp(p) - y with log_input, else 1 - y / (p + eps). The Stirling term does not depend on pred.",
        use="Count data (events, clicks) modelled as Poisson with a predicted rate.",
        avoid="Overdispersed counts (variance much larger than the mean); consider tweedie or a negative binomial model.",
        relations="tweedie with power=1 is twice its deviance form (with the log(y!) constant replaced by the saturated model).",
        reference="torch.nn.PoissonNLLLoss (log_input=True, full=False, eps=1e-8; Stirling term only where target > 1).",
    ),
)

VAR = Role("var", "predicted variances (> 0): one column shared by all pred columns, or one per pred column",
           POSITIVE, width="1|pred", defaults=("var", "variance", "var_*"),
           hint="Variances must be positive; if the column holds log-variances, exponentiate it first.")

GAUSSIAN_NLL = Loss(
    name="gaussian_nll", family="regression", summary="Gaussian negative log-likelihood with a predicted variance (torch GaussianNLLLoss).",
    formula="0.5 (log max(v, eps) + (p - y)^2 / max(v, eps)) [+ 0.5 log(2 pi) if full]",
    inputs=(PRED, TARGET, VAR), value=gaussian_nll, grad=gaussian_nll_grad,
    hess=gaussian_nll_hess,
    params=(Param("full", False, "add the constant 0.5 log(2 pi)", kind=bool),
            Param("eps", 1e-6, "variances below eps are clamped to eps (stability)", low=0.0, low_open=True)),
    explain=Explain(
        inputs="pred and target as for mse; var (columns var, variance or var_* unless named with --input var=) "
               "is the predicted variance, one column or one per pred column, > 0. torch accepts a variance of "
               "exactly 0 (and clamps it to eps); losscli refuses it as most likely a bug upstream.",
        gradient="With respect to pred only: (p - y) / max(v, eps). The variance gradient is not reported.",
        use="Heteroscedastic regression where the model predicts its own uncertainty.",
        avoid="When variances are not predicted (it reduces to mse/2 plus a constant with v = 1); or when var is a standard deviation.",
        relations="With constant v it is mse / (2v) plus a constant.",
        reference="torch.nn.GaussianNLLLoss (eps=1e-6 clamp, full=False); Nix and Weigend (1994).",
    ),
)

TWEEDIE = Loss(
    name="tweedie", family="regression", summary="Mean Tweedie deviance (sklearn mean_tweedie_deviance).",
    formula="2 (max(y,0)^(2-p)/((1-p)(2-p)) - y mu^(1-p)/(1-p) + mu^(2-p)/(2-p)); limits at p = 0, 1, 2",
    inputs=(pred_role("predicted means mu (> 0 unless power = 0)"),
            target_role("observed values, one column per prediction column")),
    value=tweedie_deviance, grad=tweedie_grad, check=tweedie_check,
    hess=tweedie_hess,
    params=(_PowerParam("power", 1.5, "Tweedie power: <= 0 extreme stable, 0 normal, 1 Poisson, (1, 2) compound "
                        "Poisson-gamma, 2 gamma, 3 inverse Gaussian; 0 < power < 1 is refused"),),
    explain=Explain(
        inputs="pred is the predicted mean mu, target the observation. power < 0: mu > 0; power 0: any reals; "
               "1 <= power < 2: y >= 0 and mu > 0; power >= 2: y > 0 and mu > 0 (sklearn's requirements); rows "
               "breaking them are an input-data error naming the rows. The default power is 1.5 (compound "
               "Poisson-gamma); sklearn's own default is 0, so pass power=0 to reproduce a bare sklearn call.",
        gradient="2 (mu - y) mu^(-power) for every power (2 (mu - y) at power 0).",
        use="Insurance claims, rainfall and other non-negative data with exact zeros and a continuous positive part (1 < power < 2).",
        avoid="Data with negative values (except at power 0), or when the variance does not grow like a power of the mean.",
        relations="power=0 is mse; power=1 is the Poisson deviance; power=2 the gamma deviance.",
        reference="sklearn.metrics.mean_tweedie_deviance (power ranges and domain requirements from its docstring); Jorgensen (1987).",
    ),
)

# ----------------------------------------------------------------------------- wing and Student's t


def wing(pred, target, *, w=10.0, epsilon=2.0):
    """w ln(1 + |r|/epsilon) for |r| < w, else |r| - C with C = w - w ln(1 + w/epsilon); Feng et al. 2018."""
    a = np.abs(pred - target)
    c = w - w * np.log1p(w / epsilon)
    return np.where(a < w, w * np.log1p(a / epsilon), a - c)


def wing_grad(pred, target, *, w=10.0, epsilon=2.0):
    # C makes the two pieces meet at |r| = w, where the slopes w/(epsilon + w) and 1 differ: the
    # linear piece's slope 1 is taken there (the |r| < w test puts r = w on that side)
    r = pred - target
    a = np.abs(r)
    return np.sign(r) * np.where(a < w, w / (epsilon + a), 1.0)


def wing_hess(pred, target, *, w=10.0, epsilon=2.0):
    """-w / (epsilon + |r|)^2 on the logarithmic part 0 < |r| < w, 0 on the linear part |r| >= w.

    Negative: the logarithm is concave on either side of 0, so wing is not convex. Its second derivative
    does not exist at r = 0 (the gradient jumps from -w/epsilon to w/epsilon) nor at |r| = w (the slope
    jumps to 1): 0 is given at both, the linear side at |r| = w as the gradient takes it.
    """
    a = np.abs(pred - target)
    return np.where((a > 0.0) & (a < w), -w / (epsilon + a) ** 2, 0.0)


def _log1p_square_over(u, df):
    """log(1 + u^2/df) without overflow: for u^2 > df it is log(u^2/df) + log1p(df/u^2), both terms exact."""
    big = np.abs(u) > np.sqrt(df)
    safe = np.where(big, np.abs(u), 1.0)
    far = 2.0 * np.log(safe) - np.log(df) + np.log1p(df / safe / safe)
    near = np.log1p(np.where(big, 0.0, u) ** 2 / df)
    return np.where(big, far, near)


def students_t_nll(pred, target, *, df=1.0, scale=1.0):
    """-log of Student's t density of r = p - y with df degrees of freedom and the given scale.

    0.5 ((df + 1) log1p((r/scale)^2 / df) + log df) + log scale + lgamma(df/2) - lgamma((df + 1)/2)
    + 0.5 log pi, as Barron's robust_loss util.students_t_nll.
    """
    from math import lgamma, log, pi

    u = (pred - target) / scale
    constant = 0.5 * log(df) + log(scale) + lgamma(0.5 * df) - lgamma(0.5 * df + 0.5) + 0.5 * log(pi)
    return 0.5 * (df + 1.0) * _log1p_square_over(u, df) + constant


def students_t_nll_grad(pred, target, *, df=1.0, scale=1.0):
    # (df + 1) u / (scale (df + u^2)), written as 1 / (u + df/u) for |u| > 1 so u^2 never overflows
    u = (pred - target) / scale
    far = np.abs(u) > 1.0
    safe = np.where(far, u, 1.0)
    near = np.where(far, 0.0, u)
    ratio = np.where(far, 1.0 / (safe + df / safe), near / (df + near * near))
    return (df + 1.0) * ratio / scale


def students_t_nll_hess(pred, target, *, df=1.0, scale=1.0):
    """(df + 1) (df - u^2) / (scale^2 (df + u^2)^2), u = r / scale; negative beyond |u| = sqrt(df) (not convex).

    For |u| > 1 it is written in v = 1/u as (df v^2 - 1) v^2 / (df v^2 + 1)^2, so u^2 is never formed: residuals
    of 1e200 give a finite value (about -(df + 1) / r^2, which underflows to 0 there).
    """
    u = (pred - target) / scale
    far = np.abs(u) > 1.0
    v = np.where(far, 1.0 / np.where(far, u, 1.0), 0.0)
    near = np.where(far, 0.0, u)
    v2, u2 = v * v, near * near
    ratio = np.where(far, (df * v2 - 1.0) * v2 / (df * v2 + 1.0) ** 2, (df - u2) / (df + u2) ** 2)
    return (df + 1.0) * ratio / (scale * scale)


WING = Loss(
    name="wing", family="regression", summary="Wing loss for landmark regression: logarithmic near zero, linear beyond w.",
    formula="w ln(1 + |r|/epsilon) if |r| < w else |r| - C, C = w - w ln(1 + w/epsilon)",
    inputs=(PRED, TARGET), value=wing, grad=wing_grad,
    hess=wing_hess,
    params=(Param("w", 10.0, "width of the logarithmic part (|r| < w)", low=0.0, low_open=True),
            Param("epsilon", 2.0, "curvature of the logarithmic part: smaller is sharper near 0", low=0.0,
                  low_open=True)),
    explain=Explain(
        inputs=_RESIDUAL + " Typically each pred column is one landmark coordinate.",
        gradient="sign(r) w / (epsilon + |r|) for |r| < w, sign(r) beyond; 0 at r = 0. At |r| = w the pieces meet "
                 "in value (that is what C is for) but not in slope, and the linear piece's slope 1 is reported there.",
        use="Facial and other landmark localisation, where small and medium errors deserve more attention than "
            "L2 gives them: the log makes the gradient large for small errors.",
        avoid="Data with a meaningful noise scale below epsilon: there the loss is nearly linear with slope w/epsilon "
              "and the log does not help; and any task where a smooth gradient at 0 matters (it jumps from -w/epsilon "
              "to w/epsilon).",
        relations="Beyond w it is mae shifted by C. The defaults w=10, epsilon=2 are the paper's; "
                  "pytorch-toolbelt's WingLoss defaults to width 5, curvature 0.5 (pass w=5,epsilon=0.5 for those).",
        reference="Feng et al. (2018), Wing Loss for Robust Facial Landmark Localisation with Convolutional Neural "
                  "Networks, CVPR (equation 5).",
    ),
)

STUDENT_T_NLL = Loss(
    name="student_t_nll", family="regression",
    summary="Negative log-likelihood of the residual under a Student's t distribution (df, scale).",
    formula="0.5 ((df+1) log1p((r/s)^2/df) + log df) + log s + lgamma(df/2) - lgamma((df+1)/2) + 0.5 log pi",
    inputs=(PRED, TARGET), value=students_t_nll, grad=students_t_nll_grad,
    hess=students_t_nll_hess,
    params=(Param("df", 1.0, "degrees of freedom: 1 is the Cauchy distribution, large values approach a Gaussian",
                  low=0.0, low_open=True),
            Param("scale", 1.0, "scale s of the distribution (in the target's units)", low=0.0, low_open=True)),
    explain=Explain(
        inputs=_RESIDUAL,
        gradient="(df + 1) u / (s (df + u^2)) with u = r / s: it rises like a Gaussian's for small residuals and "
                 "falls back like 1/r for large ones, so outliers stop pulling. Computed without forming u^2 where "
                 "it could overflow, so residuals of 1e200 still give finite values and gradients.",
        use="Regression with heavy-tailed noise when you want a proper likelihood (comparable across models, "
            "with the normalising constant), and an estimate that outliers cannot drag.",
        avoid="When the loss should be convex: it is not (large residuals have a falling gradient), so fits can "
              "depend on the starting point. Fixed df and scale are assumed; fitting them needs their own gradients.",
        relations="df=1 is the Cauchy negative log-likelihood, log(pi s) + log1p((r/s)^2): the cauchy loss of the "
                  "robust family up to scaling and a constant. As df grows it tends to the Gaussian NLL "
                  "r^2/(2 s^2) + log(s sqrt(2 pi)), i.e. gaussian_nll with full=true and var = s^2.",
        reference="Barron (2019), A General and Adaptive Robust Loss Function (robust_loss util.students_t_nll); "
                  "the density of torch.distributions.StudentT(df, 0, scale).",
    ),
)

# ----------------------------------------------------------------------------- order statistics of |r|


def absolute_residuals(pred, target):
    """|p - y| per element: the statistics median_absolute_error and max_error keep for every row."""
    return np.abs(pred - target)


def _add_share_among_ties(out, values, chosen, weight):
    """Add weight / (number of elements equal to ``chosen``) to each of them, per column: a subgradient that no
    row order decides (any split among tied elements is one, the even split is the symmetric one). Only the
    tied elements are written: full-size temporaries of every row cost more than the search."""
    rows, cols = np.nonzero(values == chosen)
    out[rows, cols] += weight / np.bincount(cols, minlength=values.shape[1])[cols]


def _ordered(totals):
    return np.asarray(totals, dtype=np.float64).reshape(-1, np.shape(totals)[-1] if np.ndim(totals) > 1 else 1)


def max_error_value(*, totals):
    """max_{i,j} |r_ij|; sklearn max_error (one output there; the largest over every column here)."""
    a = _ordered(totals)
    return float(a.max()) if a.size else float("nan")


def max_error_stats_grad(*, totals):
    # d max / d |r_ij|: 1 on the largest element, shared evenly among exact ties
    a = _ordered(totals)
    hit = a == a.max()
    return hit / hit.sum()


def median_absolute_error_value(*, totals):
    """mean over columns of median_i |r_ij| (the middle two averaged for an even count); sklearn's default."""
    a = _ordered(totals)
    return float(np.median(a, axis=0).mean()) if a.size else float("nan")


def median_absolute_error_stats_grad(*, totals):
    # d median / d |r_ij| is 1 on the middle element (1/2 on each of the two middle ones for an even count),
    # each shared evenly among elements tied with it; divided by the number of columns for the mean
    a = _ordered(totals)
    n = a.shape[0]
    # the two middle order statistics by selection, not a sort: O(n) rather than O(n log n)
    middle = np.partition(a, [(n - 1) // 2, n // 2], axis=0)
    grad = np.zeros(a.shape)
    for k in ((n - 1) // 2, n // 2):  # the same element twice for an odd count: 1/2 + 1/2
        _add_share_among_ties(grad, a, middle[k][None, :], 0.5 / a.shape[1])
    return grad


def order_statistic_grad(pred, target, *, totals):
    """Chain d value / d|r| (the rows' part of stats_grad) through |r|: times sign(p - y)."""
    return totals * np.sign(pred - target)


_ORDER_GRAD = ("the gradient of {what} is not a sum over rows: it is nonzero only on the {rows} (d value / d pred = "
               "sign(r) there), 0 on every other row, and it needs a second pass over the input.")
_HELD = (" Exact: every |r| is kept in memory (8 bytes per element, refused beyond 2^27 elements with a message), "
         "since {what} of a file cannot be built from sums. It is a set-level value: no per-row value (--per-row and "
         "--top leave it out), --reduction and --weight do not apply, a group's value is {what} of its own rows.")

MAX_ERROR = Loss(
    name="max_error", family="regression", per="set", sample_weights=False, holds_rows=True,
    summary="Maximum absolute error: the worst residual of the whole set.",
    formula="max_{i,j} |p_ij - y_ij|",
    inputs=(PRED, TARGET), value=max_error_value, stats=absolute_residuals, stats_grad=max_error_stats_grad,
    grad=order_statistic_grad,
    grad_warning=_ORDER_GRAD.format(what="max_error", rows="element(s) with the largest |r|"),
    explain=Explain(
        inputs=_RESIDUAL.replace("; the loss is elementwise and the mean runs over all elements", "")
        + _HELD.format(what="the maximum") + " (A maximum alone would merge by max; keeping the rows gives the "
        "gradient its position.)",
        gradient="sign(r) on the element with the largest |r| and 0 everywhere else: max_error has no per-row "
                 "gradient, only the worst element moves it. Exact ties share it evenly. --grad says so on stderr.",
        use="A worst-case gate in CI (--fail-if 'max_error>...'): no single prediction may be off by more than this.",
        avoid="Training, or data with outliers you accept: one row decides the value.",
        relations="The limit of the p-norm of the residuals as p grows; rmse and mae average instead. sklearn's "
                  "max_error accepts one output column only; with several columns we take the largest over all of them.",
        reference="sklearn.metrics.max_error.",
    ),
)

MEDIAN_ABSOLUTE_ERROR = Loss(
    name="median_absolute_error", family="regression", per="set", sample_weights=False, holds_rows=True,
    summary="Median absolute error of each column, averaged over columns (sklearn).",
    formula="mean_j median_i |p_ij - y_ij|",
    inputs=(PRED, TARGET), value=median_absolute_error_value, stats=absolute_residuals,
    stats_grad=median_absolute_error_stats_grad, grad=order_statistic_grad,
    grad_warning=_ORDER_GRAD.format(what="median_absolute_error", rows="median row(s) of each column"),
    explain=Explain(
        inputs=_RESIDUAL.replace("; the loss is elementwise and the mean runs over all elements", "")
        + " The median is taken per column and the medians are averaged (sklearn's multioutput='uniform_average'); "
        "an even count averages the two middle values." + _HELD.format(what="the median"),
        gradient="sign(r) / C on the median element of each column (1/2 each on the two middle ones for an even "
                 "count, shared evenly among exact ties), 0 everywhere else: median_absolute_error has no per-row "
                 "gradient. --grad says so on stderr.",
        use="A robust summary of typical error: half the predictions are closer than this, whatever the outliers do.",
        avoid="Training (the gradient touches one or two rows per column), and weighted data: sklearn accepts "
              "sample_weight (a weighted median) but losscli ignores --weight here (it warns).",
        relations="mae is the mean of the same |r|; quantile at q=0.5 is a loss whose minimiser is the median.",
        reference="sklearn.metrics.median_absolute_error (multioutput='uniform_average').",
    ),
)

LOSSES = (MSE, RMSE, MAE, HUBER, SMOOTH_L1, LOG_COSH, QUANTILE, MSLE, MAPE, SMAPE, POISSON, GAUSSIAN_NLL, TWEEDIE, WING, STUDENT_T_NLL,
          MAX_ERROR, MEDIAN_ABSOLUTE_ERROR)
