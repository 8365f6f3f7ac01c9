"""The library behind the CLI: read, gather, evaluate, and return plain results.

>>> from losscli.api import evaluate_arrays
>>> evaluate_arrays("mse", pred=[[1.0], [2.0]], target=[[0.0], [2.0]])
0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import engine
from .inputs import LossInputs, check_roles, gather, weights
from .readers import Table
from .spec import LossSpec, parse_spec


@dataclass
class Result:
    label: str
    loss: str
    params: dict[str, Any]
    reduction: str
    value: float
    n: int
    grad: dict[str, float] | None
    signature: str
    group: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label, "loss": self.loss, "params": {k: plain_param(v) for k, v in self.params.items()},
            "reduction": self.reduction, "value": json_number(self.value), "n": self.n,
            "grad": None if self.grad is None else {k: json_number(v) for k, v in self.grad.items()},
            "group": self.group, "signature": self.signature,
        }


@dataclass
class Evaluation:
    """One loss evaluated on a table: its results and what per-row outputs need."""

    spec: LossSpec
    inputs: LossInputs
    overall: Result
    groups: list[Result]
    terms: engine.Terms


@dataclass
class Report:
    sources: list[str]
    rows: int
    evaluations: list[Evaluation]
    warnings: list[str] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    reduction: str = "mean"
    weight: np.ndarray | None = None

    @property
    def results(self) -> list[Result]:
        out = []
        for ev in self.evaluations:
            out.append(ev.overall)
            out.extend(ev.groups)
        return out


def plain_param(value: Any) -> Any:
    if isinstance(value, tuple):
        return [plain_param(v) for v in value]
    return value


def json_number(value: float) -> float | None:
    """JSON has no NaN or infinity; a value that is not finite is written as null."""
    return float(value) if value is not None and np.isfinite(value) else None


def group_codes(table: Table, columns: list[str]) -> tuple[np.ndarray | None, list[dict[str, Any]]]:
    """Integer group codes per row, and the key values of each group, groups sorted by key."""
    if not columns:
        return None, []
    import pandas as pd

    from .columns import resolve
    from .catalogue.base import Role

    names = [resolve(table, c, Role("group", "group key"), "--group-by")[0] for c in columns]
    frame = table.data.select(names).to_pandas()
    if frame.isna().any().any():
        col = next(c for c in names if frame[c].isna().any())
        rows = np.nonzero(frame[col].isna().to_numpy())[0]
        from .errors import InputDataError

        raise InputDataError(f"--group-by column {col!r} has missing values at {table.locate(rows)}. Fill them or drop those rows.")
    index = pd.MultiIndex.from_frame(frame)
    codes, uniques = pd.factorize(index, sort=True)
    groups = [dict(zip(names, (_python(v) for v in (u if isinstance(u, tuple) else (u,))))) for u in uniques]
    return codes.astype(np.intp), groups


def _python(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def compute(table: Table, specs: list[LossSpec], *, columns: dict[str, str | None] | None = None,
            weight: str | None = None, reduction: str = "mean", with_grad: bool = False,
            group_by: list[str] | None = None) -> Report:
    """Evaluate every spec on the table; columns maps roles (pred, target, var, ...) to specs."""
    columns = columns or {}
    check_roles([s.loss for s in specs], columns)
    w = weights(table, weight)
    codes, groups = group_codes(table, group_by or [])
    report = Report(sources=table.sources, rows=table.rows, evaluations=[], group_by=list(group_by or []),
                    reduction=reduction, weight=w)
    for spec in specs:
        inputs = gather(spec.loss, spec.params, table, columns, spec.label)
        report.warnings.extend(inputs.warnings)
        if w is not None and not spec.loss.sample_weights:
            report.warnings.append(f"Loss {spec.label!r} cannot take sample weights; --weight is ignored for it.")
        if spec.loss.per == "set" and reduction != "mean":
            report.warnings.append(f"Loss {spec.label!r} is defined on the whole set; --reduction {reduction} does not change it.")
        overall, per_group, terms = engine.evaluate(
            spec.loss, spec.params, inputs.arrays, weight=w, reduction=reduction, with_grad=with_grad,
            codes=codes, groups=len(groups),
        )
        signature = spec.signature(reduction)

        def result(outcome: engine.Outcome, group: dict | None) -> Result:
            return Result(label=spec.label, loss=spec.loss.name, params=dict(spec.params), reduction=reduction,
                          value=outcome.value, n=outcome.rows, grad=outcome.grad, signature=signature, group=group)

        report.evaluations.append(Evaluation(
            spec=spec, inputs=inputs, overall=result(overall, None),
            groups=[result(o, g) for o, g in zip(per_group, groups)], terms=terms,
        ))
    return report


def evaluate_arrays(spec: str, *, reduction: str = "mean", weight=None, **arrays) -> float:
    """The reduced value of one loss on in-memory arrays (1-D arrays are one column)."""
    parsed = parse_spec(spec)
    data = {k: np.atleast_2d(np.asarray(v, dtype=np.float64).T).T for k, v in arrays.items()}
    w = None if weight is None else np.asarray(weight, dtype=np.float64)
    overall, _, _ = engine.evaluate(parsed.loss, parsed.params, data, weight=w, reduction=reduction)
    return overall.value
