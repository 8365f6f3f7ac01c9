"""An example losscli plugin: two losses of our own in the catalogue's vocabulary.

    losscli compute --plugin examples/my_losses.py -l expectile:tau=0.9 sample_data/regression.csv
    losscli explain --plugin examples/my_losses.py expectile
    losscli check examples/my_losses.py

A plugin defines LOSSES, a list of losscli Loss(...) values, each with its value, its gradient
with respect to the first input, and its explain page. CASES (optional) gives example inputs for
`losscli check`; without it, inputs are drawn from each role's domain.
"""

import numpy as np

from losscli.catalogue.base import Explain, Loss, Param, pred_role, target_role
from losscli.checks import Case


def expectile(pred, target, *, tau=0.5):
    """|tau - 1(y < p)| (y - p)^2 per element: asymmetric least squares."""
    r = target - pred
    return np.where(r < 0, 1.0 - tau, tau) * r * r


def expectile_grad(pred, target, *, tau=0.5):
    r = target - pred
    return -2.0 * np.where(r < 0, 1.0 - tau, tau) * r


EXPECTILE = Loss(
    name="expectile", family="regression", summary="Expectile (asymmetric squared) loss: under- and over-prediction weighted tau and 1 - tau.",
    formula="|tau - 1(y < p)| (y - p)^2",
    inputs=(pred_role("predictions, one column per target"), target_role("targets, as many columns as pred")),
    value=expectile, grad=expectile_grad,
    params=(Param("tau", 0.5, "the expectile level: weight of under-prediction (y > p)", low=0.0, high=1.0,
                  low_open=True, high_open=True),),
    explain=Explain(
        inputs="pred and target: one or more numeric columns each, as many target columns as pred columns.",
        gradient="-2 |tau - 1(y < p)| (y - p); continuous at y = p, where both sides are 0.",
        use="Regression of an expectile (the squared-loss analogue of a quantile), e.g. tau = 0.9 for an upper one.",
        avoid="When you want a quantile (use quantile) or a symmetric loss (tau = 0.5 is half of mse).",
        relations="tau = 0.5 gives mse / 2; quantile is the absolute-value analogue.",
        reference="Newey and Powell (1987), Asymmetric Least Squares Estimation and Testing.",
    ),
)


def relative_l2(pred, target, *, eps=1e-12):
    """||p - y||^2 / (||y||^2 + eps) per row."""
    diff = pred - target
    return (diff * diff).sum(axis=1) / ((target * target).sum(axis=1) + eps)


def relative_l2_grad(pred, target, *, eps=1e-12):
    return 2.0 * (pred - target) / ((target * target).sum(axis=1, keepdims=True) + eps)


RELATIVE_L2 = Loss(
    name="relative_l2", family="regression", summary="Squared error of a vector relative to the target's squared norm, per row.",
    formula="||p - y||^2 / (||y||^2 + eps)",
    inputs=(pred_role("predicted vector: d columns"), target_role("target vector, as many columns as pred")),
    value=relative_l2, grad=relative_l2_grad, per="row",
    params=(Param("eps", 1e-12, "added to the target's squared norm", low=0.0, low_open=True),),
    explain=Explain(
        inputs="pred and target are vectors of d columns each; one value per row, mean over rows.",
        gradient="2 (p - y) / (||y||^2 + eps).",
        use="Comparing vector predictions whose targets differ in scale (operator learning, PDE surrogates).",
        avoid="Targets that are (nearly) zero vectors: the value explodes as 1 / eps.",
        relations="mse divided by the target's mean square, row by row.",
        reference="The relative L2 error of neural-operator papers (e.g. Li et al. 2021, Fourier Neural Operator).",
    ),
)

LOSSES = [EXPECTILE, RELATIVE_L2]


def _regression(rng, n):
    # residuals kept away from 0, the kink of expectile's second derivative (the gradient is smooth there anyway)
    pred = rng.normal(size=(n, 2))
    return {"pred": pred, "target": pred + rng.choice([-1.0, 1.0], size=(n, 2)) * rng.uniform(0.1, 2.0, size=(n, 2))}


CASES = {
    "expectile": [Case("tau 0.9", _regression, {"tau": 0.9}), Case("tau 0.5", _regression)],
    "relative_l2": [Case("vectors", lambda rng, n: {"pred": rng.normal(size=(n, 3)), "target": rng.normal(size=(n, 3)) + 2.0})],
}
