"""Regression losses: elementwise over every prediction column, residual r = pred - target."""

from __future__ import annotations

import numpy as np

from ..errors import InputDataError
from .base import NON_NEGATIVE, POSITIVE, Domain, Explain, Loss, Param, Problem, Role, pred_role, target_role

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


def absolute_error(pred, target):
    """|p - y|, as torch L1Loss elementwise."""
    return np.abs(pred - target)


def absolute_error_grad(pred, target):
    # torch takes sign(0) = 0, the subgradient at a perfect prediction.
    return np.sign(pred - target)


def huber(pred, target, *, delta=1.0):
    """0.5 r^2 where |r| <= delta, else delta (|r| - 0.5 delta); torch HuberLoss."""
    return _huber_of(np.abs(pred - target), delta)


def _huber_of(a, delta):
    # m (a - m/2) with m = min(a, delta) is both branches without np.where: a (a - a/2) = a^2/2 inside
    # (a - a/2 is exact), delta (a - delta/2) beyond, bit for bit the two-branch formula
    m = np.minimum(a, delta)
    return m * (a - 0.5 * m)


def huber_grad(pred, target, *, delta=1.0):
    return np.clip(pred - target, -delta, delta)


def huber_value_and_grad(pred, target, *, delta=1.0):
    r = pred - target
    return _huber_of(np.abs(r), delta), np.clip(r, -delta, delta)


def smooth_l1(pred, target, *, beta=1.0):
    """0.5 r^2 / beta where |r| < beta, else |r| - 0.5 beta; torch SmoothL1Loss (beta 0 is L1)."""
    a = np.abs(pred - target)
    if beta == 0.0:
        return a
    return _huber_of(a, beta) / beta


def smooth_l1_grad(pred, target, *, beta=1.0):
    r = pred - target
    if beta == 0.0:
        return np.sign(r)
    return np.clip(r / beta, -1.0, 1.0)  # r / beta inside, sign(r) where |r| >= beta


def smooth_l1_value_and_grad(pred, target, *, beta=1.0):
    r = pred - target
    if beta == 0.0:
        return np.abs(r), np.sign(r)
    return _huber_of(np.abs(r), beta) / beta, np.clip(r / beta, -1.0, 1.0)


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
    params=(Param("q", (0.5,), "the quantile level(s) the prediction should estimate; several levels "
                  "(q=0.1;0.5;0.9) take one pred column each against a single target column", kind="floats",
                  low=0.0, high=1.0),),
    check=pinball_check, inputs=(PRED, target_role("true values: one column per prediction column, or one column "
                                                   "shared by all levels when several q are given", width="1|pred")),
    explain=Explain(
        inputs=_RESIDUAL + " With L levels q1;...;qL pred has L columns in level order and target one column.",
        gradient="-q where the prediction is below the target, 1 - q where it is above, 0 at equality.",
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

LOSSES = (MSE, RMSE, MAE, HUBER, SMOOTH_L1, LOG_COSH, QUANTILE, MSLE, MAPE, SMAPE, POISSON, GAUSSIAN_NLL, TWEEDIE)
