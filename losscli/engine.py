"""The engine: per-element loss values to mergeable states to reported numbers.

A loss definition gives values per element or per row. The engine turns them
into per-row *terms* (the weighted numerator, the weighted denominator and the
weighted gradient of each row), and terms into a :class:`State`, a handful of
sums and maxima per group that merge by addition. Batches of a file, groups of
a table, partitions of a cluster and bootstrap resamples differ only in how
rows reach a state; the losses never know.

For a set-level loss (Dice and family) the terms are the loss's own per-row
sufficient statistics, which add up the same way; its gradient depends on the
totals, so it is taken in a second look at the rows once the totals are known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .catalogue.base import Loss


@dataclass
class Terms:
    """What each row contributes to one loss; the unit of states, groups, bootstraps and per-row output."""

    total: np.ndarray  # (n,) w_i * sum_j v_ij; for a set loss, (n, k) statistics
    norm: np.ndarray  # (n,) w_i * d_i; ones for a set loss
    used: np.ndarray  # (n,) bool, the row counts towards the loss (d_i > 0)
    grad: np.ndarray | None  # (n, c) w_i * d(sum_j v_ij)/dp_ij, before the reduction's scale
    row_sum: np.ndarray | None = None  # (n,) sum_j v_ij, unweighted; None for a set loss
    denom: np.ndarray | None = None  # (n,) d_i, unweighted

    @property
    def per_row(self) -> np.ndarray | None:
        """The row's own loss, sum_j v_ij / d_i (NaN where the row is ignored); None for a set loss."""
        if self.row_sum is None:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.used, self.row_sum / np.where(self.used, self.denom, 1.0), np.nan)


def terms(loss: Loss, arrays: dict[str, np.ndarray], params: dict[str, Any],
          weight: np.ndarray | None = None, with_grad: bool = False) -> Terms:
    """Evaluate a loss on some rows and return their contributions."""
    first = arrays[loss.inputs[0].name]
    n = first.shape[0]
    if loss.per == "set":
        stats = np.asarray(loss.stats(**arrays, **params), dtype=np.float64)
        return Terms(total=stats, norm=np.ones(n), used=np.ones(n, dtype=bool), grad=None)
    values = np.asarray(loss.value(**arrays, **params), dtype=np.float64)
    row_sum = values.sum(axis=1) if values.ndim == 2 else values
    if loss.norm is not None:
        denom = np.asarray(loss.norm(**arrays, **params), dtype=np.float64)
    else:
        denom = np.full(n, float(values.shape[1]) if values.ndim == 2 else 1.0)
    grad = None
    if with_grad:
        grad = np.asarray(loss.grad(**arrays, **params), dtype=np.float64)
        if weight is not None:
            grad = grad * weight[:, None]
    total, norm = (row_sum, denom) if weight is None else (weight * row_sum, weight * denom)
    return Terms(total=total, norm=norm, used=denom > 0, grad=grad, row_sum=row_sum, denom=denom)


@dataclass
class State:
    """Mergeable sums for one loss over some rows, one entry per group.

    ``total``/``norm`` give the value; the four gradient sums give the gradient
    summary once the reduction's scale is known (it needs the final denominator,
    so it is applied at the end).
    """

    total: np.ndarray  # (G,) or (G, k) for a set loss
    norm: np.ndarray
    rows: np.ndarray  # rows used
    elements: np.ndarray  # prediction elements, for the gradient mean
    grad_sq: np.ndarray | None = None
    grad_sum: np.ndarray | None = None
    grad_absmax: np.ndarray | None = None

    @classmethod
    def of(cls, t: Terms, width: int, codes: np.ndarray | None = None, groups: int = 1) -> "State":
        """Sum terms per group (codes in [0, groups)); no codes means one group of all rows."""
        n = t.used.shape[0]
        if codes is None:  # one group: plain reductions, much faster than bincount
            def add(x: np.ndarray) -> np.ndarray:
                return x.sum(axis=0, keepdims=True) if x.ndim == 2 else np.array([x.sum()])

            def biggest(x: np.ndarray) -> np.ndarray:
                return np.array([x.max() if x.size else 0.0])
        else:
            def add(x: np.ndarray) -> np.ndarray:
                if x.ndim == 2:
                    return np.stack([np.bincount(codes, weights=x[:, k], minlength=groups)
                                     for k in range(x.shape[1])], axis=1)
                return np.bincount(codes, weights=x, minlength=groups)

            def biggest(x: np.ndarray) -> np.ndarray:
                out = np.zeros(groups)
                np.maximum.at(out, codes, x)
                return out

        state = cls(
            total=add(t.total), norm=add(t.norm), rows=add(t.used.astype(np.float64)),
            elements=add(np.full(n, float(width))),
        )
        if t.grad is not None:
            state.grad_sq = add(np.einsum("ij,ij->i", t.grad, t.grad))
            state.grad_sum = add(t.grad.sum(axis=1))
            state.grad_absmax = biggest(np.abs(t.grad).max(axis=1) if t.grad.size else np.zeros(n))
        return state

    def resized(self, groups: int) -> "State":
        """The same sums with room for more groups (zeros for the new ones), for groups first seen in a later batch."""
        def grow(x):
            if x is None or x.shape[0] >= groups:
                return x
            return np.concatenate([x, np.zeros((groups - x.shape[0],) + x.shape[1:])])

        return State(total=grow(self.total), norm=grow(self.norm), rows=grow(self.rows), elements=grow(self.elements),
                     grad_sq=grow(self.grad_sq), grad_sum=grow(self.grad_sum), grad_absmax=grow(self.grad_absmax))

    def reordered(self, order: np.ndarray) -> "State":
        def pick(x):
            return None if x is None else x[order]

        return State(total=pick(self.total), norm=pick(self.norm), rows=pick(self.rows), elements=pick(self.elements),
                     grad_sq=pick(self.grad_sq), grad_sum=pick(self.grad_sum), grad_absmax=pick(self.grad_absmax))

    def merge(self, other: "State") -> "State":
        def both(a, b, how=np.add):
            return None if a is None or b is None else how(a, b)

        size = max(self.rows.shape[0], other.rows.shape[0])
        self, other = self.resized(size), other.resized(size)
        return State(
            total=self.total + other.total, norm=self.norm + other.norm, rows=self.rows + other.rows,
            elements=self.elements + other.elements, grad_sq=both(self.grad_sq, other.grad_sq),
            grad_sum=both(self.grad_sum, other.grad_sum), grad_absmax=both(self.grad_absmax, other.grad_absmax, np.maximum),
        )


@dataclass
class Outcome:
    """The reported numbers of one loss for one group."""

    value: float
    rows: int
    grad: dict[str, float] | None = field(default=None)


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


def outcomes(loss: Loss, params: dict[str, Any], state: State, reduction: str) -> list[Outcome]:
    """Finish a state into one Outcome per group (set losses' gradients come from `set_grad`)."""
    results = []
    for g in range(state.rows.shape[0]):
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


def set_grad(loss: Loss, params: dict[str, Any], arrays: dict[str, np.ndarray], totals: np.ndarray) -> dict[str, float]:
    """Gradient summary of a set-level loss whose totals are known."""
    g = np.asarray(loss.grad(**arrays, totals=totals, **params), dtype=np.float64)
    return summarize(g)


def summarize(g: np.ndarray) -> dict[str, float]:
    """l2, abs_max and mean of a full gradient array."""
    if g.size == 0:
        return {"l2": 0.0, "abs_max": 0.0, "mean": 0.0}
    return {"l2": float(np.sqrt((g * g).sum())), "abs_max": float(np.abs(g).max()), "mean": float(g.mean())}


def gradient(loss: Loss, params: dict[str, Any], arrays: dict[str, np.ndarray],
             weight: np.ndarray | None = None, reduction: str = "mean") -> np.ndarray:
    """The full gradient of the reported value with respect to the first input (for --grad-out and tests)."""
    if loss.per == "set":
        stats = np.asarray(loss.stats(**arrays, **params), dtype=np.float64)
        return np.asarray(loss.grad(**arrays, totals=stats.sum(axis=0), **params), dtype=np.float64)
    t = terms(loss, arrays, params, weight, with_grad=True)
    _, scale = reduce_value(loss, params, t.total.sum(), t.norm.sum(), reduction)
    return t.grad * scale


def evaluate(loss: Loss, params: dict[str, Any], arrays: dict[str, np.ndarray], *,
             weight: np.ndarray | None = None, reduction: str = "mean", with_grad: bool = False,
             codes: np.ndarray | None = None, groups: int = 0) -> tuple[Outcome, list[Outcome], Terms]:
    """The overall outcome, one outcome per group (when codes are given) and the row terms."""
    t = terms(loss, arrays, params, weight if loss.sample_weights else None, with_grad and loss.per != "set")
    width = arrays[loss.inputs[0].name].shape[1]
    overall = outcomes(loss, params, State.of(t, width), reduction)[0]
    per_group: list[Outcome] = []
    if codes is not None:
        per_group = outcomes(loss, params, State.of(t, width, codes, groups), reduction)
    if with_grad and loss.per == "set":
        overall.grad = set_grad(loss, params, arrays, t.total.sum(axis=0))
        for g, outcome in enumerate(per_group):
            mask = codes == g
            sub = {k: v[mask] for k, v in arrays.items()}
            outcome.grad = set_grad(loss, params, sub, t.total[mask].sum(axis=0))
    return overall, per_group, t
