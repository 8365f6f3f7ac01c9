"""Streaming: files larger than memory, read batch by batch into mergeable states.

The same definitions, terms and states as the in-memory path; only how rows arrive
differs. Memory holds one batch and the states (a few numbers per loss and group).
Per-row outputs (--per-row, --grad-out, --top) need every row and are not streamed.
A set-level loss's gradient needs its totals first, so with --grad the files are
read a second time for it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import engine
from .api import Evaluation, Report, Result, group_codes
from .errors import InputDataError
from .inputs import check_roles, gather, weights
from .readers import iter_batches


class GroupKeys:
    """Group keys seen so far, numbered in order of first appearance across batches."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.values: list[dict] = []

    def codes(self, batch, group_by: list[str]) -> np.ndarray | None:
        local, groups = group_codes(batch, group_by)
        if local is None:
            return None
        mapping = np.empty(len(groups), dtype=np.intp)
        for k, group in enumerate(groups):
            key = tuple(group.values())
            if key not in self.index:
                self.index[key] = len(self.values)
                self.values.append(group)
            mapping[k] = self.index[key]
        return mapping[local]

    def sorted_order(self) -> np.ndarray:
        return np.array(sorted(range(len(self.values)), key=lambda i: tuple(self.values[i].values())), dtype=np.intp)


def compute_streaming(paths: list[str], specs, *, columns=None, weight: str | None = None, reduction: str = "mean",
                      with_grad: bool = False, group_by: list[str] | None = None, batch_rows: int = 1_000_000,
                      progress: Callable[[int], None] | None = None) -> Report:
    columns = columns or {}
    check_roles([s.loss for s in specs], columns)
    group_by = list(group_by or [])
    keys = GroupKeys()
    overall: list[engine.State | None] = [None] * len(specs)
    grouped: list[engine.State | None] = [None] * len(specs)
    warnings: list[str] = []
    rows, weight_total, sources = 0, 0.0, []
    for batch in iter_batches(paths, batch_rows):
        if batch.sources[0] not in sources:
            sources.append(batch.sources[0])
        w = weights(batch, weight, whole=False)
        weight_total += 0.0 if w is None else float(w.sum())
        codes = keys.codes(batch, group_by)
        for i, spec in enumerate(specs):
            inputs = gather(spec.loss, spec.params, batch, columns, spec.label)
            warnings.extend(inputs.warnings)
            t = engine.terms(spec.loss, inputs.arrays, spec.params, w if spec.loss.sample_weights else None,
                             with_grad and spec.loss.per != "set")
            width = inputs.arrays[spec.loss.inputs[0].name].shape[1]
            part = engine.State.of(t, width)
            overall[i] = part if overall[i] is None else overall[i].merge(part)
            if codes is not None:
                part = engine.State.of(t, width, codes, len(keys.values))
                grouped[i] = part if grouped[i] is None else grouped[i].merge(part)
        rows += batch.rows
        if progress:
            progress(rows)
    if weight and weight_total <= 0:
        raise InputDataError(f"--weight column {weight!r} is zero on every row, so no weighted mean exists.")
    order = keys.sorted_order()
    report = Report(sources=sources, rows=rows, evaluations=[], group_by=group_by, reduction=reduction,
                    warnings=list(dict.fromkeys(warnings)))
    set_grads = _set_gradients(paths, specs, columns, group_by, batch_rows, overall, grouped, keys) \
        if with_grad and any(s.loss.per == "set" for s in specs) else {}
    for i, spec in enumerate(specs):
        signature = spec.signature(reduction)

        def result(outcome: engine.Outcome, group: dict | None) -> Result:
            return Result(label=spec.label, loss=spec.loss.name, params=dict(spec.params), reduction=reduction,
                          value=outcome.value, n=outcome.rows, grad=outcome.grad, signature=signature, group=group)

        whole = engine.outcomes(spec.loss, spec.params, overall[i], reduction)[0]
        per_group = []
        if grouped[i] is not None:
            state = grouped[i].resized(len(keys.values)).reordered(order)
            per_group = engine.outcomes(spec.loss, spec.params, state, reduction)
        if i in set_grads:
            whole.grad = set_grads[i][0]
            for outcome, g in zip(per_group, order):
                outcome.grad = set_grads[i][1][g]
        report.evaluations.append(Evaluation(
            spec=spec, inputs=None, overall=result(whole, None),
            groups=[result(o, keys.values[g]) for o, g in zip(per_group, order)], terms=None))
    return report


def _set_gradients(paths, specs, columns, group_by, batch_rows, overall, grouped, keys) -> dict:
    """Second pass: gradient summaries of set-level losses, whose gradients need the final totals."""
    G = len(keys.values)
    sums = {i: np.zeros((G + 1, 4)) for i, s in enumerate(specs) if s.loss.per == "set"}  # sq, sum, absmax, count
    for batch in iter_batches(paths, batch_rows):
        codes = keys.codes(batch, group_by)
        for i in sums:
            spec = specs[i]
            arrays = gather(spec.loss, spec.params, batch, columns, spec.label).arrays
            parts = [(G, np.ones(batch.rows, dtype=bool), overall[i].total[0])]
            if codes is not None:
                parts += [(g, codes == g, grouped[i].total[g]) for g in np.unique(codes)]
            for slot, mask, totals in parts:
                g = np.asarray(spec.loss.grad(**{k: v[mask] for k, v in arrays.items()}, totals=totals, **spec.params))
                sums[i][slot] += [float((g * g).sum()), float(g.sum()), 0.0, g.size]
                sums[i][slot, 2] = max(sums[i][slot, 2], float(np.abs(g).max()) if g.size else 0.0)

    def summary(row):
        return {"l2": float(np.sqrt(row[0])), "abs_max": float(row[2]), "mean": float(row[1] / row[3]) if row[3] else 0.0}

    return {i: (summary(s[G]), [summary(s[g]) for g in range(G)]) for i, s in sums.items()}
