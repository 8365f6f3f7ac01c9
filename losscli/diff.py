"""Baseline against candidate: paired rows, per-loss deltas and paired-bootstrap intervals.

Rows of the two files are paired by a key column (``--on``) or by position. The
interval of a delta comes from resampling the *pairs* of rows with replacement
(the paired bootstrap), recomputing both values from the resampled per-row terms,
and taking the 2.5th and 97.5th percentiles of the resampled deltas. Set-level
losses are recomputed from their resampled per-row statistics the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import engine
from .api import Report, compute, json_number, plain_param
from .errors import InputDataError
from .readers import Table


@dataclass
class DiffResult:
    label: str
    loss: str
    params: dict
    reduction: str
    baseline: float
    candidate: float
    delta: float
    rel_delta: float | None
    ci: tuple[float, float]
    n: int
    signature: str

    @property
    def value(self) -> float:
        return self.candidate

    def as_json(self) -> dict:
        return {
            "label": self.label, "loss": self.loss, "params": {k: plain_param(v) for k, v in self.params.items()},
            "reduction": self.reduction, "baseline": json_number(self.baseline), "candidate": json_number(self.candidate),
            "value": json_number(self.candidate), "delta": json_number(self.delta),
            "rel_delta": None if self.rel_delta is None else json_number(self.rel_delta),
            "ci": [json_number(self.ci[0]), json_number(self.ci[1])], "n": self.n, "signature": self.signature,
        }


@dataclass
class DiffReport:
    sources: list[str]
    rows: int
    results: list[DiffResult]
    warnings: list[str]
    bootstrap: int
    seed: int


def pair(baseline: Table, candidate: Table, on: str | None) -> tuple[Table, Table]:
    """Reorder the candidate's rows to match the baseline's, by key or by position."""
    if on is None:
        if baseline.rows != candidate.rows:
            raise InputDataError(
                f"Baseline {', '.join(baseline.sources)} has {baseline.rows} rows but candidate "
                f"{', '.join(candidate.sources)} has {candidate.rows}; rows are paired by position. "
                "Give --on KEY to pair them by a key column instead.")
        return baseline, candidate
    import pandas as pd

    keys = []
    for table, role in ((baseline, "baseline"), (candidate, "candidate")):
        if on not in table.columns:
            raise InputDataError(f"--on {on!r}: the {role} {', '.join(table.sources)} has no column {on!r}. "
                                 f"Its columns are: {', '.join(table.columns)}.")
        key = pd.Series(table.data.column(on).to_pandas())
        duplicated = np.nonzero(key.duplicated(keep="first").to_numpy())[0]
        if duplicated.size:
            raise InputDataError(f"--on {on!r}: the {role} repeats keys at {table.locate(duplicated)}. Keys must be unique.")
        keys.append(key)
    position = pd.Index(keys[1]).get_indexer(keys[0])
    missing = np.nonzero(position < 0)[0]
    if missing.size or baseline.rows != candidate.rows:
        where = f"baseline keys missing from the candidate at {baseline.locate(missing)}" if missing.size else "the candidate has extra keys"
        raise InputDataError(f"--on {on!r}: the two files do not have the same keys ({where}). Pair files that hold the same rows.")
    reordered = Table(data=candidate.data.take(position), sources=candidate.sources, starts=np.array([0]))
    return baseline, reordered


def _values(loss, params, totals, norms, reduction: str) -> np.ndarray:
    """Reported values for many resamples at once (totals: (B,) or (B, k) for set losses)."""
    if loss.per == "set":
        return np.array([loss.value(totals=t, **params) for t in totals])
    with np.errstate(invalid="ignore", divide="ignore"):
        x = totals if reduction == "sum" else totals / norms
    return np.sqrt(x) if loss.finish == "sqrt" else x


def bootstrap_interval(loss, params, base: engine.Terms, cand: engine.Terms, reduction: str,
                       resamples: int, seed: int, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of candidate minus baseline over paired resamples of rows."""
    rng = np.random.default_rng(seed)
    n = base.total.shape[0]
    width = base.total.shape[1] if base.total.ndim == 2 else 1
    chunk = max(1, min(resamples, int(2e7 // max(1, n * width))))  # bound memory to ~160 MB of gathers
    deltas = []
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        vb = _values(loss, params, base.total[idx].sum(axis=1), base.norm[idx].sum(axis=1), reduction)
        vc = _values(loss, params, cand.total[idx].sum(axis=1), cand.norm[idx].sum(axis=1), reduction)
        deltas.append(vc - vb)
    deltas = np.concatenate(deltas)
    deltas = deltas[np.isfinite(deltas)]
    if deltas.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(deltas, [tail, 1.0 - tail])
    return float(low), float(high)


def diff(baseline: Table, candidate: Table, specs, *, columns=None, weight=None, reduction="mean",
         resamples: int = 1000, seed: int = 0, on: str | None = None) -> DiffReport:
    baseline, candidate = pair(baseline, candidate, on)
    base_report: Report = compute(baseline, specs, columns=columns, weight=weight, reduction=reduction)
    cand_report: Report = compute(candidate, specs, columns=columns, weight=weight, reduction=reduction)
    results = []
    for b, c in zip(base_report.evaluations, cand_report.evaluations):
        for role in b.spec.loss.inputs[1:]:
            differs = b.inputs.arrays[role.name] != c.inputs.arrays[role.name]
            if differs.any():
                rows = np.nonzero(differs.any(axis=1))[0]
                raise InputDataError(
                    f"Loss {b.spec.label!r}: the {role.name} columns differ between baseline and candidate at "
                    f"{baseline.locate(rows)}; a diff compares predictions of the same rows. "
                    + ("Check --on." if on else "Pair the rows with --on KEY if their order differs."))
        vb, vc = b.overall.value, c.overall.value
        delta = vc - vb
        rel = delta / abs(vb) if vb not in (0.0,) and np.isfinite(vb) else None
        ci = bootstrap_interval(b.spec.loss, b.spec.params, b.terms, c.terms, reduction, resamples, seed)
        results.append(DiffResult(label=b.spec.label, loss=b.spec.loss.name, params=dict(b.spec.params),
                                  reduction=reduction, baseline=vb, candidate=vc, delta=delta, rel_delta=rel,
                                  ci=ci, n=c.overall.n, signature=b.overall.signature))
    return DiffReport(sources=baseline.sources + candidate.sources, rows=baseline.rows, results=results,
                      warnings=list(dict.fromkeys(base_report.warnings + cand_report.warnings)),
                      bootstrap=resamples, seed=seed)


def worse(result: DiffResult, tolerance: float) -> bool:
    """Worse by more than the tolerance, and the interval excludes zero (a real regression, not noise)."""
    return bool(result.delta > tolerance and result.ci[0] > 0)
