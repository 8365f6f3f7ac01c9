"""Finishing: the one place where a state becomes the reported value and gradient summary.

    mean reduction = sum_i w_i sum_j v_ij / sum_i w_i d_i      sum reduction = sum_i w_i sum_j v_ij

and ``finish="sqrt"`` (rmse) takes the root of either. The gradient of the reported value with
respect to p_ij is scale * w_i dv_ij/dp_ij, where ``scale`` is d(value)/d(numerator): 1/sum(w d)
for the mean, 1 for the sum, times 1/(2 sqrt(x)) under a root. The gradient sums in a state are of
w_i dv_ij/dp_ij, so the summary is the scale times them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..catalogue.base import Loss
from .state import State


@dataclass
class Outcome:
    """The reported numbers of one loss for one group."""

    value: float
    rows: int
    grad: dict[str, float] | None = None


def reduce_value(loss: Loss, params: dict[str, Any], total, norm, reduction: str) -> tuple[float, float]:
    """The reported value and d(value)/d(numerator), the scale that turns gradient sums into the gradient."""
    if loss.per == "set":
        return float(loss.value(totals=np.asarray(total), **params)), 1.0
    if reduction == "sum":
        x, scale = float(total), 1.0
    else:
        x = float(total) / float(norm) if norm > 0 else float("nan")
        scale = 1.0 / float(norm) if norm > 0 else float("nan")
    if loss.finish == "sqrt":
        root = np.sqrt(x)
        # sqrt has no derivative at 0; every residual is then 0 and we report the zero subgradient.
        return float(root), (scale / (2.0 * root) if root > 0 else 0.0)
    return x, scale


def reported_hess(loss: Loss, weighted_hess: np.ndarray, scale: float, value: float, grad: np.ndarray) -> np.ndarray:
    """The diagonal of the Hessian of the reported value, from w_i d^2 v_ij/dp_ij^2 and the reported gradient.

    scale * w h, the value being linear in the numerator; under rmse's root value = sqrt(x) it is
    scale * w h - grad^2 / value (the root's own curvature), and 0 where value = 0, where the root has
    no derivative and the gradient reports 0 too.
    """
    h = weighted_hess * scale
    if loss.finish == "sqrt":
        return h - grad * grad / value if value > 0 else np.zeros_like(h)
    return h


def outcomes(loss: Loss, params: dict[str, Any], state: State, reduction: str) -> list[Outcome]:
    """One Outcome per group of the state (a set loss's gradient comes from its second pass)."""
    results = []
    for g in range(state.groups):
        value, scale = reduce_value(loss, params, state.total[g], state.norm[g], reduction)
        grad = None
        if state.grad_sq is not None:
            grad = {
                "l2": float(abs(scale) * np.sqrt(state.grad_sq[g])),
                "abs_max": float(abs(scale) * state.grad_absmax[g]),
                "mean": float(scale * state.grad_sum[g] / state.elements[g]) if state.elements[g] else 0.0,
            }
        results.append(Outcome(value=value, rows=int(state.rows[g]), grad=grad))
    return results

