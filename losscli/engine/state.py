"""Mergeable states: what a loss keeps of the rows it has seen, a few numbers per group.

A loss definition gives values per element or per row. For each block of rows the engine turns
them into per-row *terms* (the weighted numerator, the weighted denominator, the weighted
gradient) and folds the terms straight into a :class:`State`: sums and maxima per group, each
field declaring how it merges. Blocks of a batch, batches of a file, files of a folder, partitions
of a cluster and blocks of a bootstrap differ only in how rows reach a state; the losses never know.

For a set-level loss (Dice and its family) the terms are the loss's own per-row sufficient
statistics, which add up the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..catalogue.base import Loss, row_sums


@dataclass
class Terms:
    """What each row of a block contributes to one loss."""

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
    """Evaluate a loss on some rows and return their contributions.

    A definition that gives ``value_and_grad`` computes the work its value and gradient share
    (a sigmoid, a softmax) once; otherwise ``value`` and ``grad`` are called separately.
    """
    first = arrays[loss.inputs[0].name]
    n = first.shape[0]
    if loss.per == "set":
        stats = np.asarray(loss.stats(**arrays, **params), dtype=np.float64)
        return Terms(total=stats, norm=np.ones(n), used=np.ones(n, dtype=bool), grad=None)
    grad = None
    if with_grad and loss.value_and_grad is not None:
        values, grad = loss.value_and_grad(**arrays, **params)
    else:
        values = loss.value(**arrays, **params)
        if with_grad:
            grad = loss.grad(**arrays, **params)
    values = np.asarray(values, dtype=np.float64)
    row_sum = values if values.ndim == 1 else row_sums(values)
    if loss.norm is not None:
        denom = np.asarray(loss.norm(**arrays, **params), dtype=np.float64)
    else:
        denom = np.full(n, float(values.shape[1]) if values.ndim == 2 else 1.0)
    if grad is not None:
        grad = np.asarray(grad, dtype=np.float64)
        if weight is not None:
            grad = grad * weight[:, None]
    total, norm = (row_sum, denom) if weight is None else (weight * row_sum, weight * denom)
    return Terms(total=total, norm=norm, used=denom > 0, grad=grad, row_sum=row_sum, denom=denom)


def sum_of_squares(x: np.ndarray) -> float:
    """sum x^2 by NumPy's own loop: np.dot and np.vecdot call OpenBLAS, which spreads a dot product of
    more than a few thousand elements over its own threads; inside the engine's threads (and beside
    other busy processes) each block then waited milliseconds for a sum that takes microseconds."""
    return float(np.einsum("i,i->", x, x))


def local_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct group ids of a block and each row's index among them (np.unique's answer, faster for few groups)."""
    top = int(codes.max()) + 1 if codes.size else 0
    if top <= 4 * codes.size + 1024:
        ids = np.flatnonzero(np.bincount(codes, minlength=top))
        position = np.empty(top, dtype=np.intp)
        position[ids] = np.arange(ids.size)
        return ids, position[codes]
    return np.unique(codes, return_inverse=True)


@dataclass
class State:
    """Mergeable sums for one loss, one entry per group (the leading axis).

    ``total``/``norm`` give the value; the three gradient fields give the gradient summary
    once the reduction's scale is known (it needs the final denominator, so it is applied at
    the end). ``MERGE`` says how each field combines: sums add, the largest |gradient| takes
    the maximum.
    """

    total: np.ndarray | None = None  # (G,) or (G, k) for a set loss
    norm: np.ndarray | None = None
    rows: np.ndarray | None = None  # rows used
    elements: np.ndarray | None = None  # prediction elements, for the gradient mean
    grad_sq: np.ndarray | None = None
    grad_sum: np.ndarray | None = None
    grad_absmax: np.ndarray | None = None

    MERGE: ClassVar[dict[str, np.ufunc]] = {
        "total": np.add, "norm": np.add, "rows": np.add, "elements": np.add,
        "grad_sq": np.add, "grad_sum": np.add, "grad_absmax": np.maximum,
    }

    def items(self):
        for name in self.MERGE:  # every field, in order; dataclasses.fields() was a tenth of a small block's time
            value = getattr(self, name)
            if value is not None:
                yield name, value

    @property
    def groups(self) -> int:
        return next(self.items())[1].shape[0]

    @classmethod
    def of(cls, t: Terms, width: int, inverse: np.ndarray | None = None, groups: int = 1) -> "State":
        """Sum a block's terms per group (``inverse`` in [0, groups)); no inverse means one group of all rows."""
        n = t.used.shape[0]
        if inverse is None:  # one group: plain reductions, much faster than bincount
            def add(x: np.ndarray) -> np.ndarray:
                return np.einsum("ij->j", x)[None, :] if x.ndim == 2 else np.array([x.sum()])

            elements = np.array([float(n * width)])
        else:
            def add(x: np.ndarray) -> np.ndarray:
                if x.ndim == 2:
                    return np.stack([np.bincount(inverse, weights=x[:, k], minlength=groups)
                                     for k in range(x.shape[1])], axis=1)
                return np.bincount(inverse, weights=x, minlength=groups)

            elements = np.bincount(inverse, minlength=groups) * float(width)
        state = cls(total=add(t.total), norm=add(t.norm), rows=add(t.used.astype(np.float64)), elements=elements)
        if t.grad is not None:
            gradient = cls.of_grad(t.grad, inverse, groups)
            state.grad_sq, state.grad_sum, state.grad_absmax = gradient.grad_sq, gradient.grad_sum, gradient.grad_absmax
        return state

    @classmethod
    def of_grad(cls, g: np.ndarray, inverse: np.ndarray | None = None, groups: int = 1) -> "State":
        """The gradient fields alone, from a block's (n, c) gradient: sum of squares, sum, largest |g|."""
        if inverse is None:
            flat = g.ravel()
            return cls(grad_sq=np.array([sum_of_squares(flat)]), grad_sum=np.array([flat.sum()]),
                       grad_absmax=np.array([max(flat.max(), -flat.min()) if flat.size else 0.0]))
        sq = np.einsum("ij,ij->i", g, g)
        total = g[:, 0] if g.shape[1] == 1 else g.sum(axis=1)
        absmax = np.abs(g).max(axis=1) if g.size else np.zeros(g.shape[0])
        biggest = np.zeros(groups)
        np.maximum.at(biggest, inverse, absmax)
        return cls(grad_sq=np.bincount(inverse, weights=sq, minlength=groups),
                   grad_sum=np.bincount(inverse, weights=total, minlength=groups), grad_absmax=biggest)

    def empty(self, groups: int) -> "State":
        """A state with no rows yet, shaped like this one, for ``groups`` groups."""
        return State(**{name: np.zeros((groups,) + value.shape[1:]) for name, value in self.items()})

    def resized(self, groups: int) -> "State":
        """The same sums with room for more groups (zeros for the new ones), for groups first seen later."""
        if groups <= self.groups:
            return self
        grown = self.empty(groups)
        grown.fold(self, np.arange(self.groups))
        return grown

    def fold(self, part: "State", ids: np.ndarray) -> None:
        """Merge ``part``, whose group k is this state's group ids[k] (ids distinct), into this state in place."""
        for name, value in part.items():
            mine = getattr(self, name)
            mine[ids] = self.MERGE[name](mine[ids], value)

    def merge(self, other: "State") -> "State":
        """The state of both sets of rows (same group numbering; the shorter is padded)."""
        size = max(self.groups, other.groups)
        merged = self.resized(size).copy()
        merged.fold(other, np.arange(other.groups))
        return merged

    def copy(self) -> "State":
        return State(**{name: value.copy() for name, value in self.items()})

    def overall(self) -> "State":
        """One group holding every group's rows."""
        return State(**{name: self.MERGE[name].reduce(value, axis=0, keepdims=True) for name, value in self.items()})

    def reordered(self, order: np.ndarray) -> "State":
        return State(**{name: value[order] for name, value in self.items()})

    def take(self, group: int) -> "State":
        return self.reordered(np.array([group]))
