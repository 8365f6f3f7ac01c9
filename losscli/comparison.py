"""Baseline against candidate: paired rows, per-loss deltas and paired-bootstrap intervals, streamed.

Rows of the two inputs are paired by a key column (``--on``) or by position. Each pair gets an
id (its row in the baseline) and, from a seeded hash of that id, one of ``BLOCKS`` bootstrap
blocks. Both inputs then go through the ordinary pipeline with the blocks as groups: each is
read once, on its own, into states of a few sums per block and loss. A pair's two rows land in
the same block whichever order the files hold them in, so the pairing survives without a join,
and nothing of the input columns is kept.

The interval resamples blocks with replacement (the rows were assigned to blocks at random, so
this is the paired bootstrap of rows, grouped), recomputes both values from the resampled sums
(set-level losses from their resampled statistics) and takes the 2.5th and 97.5th percentiles of
the resampled deltas. With fewer rows than blocks it becomes the Poisson bootstrap, which is as good.

That both inputs hold the same targets is checked by an order-free fingerprint of every pair's
target values; only when the fingerprints differ are the inputs read again to name the rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .engine.finish import reduce_value
from .engine.groups import GOLDEN, mix
from .engine.pipeline import Accumulator, Options, finish
from .errors import InputDataError
from .model import DiffReport, DiffResult
from .plan import Plan, make_plan
from .sources import Batch, Source

BLOCKS = 4096


class PairBlocks:
    """Groups rows by bootstrap block of their pair id, and fingerprints the targets each pair holds."""

    def __init__(self, salt: int, target_columns: list[str], pair_ids: np.ndarray | None = None) -> None:
        self.salt = np.uint64(salt)
        self.target_columns = target_columns
        self.pair_ids = pair_ids  # None: the pair id is the row's position
        self.fingerprint = np.uint64(0)

    count = BLOCKS

    def pairs(self, batch: Batch) -> np.ndarray:
        if self.pair_ids is None:
            return np.arange(batch.first, batch.first + batch.rows, dtype=np.uint64)
        return self.pair_ids[batch.first: batch.first + batch.rows].astype(np.uint64)

    def ids(self, batch: Batch) -> np.ndarray:
        from .validate import float_columns

        with np.errstate(over="ignore"):
            h = mix(self.pairs(batch) + self.salt)
            blocks = (h % np.uint64(BLOCKS)).astype(np.intp)
            for values in float_columns(batch, self.target_columns).values():
                bits = (np.ascontiguousarray(values, dtype=np.float64) + 0.0).view(np.uint64)  # + 0.0: -0 is 0
                for column in bits.reshape(batch.rows, -1).T:
                    h = mix(h ^ column + GOLDEN)
            self.fingerprint += h.sum(dtype=np.uint64)
        return blocks


def _key_column(source: Source, on: str, role: str) -> pa.Array:
    if on not in source.schema.names:
        raise InputDataError(f"--on {on!r}: the {role} {', '.join(source.names)} has no column {on!r}. "
                             f"Its columns are: {', '.join(source.schema.names)}.")
    chunks = [b.data.column(on) for b in source.rewindable().batches([on], 1 << 22)]
    return pa.concat_arrays(chunks)


def pair_ids(baseline: Source, candidate: Source, on: str) -> np.ndarray:
    """For each candidate row, the baseline row holding the same key (keys must be unique and the same)."""
    import pyarrow.compute as pc

    keys = []
    for source, role in ((baseline, "baseline"), (candidate, "candidate")):
        key = _key_column(source, on, role)
        if pc.count_distinct(key, mode="all").as_py() != len(key):
            first = pc.index_in(key, value_set=pc.unique(key)).to_numpy(zero_copy_only=False)
            seen = np.zeros(len(key), dtype=bool)
            _, where = np.unique(first, return_index=True)
            seen[where] = True
            rows = np.flatnonzero(~seen)
            raise InputDataError(f"--on {on!r}: the {role} repeats keys at {', '.join(source.names)} "
                                 f"{_rows(rows)}. Keys must be unique.")
        keys.append(key)
    position = pc.index_in(keys[1], value_set=keys[0]).to_numpy(zero_copy_only=False)
    missing = np.flatnonzero(np.isnan(position)) if position.dtype.kind == "f" else np.empty(0, dtype=np.intp)
    if missing.size or len(keys[0]) != len(keys[1]):
        where = (f"candidate keys missing from the baseline at {', '.join(candidate.names)} {_rows(missing)}"
                 if missing.size else "the baseline has keys the candidate lacks")
        raise InputDataError(f"--on {on!r}: the two files do not have the same keys ({where}). "
                             "Pair files that hold the same rows.")
    return position.astype(np.int64)


def _rows(rows: np.ndarray) -> str:
    from .errors import describe_rows

    return describe_rows(rows)


def _name_differences(baseline: Source, candidate: Source, plan: Plan, columns: list[str],
                      cand_pairs: np.ndarray | None, on: str | None) -> None:
    """Read both inputs' target columns again and name the pairs whose targets differ (an error path only)."""
    from .validate import float_columns

    def read(source: Source) -> dict[str, np.ndarray]:
        parts = [float_columns(b, columns) for b in source.batches(columns, 1 << 20)]
        return {c: np.concatenate([p[c] for p in parts]) for c in columns}

    base, cand = read(baseline), read(candidate)
    order = np.argsort(cand_pairs) if cand_pairs is not None else np.arange(len(next(iter(cand.values()))))
    for column in columns:
        b, c = base[column], cand[column][order]
        differs = (b != c).reshape(len(b), -1).any(axis=1)
        if differs.any():
            rows = np.flatnonzero(differs)
            raise InputDataError(
                f"The values of target column {column!r} differ between baseline and candidate at {', '.join(baseline.names)} "
                f"{_rows(rows)}; a diff compares predictions of the same rows. "
                + ("Check --on." if on else "Pair the rows with --on KEY if their order differs."))
    raise InputDataError("The target columns of baseline and candidate differ; a diff compares predictions of the same "
                         "rows. " + ("Check --on." if on else "Pair the rows with --on KEY if their order differs."))


def resample_draws(rng: np.random.Generator, resamples: int, chunk: int = 128):
    """(k, BLOCKS) block indices, ``chunk`` resamples at a time: each resample draws BLOCKS blocks with replacement."""
    for start in range(0, resamples, chunk):
        yield rng.integers(0, BLOCKS, size=(min(chunk, resamples - start), BLOCKS))


def _drawn_sums(values: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Each resample's sum of its drawn blocks' values ((B,) or (B, k) values), by gathering a column at a time.

    Not a matrix product with draw counts: BLAS's threads were seen to cost 100x the arithmetic on a busy
    machine; and one contiguous column at a time, since a sum across the middle axis of (R, B, k) is strided.
    """
    if values.ndim == 1:
        return values[draws].sum(axis=1)
    return np.stack([column[draws].sum(axis=1) for column in values.T], axis=1)


def _resampled_values(lp, state, draws, reduction: str) -> np.ndarray:
    totals, norms = _drawn_sums(state.total, draws), _drawn_sums(state.norm, draws)
    if lp.loss.per == "set":
        return np.asarray(lp.loss.value(totals=totals, **lp.params), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = totals if reduction == "sum" else totals / norms
    return np.sqrt(x) if lp.loss.finish == "sqrt" else x


def diff(baseline: Source, candidate: Source, specs, *, columns=None, weight=None, reduction="mean",
         resamples: int = 1000, seed: int = 0, on: str | None = None, options: Options | None = None,
         classes=None) -> DiffReport:
    options = options or Options()
    options.reduction, options.with_grad = reduction, False
    held = [s.label for s in specs if s.loss.holds_rows]
    if held:
        from .errors import UsageProblem

        raise UsageProblem(f"diff cannot compare {', '.join(held)}: its bootstrap resamples blocks of sums, and these "
                           "losses need every row at once (a median, a maximum, a sorted set). Compare them with two "
                           "compute runs.")
    plans = [make_plan(s.schema, s.names, specs, columns, weight=weight, reduction=reduction, classes=classes)
             for s in (baseline, candidate)]
    _check_same_roles(plans)
    targets = list(dict.fromkeys(c for lp in plans[0].losses for role, cols in lp.columns.items()
                                 if role != lp.first for c in cols))
    if on is None and None not in (baseline.total_rows, candidate.total_rows) and baseline.total_rows != candidate.total_rows:
        _row_count_error(baseline, candidate, baseline.total_rows, candidate.total_rows)
    cand_pairs = pair_ids(baseline, candidate, on) if on is not None else None
    rng = np.random.default_rng(seed)
    salt = int(rng.integers(0, 2**63))
    accs = []
    for source, plan, pairs in ((baseline, plans[0], None), (candidate, plans[1], cand_pairs)):
        blocks = PairBlocks(salt, targets, pairs)
        acc = Accumulator(plan, options, grouping=blocks)
        for batch in source.batches(plan.projection, options.batch_rows, plan.text):
            acc.add(batch)
        accs.append((acc, blocks))
    (acc_b, blocks_b), (acc_c, blocks_c) = accs
    if on is None and acc_b.rows != acc_c.rows:
        _row_count_error(baseline, candidate, acc_b.rows, acc_c.rows)
    if blocks_b.fingerprint != blocks_c.fingerprint:
        _name_differences(baseline.rewindable(), candidate.rewindable(), plans[0], targets, cand_pairs, on)
    report_b = finish(_overall_only(acc_b))
    report_c = finish(_overall_only(acc_c))
    states = [(acc_b.states[i].resized(BLOCKS), acc_c.states[i].resized(BLOCKS)) for i in range(len(plans[0].losses))]
    deltas: list[list[np.ndarray]] = [[] for _ in states]
    for draws in resample_draws(rng, resamples):  # every loss sees the same resamples, a chunk at a time
        for i, (lp, (state_b, state_c)) in enumerate(zip(plans[0].losses, states)):
            deltas[i].append(_resampled_values(lp, state_c, draws, reduction) - _resampled_values(lp, state_b, draws, reduction))
    results = []
    for i, lp in enumerate(plans[0].losses):
        vb, vc = report_b.results[i].value, report_c.results[i].value
        delta = vc - vb
        rel = delta / abs(vb) if vb != 0.0 and np.isfinite(vb) else None
        spread = np.concatenate(deltas[i])
        spread = spread[np.isfinite(spread)]
        ci = (float("nan"), float("nan")) if spread.size == 0 else tuple(float(q) for q in np.quantile(spread, [0.025, 0.975]))
        results.append(DiffResult(label=lp.label, loss=lp.loss.name, params=dict(lp.params), reduction=reduction,
                                  baseline=vb, candidate=vc, delta=delta, rel_delta=rel, ci=ci,
                                  n=report_c.results[i].n, signature=report_b.results[i].signature,
                                  columns=report_b.results[i].columns))
    return DiffReport(sources=baseline.names + candidate.names, rows=acc_b.rows, results=results,
                      warnings=list(dict.fromkeys(report_b.warnings + report_c.warnings)), bootstrap=resamples, seed=seed)


def _check_same_roles(plans: list[Plan]) -> None:
    """Refuse a baseline and a candidate whose predictions differ in shape (3 classes against 4)."""
    for base, cand in zip(plans[0].losses, plans[1].losses):
        for role, cols in base.columns.items():
            if len(cols) != len(cand.columns[role]):
                raise InputDataError(
                    f"Loss {base.label!r}: the baseline's {role} columns ({', '.join(cols)}) and the candidate's "
                    f"({', '.join(cand.columns[role])}) differ in number; a diff compares predictions of the same "
                    "shape (the same classes). Name matching columns with --pred.")


def _overall_only(acc: Accumulator) -> Accumulator:
    """The accumulator with its bootstrap blocks merged into one group, for the plain values."""
    whole = Accumulator(acc.plan, acc.options)
    whole.states = [s.overall() for s in acc.states]
    whole.rows, whole.weight_total, whole.unit, whole.elements = acc.rows, acc.weight_total, acc.unit, acc.elements
    return whole


def _row_count_error(baseline: Source, candidate: Source, rows_b: int, rows_c: int) -> None:
    raise InputDataError(
        f"Baseline {', '.join(baseline.names)} has {rows_b} rows but candidate {', '.join(candidate.names)} has {rows_c}; "
        "rows are paired by position. Give --on KEY to pair them by a key column instead.")
