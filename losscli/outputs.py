"""Per-row outputs: --per-row, --grad-out and --top, and the atomic file writes behind them.

Row numbers count data rows from 1 across all inputs, as in error messages.
Gradient columns are named ``grad[LABEL][COL]``: the gradient of LABEL's reported
value with respect to prediction column COL (``COL`` is ``name[k]`` for the k-th
element of a vector column).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from . import engine
from .errors import InputDataError, UsageProblem

OUTPUT_SUFFIXES = (".csv", ".parquet", ".pq")


def check_output_path(path: str, option: str) -> None:
    """Refuse an output path we cannot write before any work is done (exit 2)."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageProblem(f"{option} {path!r}: the file must end in .csv or .parquet.")
    folder = Path(path).parent
    if not folder.is_dir():
        raise UsageProblem(f"{option} {path!r}: folder {str(folder)!r} does not exist.")


def write_frame(frame, path: str) -> None:
    """Write CSV or Parquet to a temporary file beside ``path`` and rename it into place,
    so a failure never leaves a half-written file behind."""
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    os.close(fd)
    try:
        if target.suffix.lower() == ".csv":
            frame.to_csv(temp, index=False)
        else:
            frame.to_parquet(temp, index=False)
        os.replace(temp, target)
    except Exception as exc:
        Path(temp).unlink(missing_ok=True)
        raise InputDataError(f"Could not write {path}: {exc}") from None


def keep_frame(table, keep: str | None):
    """The row number and the --keep columns, as a pandas frame."""
    import pandas as pd

    from .catalogue.base import Role
    from .columns import resolve

    frame = pd.DataFrame({"row": np.arange(1, table.rows + 1)})
    if keep:
        names = resolve(table, keep, Role("keep", "key columns"), "--keep")
        for name in names:
            frame[name] = table.data.column(name).to_pandas()
    return frame


def per_row_frame(report, table, keep: str | None):
    """One row per input row: row number, key columns, and each loss's per-row value."""
    frame = keep_frame(table, keep)
    for ev in report.evaluations:
        if ev.terms.per_row is not None:
            frame[ev.spec.label] = ev.terms.per_row
    return frame


def set_level_labels(report) -> list[str]:
    return [ev.spec.label for ev in report.evaluations if ev.terms.per_row is None]


def element_names(columns: list[str], width: int) -> list[str]:
    if len(columns) == width:
        return columns
    return [f"{columns[0]}[{k}]" for k in range(width)]


def grad_frame(report, table, keep: str | None, weight, reduction: str):
    frame = keep_frame(table, keep)
    for ev in report.evaluations:
        loss = ev.spec.loss
        g = engine.gradient(loss, ev.spec.params, ev.inputs.arrays,
                            weight=weight if loss.sample_weights else None, reduction=reduction)
        first = loss.inputs[0].name
        for k, col in enumerate(element_names(ev.inputs.columns[first], g.shape[1])):
            frame[f"grad[{ev.spec.label}][{col}]"] = g[:, k]
    return frame


def top_rows(report, table, keep: str | None, k: int) -> dict[str, list[dict]]:
    """The k rows with the largest per-row loss, per loss (set-level losses have none)."""
    base = keep_frame(table, keep)
    top: dict[str, list[dict]] = {}
    for ev in report.evaluations:
        values = ev.terms.per_row
        if values is None:
            continue
        usable = np.where(np.isnan(values), -np.inf, values)
        # stable sort of the negated values: ties keep file order
        order = np.argsort(-usable, kind="stable")[:k]
        order = order[np.isfinite(usable[order])]
        rows = base.iloc[order].to_dict(orient="records")
        for record, i in zip(rows, order):
            record["loss"] = float(values[i])
            for key, value in record.items():
                if hasattr(value, "item"):
                    record[key] = value.item()
        top[ev.spec.label] = rows
    return top
