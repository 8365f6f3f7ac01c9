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
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from ..catalogue.base import Loss, row_sums


@dataclass
class Terms:
    """What each row of a block contributes to one loss.

    The per-row sums are formed only when something asks for them (a group, a weight, a per-row
    output): a run with none of those adds up the loss's values in one pass.
    """

    values: np.ndarray | None  # (n,) or (n, c) the loss's values v_ij, unweighted; None for a set loss
    norm: np.ndarray  # (n,) w_i * d_i; ones for a set loss
    used: np.ndarray  # (n,) bool, the row counts towards the loss (d_i > 0)
    grad: np.ndarray | None  # (n, c) w_i * d(sum_j v_ij)/dp_ij, before the reduction's scale
    denom: np.ndarray | None = None  # (n,) d_i, unweighted
    hess: np.ndarray | None = None  # (n, c) w_i * d^2(sum_j v_ij)/dp_ij^2, before the reduction's scale
    weight: np.ndarray | None = None  # (n,) w_i, or None for unit weights
    stats: np.ndarray | None = None  # (n, k) a set loss's per-row statistics
    # every row counts, unweighted, with the same denominator (a loss without its own norm): then
    # norm and denom are one value broadcast, and a state counts the rows instead of adding them up
    uniform: bool = False

    @cached_property
    def row_sum(self) -> np.ndarray | None:
        """(n,) sum_j v_ij, unweighted; None for a set loss."""
        if self.values is None:
            return None
        return self.values if self.values.ndim == 1 else row_sums(self.values)

    @cached_property
    def total(self) -> np.ndarray:
        """(n,) w_i * sum_j v_ij; for a set loss, its (n, k) statistics."""
        if self.values is None:
            return self.stats
        return self.row_sum if self.weight is None else self.weight * self.row_sum

    @property
    def per_row(self) -> np.ndarray | None:
        """The row's own loss, sum_j v_ij / d_i (NaN where the row is ignored); None for a set loss."""
        if self.row_sum is None:
            return None
        if self.uniform or self.used.all():  # the common case: one division, no masking passes
            return self.row_sum / self.denom
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.used, self.row_sum / np.where(self.used, self.denom, 1.0), np.nan)


def terms(loss: Loss, arrays: dict[str, np.ndarray], params: dict[str, Any],
          weight: np.ndarray | None = None, with_grad: bool = False, with_hess: bool = False) -> Terms:
    """Evaluate a loss on some rows and return their contributions.

    A definition that gives ``value_and_grad`` computes the work its value and gradient share
    (a sigmoid, a softmax) once; otherwise ``value`` and ``grad`` are called separately.
    """
    first = arrays[loss.inputs[0].name]
    n = first.shape[0]
    if loss.per == "set":
        stats = np.asarray(loss.stats(**arrays, **params), dtype=np.float64)
        return Terms(values=None, norm=np.ones(n), used=np.ones(n, dtype=bool), grad=None, stats=stats)
    grad = None
    if with_grad and loss.value_and_grad is not None:
        values, grad = loss.value_and_grad(**arrays, **params)
    else:
        values = loss.value(**arrays, **params)
        if with_grad:
            grad = loss.grad(**arrays, **params)
    values = np.asarray(values, dtype=np.float64)
    if loss.norm is not None:
        denom = np.asarray(loss.norm(**arrays, **params), dtype=np.float64)
    else:  # the element count, the same for every row: a broadcast view, never written
        denom = np.broadcast_to(float(values.shape[1]) if values.ndim == 2 else 1.0, (n,))
    if grad is not None:
        grad = np.asarray(grad, dtype=np.float64)
        if weight is not None:
            grad = grad * weight[:, None]
    hess = None
    if with_hess:
        hess = np.asarray(loss.hess(**arrays, **params), dtype=np.float64)
        hess = hess if weight is None else hess * weight[:, None]
    norm = denom if weight is None else weight * denom
    uniform = loss.norm is None and weight is None
    # a real array, not a broadcast view: NumPy's all() walks a zero-stride view 40x slower
    used = np.ones(n, dtype=bool) if uniform else denom > 0
    return Terms(values=values, norm=norm, used=used, grad=grad, denom=denom, hess=hess, weight=weight,
                 uniform=uniform)


def row_summaries(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's sum of squares, sum and largest |g| of an (n, c) gradient: the per-row (or per-query)
    pieces of the gradient summary, before they are added up per group."""
    if not g.size:
        return np.zeros(g.shape[0]), np.zeros(g.shape[0]), np.zeros(g.shape[0])
    if g.shape[1] > 1 and g.T.flags.c_contiguous and not g.flags.c_contiguous:
        # a transposed C array (losses over queries work on (rows, queries) arrays): reduce along its
        # contiguous rows rather than a short row of strided elements at a time
        t = g.T
        return np.einsum("ij,ij->j", t, t), t.sum(axis=0), np.abs(t).max(axis=0)
    return np.einsum("ij,ij->i", g, g), row_sums(g), np.abs(g).max(axis=1)


# Elements per dot product in sum_of_squares: OpenBLAS's x86-64 ddot keeps a dot product of at most
# 10,000 elements on the calling thread.
DOT_ROW = 8192


def sum_of_squares(x: np.ndarray) -> float:
    """sum x^2 of a 1-D array, as dot products of DOT_ROW elements.

    A dot product of a whole block would go to OpenBLAS's own threads, and inside the engine's
    threads (and beside other busy processes) each block then waited milliseconds for a sum that
    takes microseconds. Dot products of rows short enough to stay on this thread (np.vecdot of a
    (rows, DOT_ROW) view) are 2.5x faster than einsum's loop, which takes the tail.
    """
    whole = x.size - x.size % DOT_ROW
    total = float(np.einsum("i,i->", x[whole:], x[whole:]))
    if whole:
        rows = x[:whole].reshape(-1, DOT_ROW)
        total += float(np.vecdot(rows, rows).sum())
    return total


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
    hist: np.ndarray | None = None  # (G, HIST_BINS) row counts of per-row losses, see histogram()

    MERGE: ClassVar[dict[str, np.ufunc]] = {
        "total": np.add, "norm": np.add, "rows": np.add, "elements": np.add,
        "grad_sq": np.add, "grad_sum": np.add, "grad_absmax": np.maximum, "hist": np.add,
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

            counts = np.array([float(n)])
        else:
            def add(x: np.ndarray) -> np.ndarray:
                if x.ndim == 2:
                    return np.stack([np.bincount(inverse, weights=x[:, k], minlength=groups)
                                     for k in range(x.shape[1])], axis=1)
                return np.bincount(inverse, weights=x, minlength=groups)

            counts = np.bincount(inverse, minlength=groups).astype(np.float64)
        if t.uniform:  # every row counts with the same denominator: counted, not added up
            norm, rows = counts * float(t.norm[0]) if n else counts, counts
        else:
            norm, rows = add(t.norm), add(t.used.astype(np.float64))
        if inverse is None and t.weight is None and t.values is not None:  # one pass over the values, no row sums
            total = np.array([t.values.sum()])
        else:
            total = add(t.total)
        state = cls(total=total, norm=norm, rows=rows, elements=counts * float(width))
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
        sq, total, absmax = row_summaries(g)
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


# ----------------------------------------------------------------------------- the histogram of per-row losses
#
# Fixed bins, the same for every run, so histograms of blocks, batches, files and partitions merge by
# adding counts. Each power of two of |value| from 2^HIST_LOW to 2^HIST_HIGH is split into four equal
# parts (bin widths 19% to 25% of their value: log-spaced to within a quarter octave, as HDR histograms
# are). Layout, ascending in value: [<= -2^HIST_HIGH] [negative bins, largest magnitude first]
# [|v| < 2^HIST_LOW, "zero"] [positive bins] [>= 2^HIST_HIGH]. A bin is found from the float's own bits
# (exponent and top two mantissa bits), so no logarithm is taken.

HIST_LOW, HIST_HIGH, HIST_SPLIT = -50, 64, 4
_LOG_BINS = (HIST_HIGH - HIST_LOW) * HIST_SPLIT
HIST_ZERO = _LOG_BINS + 1  # index of the zero bin
HIST_BINS = 2 * HIST_ZERO + 1
_CODE_SHIFT = 50  # 52 mantissa bits less the 2 kept
_CODES = 1 << 14  # sign, 11 exponent bits and 2 mantissa bits of a float64


def _code_to_bin() -> np.ndarray:
    """The bin of each 14-bit code (sign, exponent, two mantissa bits), for blocks split into groups."""
    code = np.arange(_CODES)
    bins = np.empty(_CODES, dtype=np.intp)
    half = _CODES // 2
    for sign, start in ((1, 0), (-1, half)):  # the sign bit comes first: positive codes, then negative
        j = code[start:start + half] - start - _FIRST  # 0 for |v| = 2^HIST_LOW
        inside = HIST_ZERO + sign * (1 + np.clip(j, 0, _LOG_BINS - 1))
        outer = 0 if sign < 0 else HIST_BINS - 1
        bins[start:start + half] = np.where(j < 0, HIST_ZERO, np.where(j >= _LOG_BINS, outer, inside))
    return bins


_FIRST = (1023 + HIST_LOW) * HIST_SPLIT  # the code of 2^HIST_LOW
CODE_TO_BIN = _code_to_bin()


def _fold_codes(raw: np.ndarray) -> np.ndarray:
    """Counts per code to counts per bin: slices, as each sign's codes run in order of |value|."""
    half = _CODES // 2
    pos, neg = raw[:half], raw[half:]
    hist = np.empty(HIST_BINS)
    hist[0] = neg[_FIRST + _LOG_BINS:].sum()
    hist[1:HIST_ZERO] = neg[_FIRST:_FIRST + _LOG_BINS][::-1]
    hist[HIST_ZERO] = neg[:_FIRST].sum() + pos[:_FIRST].sum()
    hist[HIST_ZERO + 1:-1] = pos[_FIRST:_FIRST + _LOG_BINS]
    hist[-1] = pos[_FIRST + _LOG_BINS:].sum()
    return hist


def hist_edges() -> tuple[np.ndarray, np.ndarray]:
    """The (low, high) value bounds of every bin; the outermost are infinite, the zero bin is (-2^HIST_LOW, 2^HIST_LOW)."""
    j = np.arange(_LOG_BINS)
    low = np.ldexp(1.0 + (j % HIST_SPLIT) / HIST_SPLIT, HIST_LOW + j // HIST_SPLIT)
    high = np.append(low[1:], 2.0**HIST_HIGH)
    tiny, big = 2.0**HIST_LOW, 2.0**HIST_HIGH
    lows = np.concatenate([[-np.inf], -high[::-1], [-tiny], low, [big]])
    highs = np.concatenate([[-big], -low[::-1], [tiny], high, [np.inf]])
    return lows, highs


def histogram(values: np.ndarray, used: np.ndarray | None = None, inverse: np.ndarray | None = None,
              groups: int = 1) -> np.ndarray:
    """Row counts per bin, (groups, HIST_BINS), of finite per-row values (rows where ``used`` is False are left out)."""
    # the top 14 bits of the float (sign, exponent, two mantissa bits); below 2^14, so an int64 view is exact
    codes = (values.view(np.uint64) >> np.uint64(_CODE_SHIFT)).view(np.int64)
    if used is not None and not used.all():
        codes, inverse = codes[used], None if inverse is None else inverse[used]
    if inverse is None:  # count the raw codes (one pass), then fold the 16,384 codes into bins
        return _fold_codes(np.bincount(codes, minlength=_CODES))[None, :]
    flat = np.bincount(inverse * HIST_BINS + CODE_TO_BIN[codes], minlength=groups * HIST_BINS)
    return flat.reshape(groups, HIST_BINS).astype(np.float64)
