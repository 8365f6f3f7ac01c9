"""Hard-example means (OHEM): ``--reduction hard:FRACTION`` or ``hard:K``, exact, on inputs of any size.

The hard mean of a loss over a set of rows is its mean over the k rows with the largest per-row
loss ``l_i = s_i / d_i`` (the value --per-row and --top show), k = K or ceil(FRACTION * rows):

    value = sum_selected w_i s_i / sum_selected w_i d_i

Rows tied with the k-th largest loss share the remaining places equally (each counts with the
fraction ``places / tied rows``), so the value is the one of sorting all per-row losses and averaging
the top k, whatever order ties come in. The gradient is that of the value with the selection held
fixed: ``w_i ds_i/dx / sum_selected w d`` on the selected rows (times their share when tied), zero on
the rows left out. Each --group-by group has its own selection, and so has the whole set.

Exactness without holding every row: per-row losses map to 64-bit keys that sort like the floats.

    pass 1 (the ordinary read): while the rows seen fit the budget (--batch-rows), their keys and
        sums are kept and the selection is exact in memory. Beyond that, only a histogram of the
        keys' top bits is kept per loss and group (16 bits, 8 with more than 16 groups).
    then, for larger inputs: the histogram names the bin holding each group's k-th largest key. One
        more read sums the rows above that bin and keeps the rows inside it (or, if those are more
        than the budget, histograms their next bits first: one read per 16 bits resolved, at most
        four), and the k-th largest key is found exactly among them.

Cost: two reads of the input in the usual case (a spooled copy of standard input), memory of the
budget's rows and (groups + 1) x 2^16 counters per loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import parse_reduction
from .blocks import block_spans, run_blocks
from .state import State, terms

_SIGN = np.uint64(1 << 63)
KEY_BITS = 64


def hard_spec(reduction: str) -> "HardSpec | None":
    kind, value = parse_reduction(reduction)
    if kind != "hard":
        return None
    return HardSpec(count=value) if isinstance(value, int) else HardSpec(fraction=value)


@dataclass(frozen=True)
class HardSpec:
    fraction: float | None = None
    count: int | None = None

    def k(self, n: np.ndarray) -> np.ndarray:
        """Rows averaged out of n usable rows: K (at most n) or ceil(fraction n), at least 1 when n > 0."""
        n = np.asarray(n, dtype=np.int64)
        if self.count is not None:
            return np.minimum(n, self.count)
        return np.where(n > 0, np.maximum(1, np.ceil(self.fraction * n - 1e-9 * n).astype(np.int64)), 0)


def order_key(values: np.ndarray) -> np.ndarray:
    """64-bit keys that sort as the float64 values do (-0.0 and 0.0 get the same key)."""
    bits = (np.asarray(values, dtype=np.float64) + 0.0).view(np.uint64)
    negative = (bits & _SIGN) != 0
    return np.where(negative, ~bits, bits | _SIGN)


@dataclass
class Rows:
    """Per-row sums of some rows of one loss, each row tagged with its unit (0 = all rows, 1 + g = group g)."""

    unit: np.ndarray
    key: np.ndarray
    ws: np.ndarray  # w_i s_i
    wd: np.ndarray  # w_i d_i
    gsq: np.ndarray | None = None  # sum_j (w_i ds_i/dx_ij)^2
    gsum: np.ndarray | None = None
    gabs: np.ndarray | None = None

    @classmethod
    def of(cls, t, codes: np.ndarray | None, with_grad: bool) -> "Rows":
        values = t.per_row
        used = t.used & ~np.isnan(values)
        key = order_key(values[used])
        fields = dict(key=key, ws=t.total[used], wd=t.norm[used])
        if with_grad:
            g = t.grad[used]
            fields.update(gsq=np.einsum("ij,ij->i", g, g), gsum=g.sum(axis=1),
                          gabs=np.abs(g).max(axis=1) if g.size else np.zeros(0))
        rows = cls(unit=np.zeros(key.size, dtype=np.intp), **fields)
        if codes is None:
            return rows
        grouped = cls(unit=1 + codes[used].astype(np.intp), **fields)
        return concat([rows, grouped])

    def take(self, mask: np.ndarray) -> "Rows":
        return Rows(**{name: (None if v is None else v[mask]) for name, v in self.__dict__.items()})

    @property
    def size(self) -> int:
        return self.key.size


def concat(parts: list[Rows]) -> Rows:
    first = parts[0]
    return Rows(**{name: (None if getattr(first, name) is None else np.concatenate([getattr(p, name) for p in parts]))
                   for name in first.__dict__})


@dataclass
class Sums:
    """Selected sums per unit."""

    ws: np.ndarray
    wd: np.ndarray
    gsq: np.ndarray | None
    gsum: np.ndarray | None
    gabs: np.ndarray | None

    @classmethod
    def zeros(cls, units: int, with_grad: bool) -> "Sums":
        z = (lambda: np.zeros(units)) if with_grad else (lambda: None)
        return cls(np.zeros(units), np.zeros(units), z(), z(), z())

    def add(self, rows: Rows, factor: np.ndarray, units: int) -> None:
        def add(x):
            return np.bincount(rows.unit, weights=x, minlength=units)[:units]

        self.ws += add(factor * rows.ws)
        self.wd += add(factor * rows.wd)
        if self.gsq is not None:
            self.gsq += add(factor * factor * rows.gsq)
            self.gsum += add(factor * rows.gsum)
            np.maximum.at(self.gabs, rows.unit, factor * rows.gabs)


def select(rows: Rows, need: np.ndarray, units: int):
    """Each unit's need largest keys among ``rows``, ties at the boundary sharing: (factor per row, threshold key
    per unit, share of the tied rows per unit)."""
    order = np.lexsort((rows.key, rows.unit))
    key_sorted = rows.key[order]
    count = np.bincount(rows.unit, minlength=units)[:units]
    end = np.cumsum(count)
    threshold = np.zeros(units, dtype=np.uint64)
    has = need > 0
    threshold[has] = key_sorted[(end - need)[has]]
    t = threshold[rows.unit]
    chosen = has[rows.unit]
    above = chosen & (rows.key > t)
    tied = chosen & (rows.key == t)
    places = need - np.bincount(rows.unit, weights=above, minlength=units)[:units]
    tied_count = np.bincount(rows.unit, weights=tied, minlength=units)[:units]
    share = np.where(tied_count > 0, places / np.maximum(tied_count, 1), 0.0)
    factor = np.where(above, 1.0, np.where(tied, share[rows.unit], 0.0))
    return factor, threshold, share


class HardLoss:
    """What one loss keeps of its rows for the hard mean."""

    def __init__(self, budget: int, with_grad: bool) -> None:
        self.budget, self.with_grad = budget, with_grad
        self.buffer: list[Rows] | None = []
        self.buffered = 0
        self.counts: np.ndarray | None = None  # (units, 2^bits) histogram of the keys' top bits
        self.bits = 16
        self.units = 1

    def add(self, rows: Rows, units: int) -> None:
        self.units = max(self.units, units)
        if self.buffer is not None:
            self.buffer.append(rows)
            self.buffered += rows.size
            if self.buffered <= self.budget:
                return
            self.bits = 16 if self.units <= 17 else 8
            rows = concat(self.buffer)
            self.buffer = None
        self._histogram(rows)

    def _histogram(self, rows: Rows) -> None:
        width = 1 << self.bits
        if self.counts is None or self.counts.shape[0] < self.units:
            grown = np.zeros((self.units, width), dtype=np.int64)
            if self.counts is not None:
                grown[: self.counts.shape[0]] = self.counts
            self.counts = grown
        bins = (rows.key >> np.uint64(KEY_BITS - self.bits)).astype(np.int64)
        self.counts += np.bincount(rows.unit * width + bins, minlength=self.units * width).reshape(self.units, width)


class HardMeans:
    """The hard means of a run's per-row and per-element losses."""

    def __init__(self, spec: HardSpec, plan, options) -> None:
        self.spec, self.plan, self.options = spec, plan, options
        self.indices = [i for i, lp in enumerate(plan.losses) if lp.loss.per in ("element", "row")]
        budget = max(options.batch_rows, 1024)  # rows (per unit) kept in memory: about 56 bytes each
        self.losses = {i: HardLoss(budget, options.with_grad) for i in self.indices}
        self.whole: dict[int, State] = {}
        self.boundary: dict[int, tuple[np.uint64, float]] = {}  # the whole set's threshold key and tie share

    def add(self, i: int, rows: Rows, units: int) -> None:
        """A block's rows of loss i (Rows.of its terms); units = 1 + the groups known so far (1 without groups)."""
        self.losses[i].add(rows, units)

    # ----------------------------------------------------------------------------- after pass 1

    def finish(self, source, acc) -> None:
        """Exact selections for every loss (reading the source again when it did not fit in memory); the
        states of ``acc`` become the selected sums per group and ``self.whole`` the whole set's."""
        units = 1 + acc.groups if acc.grouping is not None else 1
        for i, hard in self.losses.items():
            hard.units = units
        pending = {i: h for i, h in self.losses.items() if h.buffer is None}
        results = {}
        for i, hard in self.losses.items():
            if hard.buffer is not None:
                rows = concat(hard.buffer) if hard.buffer else _empty_rows(hard.with_grad)
                k = self.spec.k(np.bincount(rows.unit, minlength=units)[:units])
                sums = Sums.zeros(units, hard.with_grad)
                factor, threshold, share = select(rows, k, units)
                sums.add(rows, factor, units)
                results[i] = (sums, threshold[0], share[0], k)
        if pending:
            results.update(self._passes(source, acc, pending, units))
        for i, (sums, threshold, share, k) in results.items():
            self._set_states(acc, i, sums, units, k)
            self.boundary[i] = (threshold, share)

    def _passes(self, source, acc, pending: dict[int, HardLoss], units: int) -> dict:
        """Narrow each unit's boundary bin until its rows fit the budget, then one read to sum and select."""
        out, state, ks = {}, {}, {}
        for i, hard in pending.items():
            counts = hard.counts if hard.counts.shape[0] >= units else np.pad(
                hard.counts, ((0, units - hard.counts.shape[0]), (0, 0)))
            need = self.spec.k(counts.sum(axis=1))
            ks[i] = need
            prefix = np.zeros(units, dtype=np.uint64)
            state[i] = [prefix, 0, need, counts, hard.bits]  # prefix, bits resolved, need, counts of the next bits
        while True:
            refine = {}
            for i, (prefix, resolved, need, counts, bits) in state.items():
                prefix, resolved, need, candidates = _narrow(prefix, resolved, need, counts, bits)
                state[i] = [prefix, resolved, need, None, bits]
                if candidates > pending[i].budget and resolved < KEY_BITS:
                    refine[i] = True
            if not refine:
                break
            for i in refine:
                state[i][4] = min(16, KEY_BITS - state[i][1])
                state[i][3] = np.zeros((units, 1 << state[i][4]), dtype=np.int64)
            self._read(source, acc, {i: state[i] for i in refine}, units, mode="count")
        collected = self._read(source, acc, state, units, mode="final")
        for i, (prefix, resolved, need, _, _) in state.items():
            above, inside = collected[i]
            sums = above
            if resolved >= KEY_BITS:  # every candidate has the same key: a tie to share
                tied = np.bincount(inside.unit, minlength=units)[:units] if inside.size else np.zeros(units)
                share = np.where(tied > 0, need / np.maximum(tied, 1), 0.0)
                sums.add(inside, share[inside.unit], units)
                out[i] = (sums, prefix[0], float(share[0]), ks[i])
            else:
                factor, threshold, share = select(inside, need, units)
                sums.add(inside, factor, units)
                out[i] = (sums, threshold[0], float(share[0]), ks[i])
        return out

    def _read(self, source, acc, state: dict, units: int, mode: str) -> dict:
        """One read of the source: count the next bits of the candidates (mode "count"), or sum the rows above
        the boundary and keep the candidates (mode "final")."""

        plan, options = self.plan, self.options
        kept = {i: (Sums.zeros(units, self.losses[i].with_grad), []) for i in state}
        for batch in source.batches(plan.projection, options.batch_rows, plan.text):
            data = acc.prepare(batch)

            def rows_of(start: int, stop: int):
                codes = None if data.codes is None else data.codes[start:stop]
                w = None if data.weight is None else data.weight[start:stop]
                out = {}
                for i in state:
                    lp = plan.losses[i]
                    t = terms(lp.loss, data.inputs(lp, start, stop), lp.params, w if lp.loss.sample_weights else None,
                              self.losses[i].with_grad and mode == "final")
                    out[i] = Rows.of(t, codes, self.losses[i].with_grad and mode == "final")
                return out

            for part in run_blocks(rows_of, block_spans(batch.rows, acc.block_rows(data.columns))):
                for i, rows in part.items():
                    prefix, resolved, need, counts, bits = state[i]
                    top = _top(rows.key, resolved)
                    inside = top == prefix[rows.unit]
                    if mode == "count":
                        sub = rows.key[inside]
                        # the ``bits`` bits after the resolved ones
                        bins = ((sub << np.uint64(resolved)) >> np.uint64(KEY_BITS - bits)).astype(np.int64)
                        width = 1 << bits
                        counts += np.bincount(rows.unit[inside] * width + bins,
                                              minlength=units * width).reshape(units, width)
                    else:
                        above = top > prefix[rows.unit]
                        sums, candidates = kept[i]
                        sums.add(rows.take(above), np.ones(int(above.sum())), units)
                        candidates.append(rows.take(inside))
        if mode == "count":
            return {}
        return {i: (sums, concat(c) if c else _empty_rows(self.losses[i].with_grad)) for i, (sums, c) in kept.items()}

    def _set_states(self, acc, i: int, sums: Sums, units: int, k: np.ndarray) -> None:
        """The selected sums as states: the whole set's in self.whole, the groups' in acc (elements stay all of them,
        since the gradient's mean runs over every prediction element, zeros included)."""
        elements = acc.states[i].resized(max(units - 1, 1)).elements.astype(np.float64)

        def state(index: slice, elements: np.ndarray) -> State:
            s = State(total=sums.ws[index].copy(), norm=sums.wd[index].copy(), rows=k[index].astype(np.float64),
                      elements=elements)
            if sums.gsq is not None:
                s.grad_sq, s.grad_sum, s.grad_absmax = sums.gsq[index].copy(), sums.gsum[index].copy(), sums.gabs[index].copy()
            return s

        self.whole[i] = state(slice(0, 1), elements.sum(keepdims=True))
        acc.states[i] = state(slice(1, units), elements) if units > 1 else self.whole[i].copy()

    # ----------------------------------------------------------------------------- the second pass

    def factor(self, i: int, per_row: np.ndarray) -> np.ndarray:
        """Each row's share of the whole set's hard mean: 1 above the threshold, the tie share on it, else 0."""
        threshold, share = self.boundary[i]
        key = order_key(np.where(np.isnan(per_row), -np.inf, per_row))
        usable = ~np.isnan(per_row)
        return np.where(usable & (key > threshold), 1.0, np.where(usable & (key == threshold), share, 0.0))


def _top(key: np.ndarray, resolved: int) -> np.ndarray:
    """The top ``resolved`` bits of each key (all zeros when none is resolved yet)."""
    if resolved == 0:
        return np.zeros(key.size, dtype=np.uint64)
    return key >> np.uint64(KEY_BITS - resolved)


def _narrow(prefix, resolved, need, counts, bits):
    """From the counts of the next ``bits`` bits inside each unit's boundary, the new boundary and need."""
    if counts is None:
        return prefix, resolved, need, 0
    above = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]  # rows in this bin or higher
    width = counts.shape[1]
    # the highest bin b with rows in bins >= b reaching need
    reach = above >= need[:, None]
    b = np.where(need > 0, width - 1 - np.argmax(reach[:, ::-1], axis=1), 0)
    higher = np.where(b + 1 < width, np.take_along_axis(np.c_[above, np.zeros(len(above), dtype=above.dtype)],
                                                        (b + 1)[:, None], axis=1)[:, 0], 0)
    new_need = np.where(need > 0, need - higher, 0)
    new_prefix = (prefix << np.uint64(bits)) | b.astype(np.uint64) if resolved else b.astype(np.uint64)
    candidates = int(counts[np.arange(len(b)), b][need > 0].sum())
    return new_prefix, resolved + bits, new_need, candidates


def _empty_rows(with_grad: bool) -> Rows:
    z = np.zeros(0)
    return Rows(unit=np.zeros(0, dtype=np.intp), key=np.zeros(0, dtype=np.uint64), ws=z, wd=z,
                gsq=z if with_grad else None, gsum=z if with_grad else None, gabs=z if with_grad else None)

