"""The Python API: the same pipeline as the command line, with Python values in and out.

>>> import losscli
>>> losscli.get("mse").value(pred=[1.0, 2.0], target=[0.0, 2.0])
0.5
>>> report = losscli.compute({"pred": [1.0, 2.0], "target": [0.0, 2.0]}, losses=["mse", "mae"])
>>> [(r.label, r.value) for r in report.results]
[('mse', 0.5), ('mae', 0.5)]

Every entry point validates as the CLI does and raises the CLI's errors as exceptions:
:class:`~losscli.errors.InputDataError` for bad data (exit 3 on the command line) and
:class:`~losscli.errors.UsageProblem` for a bad request (exit 2).
"""

from __future__ import annotations

import os
from typing import Any, Iterable

import numpy as np

from .engine import DEFAULT_BATCH_ROWS, Options, run
from .model import DiffReport, Report
from .plan import make_plan
from .sinks import FileSink, MemorySink, RowSink, check_output_path, check_outputs
from .sources import Source, arrow_table, open_source
from .spec import LossSpec, parse_spec

__all__ = ["compute", "diff", "get", "LossFunction"]


def _specs(losses: Iterable[str | LossSpec] | str | LossSpec) -> list[LossSpec]:
    if isinstance(losses, (str, LossSpec)):
        losses = [losses]
    specs = [s if isinstance(s, LossSpec) else parse_spec(s) for s in losses]
    if not specs:
        from .errors import UsageProblem

        raise UsageProblem("No loss given: name at least one, for example losses=['mse'].")
    return specs


def _sink(target, option: str) -> RowSink | None:
    if target is None or isinstance(target, RowSink):
        return target
    path = os.fspath(target)
    check_output_path(path, option)
    return FileSink(path, option)


def _options(reduction, grad, batch_rows, block_rows, **more) -> Options:
    return Options(reduction=reduction, with_grad=grad, batch_rows=batch_rows or DEFAULT_BATCH_ROWS,
                   block_rows=block_rows, **more)


def compute(data, losses, *, pred: str | None = None, target: str | None = None, weight: str | None = None,
            inputs: dict[str, str] | None = None, group_by: Iterable[str] | str = (), keep: str | None = None,
            reduction: str = "mean", grad: bool = False, per_row=None, grad_out=None, top: int | None = None,
            batch_rows: int | None = None, block_rows: int | None = None, engine: str = "local",
            scheduler: str | None = None, progress=None, stdin=None, nan: str = "error", renormalize: bool = False,
            sep: str | None = None, classes: Iterable[str] | None = None) -> Report:
    """Compute losses on a file, folder, list of files, DataFrame, pyarrow Table or dict of arrays.

    ``losses`` are specs as on the command line (``"focal:gamma=1.5"``). ``pred``, ``target``,
    ``weight`` and ``inputs`` (role -> columns) name columns as ``--pred`` etc. do; ``per_row``
    and ``grad_out`` are paths (or sinks); ``batch_rows``/``block_rows`` only tune the engine.
    ``nan`` is "error", "drop" or "propagate" (``--nan``); ``renormalize``, ``sep`` and ``classes``
    are ``--renormalize``, ``--sep`` and ``--classes``.
    """
    specs = _specs(losses)
    columns = dict(inputs or {})
    columns.update({k: v for k, v in (("pred", pred), ("target", target)) if v})
    _check_nan(nan)
    source = open_source(data, stdin=stdin, sep=sep)
    group_by = [group_by] if isinstance(group_by, str) else list(group_by)
    check_outputs({"--per-row": per_row, "--grad-out": grad_out}, source.paths)
    options = _options(reduction, grad, batch_rows, block_rows, top=top, nan=nan, renormalize=renormalize,
                       per_row=_sink(per_row, "--per-row"), grad_out=_sink(grad_out, "--grad-out"), progress=progress)
    plan = make_plan(source.schema, source.names, specs, columns, weight=weight, group_by=group_by, keep=keep,
                     reduction=reduction, classes=list(classes) if classes is not None else None)
    plan.warnings[:0] = getattr(source, "warnings", [])
    if engine == "dask":
        from .engine.dask import run_dask

        return run_dask(source, plan, options, scheduler=scheduler)
    return run(source, plan, options)


def diff(baseline, candidate, losses, *, pred: str | None = None, target: str | None = None, weight: str | None = None,
         inputs: dict[str, str] | None = None, reduction: str = "mean", on: str | None = None, resamples: int = 1000,
         seed: int = 0, batch_rows: int | None = None, stdin=None, renormalize: bool = False, sep: str | None = None,
         classes: Iterable[str] | None = None) -> DiffReport:
    """Compare a candidate's predictions with a baseline's on the same rows, with paired-bootstrap intervals."""
    from .diff import diff as run_diff

    columns = dict(inputs or {})
    columns.update({k: v for k, v in (("pred", pred), ("target", target)) if v})
    sources = [open_source(baseline, stdin=stdin, sep=sep), open_source(candidate, stdin=stdin, sep=sep)]
    report = run_diff(*sources, _specs(losses), columns=columns, weight=weight, reduction=reduction,
                      resamples=resamples, seed=seed, on=on, classes=list(classes) if classes is not None else None,
                      options=_options(reduction, False, batch_rows, None, renormalize=renormalize))
    report.warnings[:0] = [w for s in sources for w in getattr(s, "warnings", [])]
    return report


def _check_nan(nan: str) -> None:
    from .errors import UsageProblem
    from .validate import NAN_MODES

    if nan not in NAN_MODES:
        raise UsageProblem(f"nan={nan!r}: give one of {', '.join(NAN_MODES)}.")


class LossFunction:
    """One catalogue loss with its parameters, applied to arrays.

    Inputs are keyword arrays named by the loss's roles (``pred``, ``target``, ``var``, ...): 1-D for
    one column, 2-D for several. Each call runs the same pipeline, validation included, as the CLI.
    """

    def __init__(self, spec: LossSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.loss.name

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.spec.params)

    def __repr__(self) -> str:
        return f"LossFunction({self.spec.label!r})"

    def _run(self, arrays: dict, weight, reduction: str, **options) -> Report:
        data = {role: value for role, value in arrays.items() if value is not None}
        if weight is not None:
            data["__weight__"] = np.asarray(weight, dtype=np.float64)
        roles = {role.name: role.name for role in self.spec.loss.inputs if role.name in data}
        source = open_source(arrow_table(data))
        plan = make_plan(source.schema, ["<arrays>"], [self.spec], roles,
                         weight="__weight__" if weight is not None else None, reduction=reduction)
        return run(source, plan, Options(reduction=reduction, **options))

    def value(self, pred=None, target=None, *, weight=None, reduction: str = "mean", **inputs) -> float:
        """The reduced value (mean or sum, weighted by ``weight`` where the loss takes weights)."""
        report = self._run({"pred": pred, "target": target, **inputs}, weight, reduction)
        return report.results[0].value

    def per_row(self, pred=None, target=None, *, weight=None, **inputs) -> np.ndarray:
        """Each row's own loss (its mean over elements); set-level losses have none (ValueError)."""
        if self.spec.loss.per == "set":
            raise ValueError(f"{self.name} is a set-level loss: it has no per-row value")
        sink = MemorySink()
        self._run({"pred": pred, "target": target, **inputs}, weight, "mean", per_row=sink)
        return sink.table().column(self.spec.label).to_numpy()

    def grad(self, pred=None, target=None, *, weight=None, reduction: str = "mean", **inputs) -> np.ndarray:
        """d(value)/d(first input), shaped like the first input (pred, or anchor for triplet)."""
        arrays = {"pred": pred, "target": target, **inputs}
        sink = MemorySink()
        self._run(arrays, weight, reduction, grad_out=sink)
        table = sink.table()
        first = np.asarray(arrays[self.spec.loss.inputs[0].name])
        columns = [c for c in table.column_names if c.startswith("grad[")]
        g = np.column_stack([table.column(c).to_numpy() for c in columns])
        return g.reshape(first.shape)


def get(name: str, **params) -> LossFunction:
    """The loss called ``name`` (a catalogue name or spec) with ``params`` set: ``get("focal", gamma=1.5)``."""
    from .spec import spec_from_values

    return LossFunction(spec_from_values(name, params))
