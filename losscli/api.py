"""The Python API: the same pipeline as the command line, with Python values in and out.

One loss on arrays:

>>> import losscli
>>> mse = losscli.get("mse")
>>> mse.value(pred=[1.0, 2.0], target=[0.0, 2.0])
0.5
>>> mse.grad(pred=[1.0, 2.0], target=[0.0, 2.0])
array([1., 0.])
>>> losscli.get("bce_logits").hess(pred=[0.0, 0.0], target=[1.0, 0.0], reduction="sum")
array([0.25, 0.25])

Losses on a file, folder, DataFrame, pyarrow Table or dict of columns, as ``losscli compute``:

>>> report = losscli.compute({"pred": [1.0, 2.0], "target": [0.0, 2.0]}, losses=["mse", "mae"])
>>> [(r.label, r.value) for r in report.results]
[('mse', 0.5), ('mae', 0.5)]
>>> report.to_frame()[["label", "value", "n"]]
  label  value  n
0   mse    0.5  2
1   mae    0.5  2

Per-row derivatives, as ``losscli grad``:

>>> losscli.grad({"pred": [1.0, 2.0], "target": [0.0, 2.0]}, ["mse"], hess=True)
   row  grad[mse][pred]  hess[mse][pred]
0    1              2.0              2.0
1    2              0.0              2.0

Every entry point validates as the CLI does and raises the CLI's errors, with the CLI's
messages, as exceptions: :class:`~losscli.errors.InputDataError` for bad data (exit 3 on the
command line) and :class:`~losscli.errors.UsageProblem` for a bad request (exit 2).

>>> losscli.get("cross_entropy").value(pred=[[2.0, 0.0, -1.0]], target=[7])
Traceback (most recent call last):
...
losscli.errors.InputDataError: Loss 'cross_entropy': class index 7 but there are 3 logit columns; valid indices are 0..2 (or ignore_index=-100) (target at <arrays> row 1).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence, Union, cast

import numpy as np

from .engine import DEFAULT_BATCH_ROWS, Options, run
from .errors import UsageProblem
from .model import DiffReport, Report
from .plan import make_plan
from .sinks import FileSink, MemorySink, RowSink, check_output_path, check_outputs
from .sources import ArrowSource, arrow_table, open_source
from .spec import LossSpec, parse_spec

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .catalogue.base import Loss

__all__ = ["compute", "diff", "grad", "get", "losses", "LossFunction"]

#: What ``compute``, ``diff`` and ``grad`` read: a path, a list of paths (``"-"`` is standard input),
#: a folder or quoted glob, a pandas DataFrame, a pyarrow Table or a dict of 1-D/2-D arrays.
Data = Any
#: A --loss spec (``"focal:gamma=1.5"``) or a LossSpec / LossFunction; one or several.
Losses = Union[str, LossSpec, "LossFunction", Iterable[Union[str, LossSpec, "LossFunction"]]]
#: An output: a path ending in .csv or .parquet, or a RowSink.
Output = Union[str, "os.PathLike[str]", RowSink]
ArrayLike = Any

# The name in messages for arrays given to LossFunction, as a file's name would be.
ARRAYS = "<arrays>"


# ----------------------------------------------------------------------------- checks shared with the CLI


def checked(option: str, value: Any, kind) -> Any:
    """``value`` converted by the click type the command line uses for ``option``; a UsageProblem with click's
    own words otherwise, so ``reduction="median"`` reads exactly as ``--reduction median`` does."""
    import click

    try:
        return kind.convert(value, None, None)
    except click.BadParameter as exc:
        raise UsageProblem(f"Invalid value for {option!r}: {exc.message}") from None


def _specs(losses: Losses) -> list[LossSpec]:
    if isinstance(losses, (str, LossSpec, LossFunction)):
        losses = [losses]
    specs = [s.spec if isinstance(s, LossFunction) else s if isinstance(s, LossSpec) else parse_spec(s)
             for s in losses]
    if not specs:
        raise UsageProblem("No loss given: name at least one, for example losses=['mse'].")
    return specs


def _sink(target: Output | None, option: str) -> RowSink | None:
    if target is None or isinstance(target, RowSink):
        return target
    path = os.fspath(target)
    check_output_path(path, option)
    return FileSink(path, option)


def _columns(pred: str | None, target: str | None, inputs: Mapping[str, str] | None) -> dict[str, str | None]:
    columns: dict[str, str | None] = dict(inputs or {})
    columns.update({k: v for k, v in (("pred", pred), ("target", target)) if v})
    return columns


def _options(reduction: str, grad: bool, batch_rows: int | None, block_rows: int | None, hard: bool = False,
             **more) -> Options:
    """Engine options, checked as the command line checks them; ``hard`` admits hard:F/hard:K (compute's)."""
    from .options import AT_LEAST_ONE, REDUCTION, REDUCTIONS

    reduction = checked("--reduction", reduction, REDUCTION if hard else REDUCTIONS)
    if batch_rows is not None:
        batch_rows = checked("--batch-rows", batch_rows, AT_LEAST_ONE)
    return Options(reduction=reduction, with_grad=grad, batch_rows=batch_rows or DEFAULT_BATCH_ROWS,
                   block_rows=block_rows, **more)


def no_hessian(spec: LossSpec) -> str | None:
    """Why a loss has no Hessian diagonal, or None when it has one."""
    from .catalogue.base import zero_gradient

    loss = spec.loss
    if loss.hess is not None:
        return None
    if loss.per == "query":
        why = "it is defined on a whole query at once, and losscli gives query losses gradients only"
    elif loss.holds_rows:
        why = ("it is defined on the whole set through every row at once (an order statistic or a sort of the "
               "errors), so no row's prediction has a second derivative of its own")
    elif loss.per == "set":
        why = ("it is defined on the whole set (a function of sums over every row), so no row's prediction has a "
               "second derivative of its own")
    elif loss.grad is zero_gradient:
        why = ("it is piecewise constant, so its gradient and Hessian are 0 wherever they exist; train with a smooth "
               "loss and report this one")
    else:
        why = "losscli gives it an analytic gradient only"
    return f"Loss {spec.label!r} has no Hessian: {why}."


def _require_hessians(specs: list[LossSpec]) -> None:
    for spec in specs:
        reason = no_hessian(spec)
        if reason:
            raise UsageProblem(reason)


# ----------------------------------------------------------------------------- compute, diff, grad


def compute(data: Data, losses: Losses, *, pred: str | None = None, target: str | None = None,
            weight: str | None = None, inputs: Mapping[str, str] | None = None,
            group_by: Iterable[str] | str = (), keep: str | Sequence[str] | None = None, query: str | None = None,
            reduction: str = "mean",
            grad: bool = False, per_row: Output | None = None, grad_out: Output | None = None, hess: bool = False,
            top: int | None = None, batch_rows: int | None = None, block_rows: int | None = None,
            engine: str = "local", scheduler: str | None = None, progress=None, stdin=None,
            histogram: str | None = None, nan: str = "error", renormalize: bool = False, sep: str | None = None,
            classes: Iterable[str] | None = None) -> Report:
    """Compute losses on a file, folder, list of files, DataFrame, pyarrow Table or dict of arrays.

    The Python form of ``losscli compute``; each keyword is the option of the same name.

    - ``losses``: specs as on the command line (``"focal:gamma=1.5"``), or ``get(...)`` objects.
    - ``pred``, ``target``, ``weight``, ``inputs`` (role -> columns), ``group_by``, ``keep``: column
      names, comma lists or globs, as ``--pred`` etc.; by default the usual names are tried.
    - ``reduction``: ``"mean"``, ``"sum"``, or ``"hard:FRACTION"`` / ``"hard:K"`` (the exact mean of the
      largest per-row losses); ``grad=True`` adds gradient summaries to each result.
    - ``query``: the key column grouping rows for losses over queries (ranking, in-batch metric
      learning): their values are per query, and ``per_row`` gets one row per query.
    - ``per_row``, ``grad_out``: a path ending in .csv or .parquet (or a RowSink) for each row's loss and
      each element's gradient; ``hess=True`` adds the Hessian diagonal to ``grad_out``.
    - ``top``: keep the K rows with the largest loss (``report.top``).
    - ``batch_rows``/``block_rows`` only tune the engine; ``engine="dask"`` runs on a Dask cluster.
    - ``histogram="overall"`` keeps the distribution of per-row losses in each result's ``hist`` (row
      counts in fixed log-spaced bins, :func:`losscli.engine.state.hist_edges`; ``losscli.plot`` draws
      it), ``"groups"`` also per group of ``group_by``; the default None skips that work.
    - ``nan`` is "error", "drop" or "propagate" (``--nan``); ``renormalize``, ``sep`` and ``classes``
      are ``--renormalize``, ``--sep`` and ``--classes``.

    Returns a :class:`~losscli.model.Report`: ``report.results`` hold what the JSON output holds,
    ``report.to_frame()`` gives them as a DataFrame, ``report.check("mse>4")`` evaluates gates.

    >>> import losscli
    >>> data = {"pred": [1.0, 2.0, 3.0, 5.0], "target": [1.5, 2.0, 2.0, 1.0], "g": ["a", "a", "b", "b"]}
    >>> report = losscli.compute(data, ["mae"], group_by="g", grad=True)
    >>> [(r.group, r.value) for r in report.results]
    [(None, 1.375), ({'g': 'a'}, 0.25), ({'g': 'b'}, 2.5)]
    >>> report.overall("mae").grad["abs_max"]
    0.25
    """
    from .options import AT_LEAST_ONE, ENGINES

    specs = _specs(losses)
    engine = checked("--engine", engine, ENGINES)
    if histogram not in (None, "overall", "groups"):
        raise UsageProblem(f"histogram={histogram!r}: choose None, 'overall' or 'groups'.")
    if scheduler and engine != "dask":
        raise UsageProblem("--scheduler goes with --engine dask.")
    if top is not None:
        top = checked("--top", top, AT_LEAST_ONE)
    if hess:
        if grad_out is None:
            raise UsageProblem("hess=True adds Hessian columns to grad_out: give grad_out too.")
        _require_hessians(specs)
    _check_nan(nan)
    source = open_source(data, stdin=stdin, sep=sep)
    group_by = [group_by] if isinstance(group_by, str) else list(group_by)
    keep = keep if keep is None or isinstance(keep, str) else list(keep)
    check_outputs({"--per-row": per_row, "--grad-out": grad_out}, source.paths)
    options = _options(reduction, grad, batch_rows, block_rows, top=top, nan=nan, renormalize=renormalize,
                       per_row=_sink(per_row, "--per-row"), grad_out=_sink(grad_out, "--grad-out"), with_hess=hess,
                       progress=progress, hard=True, histogram=histogram)
    plan = make_plan(source.schema, source.names, specs, _columns(pred, target, inputs), weight=weight,
                     group_by=group_by, keep=keep, reduction=options.reduction, query=query,
                     classes=list(classes) if classes is not None else None)
    plan.warnings[:0] = getattr(source, "warnings", [])
    if engine == "dask":
        from .engine.hard import hard_spec

        queries = [s.label for s in specs if s.loss.per == "query"]
        if queries or hard_spec(reduction) is not None:
            what = f"losses over queries ({', '.join(queries)})" if queries else f"--reduction {reduction}"
            raise UsageProblem(f"--engine dask merges per-partition sums; {what} need the local engine.")
        from .engine.dask import run_dask

        report = run_dask(source, plan, options, scheduler=scheduler)
    else:
        report = run(source, plan, options)
    if per_row is not None or top:
        skipped = [s.label for s in specs if s.loss.per == "set"]
        if skipped:
            report.warnings.append(f"{', '.join(skipped)}: set-level losses have no per-row value; "
                                   "they are left out of --per-row and --top.")
    return report


def diff(baseline: Data, candidate: Data, losses: Losses, *, pred: str | None = None, target: str | None = None,
         weight: str | None = None, inputs: Mapping[str, str] | None = None, reduction: str = "mean",
         on: str | None = None, resamples: int = 1000, seed: int = 0, batch_rows: int | None = None,
         stdin=None, renormalize: bool = False, sep: str | None = None,
         classes: Iterable[str] | None = None) -> DiffReport:
    """Compare a candidate's predictions with a baseline's on the same rows, with paired-bootstrap intervals.

    The Python form of ``losscli diff`` (``resamples`` is ``--bootstrap``). Returns a
    :class:`~losscli.model.DiffReport`; ``report.check(fail_if_worse=0.01)`` is ``--fail-if-worse 0.01``.

    >>> import losscli
    >>> old = {"pred": [1.0, 2.0, 3.0, 4.0], "target": [1.0, 1.0, 1.0, 1.0]}
    >>> new = {"pred": [1.0, 1.5, 2.0, 2.5], "target": [1.0, 1.0, 1.0, 1.0]}
    >>> result = losscli.diff(old, new, ["mae"], resamples=200).results[0]
    >>> (result.baseline, result.candidate, result.delta)
    (1.5, 0.75, -0.75)
    """
    from .comparison import diff as run_diff
    from .options import RESAMPLES

    resamples = checked("--bootstrap", resamples, RESAMPLES)
    specs = _specs(losses)
    if str(reduction).startswith("hard"):
        raise UsageProblem(f"diff compares mean or sum reductions; --reduction {reduction} is for compute.")
    over_queries = [s.label for s in specs if s.loss.per == "query"]
    if over_queries:
        raise UsageProblem(f"diff pairs rows, not queries: compare {', '.join(over_queries)} with two compute runs.")
    options = _options(reduction, False, batch_rows, None, renormalize=renormalize)
    sources = [open_source(baseline, stdin=stdin, sep=sep), open_source(candidate, stdin=stdin, sep=sep)]
    report = run_diff(*sources, specs, columns=_columns(pred, target, inputs), weight=weight,
                      reduction=options.reduction, resamples=resamples, seed=seed, on=on,
                      classes=list(classes) if classes is not None else None, options=options)
    report.warnings[:0] = [w for source in sources for w in getattr(source, "warnings", [])]
    return report


def _check_nan(nan: str) -> None:
    from .validate import NAN_MODES

    if nan not in NAN_MODES:
        raise UsageProblem(f"nan={nan!r}: give one of {', '.join(NAN_MODES)}.")


def grad(data: Data, losses: Losses, *, pred: str | None = None, target: str | None = None,
         weight: str | None = None, inputs: Mapping[str, str] | None = None,
         keep: str | Sequence[str] | None = None, reduction: str = "sum", hess: bool = False,
         out: Output | None = None, batch_rows: int | None = None, stdin=None) -> "pd.DataFrame | None":
    """Per-row gradient (and, with ``hess=True``, Hessian-diagonal) columns of each loss: ``losscli grad``.

    The columns are ``row`` (1-based), the ``keep`` columns, then ``grad[LABEL][COL]`` and
    ``hess[LABEL][COL]`` for every element of each loss's first input. The default ``reduction="sum"``
    gives each row's own derivatives (what a gradient-boosting library takes, weighted by ``weight``);
    ``"mean"`` divides them by the mean's denominator, as ``compute(..., grad_out=...)`` does.

    With ``out`` (a .csv or .parquet path, or a RowSink) the rows stream there and None is returned;
    without it the rows come back as a pandas DataFrame. What the command warns about on stderr
    (logits that look like probabilities, ...) is issued as a Python UserWarning.

    >>> import losscli
    >>> losscli.grad({"logit": [0.0, 2.0], "label": [1.0, 1.0]}, ["bce_logits"], pred="logit", target="label",
    ...              hess=True).round(4)
       row  grad[bce_logits][logit]  hess[bce_logits][logit]
    0    1                  -0.5000                    0.250
    1    2                  -0.1192                    0.105
    """
    import warnings

    from .options import REDUCTIONS

    reduction = checked("--reduction", reduction, REDUCTIONS)  # as `losscli grad` checks it: no hard means

    memory = MemorySink() if out is None else None
    report = compute(data, losses, pred=pred, target=target, weight=weight, inputs=inputs, keep=keep,
                     reduction=reduction, grad_out=memory or out, hess=hess, batch_rows=batch_rows, stdin=stdin)
    for message in report.warnings:  # what the command prints on stderr
        warnings.warn(message, UserWarning, stacklevel=2)
    return memory.table().to_pandas() if memory is not None else None


def losses() -> list[dict[str, Any]]:
    """The catalogue as ``losscli list --format json`` gives it: one dict per loss.

    >>> import losscli
    >>> entry = next(e for e in losscli.losses() if e["name"] == "huber")
    >>> entry["params"][0]["name"], entry["params"][0]["default"], entry["hess"]
    ('delta', 1.0, True)
    """
    from .render.catalogue import catalogue_entries

    return catalogue_entries()


# ----------------------------------------------------------------------------- one loss on arrays


class LossFunction:
    """One catalogue loss with its parameters set, applied to arrays: what :func:`get` returns.

    Inputs are keyword arrays named by the loss's roles (``pred``, ``target``, and ``var``,
    ``anchor``, ``label``... for the losses that take them): 1-D for one column, 2-D for several
    (class logits, several targets). ``weight`` is an optional per-row sample weight; a loss over
    queries also takes ``query``, each row's query key. Every call runs
    the same pipeline as the command line, validation included, and raises its errors.

    - ``value(...)``: the reduced value (``reduction="mean"`` or ``"sum"``), a float.
    - ``per_row(...)``: each row's own loss.
    - ``grad(...)``: d value / d first input, shaped like the first input.
    - ``hess(...)``: the diagonal of the Hessian of the value, shaped like the first input; per
      element for elementwise losses (where it is the whole Hessian), the diagonal of each row's
      block for per-row losses (softmax cross-entropy: ``(sum c) p (1 - p)``). 0 where the loss has
      no second derivative (a kink) and for piecewise-linear losses (mae, quantile, hinge).
    - ``grad_hess(...)``: both from one pass.

    >>> import losscli
    >>> huber = losscli.get("huber", delta=0.5)
    >>> huber
    LossFunction('huber:delta=0.5')
    >>> huber.value(pred=[0.0, 2.0], target=[0.1, 0.0], reduction="sum")  # 0.5 * 0.1^2 + 0.5 * (2 - 0.25)
    0.88
    >>> huber.grad(pred=[0.0, 2.0], target=[0.1, 0.0], reduction="sum")
    array([-0.1,  0.5])
    >>> huber.hess(pred=[0.0, 2.0], target=[0.1, 0.0], reduction="sum")
    array([1., 0.])
    """

    def __init__(self, spec: LossSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        """The catalogue name (``"focal"``)."""
        return self.spec.loss.name

    @property
    def label(self) -> str:
        """The spec as a user would type it (``"focal:gamma=1.5"``), the label of its results."""
        return self.spec.label

    @property
    def params(self) -> dict[str, Any]:
        """Every parameter, defaults included."""
        return dict(self.spec.params)

    @property
    def loss(self) -> "Loss":
        """The catalogue definition: formula, summary, inputs, parameters, explain page."""
        return self.spec.loss

    @property
    def has_hess(self) -> bool:
        return self.spec.loss.hess is not None

    def __repr__(self) -> str:
        return f"LossFunction({self.spec.label!r})"

    def _run(self, arrays: dict[str, ArrayLike], weight: ArrayLike | None, reduction: str,
             query: ArrayLike | None = None, **options) -> Report:
        roles = [role.name for role in self.spec.loss.inputs]
        unknown = [name for name, value in arrays.items() if value is not None and name not in roles]
        if unknown:
            raise UsageProblem(f"Loss {self.label!r} has no input {unknown[0]!r}; its inputs are {', '.join(roles)}.")
        missing = [role for role in self.spec.loss.inputs if arrays.get(role.name) is None]
        if missing:
            role = missing[0]
            raise UsageProblem(f"Loss {self.label!r} needs {role.name}: {role.text}. Pass {role.name}=... .")
        data = {name: arrays[name] for name in roles}
        if weight is not None:
            data["weight"] = np.asarray(weight, dtype=np.float64)
        if query is not None:
            data["query"] = np.asarray(query)
        source = ArrowSource(arrow_table(data), ARRAYS)
        plan = make_plan(source.schema, [ARRAYS], [self.spec], {name: name for name in roles},
                         weight="weight" if weight is not None else None, reduction=reduction,
                         query="query" if query is not None else None)
        return run(source, plan, _options(reduction, False, None, None, hard=True, **options))

    def value(self, pred: ArrayLike = None, target: ArrayLike = None, *, weight: ArrayLike | None = None,
              query: ArrayLike | None = None, reduction: str = "mean", **inputs: ArrayLike) -> float:
        """The reduced value: the weighted mean (or sum) over rows, as ``losscli compute`` reports it."""
        report = self._run({"pred": pred, "target": target, **inputs}, weight, reduction, query)
        return report.results[0].value

    def per_row(self, pred: ArrayLike = None, target: ArrayLike = None, *, weight: ArrayLike | None = None,
                query: ArrayLike | None = None, **inputs: ArrayLike) -> np.ndarray:
        """Each row's own loss (its mean over elements; NaN for a row the loss ignores), shape (n,); for a
        loss over queries, each query's, in order of first appearance.

        Set-level losses (dice and its family) have no per-row value: a UsageProblem says so.
        """
        if self.spec.loss.per == "set":
            raise UsageProblem(f"Loss {self.label!r} is a set-level loss: it has no per-row value.")
        sink = MemorySink()
        self._run({"pred": pred, "target": target, **inputs}, weight, "mean", query, per_row=sink)
        return sink.table().column(self.spec.label).to_numpy(zero_copy_only=False)

    def _derivatives(self, arrays: dict[str, ArrayLike], weight, reduction: str, with_hess: bool,
                     query: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        if with_hess:
            _require_hessians([self.spec])
        sink = MemorySink()
        self._run(arrays, weight, reduction, query, grad_out=sink, with_hess=with_hess)
        table = sink.table()
        shape = np.shape(arrays[self.spec.loss.inputs[0].name])

        def stacked(kind: str) -> np.ndarray:
            columns = [table.column(c).to_numpy() for c in table.column_names if c.startswith(kind + "[")]
            return np.column_stack(columns).reshape(shape)

        return stacked("grad"), stacked("hess") if with_hess else None

    def grad(self, pred: ArrayLike = None, target: ArrayLike = None, *, weight: ArrayLike | None = None,
             query: ArrayLike | None = None, reduction: str = "mean", **inputs: ArrayLike) -> np.ndarray:
        """d(value)/d(first input), shaped like the first input (pred, or anchor for triplet)."""
        return self._derivatives({"pred": pred, "target": target, **inputs}, weight, reduction, False, query)[0]

    def hess(self, pred: ArrayLike = None, target: ArrayLike = None, *, weight: ArrayLike | None = None,
             query: ArrayLike | None = None, reduction: str = "mean", **inputs: ArrayLike) -> np.ndarray:
        """d^2(value)/d(first input)^2 element by element (the Hessian's diagonal), shaped like the first input.

        A loss without one (set-level and embedding/box losses) raises a UsageProblem saying why.
        """
        return cast(np.ndarray, self._derivatives({"pred": pred, "target": target, **inputs}, weight, reduction, True,
                                                  query)[1])

    def grad_hess(self, pred: ArrayLike = None, target: ArrayLike = None, *, weight: ArrayLike | None = None,
                  query: ArrayLike | None = None, reduction: str = "mean",
                  **inputs: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """``(grad(...), hess(...))`` from a single pass over the arrays."""
        g, h = self._derivatives({"pred": pred, "target": target, **inputs}, weight, reduction, True, query)
        return g, cast(np.ndarray, h)


def get(name: str, **params: Any) -> LossFunction:
    """The loss called ``name`` (a catalogue name or spec) with ``params`` set: ``get("focal", gamma=1.5)``.

    Parameters are checked as ``--loss`` checks them; a bad one raises a UsageProblem.

    >>> import losscli
    >>> losscli.get("focal", gamma=1.5).params
    {'gamma': 1.5, 'alpha': 0.25, 'compat': 'torch'}
    >>> losscli.get("huber", delta=-1)
    Traceback (most recent call last):
    ...
    losscli.errors.UsageProblem: The 'delta' parameter of loss 'huber' must be a float > 0. Got -1.0.
    """
    from .spec import spec_from_values

    return LossFunction(spec_from_values(name, params))
