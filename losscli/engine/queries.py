"""Losses over groups of rows (``per="query"``): every row of a query together, wherever the rows are.

A query loss (learning to rank, in-batch metric learning) is defined on all rows sharing a
``--query`` key at once and is not a sum of per-row terms, so no mergeable per-row state exists
for it. Two paths:

    in runs (tried first): ranking data nearly always stores each query's rows as one run of
        consecutive rows (LightGBM and XGBoost require it). Query ids are given in order of first
        appearance (groups.py), so while that holds the runs' ids are 0, 1, 2, ... across the
        whole input: each batch's first run must be the run carried over from the batch before (or
        the next id), and each later run the next id; an O(rows) comparison. Every run of a batch
        but its last is a whole query and is evaluated at once (``evaluate_queries``) and folded
        into the states; the last run's rows are carried to the next batch, the only rows kept.
        A key met again after its run ended raises QueriesNotInRuns: the pipeline drops everything
        pass 1 gathered and reads the input again on the other path (run() makes the source
        rewindable when there are query losses: a no-op for files and in-memory data, standard
        input is spooled to a temporary file first).
    anywhere (the fallback): each validated batch's query-loss columns, its query id and row number
        are kept in memory, up to ``2 * batch_rows`` rows; past that, rows are hash-partitioned by
        query id into 16 temporary Arrow IPC files, so all rows of a query land in the same file.
        Then each partition is read on its own, sorted by (query, row), cut into queries, and the
        queries are evaluated in memory, size by size, as (queries, rows, width) arrays. A
        partition still larger than the budget is split again on other bits of the hash.

Cost in runs: memory of one batch and the rows of the open query, one read of the input. Anywhere:
memory of one partition (about ``2 * batch_rows`` rows of the query losses' columns) plus one key
per query; disk of the used columns once, uncompressed, in the temporary folder (only when the
input is larger than the budget); the reads of the input up to the key met again, one full read and
one of the spill. A single query must fit in memory. The result does not depend on the path or on
how rows are split into batches or files: within a query rows are taken in input order. --grad-out
rows of a query loss go through a memory-mapped temporary file indexed by row number (grown as runs
are evaluated), so they come out in input order.

A query's value goes into the mergeable ``State`` as one "row" would: ``w_q * L_q`` and ``w_q *
d_q``, where ``w_q`` is the weight of the query's rows (equal on every row of it) and ``d_q`` the
loss's own denominator (1, or 0 for a query the loss leaves out); gradient sums are of
``w_q * dL_q/dx`` over the query's rows, so finishing is the same as for every other loss.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..catalogue.base import zero_gradient
from ..errors import InputDataError
from .blocks import run_blocks
from .groups import GOLDEN, GroupKeys, ids_per_row, run_begins
from .state import State, row_summaries

PARTITIONS = 16  # files per spill level: 4 bits of the hash
MAX_LEVELS = 8  # 32 bits of hash; a partition is then evaluated in memory whatever its size
# queries of one size are evaluated this many (rows x rows x width) entries at a time: a (queries, rows, rows)
# temporary of about a megabyte stays in the caches (chunks of 2^22 entries made the metric losses 1.5x slower)
PAIR_ELEMENTS = 1 << 20
# and a loss without pairs (Loss.pairwise False) this many (rows x width) entries: fewer chunks, fewer calls
# (10M rows in queries of 20, best of 8: ranking_softmax 200 -> 170 ms and ndcg_loss 212 -> 185 ms against
# chunks of 2^20 / 20^2 queries; 2^20 rows, one chunk per batch, leaves a core idle)
ROW_ELEMENTS = 1 << 18


def query_losses(plan) -> list[int]:
    return [i for i, lp in enumerate(plan.losses) if lp.loss.per == "query"]


def partition_of(qid: np.ndarray, level: int) -> np.ndarray:
    """Fibonacci hashing of the query id; level k uses bits [60 - 4k, 64 - 4k) of the product."""
    with np.errstate(over="ignore"):
        h = qid.astype(np.uint64) * GOLDEN
    # uint8, so that a stable argsort of the partitions is NumPy's radix sort rather than its merge sort
    return ((h >> np.uint64(60 - 4 * level)) & np.uint64(PARTITIONS - 1)).astype(np.uint8)


def _column(values: np.ndarray) -> pa.Array:
    if values.ndim == 1:
        return pa.array(values)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), values.shape[1])


def _numpy(column) -> np.ndarray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_fixed_size_list(column.type):
        return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), column.type.list_size)
    return column.to_numpy(zero_copy_only=False)


class QueriesNotInRuns(Exception):
    """Pass 1 met a query key again after its run of rows had ended: the queries are not runs of rows."""


@dataclass
class QueryBatch:
    """Some rows of the query losses, in input order: query id, row number, group id, weight, loss columns."""

    qid: np.ndarray
    row: np.ndarray
    group: np.ndarray | None
    weight: np.ndarray | None
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return self.qid.size

    def part(self, index) -> "QueryBatch":
        return QueryBatch(self.qid[index], self.row[index], _cut(self.group, index), _cut(self.weight, index),
                          {name: a[index] for name, a in self.columns.items()})

    @staticmethod
    def concat(parts: list["QueryBatch"]) -> "QueryBatch":
        if len(parts) == 1:
            return parts[0]
        return QueryBatch(_joined([p.qid for p in parts]), _joined([p.row for p in parts]),
                          _joined([p.group for p in parts]), _joined([p.weight for p in parts]),
                          {name: _joined([p.columns[name] for p in parts]) for name in parts[0].columns})

    def table(self) -> pa.Table:
        """As an Arrow table, for the partition files."""
        table = {"__q": pa.array(self.qid), "__row": pa.array(self.row)}
        if self.group is not None:
            table["__g"] = pa.array(self.group)
        if self.weight is not None:
            table["__w"] = pa.array(self.weight)
        for name, values in self.columns.items():
            table[name] = _column(values)
        return pa.table(table)

    def runs(self) -> Runs:
        """The rows sorted by (query, row) so that each query is one run (already so when the queries ascend)."""
        qid, rows = self.qid, self.row
        if _sorted_by_query(qid, rows):  # queries in runs of rows: nothing to sort or gather
            part = self
        else:
            part = self.part(np.lexsort((rows, qid)))
            qid = part.qid
        begins = run_begins(qid)
        return Runs(qid[begins], begins, part.row, part.group, part.weight, part.columns)

    @staticmethod
    def of_table(table: pa.Table, names: list[str]) -> "QueryBatch":
        def optional(name):
            return table.column(name).to_numpy() if name in table.column_names else None

        return QueryBatch(table.column("__q").to_numpy(), table.column("__row").to_numpy(), optional("__g"),
                          optional("__w"), {name: _numpy(table.column(name)) for name in names})


@dataclass
class Runs:
    """Some rows of the query losses, each query one run of consecutive rows: the runs' query ids, where each
    run begins, and the rows' numbers (for --grad-out), weight, group id and loss columns, in input order."""

    ids: np.ndarray  # (runs,) each run's query id
    begins: np.ndarray  # (runs,) where each run begins; begins[0] is 0
    rows: slice | np.ndarray  # the rows' numbers: a slice while they are consecutive
    group: np.ndarray | None
    weight: np.ndarray | None
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def sizes(self) -> np.ndarray:
        return np.diff(self.begins, append=len(self))

    def part(self, lo: int, hi: int) -> "Runs":
        """Runs lo .. hi - 1."""
        first, stop = int(self.begins[lo]), (int(self.begins[hi]) if hi < self.begins.size else len(self))
        cut = slice(first, stop)
        rows = slice(self.rows.start + first, self.rows.start + stop) if isinstance(self.rows, slice) \
            else self.rows[cut]
        return Runs(self.ids[lo:hi], self.begins[lo:hi] - first, rows, _cut(self.group, cut), _cut(self.weight, cut),
                    {name: a[cut] for name, a in self.columns.items()})

    @staticmethod
    def concat(parts: list["Runs"]) -> "Runs":
        """Runs in input order; a run that goes on from one part into the next (the same id) becomes one run."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
        ids = np.concatenate([p.ids for p in parts])
        begins = np.concatenate([p.begins + offset for p, offset in zip(parts, offsets)])
        new = np.r_[True, ids[1:] != ids[:-1]]
        if all(isinstance(p.rows, slice) for p in parts) and all(
                a.rows.stop == b.rows.start for a, b in zip(parts, parts[1:])):
            rows = slice(parts[0].rows.start, parts[-1].rows.stop)
        else:  # rows were left out between batches (--nan drop): their numbers are not consecutive
            rows = np.concatenate([_numbers(p.rows) for p in parts])
        return Runs(ids[new], begins[new], rows, _joined([p.group for p in parts]), _joined([p.weight for p in parts]),
                    {name: _joined([p.columns[name] for p in parts]) for name in parts[0].columns})


def _cut(values: np.ndarray | None, index) -> np.ndarray | None:
    return None if values is None else values[index]


def _joined(arrays: list[np.ndarray | None]) -> np.ndarray | None:
    """The parts of an optional column (weight, group) joined; None when the column is absent."""
    return None if arrays[0] is None else np.concatenate(arrays)


def _numbers(rows: slice | np.ndarray) -> np.ndarray:
    return np.arange(rows.start, rows.stop, dtype=np.int64) if isinstance(rows, slice) else rows


class Spill:
    """Partition files of one level in a temporary folder; each holds whole queries."""

    def __init__(self, folder: str, level: int) -> None:
        self.folder, self.level = folder, level
        self.paths = [os.path.join(folder, f"l{level}-p{p}.arrow") for p in range(PARTITIONS)]
        self.writers: list = [None] * PARTITIONS
        self.rows = np.zeros(PARTITIONS, dtype=np.int64)

    def write(self, table: pa.Table) -> None:
        parts = partition_of(table.column("__q").to_numpy(), self.level)
        order = np.argsort(parts, kind="stable")
        counts = np.bincount(parts, minlength=PARTITIONS)
        table = table.take(pa.array(order))
        start = 0
        for p, count in enumerate(counts):
            if count:
                if self.writers[p] is None:
                    self.writers[p] = pa.ipc.new_file(self.paths[p], table.schema)
                self.writers[p].write_table(table.slice(start, count))
                self.rows[p] += count
            start += count

    def close(self) -> None:
        for writer in self.writers:
            if writer is not None:
                writer.close()

    def read(self, p: int) -> pa.Table:
        with pa.memory_map(self.paths[p]) as source:
            table = pa.ipc.open_file(source).read_all()
        os.unlink(self.paths[p])
        return table


@dataclass
class QueryRecords:
    """Per-query values kept for --per-row and --top: query id, rows, one value per query loss."""

    qid: list[np.ndarray] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    values: list[list[np.ndarray]] = field(default_factory=list)


class QueryRows:
    """The rows of a run's query losses: evaluated run by run as they arrive while the queries are runs of
    rows (``in_runs``), else collected in pass 1 and evaluated query by query afterwards."""

    def __init__(self, plan, options, in_runs: bool = True) -> None:
        self.plan, self.options = plan, options
        self.indices = query_losses(plan)
        self.keys = GroupKeys([plan.query])
        self.columns = list(dict.fromkeys(c for i in self.indices for cols in plan.losses[i].columns.values()
                                          for c in cols))
        self.in_runs = in_runs
        self.tail: list[Runs] = []  # in runs: the rows of the last run seen, which may go on
        self.last_query = -1  # in runs: the id of that run's query
        self.budget = 2 * options.batch_rows
        self.buffer: list[QueryBatch] = []
        self.buffered = 0
        self.folder: str | None = None
        self.spill: Spill | None = None
        self.states: dict[int, State | None] = {i: None for i in self.indices}
        self.want_values = options.per_row is not None or options.top is not None
        self.records = QueryRecords(values=[[] for _ in self.indices]) if self.want_values else None
        self.grad_file: np.memmap | None = None
        self.grad_path: str | None = None
        self.grad_folder: str | None = None
        self.grad_width = 0
        self.grad_offsets: dict[int, tuple[int, int]] = {}  # loss index -> (first column, width) in grad_file

    # ----------------------------------------------------------------------------- pass 1

    def add(self, data, acc) -> None:
        """Take a validated batch's query-loss rows (BatchArrays of the pipeline)."""
        batch = data.batch
        column = batch.data.column(self.plan.query)
        if column.null_count:
            rows = np.nonzero(column.is_null().to_numpy(zero_copy_only=False))[0]
            raise InputDataError(f"--query column {self.plan.query!r} has missing values at {batch.locate(rows)}. "
                                 "Every row of a query loss needs its query key.")
        ids, begins = self.keys.ids_and_runs(batch)
        if not batch.rows:
            return
        group = None if data.codes is None else data.codes.astype(np.int64, copy=False)
        columns = {name: data.columns[name] for name in self.columns}
        if self.in_runs:
            if begins is None:  # the key column was not encoded by runs: find them
                begins = run_begins(ids)
                ids = ids[begins]
            rows = slice(batch.first, batch.first + batch.rows)
            self._add_runs(Runs(ids.astype(np.int64, copy=False), begins, rows, group, data.weight, columns), acc,
                           batch)
            return
        if begins is not None:
            ids = ids_per_row(ids, begins, batch.rows)
        self.buffer.append(QueryBatch(ids.astype(np.int64, copy=False),
                                      np.arange(batch.first, batch.first + batch.rows, dtype=np.int64),
                                      group, data.weight, columns))
        self.buffered += batch.rows
        if self.buffered > self.budget:
            if self.spill is None:
                self.folder = tempfile.mkdtemp(prefix="losscli-queries-")
                self.spill = Spill(self.folder, 0)
            for part in self.buffer:
                self.spill.write(part.table())
            self.buffer, self.buffered = [], 0

    def _add_runs(self, rows: Runs, acc, batch) -> None:
        """Evaluate the queries that ended in this batch; keep the rows of its last run, which may go on.

        Ids are given in order of first appearance, so while every query so far is one run the runs'
        ids are 0, 1, 2, ...: a batch's runs must be the run carried over (or the next id), then each
        the next id. Anything else is a key met again after its run ended: QueriesNotInRuns.
        """
        ids, last = rows.ids, rows.ids.size - 1
        steps = np.diff(ids) != 1
        if ids[0] - self.last_query not in (0, 1) or steps.any():
            # the first run whose id is not the next one: an id seen before, so a key met again
            back = 0 if ids[0] - self.last_query not in (0, 1) else 1 + int(np.flatnonzero(steps)[0])
            key = self.keys.table().column(0)[int(ids[back])].as_py()
            raise QueriesNotInRuns(f"query {key!r} comes back at {batch.locate(rows.begins[back:back + 1])}")
        self.last_query = int(ids[-1])
        if not last:  # the whole batch continues (or begins) one run
            self.tail.append(rows)
            return
        if self.options.grad_out is not None:
            self._grad_rows(acc, rows.rows.start + int(rows.begins[-1]))
        # the rows carried over are joined to the batch's first run only and the batch's other runs evaluated
        # where they are, so the batch is not copied to put a few rows before it
        ended = 0
        if self.tail:
            # the rows carried over may hold several queries (batches that each continued or began one run)
            self._evaluate(Runs.concat(self.tail + [rows.part(0, 1)]), acc.groups)
            ended = 1
        if ended < last:
            self._evaluate(rows.part(ended, last), acc.groups)
        self.tail = [rows.part(last, last + 1)]

    # ----------------------------------------------------------------------------- evaluation

    def evaluate(self, acc) -> None:
        """Evaluate every query not evaluated yet and set the states of the query losses in ``acc``."""
        if self.options.grad_out is not None:
            self._grad_rows(acc, max(acc.rows, 1))
        try:
            if self.tail:
                self._evaluate(Runs.concat(self.tail), acc.groups)
            elif self.spill is None:
                if self.buffer:
                    self._evaluate(QueryBatch.concat(self.buffer).runs(), acc.groups)
            else:
                for part in self.buffer:
                    self.spill.write(part.table())
                self.spill.close()
                self._evaluate_spill(self.spill, acc.groups)
        finally:
            self.tail, self.buffer = [], []
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None
        for i in self.indices:
            state = self.states[i]
            if state is None:  # no rows at all
                state = _empty_state(1, self.options.with_grad)
            acc.states[i] = state.resized(acc.groups)

    def _evaluate_spill(self, spill: Spill, groups: int) -> None:
        for p in range(PARTITIONS):
            if not spill.rows[p]:
                continue
            table = spill.read(p)
            if spill.rows[p] > self.budget and spill.level + 1 < MAX_LEVELS and _queries_in(table) > 1:
                deeper = Spill(spill.folder, spill.level + 1)
                deeper.write(table)
                deeper.close()
                del table
                self._evaluate_spill(deeper, groups)
            else:
                self._evaluate(QueryBatch.of_table(table, self.columns).runs(), groups)

    def _evaluate(self, part: Runs, groups: int) -> None:
        """Evaluate whole queries (every row of each is in ``part``) and fold them into the states."""
        with_grad = self.options.with_grad
        starts, sizes, first_q, rows = part.begins, part.sizes(), part.ids, part.rows
        weight = _per_query(part.weight, starts, sizes, self._describe, first_q, "--weight")
        group = _per_query(part.group, starts, sizes, self._describe, first_q, "--group-by")
        group = np.zeros(starts.size, dtype=np.intp) if group is None else group.astype(np.intp)
        arrays = part.columns
        del part
        for slot, i in enumerate(self.indices):
            lp = self.plan.losses[i]
            inputs = {role: _role(arrays, cols) for role, cols in lp.columns.items()}
            weighted = weight if lp.loss.sample_weights else None
            want_grad = with_grad or self.grad_file is not None
            per_query = evaluate_queries(lp.loss, lp.params, inputs, starts, sizes, weighted, want_grad,
                                         row_grad=self.grad_file is not None)
            width = inputs[lp.first].shape[1]
            state = per_query.state(group, groups, width, with_grad)
            self.states[i] = state if self.states[i] is None else self.states[i].merge(state)
            if self.records is not None:
                self.records.values[slot].append(per_query.values)
            if self.grad_file is not None:
                first, _ = self.grad_offsets[i]
                self.grad_file[rows, first:first + width] = per_query.row_grad
        if self.records is not None:
            self.records.qid.append(first_q)
            self.records.rows.append(sizes)

    def _describe(self, qids: np.ndarray) -> str:
        keys = self.keys.table().column(0).take(pa.array(qids[:3].astype(np.int64))).to_pylist()
        more = f" and {qids.size - 3} more" if qids.size > 3 else ""
        return f"queries {', '.join(repr(k) for k in keys)}{more}"

    # ----------------------------------------------------------------------------- outputs

    def _grad_rows(self, acc, rows: int) -> None:
        """A --grad-out file with room for ``rows`` rows: made at the first call, grown (doubling) later."""
        if self.grad_file is None:
            width = 0
            for i in self.indices:
                lp = self.plan.losses[i]
                w = len(acc.elements[i][lp.first]) if acc.elements[i] else 1
                self.grad_offsets[i] = (width, w)
                width += w
            self.grad_width = max(width, 1)
            self.grad_folder = tempfile.mkdtemp(prefix="losscli-query-grads-")
            self.grad_path = os.path.join(self.grad_folder, "grad.f64")
            self.grad_file = np.memmap(self.grad_path, dtype=np.float64, mode="w+", shape=(rows, self.grad_width))
        elif rows > self.grad_file.shape[0]:
            rows = max(rows, 2 * self.grad_file.shape[0])
            self.grad_file.flush()
            del self.grad_file
            os.truncate(self.grad_path, rows * self.grad_width * 8)  # the new rows read as zeros
            self.grad_file = np.memmap(self.grad_path, dtype=np.float64, mode="r+", shape=(rows, self.grad_width))

    def gradient(self, i: int, first: int, rows: int) -> np.ndarray:
        """Rows [first, first + rows) of loss i's weighted gradient w_q dL_q/dx (before the reduction's scale)."""
        start, width = self.grad_offsets[i]
        return np.array(self.grad_file[first:first + rows, start:start + width])

    def close(self) -> None:
        if self.grad_file is not None:
            del self.grad_file
            self.grad_file = None
            shutil.rmtree(self.grad_folder, ignore_errors=True)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def per_query_table(self) -> pa.Table:
        """One row per query, in order of first appearance: the key, its rows, each query loss's value."""
        r = self.records
        qid = np.concatenate(r.qid) if r.qid else np.empty(0, dtype=np.int64)
        order = np.argsort(qid, kind="stable")
        keys = self.keys.table().column(0).take(pa.array(qid[order]))
        columns = {self.plan.query: keys, "rows": pa.array(np.concatenate(r.rows)[order] if r.rows else [], pa.int64())}
        for slot, i in enumerate(self.indices):
            values = np.concatenate(r.values[slot]) if r.values[slot] else np.empty(0)
            columns[self.plan.losses[i].label] = pa.array(values[order], pa.float64())
        return pa.table(columns)

    def top(self, k: int) -> dict[str, list[dict]]:
        """The k queries with the largest loss, per query loss; ties keep the order of first appearance."""
        table = self.per_query_table()
        out = {}
        keys = table.column(self.plan.query).to_pylist()
        rows = table.column("rows").to_numpy()
        for i in self.indices:
            label = self.plan.losses[i].label
            values = table.column(label).to_numpy(zero_copy_only=False)
            usable = np.flatnonzero(~np.isnan(values))
            order = usable[np.lexsort((usable, -values[usable]))][:k]
            out[label] = [{self.plan.query: keys[j], "rows": int(rows[j]), "loss": float(values[j])} for j in order]
        return out


def _queries_in(table: pa.Table) -> int:
    import pyarrow.compute as pc

    return int(pc.count_distinct(table.column("__q")).as_py())


def _sorted_by_query(qid: np.ndarray, rows: np.ndarray) -> bool:
    """Whether the rows are already in (query, row) order.

    The buffer and every spill partition keep the input's row order, so this is whether the queries
    come in runs of ascending keys; two comparisons, where testing the row order only within equal
    keys took six passes over the rows. (Rows out of input order only make this say no: they are sorted.)
    """
    return bool((qid[1:] >= qid[:-1]).all() and (rows[1:] > rows[:-1]).all())


def _role(arrays: dict[str, np.ndarray], columns: list[str]) -> np.ndarray:
    parts = [arrays[c][:, None] if arrays[c].ndim == 1 else arrays[c] for c in columns]
    return parts[0] if len(parts) == 1 else np.hstack(parts)


def _per_query(values, starts, sizes, describe, qids, option) -> np.ndarray | None:
    """A column that must hold one value per query (weight, group id): that value, or exit 3 naming the queries."""
    if values is None:
        return None
    first = values[starts]
    differs = values != np.repeat(first, sizes)
    if differs.any():
        bad = np.unique(np.repeat(np.arange(starts.size), sizes)[differs])
        raise InputDataError(f"{option} differs between rows of the same query ({describe(qids[bad])}). "
                             f"A query loss gives one value per query, so {option} must be the same on all its rows.")
    return first


def _empty_state(groups: int, with_grad: bool) -> State:
    zeros = np.zeros(groups)
    state = State(total=zeros.copy(), norm=zeros.copy(), rows=zeros.copy(), elements=zeros.copy())
    if with_grad:
        state.grad_sq, state.grad_sum, state.grad_absmax = zeros.copy(), zeros.copy(), zeros.copy()
    return state


@dataclass
class PerQuery:
    """A loss evaluated on some queries: each query's value, denominator, weight and gradient."""

    values: np.ndarray  # (q,) L_q / d_q, NaN where the loss leaves the query out
    total: np.ndarray  # (q,) w_q L_q
    norm: np.ndarray  # (q,) w_q d_q
    sizes: np.ndarray  # (q,) rows per query
    row_grad: np.ndarray | None  # (n, c) w_q dL_q/dx per row, rows in query order (for --grad-out only)
    grad_sq: np.ndarray | None = None  # (q,) per-query sums of the weighted gradient
    grad_sum: np.ndarray | None = None
    grad_absmax: np.ndarray | None = None

    def state(self, group: np.ndarray, groups: int, width: int, with_grad: bool) -> State:
        def add(x):
            if groups == 1:  # one group: a sum (bincount's scattered adds were a tenth of ranking_softmax's time)
                return np.array([x.sum()])
            return np.bincount(group, weights=x, minlength=groups)

        state = State(total=add(self.total), norm=add(self.norm), rows=add((self.norm > 0).astype(np.float64)),
                      elements=add(self.sizes * float(width)))
        if with_grad:
            if groups == 1:
                biggest = np.array([np.max(self.grad_absmax, initial=0.0)])
            else:
                biggest = np.zeros(groups)
                np.maximum.at(biggest, group, self.grad_absmax)
            state.grad_sq, state.grad_sum, state.grad_absmax = add(self.grad_sq), add(self.grad_sum), biggest
        return state


def evaluate_queries(loss, params: dict, inputs: dict[str, np.ndarray], starts: np.ndarray, sizes: np.ndarray,
                     weight: np.ndarray | None, with_grad: bool, row_grad: bool = False) -> PerQuery:
    """Evaluate a query loss on rows sorted by query (query k is rows starts[k] .. starts[k] + sizes[k]).

    Queries of the same size are stacked into (queries, rows, width) arrays, so the loss's own code
    is vectorised over queries and no Python loop runs over rows; a loop runs over the distinct
    sizes, in chunks that keep (rows x rows) temporaries bounded, and the chunks run on the engine's
    thread pool (each writes only its own queries' results). Consecutive queries of one size
    (every query, when all have the same size) are one run of rows: a view is stacked, without
    gathering rows. Each chunk's gradient is summed per query while it is small; the whole (rows,
    width) gradient is kept only for ``row_grad`` (--grad-out).
    """
    q = starts.size
    first = inputs[loss.inputs[0].name]
    n, width = first.shape
    raw = np.empty(q)
    denom = np.ones(q)
    grad = np.zeros((n, width)) if row_grad else None
    if with_grad:
        grad_sq, grad_sum, grad_absmax = np.zeros(q), np.zeros(q), np.zeros(q)
    # a piecewise-constant loss (ndcg_loss): its gradient is 0 where it exists, so the zeros above are its summaries
    form_grad = with_grad and loss.grad is not zero_gradient

    def evaluate_chunk(size: int, chosen: np.ndarray) -> None:
        # chunks write disjoint queries (and rows) of the outputs, so they may run on threads at once
        if chosen[-1] - chosen[0] == chosen.size - 1:  # consecutive queries: one run of rows
            index = slice(starts[chosen[0]], starts[chosen[-1]] + size)
        else:
            index = (starts[chosen][:, None] + np.arange(size)).ravel()
        stacked = {role: a[index].reshape(chosen.size, size, a.shape[1]) for role, a in inputs.items()}
        if form_grad:
            if loss.value_and_grad is not None:
                v, g = loss.value_and_grad(**stacked, **params)
            else:
                v, g = loss.value(**stacked, **params), loss.grad(**stacked, **params)
            g = np.asarray(g, dtype=np.float64).reshape(chosen.size, size * width)
            grad_sq[chosen], grad_sum[chosen], grad_absmax[chosen] = row_summaries(g)
            if grad is not None:
                grad[index] = g.reshape(-1, width)
        else:
            v = loss.value(**stacked, **params)
        raw[chosen] = np.asarray(v, dtype=np.float64)
        if loss.norm is not None:
            denom[chosen] = np.asarray(loss.norm(**stacked, **params), dtype=np.float64)

    chunks = []
    for size in (sizes[:1] if sizes.min() == sizes.max() else np.unique(sizes)):
        which = np.flatnonzero(sizes == size)
        budget = PAIR_ELEMENTS // int(size) if loss.pairwise else ROW_ELEMENTS
        step = max(1, budget // int(size * max(1, width)))
        chunks += [(int(size), which[lo:lo + step]) for lo in range(0, which.size, step)]
    # NumPy releases the GIL in its loops, so the chunks use every core of the engine's pool
    run_blocks(evaluate_chunk, chunks)
    used = denom > 0
    raw = np.where(used, raw, 0.0)
    w = np.ones(q) if weight is None else weight
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(used, raw / np.where(used, denom, 1.0), np.nan)
    result = PerQuery(values=values, total=w * raw, norm=w * denom, sizes=sizes, row_grad=None)
    if with_grad:
        if weight is not None:  # the query's weight scales each of its gradient's elements
            grad_sq *= weight * weight
            grad_sum *= weight
            grad_absmax *= np.abs(weight)
            if grad is not None:
                grad *= np.repeat(weight, sizes)[:, None]
        result.row_grad = grad
        result.grad_sq, result.grad_sum, result.grad_absmax = grad_sq, grad_sum, grad_absmax
    return result
