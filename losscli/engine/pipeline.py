"""The pipeline every run goes through: batches of a source, cache-sized blocks of each batch on a
thread pool, each block folded straight into mergeable states.

    source.batches -> screen (validate; --nan) -> group ids -> blocks on the pool:
        check_block (validate) -> terms -> State per loss, folded into the run's states in block order
    -> per-row values to --per-row and --top, a batch at a time
    [second pass, only when needed: set-level gradients and --grad-out need the final totals]
    -> finish (one Outcome per loss and group) -> Report

Memory holds one batch and the states, whatever the size of the input. NumPy's ufuncs release
the GIL, so blocks run in parallel on threads; states merge in block order, so the numbers do not
depend on thread timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pyarrow as pa

from ..errors import InputDataError
from ..model import Report, Result
from ..plan import LossPlan, Plan
from ..sinks import RowSink, TopK
from ..sources import Batch, Source
from ..validate import (check_block, check_weight_total, check_weights, check_widths, element_names,
                        finite_rows, probability_columns, probability_warning, renormalised, role_array, screen)
from .finish import outcomes, reduce_value, reported_hess
from .groups import GroupKeys
from .held import HeldRows
from .memory import keep_temporaries_in_heap
from .blocks import block_spans, run_blocks
from .hard import HardMeans, Rows, hard_spec
from .queries import QueriesNotInRuns, QueryRows, query_losses
from .state import State, histogram, local_groups, terms

# Rows per batch read from a source (about 8 MiB per float64 column), and elements per block: the
# rows of a block times the width of the widest input of any loss. Each NumPy call has a fixed cost,
# paid holding the GIL, and on this kind of machine (2 cores, a shared 32 MiB L3) the cheap losses'
# blocks were bound by that cost and by the two threads queueing for the GIL, not by the cache:
# measured over 2^17, 1.5 x 2^17 and 2^18 elements (block temporaries of 1 to 2 MiB), 2^18 was 8-34%
# faster for mse, mae, huber, cross_entropy, kl_div, dice and ciou and within the noise for the
# losses bound by exp and log (bce_logits, focal, log_cosh, varifocal); 2^16 was slower still.
DEFAULT_BATCH_ROWS = 1 << 20
BLOCK_ELEMENTS = 1 << 18

@dataclass
class Options:
    reduction: str = "mean"
    with_grad: bool = False
    batch_rows: int = DEFAULT_BATCH_ROWS
    block_rows: int | None = None  # None: BLOCK_ELEMENTS over the widest loss's width
    top: int | None = None
    per_row: RowSink | None = None
    grad_out: RowSink | None = None
    with_hess: bool = False  # --grad-out also gets hess[LABEL][COL] columns
    progress: Callable[[int, int | None, int | None], None] | None = None  # rows read, rows and bytes expected
    # The distribution of per-row losses as a fixed-size histogram state: "overall" (one per loss),
    # "groups" (one per loss and group: a few KB per group, so at most histogram_groups groups) or None.
    histogram: str | None = None
    histogram_groups: int = 256
    nan: str = "error"  # rows with a missing, NaN or infinite value: refused (error), left out (drop) or NaN results
    renormalize: bool = False  # soft labels divided by their row sums instead of refused when they do not sum to 1


@dataclass
class BatchArrays:
    """A batch's numeric columns as float64 and each row's group id, shared by every loss and block."""

    batch: Batch
    columns: dict[str, np.ndarray]
    codes: np.ndarray | None
    weight: np.ndarray | None
    renormalize: bool = False
    full: Batch | None = None  # the batch as read, when --nan left rows out of ``batch``
    used: np.ndarray | None = None  # which rows of ``full`` are in ``batch``
    left_out_codes: np.ndarray | None = None  # group ids of the rows left out for a missing value
    left_out: int = 0  # rows left out, those without a group key included

    def inputs(self, lp: LossPlan, start: int, stop: int) -> dict[str, np.ndarray]:
        arrays = {role: role_array(self.columns, cols, start, stop) for role, cols in lp.columns.items()}
        return renormalised(lp, arrays) if self.renormalize else arrays


@dataclass
class Accumulator:
    """What pass 1 keeps of the rows it has seen. Mergeable, so partitions of a cluster add up too."""

    plan: Plan
    options: Options
    grouping: GroupKeys | None = None
    states: list[State | None] = field(default_factory=list)
    rows: int = 0
    weight_total: float = 0.0
    unit: list[dict[str, np.ndarray]] = field(default_factory=list)  # role -> element columns all in [0, 1] so far
    elements: list[dict[str, list[str]]] = field(default_factory=list)  # role -> element names
    tops: list[TopK] | None = None
    held: list[HeldRows | None] = field(default_factory=list)  # losses whose value needs every row (engine/held.py)
    queries: QueryRows | None = None  # rows of the query losses, set by run() when there are any
    hard: HardMeans | None = None  # --reduction hard:...: the selections, set by run()
    hists: list[State | None] = field(default_factory=list)  # states holding only `hist`, per loss
    left_out: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per group, --nan drop/propagate
    left_out_total: int = 0

    def __post_init__(self) -> None:
        keep_temporaries_in_heap()
        n = len(self.plan.losses)
        self.held = [HeldRows(lp.label) if lp.loss.holds_rows else None for lp in self.plan.losses]
        self.states = [None] * n
        self.hists = [None] * n
        self.unit = [{} for _ in range(n)]
        self.elements = [{} for _ in range(n)]
        if self.plan.group_by and self.grouping is None:
            self.grouping = GroupKeys(self.plan.group_by)
        if self.options.top:
            self.tops = [TopK(self.options.top) for _ in range(n)]

    @property
    def groups(self) -> int:
        return self.grouping.count if self.grouping is not None else 1

    def block_rows(self, arrays: dict[str, np.ndarray]) -> int:
        if self.options.block_rows:
            return self.options.block_rows
        widest = max((sum(1 if arrays[c].ndim == 1 else arrays[c].shape[1] for c in cols)
                      for lp in self.plan.losses for cols in lp.columns.values()), default=1)
        return max(256, BLOCK_ELEMENTS // max(1, widest))

    def prepare(self, batch: Batch, finite_in_blocks: bool = False) -> BatchArrays:
        """Read a batch (validate.screen), leave out the rows --nan drops or reports as NaN, group the rest."""
        screened = screen(batch, self.plan, self.options.nan, finite_in_blocks)
        full = batch = screened.batch
        columns, left_out = screened.columns, 0
        if screened.key_missing is not None:  # --nan drop: a row without its group key belongs to no group
            left_out = int(screened.key_missing.sum())
            batch, columns = _without(batch, columns, screened.key_missing)
        codes = self.grouping.ids(batch) if self.grouping is not None else None
        missing = screened.missing
        if missing is not None and screened.key_missing is not None:
            missing = missing[~screened.key_missing]
        left_out_codes = None
        if missing is not None and missing.any():
            left_out += int(missing.sum())
            left_out_codes = codes[missing] if codes is not None else None
            batch, columns = _without(batch, columns, missing)
            codes = codes[~missing] if codes is not None else None
        for i, lp in enumerate(self.plan.losses):
            check_widths(lp, columns)
            if not self.elements[i]:
                self.elements[i] = {role: element_names(cols, columns) for role, cols in lp.columns.items()}
        weight = columns[self.plan.weight] if self.plan.weight else None
        used = ~missing if missing is not None and screened.key_missing is None else None
        return BatchArrays(batch, columns, codes, weight, self.options.renormalize, full, used, left_out_codes, left_out)

    def _count_left_out(self, data: BatchArrays) -> None:
        """Rows --nan left out, per group (for the 'dropped' counts and the NaN results of propagate)."""
        self.left_out_total += data.left_out
        if data.left_out_codes is not None and data.left_out_codes.size:
            counts = np.bincount(data.left_out_codes, minlength=self.groups)
            self.left_out = np.pad(self.left_out, (0, counts.size - self.left_out.size)) + counts

    def add(self, batch: Batch) -> None:
        """Pass 1 over one batch: validate, evaluate every loss block by block, fold into the states."""
        # With --nan error each block proves its own rows finite on the pool (a serial pass over the
        # batch was a sixth of mse's time); whatever fails in the batch, a missing value, which the
        # serial screen reports first, is looked for first, so the message is the one it always was.
        later = self.options.nan == "error"
        try:
            self._add(batch, later)
        except Exception as error:
            if later and not isinstance(error, QueriesNotInRuns):  # that one only says to read again
                screen(batch, self.plan)
            raise

    def _add(self, batch: Batch, finite_in_blocks: bool) -> None:
        data = self.prepare(batch, finite_in_blocks)
        self._count_left_out(data)
        batch = data.batch
        want_rows = self.options.per_row is not None or self.tops is not None
        per_group_hist = self.options.histogram == "groups" and data.codes is not None

        def fold(start: int, stop: int, prove: bool = finite_in_blocks):
            if prove and not finite_rows(data.columns, start, stop):
                return None
            w = None
            if data.weight is not None:
                w = data.weight[start:stop]
                check_weights(self.plan.weight, w, batch, start)
            ids, inverse = (np.zeros(1, dtype=np.intp), None) if data.codes is None else local_groups(data.codes[start:stop])
            parts = []
            for i, lp in enumerate(self.plan.losses):
                inputs = data.inputs(lp, start, stop)
                check_block(lp, inputs, self.elements[i], batch, start, self.options.renormalize)
                if lp.loss.per == "query":  # evaluated on whole queries, by self.queries
                    parts.append(None)
                    continue
                t = terms(lp.loss, inputs, lp.params, w if lp.loss.sample_weights else None,
                          self.options.with_grad and lp.loss.per != "set")
                state = State.of(t, inputs[lp.first].shape[1], inverse, ids.size)
                codes = None if data.codes is None else data.codes[start:stop]
                kept = (t.total, codes) if lp.loss.holds_rows else None
                hard = None
                if self.hard is not None and i in self.hard.losses:
                    hard = Rows.of(t, codes, self.options.with_grad)
                values = t.per_row if want_rows else None
                hist = None
                if self.options.histogram and t.row_sum is not None:
                    # one element and no norm: the row's loss is its row sum, so the division is skipped
                    spread = values if values is not None else (
                        t.row_sum if lp.loss.norm is None and inputs[lp.first].shape[1] == 1 else t.per_row)
                    hist = State(hist=histogram(spread, t.used, inverse if per_group_hist else None, ids.size))
                parts.append((state, probability_columns(lp, inputs), values, kept, hard, hist))
            return ids, parts

        spans = block_spans(batch.rows, self.block_rows(data.columns))
        per_row: list[list[np.ndarray]] = [[] for _ in self.plan.losses]
        groups = self.groups
        if per_group_hist and groups > self.options.histogram_groups:
            from ..errors import UsageProblem

            raise UsageProblem(f"--group-by {', '.join(self.plan.group_by)} has more than "
                               f"{self.options.histogram_groups} groups: too many distributions to keep and draw. "
                               "Group by a column with fewer values.")
        folded = run_blocks(fold, spans)
        if any(block is None for block in folded):
            screen(data.full, self.plan)  # refuses the missing value; returns when a sum had only overflowed
            folded = [fold(*span, prove=False) if block is None else block for span, block in zip(spans, folded)]
        for ids, parts in folded:
            for i, part in enumerate(parts):
                if part is None:
                    continue
                state, unit, values, kept, hard, hist = part
                if kept is not None:
                    self.held[i].add(*kept)
                if hard is not None:
                    self.hard.add(i, hard, 1 + groups if self.grouping is not None else 1)
                if self.states[i] is None:
                    self.states[i] = state.empty(groups)
                self.states[i] = self.states[i].resized(groups)
                self.states[i].fold(state, ids)
                if hist is not None:
                    self._fold_hist(i, hist, ids if per_group_hist else np.zeros(1, dtype=np.intp))
                for role, flags in unit.items():
                    self.unit[i][role] = flags if role not in self.unit[i] else self.unit[i][role] & flags
                if values is not None:
                    per_row[i].append(values)
        if data.weight is not None:
            self.weight_total += float(data.weight.sum())
        if self.queries is not None:
            self.queries.add(data, self)
        if want_rows:
            self._rows_out(data, [np.concatenate(v) if v else None for v in per_row])
        self.rows += data.full.rows

    def _fold_hist(self, i: int, hist: State, ids: np.ndarray) -> None:
        size = max(self.groups if self.options.histogram == "groups" else 1, hist.groups)
        if self.hists[i] is None:
            self.hists[i] = hist.empty(size)
        self.hists[i] = self.hists[i].resized(size)
        self.hists[i].fold(hist, ids)

    def _rows_out(self, data: BatchArrays, per_row: list[np.ndarray | None]) -> None:
        batch, per_row = self.rows_of(data, per_row)
        keep = batch.data.select(self.plan.keep) if self.plan.keep else None
        if self.tops is not None:
            keep_table = pa.Table.from_batches([keep]) if keep is not None else None
            rows = batch.row_ids()
            for top, values in zip(self.tops, per_row):
                if values is not None:
                    top.offer(values, rows, keep_table)
        if self.options.per_row is not None:
            columns = key_columns(batch, keep, self.plan.keep_as)
            for lp, values in zip(self.plan.losses, per_row):
                if values is not None:
                    columns[lp.label] = pa.array(values)
            self.options.per_row.write(pa.table(columns))

    def whole_state(self, i: int) -> State:
        """Loss i's state of all rows (a hard mean selects on all rows at once, not group by group)."""
        if self.hard is not None and i in self.hard.whole:
            return self.hard.whole[i].copy()
        return self.states[i].overall() if self.grouping is not None else self.states[i].copy()

    def rows_of(self, data: BatchArrays, per_row: list):
        """The rows per-row outputs show: those used, or with --nan propagate every row, NaN where left out."""
        if self.options.nan != "propagate" or data.used is None:
            return data.batch, per_row
        spread = []
        for values in per_row:
            if values is not None:
                full = np.full((data.used.size,) + values.shape[1:], np.nan)
                full[data.used] = values
                values = full
            spread.append(values)
        return data.full, spread

    def merge(self, other: "Accumulator") -> None:
        """Add another partition's rows (group ids of ``other`` are mapped onto this one's)."""
        ids = self.grouping.remap(other.grouping) if self.grouping is not None else np.zeros(1, dtype=np.intp)
        for i, state in enumerate(other.states):
            if state is None:
                continue
            if self.states[i] is None:
                self.states[i] = state.empty(self.groups)
            self.states[i] = self.states[i].resized(self.groups)
            self.states[i].fold(state, ids[: state.groups])
            for role, flags in other.unit[i].items():
                self.unit[i][role] = flags if role not in self.unit[i] else self.unit[i][role] & flags
            if self.held[i] is not None:
                self.held[i].merge(other.held[i], ids if self.grouping is not None else None)
            if not self.elements[i]:
                self.elements[i] = other.elements[i]
            if other.hists[i] is not None:
                per_group = self.options.histogram == "groups" and self.grouping is not None
                self._fold_hist(i, other.hists[i], ids[: other.hists[i].groups] if per_group
                                else np.zeros(1, dtype=np.intp))
        self.rows += other.rows
        self.weight_total += other.weight_total
        self.left_out_total += other.left_out_total
        if other.left_out.size:
            counts = np.zeros(self.groups, dtype=np.int64)
            np.add.at(counts, ids[: other.left_out.size], other.left_out)
            self.left_out = np.pad(self.left_out, (0, counts.size - self.left_out.size)) + counts


def _without(batch: Batch, columns: dict[str, np.ndarray], drop: np.ndarray):
    keep = ~drop
    return batch.subset(keep), {name: values[keep] for name, values in columns.items()}


def key_columns(batch: Batch, keep, names: dict[str, str] | None = None) -> dict[str, pa.Array]:
    """The 1-based row number and the --keep columns of a batch (under the names plan.keep_as gives them),
    the first columns of every per-row output."""
    columns = {"row": pa.array(batch.row_ids() + 1)}
    if keep is not None:
        for name in keep.schema.names:
            columns[(names or {}).get(name, name)] = keep.column(name)
    return columns


# ----------------------------------------------------------------------------- the second pass


def needs_second_pass(plan: Plan, options: Options) -> bool:
    return options.grad_out is not None or (options.with_grad and any(lp.loss.per == "set" for lp in plan.losses))


def second_pass(source: Source, acc: Accumulator) -> list[State | None]:
    """Gradients that need the final totals: set-level gradient summaries and the --grad-out rows.

    Returns, per loss, the gradient state of the whole set for a set-level loss (the state of its
    groups gets its gradient fields in place), None for the others.
    """
    plan, options = acc.plan, acc.options
    set_grad = [options.with_grad and lp.loss.per == "set" for lp in plan.losses]
    overall_totals, scales, values = [], [], []
    for i, lp in enumerate(plan.losses):
        whole = acc.whole_state(i)
        overall_totals.append(whole.total[0])
        if acc.held[i] is not None:  # its d value / d stats per row, from every row it holds; no scale
            acc.held[i].prepare_gradients(lp.loss, lp.params, acc.grouping is not None)
            scales.append(1.0)
            values.append(None)
        else:
            value, scale = reduce_value(lp.loss, lp.params, whole.total[0], whole.norm[0], options.reduction)
            scales.append(scale)
            values.append(value)
        if set_grad[i] and acc.grouping is not None:
            acc.states[i].grad_sq = np.zeros(acc.groups)
            acc.states[i].grad_sum = np.zeros(acc.groups)
            acc.states[i].grad_absmax = np.zeros(acc.groups)
    whole_grads = [State(grad_sq=np.zeros(1), grad_sum=np.zeros(1), grad_absmax=np.zeros(1)) if s else None
                   for s in set_grad]
    for batch in source.batches(plan.projection, options.batch_rows, plan.text):
        data = acc.prepare(batch)
        batch = data.batch

        def gradients(start: int, stop: int):
            w = None if data.weight is None else data.weight[start:stop]
            ids, inverse = (None, None) if data.codes is None else local_groups(data.codes[start:stop])
            out = []
            for i, lp in enumerate(plan.losses):
                if not (set_grad[i] or options.grad_out is not None):
                    out.append((None, None, None, None))
                    continue
                if lp.loss.per == "query":
                    out.append((None, None, acc.queries.gradient(i, batch.first + start, stop - start) * scales[i], None))
                    continue
                inputs = data.inputs(lp, start, stop)
                if lp.loss.per == "set":
                    held = acc.held[i]
                    rows = slice(batch.first + start, batch.first + stop)
                    totals = overall_totals[i] if held is None else held.whole_grad[rows]
                    g = np.asarray(lp.loss.grad(**inputs, totals=totals, **lp.params), dtype=np.float64)
                    whole = State.of_grad(g) if set_grad[i] else None
                    by_group = None
                    if set_grad[i] and ids is not None:
                        per_row_totals = (acc.states[i].total[data.codes[start:stop]] if held is None
                                          else held.group_grad[rows])
                        g_group = lp.loss.grad(**inputs, totals=per_row_totals, **lp.params)
                        by_group = State.of_grad(np.asarray(g_group, dtype=np.float64), inverse, ids.size)
                    out.append((whole, by_group, g, None))
                else:
                    t = terms(lp.loss, inputs, lp.params, w if lp.loss.sample_weights else None, with_grad=True,
                              with_hess=options.with_hess)
                    g = t.grad * scales[i]
                    h = reported_hess(lp.loss, t.hess, scales[i], values[i], g) if options.with_hess else None
                    if acc.hard is not None and i in acc.hard.boundary:  # rows left out of a hard mean get 0
                        selected = acc.hard.factor(i, t.per_row)[:, None]
                        g = g * selected
                        h = None if h is None else h * selected
                    out.append((None, None, g, h))
            return ids, out

        spans = block_spans(batch.rows, acc.block_rows(data.columns))
        grads: list[list[np.ndarray]] = [[] for _ in plan.losses]
        hessians: list[list[np.ndarray]] = [[] for _ in plan.losses]
        for ids, out in run_blocks(gradients, spans):
            for i, (whole, by_group, g, h) in enumerate(out):
                if whole is not None:
                    whole_grads[i].fold(whole, np.zeros(1, dtype=np.intp))
                if by_group is not None:
                    acc.states[i].fold(by_group, ids)
                if g is not None and options.grad_out is not None:
                    grads[i].append(g)
                if h is not None:
                    hessians[i].append(h)
        if options.grad_out is not None:
            rows, gathered = acc.rows_of(data, [np.concatenate(g) if g else None for g in grads])
            keep = rows.data.select(plan.keep) if plan.keep else None
            columns = key_columns(rows, keep, plan.keep_as)
            for i, lp in enumerate(plan.losses):
                g = gathered[i]
                for k, name in enumerate(acc.elements[i][lp.first]):
                    columns[f"grad[{lp.label}][{name}]"] = pa.array(g[:, k] if g is not None else np.full(rows.rows, np.nan))
                if hessians[i]:
                    h = np.concatenate(hessians[i])
                    for k, name in enumerate(acc.elements[i][lp.first]):
                        columns[f"hess[{lp.label}][{name}]"] = pa.array(h[:, k])
            options.grad_out.write(pa.table(columns))
    return whole_grads


# ----------------------------------------------------------------------------- the whole run


def finish(acc: Accumulator, whole_grads: list[State | None] | None = None) -> Report:
    """Every loss's overall result, then its groups' in key order."""
    plan, options = acc.plan, acc.options
    check_rows_left(acc)
    if plan.weight:
        check_weight_total(plan.weight, acc.weight_total, [s.norm for s in acc.states if s is not None])
    order, keys = acc.grouping.sorted() if acc.grouping is not None else (None, [])
    results, warnings = [], list(plan.warnings) + left_out_warnings(acc)
    left_out = np.pad(acc.left_out, (0, max(0, acc.groups - acc.left_out.size)))
    for i, lp in enumerate(plan.losses):
        state = acc.states[i]
        whole_state = acc.whole_state(i)
        if acc.held[i] is not None:  # the value comes from every row held, not from sums
            state = state.resized(acc.groups).copy()
            whole_state.total, state.total = acc.held[i].states(lp.loss, lp.params, acc.groups)
        if whole_grads and whole_grads[i] is not None:
            whole_state.grad_sq, whole_state.grad_sum, whole_state.grad_absmax = (
                whole_grads[i].grad_sq, whole_grads[i].grad_sum, whole_grads[i].grad_absmax)
        signature = lp.spec.signature(options.reduction)
        # one params and one columns dict per loss, shared by its results: a million groups, not a million copies
        params, columns = dict(lp.params), {role: list(cols) for role, cols in lp.columns.items()}
        hists = acc.hists[i]

        def result(outcome, group, left: int, hist=None):
            value, grad, dropped = outcome.value, outcome.grad, None
            if options.nan == "propagate" and left:  # NaN in, NaN out
                value = float("nan")
                grad = None if grad is None else {k: float("nan") for k in grad}
            elif options.nan == "drop":
                dropped = int(left)
            return Result(label=lp.label, loss=lp.loss.name, params=params, reduction=options.reduction,
                          value=value, n=outcome.rows, grad=grad, signature=signature, group=group,
                          columns=columns, dropped=dropped, hist=hist)

        whole_hist = hists.overall().hist[0] if hists is not None else None
        results.append(result(outcomes(lp.loss, lp.params, whole_state, options.reduction)[0], None,
                              acc.left_out_total, whole_hist))
        if acc.grouping is not None:
            per_group = outcomes(lp.loss, lp.params, state.resized(acc.groups).reordered(order), options.reduction)
            group_hists = [None] * len(keys)
            if hists is not None and options.histogram == "groups":
                group_hists = list(hists.resized(acc.groups).reordered(order).hist)
            results.extend(result(o, key, left, h)
                           for o, key, left, h in zip(per_group, keys, left_out[order], group_hists))
        if options.with_grad and lp.loss.grad_warning:
            warnings.append(f"Loss {lp.label!r}: {lp.loss.grad_warning}")
        if acc.rows > 1:
            for role, flags in acc.unit[i].items():
                inside = [name for name, flag in zip(acc.elements[i][role], flags) if flag]
                if inside:
                    warnings.append(probability_warning(lp, role, inside[0]))
    top = None
    if acc.tops is not None:
        top = {lp.label: t.rows_out(plan.keep_as) for lp, t in zip(plan.losses, acc.tops)
               if lp.loss.per not in ("set", "query")}
        if acc.queries is not None:
            top.update(acc.queries.top(options.top))
    return Report(sources=list(plan.sources), rows=acc.rows, results=results, warnings=list(dict.fromkeys(warnings)),
                  group_by=list(plan.group_by), reduction=options.reduction, top=top)


def check_rows_left(acc: Accumulator) -> None:
    """Refuse a run in which --nan left out every row: there is nothing to compute a loss on."""
    if acc.left_out_total < acc.rows:
        return
    raise InputDataError(f"Every one of the {acc.rows} rows has a missing, NaN or infinite value in a column the run "
                         f"uses ({', '.join(acc.plan.numeric + acc.plan.group_by)}): no row is left to compute a loss on.")


def left_out_warnings(acc: Accumulator) -> list[str]:
    if not acc.left_out_total:
        return []
    rows = f"{acc.left_out_total} of {acc.rows} rows"
    if acc.options.nan == "drop":
        return [f"--nan drop left out {rows}: they have a missing, NaN or infinite value (or group key)."]
    return [f"--nan propagate: {rows} have a missing, NaN or infinite value, so every result over them is NaN."]


def first_pass(source: Source, acc: Accumulator) -> None:
    options = acc.options
    for batch in source.batches(acc.plan.projection, options.batch_rows, acc.plan.text):
        acc.add(batch)
        if options.progress:
            options.progress(acc.rows, source.estimated_rows, source.total_bytes)


def run(source: Source, plan: Plan, options: Options) -> Report:
    """Read the source once (twice when a second pass is needed) and return the report."""
    two_passes = needs_second_pass(plan, options)
    if two_passes:
        source = source.rewindable()
    sinks = [s for s in (options.per_row, options.grad_out) if s is not None]
    queries = None
    if query_losses(plan):  # per-query values replace per-row ones in --per-row
        mixed = [lp.label for lp in plan.losses if lp.loss.per in ("element", "row")]
        if options.per_row is not None and mixed:
            from ..errors import UsageProblem

            raise UsageProblem(f"--per-row writes one row per query for query losses and one per row for "
                               f"{', '.join(mixed)}; compute them in separate runs.")
        # queries that are runs of rows are evaluated as they arrive; a key met again after its run ended
        # sends pass 1 back to the start of the input (standard input is spooled to a file for that)
        source = source.rewindable()
        queries = QueryRows(plan, options)
        if options.per_row is not None and plan.keep:
            plan.warnings.append("--keep columns are per row; the --per-row output of query losses has one row per "
                                 f"query ({plan.query}, rows, values), so they are left out of it.")
        options = replace(options, per_row=None)
    acc = Accumulator(plan, options)
    if queries is not None:
        acc.queries = queries
    hard = hard_spec(options.reduction)
    if hard is not None:
        if queries is not None:
            from ..errors import UsageProblem

            raise UsageProblem(f"--reduction {options.reduction} averages the hardest rows; losses over queries "
                               f"({', '.join(plan.losses[i].label for i in query_losses(plan))}) take mean or sum.")
        source = source.rewindable()  # a hard mean larger than memory reads the input again
        acc.hard = HardMeans(hard, plan, options)
    try:
        try:
            first_pass(source, acc)
        except QueriesNotInRuns as back:  # read again, every query's rows collected wherever they are
            plan.warnings.append(f"--query {plan.query!r}: {back}, after other queries' rows, so the input was read "
                                 "a second time with each query's rows gathered wherever they are. Keep each "
                                 f"query's rows together (sort by {plan.query}) and it is read once.")
            queries.close()
            queries = QueryRows(plan, queries.options, in_runs=False)
            acc = Accumulator(plan, options)
            acc.queries = queries
            first_pass(source, acc)
        check_rows_left(acc)
        if queries is not None:
            queries.evaluate(acc)
            if queries.options.per_row is not None:
                queries.options.per_row.write(queries.per_query_table())
        if acc.hard is not None:
            acc.hard.finish(source, acc)
        whole_grads = second_pass(source, acc) if two_passes else None
        report = finish(acc, whole_grads)
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise
    finally:
        if queries is not None:
            queries.close()
    for sink in sinks:
        sink.close()
    return report
