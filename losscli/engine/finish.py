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


@dataclass
class GradSums:
    """Gradient sums of a set-level loss from its second pass, per group: sum g^2, sum g, max |g|, elements."""

    sq: np.ndarray
    sum: np.ndarray
    absmax: np.ndarray
    count: np.ndarray

    @classmethod
    def zeros(cls, groups: int) -> "GradSums":
        return cls(*(np.zeros(groups) for _ in range(4)))

    def add(self, g: np.ndarray, inverse: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
        """Add a block's full gradient (n, c), all to group 0, or row i to group ids[inverse[i]]."""
        if inverse is None:
            self.sq[0] += float(np.einsum("ij,ij->", g, g))
            self.sum[0] += float(g.sum())
            self.absmax[0] = max(self.absmax[0], float(np.abs(g).max()) if g.size else 0.0)
            self.count[0] += g.size
            return
        k = ids.size
        self.sq[ids] += np.bincount(inverse, weights=np.einsum("ij,ij->i", g, g), minlength=k)
        self.sum[ids] += np.bincount(inverse, weights=g.sum(axis=1), minlength=k)
        biggest = np.zeros(k)
        np.maximum.at(biggest, inverse, np.abs(g).max(axis=1) if g.size else np.zeros(inverse.size))
        self.absmax[ids] = np.maximum(self.absmax[ids], biggest)
        self.count[ids] += np.bincount(inverse, minlength=k) * g.shape[1]

    def merge(self, other: "GradSums") -> "GradSums":
        return GradSums(self.sq + other.sq, self.sum + other.sum, np.maximum(self.absmax, other.absmax),
                        self.count + other.count)

    def summary(self, g: int) -> dict[str, float]:
        return {"l2": float(np.sqrt(self.sq[g])), "abs_max": float(self.absmax[g]),
                "mean": float(self.sum[g] / self.count[g]) if self.count[g] else 0.0}
