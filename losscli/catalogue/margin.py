"""Margin losses for binary labels: elementwise over every score column, labels -1/1 or 0/1."""

from __future__ import annotations

import numpy as np

from .base import (Domain, Explain, Loss, Param, Problem, log_sigmoid, piecewise_linear_hess, pred_role, sigmoid,
                   target_role)
from .classification import _logit_parts

SIGNED = Domain("labels -1 or 1 (0 is read as -1)", lambda a: (a != -1.0) & (a != 0.0) & (a != 1.0))
SCORES = pred_role("raw scores (decision values or logits), one column per label")
LABELS = target_role("labels -1/1 or 0/1, one column per score column", SIGNED)


def signed(target: np.ndarray) -> np.ndarray:
    """0/1 labels as -1/1, as Keras' hinge converts them; -1/1 labels unchanged."""
    return target - (target == 0.0)  # labels are -1, 0 or 1: only a 0 moves, to -1 (np.where is slower)


def mixed_zero_and_minus_one(pred, target, **_):
    """Refuse a column holding both 0 and -1: it is unclear whether 0 means the negative class."""
    zero = target == 0.0
    if not zero.any() or target.min() > -1.0:  # the usual -1/1 or 0/1 labels, found without axis reductions
        return []
    both = zero.any(axis=0) & (target == -1.0).any(axis=0)
    bad = zero & both[None, :]
    return [Problem("target", bad, "labels mix 0 and -1, so 0 is ambiguous; use -1/1 or 0/1 throughout")]


def hinge(pred, target, *, margin=1.0):
    """max(0, margin - y s)."""
    return np.maximum(0.0, margin - signed(target) * pred)


def hinge_grad(pred, target, *, margin=1.0):
    return hinge_value_and_grad(pred, target, margin=margin)[1]


def hinge_value_and_grad(pred, target, *, margin=1.0):
    y = signed(target)
    h = margin - y * pred
    # at the kink (y s = margin) the subgradient 0 is taken, as torch's relu does
    return np.maximum(0.0, h), -y * (h > 0)


def hinge_hess(pred, target, *, margin=1.0):
    # piecewise linear: 0 wherever the second derivative exists, and 0 taken at the kink
    return np.zeros(np.broadcast_shapes(pred.shape, target.shape))


def squared_hinge(pred, target, *, margin=1.0):
    """max(0, margin - y s)^2."""
    return hinge(pred, target, margin=margin) ** 2


def squared_hinge_grad(pred, target, *, margin=1.0):
    return -2.0 * signed(target) * hinge(pred, target, margin=margin)


def squared_hinge_value_and_grad(pred, target, *, margin=1.0):
    y = signed(target)
    h = np.maximum(0.0, margin - y * pred)  # the hinge once
    return h**2, -2.0 * y * h


def squared_hinge_hess(pred, target, *, margin=1.0):
    # 2 y^2 = 2 where the margin is violated; at the kink the flat side (0) is taken, as the gradient is 0 there
    return np.where(margin - signed(target) * pred > 0, 2.0, 0.0)


def soft_margin(pred, target):
    """log(1 + exp(-y s)) as -log sigmoid(y s), finite for y s of +-1e4; torch SoftMarginLoss."""
    return -log_sigmoid(signed(target) * pred)


def soft_margin_grad(pred, target):
    return soft_margin_value_and_grad(pred, target)[1]


def soft_margin_value_and_grad(pred, target):
    y = signed(target)
    z = y * pred
    softplus, _, p_neg = _logit_parts(z)  # -log sigmoid(z) and sigmoid(-z) from one exp
    return np.maximum(-z, 0.0) + softplus, -y * p_neg


def soft_margin_hess(pred, target):
    ys = signed(target) * pred
    return sigmoid(ys) * sigmoid(-ys)


_INPUTS = ("pred holds raw scores (an SVM's decision values or logits); target holds labels -1/1, or 0/1 with 0 "
           "read as -1 (Keras converts 0/1 labels the same way). One label column per score column.")
MARGIN = Param("margin", 1.0, "the score margin y s must exceed before the loss is 0", low=0.0)

HINGE = Loss(
    name="hinge", family="margin", summary="Hinge loss of support vector machines.",
    formula="max(0, margin - y s), y in {-1, 1}",
    inputs=(SCORES, LABELS), value=hinge, grad=hinge_grad, params=(MARGIN,), check=mixed_zero_and_minus_one,
    value_and_grad=hinge_value_and_grad,
    hess=hinge_hess,
    explain=Explain(
        inputs=_INPUTS,
        gradient="-y where the margin is violated (y s < margin), 0 elsewhere, including at the kink.",
        use="Scoring a max-margin classifier (linear SVM): only examples inside the margin or misclassified cost anything.",
        avoid="Probabilistic models: it ignores calibration entirely. Use bce_logits.",
        relations="squared_hinge squares it (smooth, harsher on large violations); soft_margin is its smooth logistic cousin.",
        reference="Cortes and Vapnik (1995), Support-Vector Networks; keras.losses.hinge (with a margin parameter added).",
    ),
)

SQUARED_HINGE = Loss(
    name="squared_hinge", family="margin", summary="Squared hinge loss (L2-SVM).",
    formula="max(0, margin - y s)^2, y in {-1, 1}",
    inputs=(SCORES, LABELS), value=squared_hinge, grad=squared_hinge_grad, params=(MARGIN,),
    hess=squared_hinge_hess,
    check=mixed_zero_and_minus_one,
    value_and_grad=squared_hinge_value_and_grad,
    explain=Explain(
        inputs=_INPUTS,
        gradient="-2 y max(0, margin - y s): continuous, unlike hinge's.",
        use="L2-regularised SVMs and any margin objective that should be differentiable everywhere.",
        avoid="Data with mislabelled points far on the wrong side: the square lets them dominate.",
        relations="The square of hinge per element.",
        reference="keras.losses.squared_hinge; sklearn LinearSVC(loss='squared_hinge').",
    ),
)

SOFT_MARGIN = Loss(
    name="soft_margin", family="margin", summary="Soft-margin (logistic) loss on -1/1 labels.",
    formula="log(1 + exp(-y s)), y in {-1, 1}",
    inputs=(SCORES, LABELS), value=soft_margin, grad=soft_margin_grad, check=mixed_zero_and_minus_one,
    value_and_grad=soft_margin_value_and_grad,
    hess=soft_margin_hess,
    explain=Explain(
        inputs=_INPUTS,
        gradient="-y sigmoid(-y s).",
        use="Logistic regression written with -1/1 labels; a smooth replacement for hinge.",
        avoid="When labels are 0/1 probabilities or soft; bce_logits takes those directly.",
        relations="Equal to bce_logits with 0/1 labels ((y + 1)/2): log(1 + exp(-y s)) is the logistic loss.",
        reference="torch.nn.SoftMarginLoss.",
    ),
)

def perceptron(pred, target):
    """max(0, -y s); optax perceptron_loss."""
    return np.maximum(0.0, -signed(target) * pred)


def perceptron_grad(pred, target):
    y = signed(target)
    # at y s = 0 (the kink) the subgradient 0 is taken, as for hinge
    return np.where(y * pred < 0, -y, 0.0)


PERCEPTRON = Loss(
    name="perceptron", family="margin", summary="Perceptron loss: the score's size when it has the wrong sign.",
    formula="max(0, -y s), y in {-1, 1}",
    inputs=(SCORES, LABELS), value=perceptron, grad=perceptron_grad, check=mixed_zero_and_minus_one,
    hess=piecewise_linear_hess,
    explain=Explain(
        inputs=_INPUTS,
        gradient="-y where the sign is wrong (y s < 0), 0 elsewhere, including y s = 0.",
        use="Scoring or training a perceptron: only misclassified examples cost anything, in proportion to how far "
            "on the wrong side they are.",
        avoid="When a margin is wanted: a score of +1e-9 on the right side already costs 0. hinge adds the margin.",
        relations="hinge with margin=0. multiclass_perceptron is its K-class form.",
        reference="Rosenblatt (1958); optax.losses.perceptron_loss (targets in {-1, 1}).",
    ),
)

LOSSES = (HINGE, SQUARED_HINGE, SOFT_MARGIN, PERCEPTRON)
