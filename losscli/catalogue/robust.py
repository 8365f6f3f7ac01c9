"""Barron's general and adaptive robust loss and its named special cases.

Elementwise over every prediction column with residual x = pred - target and z = (x / c)^2:

    rho(x, a, c) = |a - 2| / a * ((z / |a - 2| + 1)^(a / 2) - 1)

with the limits a = 2: z / 2, a = 0: log(z / 2 + 1), a = -inf: 1 - exp(-z / 2).
Reference: J. T. Barron, "A General and Adaptive Robust Loss Function", CVPR 2019, eq. (1)-(3).

The general formula is evaluated in a form of our own (see ``_rho``) that needs no nudging of
a away from 0 and 2, stays exact for a as small as 1e-300, and forms neither z nor
(z/|a-2| + 1)^(a/2) where they would overflow, so a <= 0 gives finite values and gradients
for residuals up to float64's limit.
"""

from __future__ import annotations

import numpy as np

from .base import Explain, Loss, Param, pred_role, target_role

PRED = pred_role("predicted values (real numbers)")
TARGET = target_role("true values, one column per prediction column")


def _log1p_s(u: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """L = log1p(s) with s = u^2 / b, and w = |u| / sqrt(b), without forming u^2 (it overflows at |u| ~ 1.3e154)."""
    w = np.abs(u) / np.sqrt(b)
    L = np.log1p(np.minimum(w, 1e150) ** 2)
    # log1p(w^2) = 2 log w exactly in float64 once w^2 > 1e300; the square is only taken where it is finite.
    # Such rare elements are redone on their own (np.where would take the log of every element).
    big = w > 1e150
    if big.any():
        L[big] = 2.0 * np.log(w[big])
    return L, w


def _ratio_expm1(t: np.ndarray) -> np.ndarray:
    """expm1(t) / t, 1 at t = 0: exact for tiny and subnormal t, where a / a-style quotients lose every digit."""
    with np.errstate(invalid="ignore"):
        ratio = np.expm1(t) / t
    zero = t == 0.0
    if zero.any():
        ratio[zero] = 1.0
    return ratio


def _rho(u: np.ndarray, a: float, parts=None) -> np.ndarray:
    """Barron's rho as a function of the scaled residual u = x / c, for a fixed shape a (a scalar).

    With b = |a - 2|, s = u^2 / b, L = log1p(s) and t = a L / 2 the general formula is
    rho = (b / a) expm1(t) = (b L / 2) * expm1(t) / t. The second form never divides by a,
    so it is exact as a -> 0 (t -> 0, the ratio -> 1, rho -> L = log1p(u^2 / 2)), even for
    a = 1e-300 where t is subnormal; b = |a - 2| is exact near a = 2 (Sterbenz), where s is
    huge but L only ~ log(1/b), so rho -> b s / 2 = u^2 / 2 smoothly. For tiny s, b L / 2
    is replaced by u^2 / 2 (log1p(s) = s there), so a subnormal L never costs digits.
    ``parts`` is _log1p_s(u, b) when the caller has it already.
    """
    if a == 2.0:
        return 0.5 * u * u
    if a == -np.inf:
        # 1 - exp(-u^2/2) written as -expm1 so tiny u keep every digit; u^2 = inf gives exactly 1
        return -np.expm1(-0.5 * u * u)
    b = abs(a - 2.0)
    L, w = parts if parts is not None else _log1p_s(u, b)
    half_bl = 0.5 * b * L
    tiny = w < 1e-150
    if tiny.any():
        half_bl[tiny] = 0.5 * u[tiny] ** 2
    if a == 0.0:  # t = 0: the ratio is 1
        return half_bl
    t = 0.5 * a * L
    if a < 0.0:  # t <= 0: expm1(t) lies in (-1, 0], nothing can overflow
        return half_bl * _ratio_expm1(t)
    # a > 0: beyond t = 40, expm1(t) = exp(t) to double precision, and taking the log of b/a
    # into the exponent keeps (b/a) e^t finite whenever the result itself is (a near 2: b ~ 1e-16)
    rho = half_bl * _ratio_expm1(np.minimum(t, 40.0))
    far = t > 40.0
    if far.any():
        rho[far] = np.exp(t[far] + np.log(b / a))
    return rho


def _drho_du(u: np.ndarray, a: float, parts=None) -> np.ndarray:
    """d rho / d u = u (u^2/|a-2| + 1)^(a/2 - 1) = u exp((a - 2) L / 2), with the same limits."""
    if a == 2.0:
        return u.copy()
    if a == -np.inf:
        return u * np.exp(-0.5 * u * u)  # exp of a non-positive number: no overflow
    L, _ = parts if parts is not None else _log1p_s(u, abs(a - 2.0))
    # the exponent tends to 0 as a -> 2 because (a - 2) log(1/|a - 2|) -> 0
    e = 0.5 * (a - 2.0) * L
    slope = u * np.exp(np.clip(e, -600.0, 600.0))
    # for |u| ~ 1e200 the power alone under- or overflows while u times it does not
    # (cauchy: 2/u = 2e-200): there |u| is taken into the exponent
    extreme = np.abs(e) > 600.0
    if extreme.any():
        slope[extreme] = np.sign(u[extreme]) * np.exp(np.log(np.abs(u[extreme])) + e[extreme])
    return slope


def _d2rho_du2(u: np.ndarray, a: float) -> np.ndarray:
    """d^2 rho / d u^2 = (s + 1)^(a/2 - 2) (1 + (a - 1) s) with s = u^2/|a-2|, in a form that never overflows.

    Written as exp((a - 2) L / 2) * (1/(1 + s) + (a - 1) s/(1 + s)) with L = log1p(s): the first factor
    is the gradient's (u^2/|a-2| + 1)^(a/2 - 1), and 1/(1 + s) = exp(-L) and s/(1 + s) = -expm1(-L)
    lie in [0, 1], so neither s nor a power of it is formed. For a >= 1 both terms are non-negative,
    so nothing cancels even where the sum is tiny (charbonnier far out: 1/(1 + s)); near a = 2 the
    sum is 1 + O(a - 2) as the limit 1 requires; for a < 1 it turns negative once s > 1/(1 - a),
    the non-convex tails.
    """
    if a == 2.0:
        return np.ones_like(u)
    if a == -np.inf:
        # (1 - u^2) exp(-u^2/2); beyond |u| = 100 both are 0 to double precision, and u^2 may overflow
        m = np.minimum(np.abs(u), 100.0)
        return (1.0 - m * m) * np.exp(-0.5 * m * m)
    L, _ = _log1p_s(u, abs(a - 2.0))
    return np.exp(0.5 * (a - 2.0) * L) * (np.exp(-L) + (a - 1.0) * -np.expm1(-L))


def robust(pred, target, *, alpha=1.0, scale=1.0):
    """Barron's rho((p - y), alpha, scale) elementwise."""
    with np.errstate(over="ignore"):  # only where the true value exceeds float64 (a > 2, huge residuals)
        return _rho((pred - target) / scale, float(alpha))


def robust_grad(pred, target, *, alpha=1.0, scale=1.0):
    # d rho/dx = d rho/du / c
    with np.errstate(over="ignore"):
        return _drho_du((pred - target) / scale, float(alpha)) / scale


def robust_value_and_grad(pred, target, *, alpha=1.0, scale=1.0):
    # value and gradient share L = log1p(u^2 / |a - 2|), the one costly step of both
    u, a = (pred - target) / scale, float(alpha)
    parts = None if a in (2.0, -np.inf) else _log1p_s(u, abs(a - 2.0))
    with np.errstate(over="ignore"):
        return _rho(u, a, parts), _drho_du(u, a, parts) / scale


def _fixed_value_and_grad(a: float):
    def value_and_grad(pred, target, *, scale=1.0):
        return robust_value_and_grad(pred, target, alpha=a, scale=scale)

    return value_and_grad


def robust_hess(pred, target, *, alpha=1.0, scale=1.0):
    # d^2 rho/dx^2 = d^2 rho/du^2 / c^2
    with np.errstate(over="ignore"):
        return _d2rho_du2((pred - target) / scale, float(alpha)) / (scale * scale)


def _fixed(a: float):
    def value(pred, target, *, scale=1.0):
        return robust(pred, target, alpha=a, scale=scale)

    def grad(pred, target, *, scale=1.0):
        return robust_grad(pred, target, alpha=a, scale=scale)

    def hess(pred, target, *, scale=1.0):
        return robust_hess(pred, target, alpha=a, scale=scale)

    return value, grad, hess


SCALE = Param("scale", 1.0, "c, the residual size where the loss bends from quadratic to robust", low=0.0, low_open=True)


class _ShapeParam(Param):
    """A float that may be -inf (Barron's a = -inf, welsch) but not +inf or nan.

    ``infinite=(-inf,)`` lets Param.check take -inf, which it refuses in other parameters;
    +inf and nan are refused. Only the text shown by `losscli explain` and in errors
    ("a float < inf") needed saying better.
    """

    def domain_text(self) -> str:
        return "a float or -inf (not inf or nan)"


ALPHA = _ShapeParam("alpha", 1.0, "a, the shape: 2 is half squared error, 1 charbonnier, 0 cauchy, -2 geman_mcclure, "
                    "-inf welsch; lower is more robust. Any real number or -inf", high=np.inf, high_open=True,
                    infinite=(-np.inf,))

_INPUTS = ("pred and target are real numbers, one target column per prediction column; the loss is elementwise "
           "on x = p - y and the mean runs over all elements.")
_REF = ("Barron (2019), A General and Adaptive Robust Loss Function, CVPR, eq. (1)-(3) and its limits; "
        "the special cases are named as in its section 1.")

ROBUST = Loss(
    name="robust", family="robust", summary="Barron's general robust loss: one shape parameter spans L2, Charbonnier, Cauchy, Geman-McClure, Welsch.",
    formula="|a-2|/a * (((x/c)^2/|a-2| + 1)^(a/2) - 1), x = p - y",
    inputs=(PRED, TARGET), value=robust, grad=robust_grad, params=(ALPHA, SCALE),
    value_and_grad=robust_value_and_grad,
    hess=robust_hess,
    explain=Explain(
        inputs=_INPUTS,
        gradient="(x/c^2) * ((x/c)^2/|a-2| + 1)^(a/2 - 1): equal to x/c^2 for small residuals whatever a is; "
                 "for a < 2 it falls off for |x| >> c, and for a <= 0 it tends to zero, so far outliers stop pulling.",
        use="When you want to tune (or sweep) how strongly outliers are discounted with one number, keeping the same "
            "behaviour (half mse on x/c) near zero residual.",
        avoid="When the shape should be learned per-sample from data likelihood: this is the loss rho only, not "
              "Barron's normalised negative log-likelihood with its partition function. Non-convex for a < 1, so "
              "poor starting points can be trapped.",
        relations="a=2 is mse/2 on x/c; a=1 is charbonnier (pseudo-Huber); a=0 cauchy; a=-2 geman_mcclure; "
                  "a=-inf welsch. Huber and log_cosh sit between a=1 and a=2 in their tails.",
        reference=_REF,
    ),
)


def _named(name, a, summary, formula, gradient, use, avoid, relations):
    value, grad, hess = _fixed(a)
    return Loss(
        name=name, family="robust", summary=summary, formula=formula,
        inputs=(PRED, TARGET), value=value, grad=grad, params=(SCALE,),
        value_and_grad=_fixed_value_and_grad(a),
        hess=hess,
        explain=Explain(inputs=_INPUTS, gradient=gradient, use=use, avoid=avoid, relations=relations, reference=_REF),
    )


CHARBONNIER = _named(
    "charbonnier", 1.0, "Charbonnier (pseudo-Huber) loss: smooth L1.",
    "sqrt((x/c)^2 + 1) - 1",
    "(x/c^2) / sqrt((x/c)^2 + 1): about x/c^2 near zero and tending to sign(x)/c for large |x|.",
    "A smooth, convex stand-in for L1 (image restoration, optical flow): every large error pulls with the same force.",
    "When outliers should be ignored rather than merely capped; its pull never vanishes. Use cauchy or welsch.",
    "robust with alpha=1. c^2 times it is the pseudo-Huber loss with delta=c: huber with a smooth corner.",
)

CAUCHY = _named(
    "cauchy", 0.0, "Cauchy (Lorentzian) loss: logarithmic growth.",
    "log(0.5 (x/c)^2 + 1)",
    "2x / (x^2 + 2c^2): largest at |x| = sqrt(2) c and decaying like 2/x beyond.",
    "Heavy-tailed noise where outliers should still matter a little; the negative log-likelihood of a Cauchy-like model.",
    "Convex problems: it is non-convex beyond |x| = sqrt(2) c.",
    "robust with alpha=0 (the limit of the general formula).",
)

GEMAN_MCCLURE = _named(
    "geman_mcclure", -2.0, "Geman-McClure loss: bounded, saturates at 2.",
    "2 (x/c)^2 / ((x/c)^2 + 4)",
    "16 x c^2 / (x^2 + 4c^2)^2: redescending, it tends to zero like 1/x^3 for large residuals.",
    "Data with gross outliers that should be nearly ignored, once a good starting point is known.",
    "From a poor initial fit: the loss is flat for large residuals, so those residuals give almost no signal.",
    "robust with alpha=-2. Bounded like welsch but with a slower (polynomial) approach to its limit.",
)

WELSCH = _named(
    "welsch", -np.inf, "Welsch (Leclerc) loss: bounded, saturates at 1 exponentially.",
    "1 - exp(-0.5 (x/c)^2)",
    "(x/c^2) exp(-0.5 (x/c)^2): vanishes exponentially, so residuals beyond a few c have no influence.",
    "Strongest outlier rejection in the family (correntropy-like objectives).",
    "From a poor initial fit, or when several c's worth of residual are genuine signal.",
    "robust with alpha=-inf (the limit of the general formula).",
)

LOSSES = (ROBUST, CHARBONNIER, CAUCHY, GEMAN_MCCLURE, WELSCH)
