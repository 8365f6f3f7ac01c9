"""The results of a run as plain data: what compute and diff return and what every renderer reads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def plain_param(value: Any) -> Any:
    if isinstance(value, tuple):
        return [plain_param(v) for v in value]
    return value


def json_number(value: float | None) -> float | None:
    """JSON has no NaN or infinity; a value that is not finite is written as null."""
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass
class Result:
    """One loss's value (and gradient summary) over all rows, or over one group of --group-by."""

    label: str
    loss: str
    params: dict[str, Any]
    reduction: str
    value: float
    n: int
    grad: dict[str, float] | None
    signature: str
    group: dict[str, Any] | None = None
    columns: dict[str, list[str]] = field(default_factory=dict)
    # Row counts of the per-row losses in the engine's fixed log-spaced bins (engine.state.hist_edges);
    # None for set-level losses, for a group without its own histogram, or when switched off.
    hist: Any = field(default=None, repr=False, compare=False)
    dropped: int | None = None  # rows --nan drop left out (None without --nan drop)

    def as_json(self) -> dict[str, Any]:
        document = {
            "label": self.label, "loss": self.loss, "params": {k: plain_param(v) for k, v in self.params.items()},
            "reduction": self.reduction, "value": json_number(self.value), "n": self.n,
            "grad": None if self.grad is None else {k: json_number(v) for k, v in self.grad.items()},
            "group": self.group, "columns": self.columns, "signature": self.signature,
        }
        if self.dropped is not None:
            document["dropped"] = self.dropped
        return document


@dataclass
class Report:
    """Everything `losscli compute` computed: results in loss order, each loss's overall result before its groups."""

    sources: list[str]
    rows: int
    results: list[Result]
    warnings: list[str] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    reduction: str = "mean"
    top: dict[str, list[dict]] | None = None

    def overall(self, label: str) -> Result:
        """The result of ``label`` over all rows (not one of its groups)."""
        return next(r for r in self.results if r.label == label and r.group is None)

    def check(self, *gates: str) -> list:
        """``--fail-if`` in Python: one :class:`~losscli.gates.Check` per gate such as ``"mse>4"`` or
        ``"mae[sex=a]>=2"``; ``check.passed`` is False where the gate tripped. Bad gates raise UsageProblem.

        >>> import losscli
        >>> report = losscli.compute({"pred": [1.0, 3.0], "target": [0.0, 0.0]}, ["mae"])
        >>> [(c.expr, c.value, c.passed) for c in report.check("mae>1.5", "mae>=2")]
        [('mae>1.5', 2.0, False), ('mae>=2', 2.0, False)]
        >>> [c.passed for c in report.check("mae>3")]
        [True]
        """
        from .gates import evaluate, parse_gate

        labels = list(dict.fromkeys(r.label for r in self.results))
        return evaluate([parse_gate(g, labels, self.group_by) for g in gates], self.results)

    def to_frame(self):
        """One row per result: label, loss, group columns, value, n and the gradient summary.

        >>> import losscli
        >>> data = {"pred": [1.0, 3.0, 2.0], "target": [0.0, 0.0, 2.0], "g": ["a", "a", "b"]}
        >>> losscli.compute(data, ["mse"], group_by="g").to_frame()  # (1 + 9 + 0) / 3, (1 + 9) / 2, 0
          label loss    g     value  n
        0   mse  mse  NaN  3.333333  3
        1   mse  mse    a  5.000000  2
        2   mse  mse    b  0.000000  1
        """
        import pandas as pd

        rows = []
        for r in self.results:
            row = {"label": r.label, "loss": r.loss, **{c: (r.group or {}).get(c) for c in self.group_by},
                   "value": r.value, "n": r.n}
            if r.grad is not None:
                row.update({f"grad_{k}": v for k, v in r.grad.items()})
            rows.append(row)
        return pd.DataFrame(rows)


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
    columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def value(self) -> float:
        return self.candidate

    def worse(self, tolerance: float) -> bool:
        """Worse by more than the tolerance, and the interval excludes zero (a real regression, not noise)."""
        return bool(self.delta > tolerance and self.ci[0] > 0)

    group = None

    def as_json(self) -> dict:
        return {
            "label": self.label, "loss": self.loss, "params": {k: plain_param(v) for k, v in self.params.items()},
            "reduction": self.reduction, "baseline": json_number(self.baseline), "candidate": json_number(self.candidate),
            "value": json_number(self.candidate), "delta": json_number(self.delta),
            "rel_delta": None if self.rel_delta is None else json_number(self.rel_delta),
            "ci": [json_number(self.ci[0]), json_number(self.ci[1])], "n": self.n, "columns": self.columns,
            "signature": self.signature,
        }


@dataclass
class DiffReport:
    """Everything `losscli diff` computed: one DiffResult per loss."""

    sources: list[str]
    rows: int
    results: list[DiffResult]
    warnings: list[str]
    bootstrap: int
    seed: int

    def check(self, *gates: str, fail_if_worse: float | None = None) -> list:
        """``--fail-if`` gates on the candidate's values and, with ``fail_if_worse=TOL``, one check per loss
        that fails when the candidate is worse by more than TOL with a 95% interval excluding zero."""
        from .gates import Check, evaluate, parse_gate

        labels = [r.label for r in self.results]
        checks = evaluate([parse_gate(g, labels, []) for g in gates], self.results)
        if fail_if_worse is not None:
            checks += [Check(expr=f"{r.label} not worse by > {fail_if_worse:g}", value=r.delta,
                             passed=not r.worse(fail_if_worse)) for r in self.results]
        return checks
