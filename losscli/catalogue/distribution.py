"""Distribution losses: a discretised distribution over K bins predicted per row."""

from __future__ import annotations

import numpy as np

from ..errors import InputDataError
from .base import Explain, Loss, log_softmax, log_softmax_and_softmax, pred_role, target_role, times_log

BIN_LOGITS = pred_role(
    "K >= 2 bin logits per row (Ultralytics' reg_max bins, 16 by default)",
    warn_if_probabilities="these look like probabilities, but dfl applies a softmax to them; pass the raw bin logits.",
)
BIN_TARGET = target_role("one column: the continuous target position in bin units (0 .. K-1)", width=1)


def _bins(pred, target):
    """Left bin, right bin and their weights for the clamped target, as Ultralytics' DFLoss."""
    k = pred.shape[1]
    # Ultralytics clamps to [0, reg_max - 1 - 0.01] so that the right bin tl + 1 always exists.
    t = np.clip(target[:, 0], 0.0, k - 1 - 0.01)
    tl = np.floor(t).astype(np.intp)  # t >= 0, so floor is torch's .long() truncation
    wl = (tl + 1) - t
    return tl, tl + 1, wl, 1.0 - wl


def dfl(pred, target):
    """wl * CE(x, tl) + wr * CE(x, tl + 1); Li et al. 2020, Generalized Focal Loss."""
    tl, tr, wl, wr = _bins(pred, target)
    logp = log_softmax(pred)
    rows = np.arange(pred.shape[0])
    return -(times_log(wl, logp[rows, tl]) + times_log(wr, logp[rows, tr]))


def dfl_grad(pred, target):
    return dfl_value_and_grad(pred, target)[1]


def dfl_value_and_grad(pred, target):
    tl, tr, wl, wr = _bins(pred, target)
    logp, g = log_softmax_and_softmax(pred)  # g starts as (wl + wr) softmax(x), and wl + wr = 1
    rows = np.arange(pred.shape[0])
    value = -(wl * logp[rows, tl] + wr * logp[rows, tr])
    g[rows, tl] -= wl
    g[rows, tr] -= wr
    return value, g


def dfl_hess(pred, target):
    # a cross-entropy with the two-hot target (wl, wr), wl + wr = 1: the diagonal is p_j (1 - p_j)
    logp = log_softmax(pred)
    return np.exp(logp) * -np.expm1(logp)


def dfl_check(pred, target):
    if pred.shape[1] < 2:
        raise InputDataError(f"dfl needs K >= 2 bin columns in pred (Ultralytics uses reg_max=16); got {pred.shape[1]}.")
    return []


DFL = Loss(
    name="dfl", family="distribution", per="row",
    summary="Distribution Focal Loss: cross-entropy to the two bins around a continuous target (GFL, YOLOv8).",
    formula="wl CE(x, floor t) + wr CE(x, floor t + 1), t clamped to [0, K - 1.01], wl = floor t + 1 - t, wr = 1 - wl",
    inputs=(BIN_LOGITS, BIN_TARGET), value=dfl, grad=dfl_grad, check=dfl_check,
    value_and_grad=dfl_value_and_grad,
    hess=dfl_hess,
    explain=Explain(
        inputs="pred holds K >= 2 bin logits per row (one row per box side: Ultralytics' (n*4, reg_max) view). "
               "target is one column, the distance in bin units; it is clamped silently to [0, K - 1.01] as "
               "Ultralytics does, so targets beyond the last bin cost as much as K - 1.01.",
        gradient="softmax(x) - wl e_tl - wr e_tr: finite for logits of any size.",
        use="Box regression as a distribution over discrete offsets (GFL, YOLOv8/11 heads).",
        avoid="Targets that genuinely exceed the bin range: the clamp hides them; raise reg_max instead.",
        relations="A cross_entropy with a two-hot probability target (wl, wr) on the neighbouring bins; its "
                  "minimum puts all mass on those two bins in proportion wl:wr. Ultralytics' DFLoss averages the "
                  "four sides of a box, then BboxLoss weights boxes and divides by target_scores_sum; here each row "
                  "is one side and the mean is over rows (use --weight for per-box weights).",
        reference="Li et al. (2020), Generalized Focal Loss, NeurIPS; ultralytics/utils/loss.py DFLoss "
                  "(clamp_(0, reg_max - 1 - 0.01), linear weights, mean over the last axis).",
    ),
)

LOSSES = (DFL,)
