"""Barron's general and adaptive robust loss and its named special cases.

Elementwise over every prediction column with residual x = pred - target and z = (x / c)^2:

    rho(x, a, c) = |a - 2| / a * ((z / |a - 2| + 1)^(a / 2) - 1)

with the limits a = 2: z / 2, a = 0: log(z / 2 + 1), a = -inf: 1 - exp(-z / 2).
Reference: J. T. Barron, "A General and Adaptive Robust Loss Function", CVPR 2019, eq. (1)-(3).
"""

from __future__ import annotations

import numpy as np

from .base import Explain, Loss, Param, pred_role, target_role

PRED = pred_role("predicted values (real numbers)")
TARGET = target_role("true values, one column per prediction column")


def _rho(z: np.ndarray, a: float) -> np.ndarray:
    """Barron's rho as a function of z = (x/c)^2 >= 0, for a fixed shape a (a scalar)."""
    if a == 2.0:
        return 0.5 * z
    if a == 0.0:
        return np.log1p(0.5 * z)
    if a == -np.inf:
        # 1 - exp(-z/2) written as -expm1 so tiny z keep every digit
        return -np.expm1(-0.5 * z)
    b = abs(a - 2.0)  # exact for a near 2 (Sterbenz), so no digit is lost there
    # (z/b + 1)^(a/2) - 1 = expm1(a/2 * log1p(z/b)): log1p keeps small z/b exact and expm1
    # avoids the cancellation of "power minus one" when a -> 0 (the quotient by a then stays
    # accurate, giving log1p(z/2) in the limit). Near a = 2, b is tiny and z/b huge, but
    # log1p(z/b) is only ~ log(z) + 35 at b ~ 1e-15, so the exponent stays modest and the
    # relative error stays ~ 1e-14; the product b/a * (...) then tends to z/2 smoothly.
    return (b / a) * np.expm1(0.5 * a * np.log1p(z / b))


def _drho_dz(z: np.ndarray, a: float) -> np.ndarray:
    """d rho / d z = 0.5 (z/|a-2| + 1)^(a/2 - 1), with the same limits."""
    if a == 2.0:
        return np.full_like(z, 0.5)
    if a == -np.inf:
        return 0.5 * np.exp(-0.5 * z)  # exp of a non-positive number: no overflow
    if a == 0.0:
        return 0.5 / (1.0 + 0.5 * z)
    b = abs(a - 2.0)
    # exponent (a - 2)/2 * log1p(z/b): tends to 0 as a -> 2 because (a-2) * log(1/b) -> 0
    return 0.5 * np.exp(0.5 * (a - 2.0) * np.log1p(z / b))


def robust(pred, target, *, alpha=1.0, scale=1.0):
    """Barron's rho((p - y), alpha, scale) elementwise."""
    u = (pred - target) / scale
    return _rho(u * u, float(alpha))


def robust_grad(pred, target, *, alpha=1.0, scale=1.0):
    # d rho/dx = d rho/dz * 2 x / c^2 = (u / c) * 2 d rho/dz
    u = (pred - target) / scale
    return 2.0 * _drho_dz(u * u, float(alpha)) * u / scale


def _fixed(a: float):
    def value(pred, target, *, scale=1.0):
        return robust(pred, target, alpha=a, scale=scale)

    def grad(pred, target, *, scale=1.0):
        return robust_grad(pred, target, alpha=a, scale=scale)

    return value, grad


SCALE = Param("scale", 1.0, "c, the residual size where the loss bends from quadratic to robust", low=0.0, low_open=True)
ALPHA = Param("alpha", 1.0, "a, the shape: 2 is half squared error, 1 charbonnier, 0 cauchy, -2 geman_mcclure, "
              "-inf welsch; lower is more robust. Any real number or -inf", high=np.inf, high_open=True)

_INPUTS = ("pred and target are real numbers, one target column per prediction column; the loss is elementwise "
           "on x = p - y and the mean runs over all elements.")
_REF = ("Barron (2019), A General and Adaptive Robust Loss Function, CVPR, eq. (1)-(3) and its limits; "
        "the special cases are named as in its section 1.")

ROBUST = Loss(
    name="robust", family="robust", summary="Barron's general robust loss: one shape parameter spans L2, Charbonnier, Cauchy, Geman-McClure, Welsch.",
    formula="|a-2|/a * (((x/c)^2/|a-2| + 1)^(a/2) - 1), x = p - y",
    inputs=(PRED, TARGET), value=robust, grad=robust_grad, params=(ALPHA, SCALE),
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
    value, grad = _fixed(a)
    return Loss(
        name=name, family="robust", summary=summary, formula=formula,
        inputs=(PRED, TARGET), value=value, grad=grad, params=(SCALE,),
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
