"""Validation: the one place where input values are checked, behind every entry point.

Two steps, both on the batches of the pipeline:

- ``float_columns`` turns a batch's numeric columns into float64 arrays (without a copy where the
  column already is float64 without nulls) and refuses what is not a number: text, missing cells,
  ragged vectors. It runs once per batch.
- ``check_block`` checks one block of rows for one loss: finite values, each input's domain, the
  column widths the loss needs, and the loss's own checks. It runs on the engine's threads.

Every refusal is an InputDataError (exit 3) naming the loss, the file, the column and the first rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .catalogue.base import REAL, Role
from .errors import InputDataError
from .plan import LossPlan, is_vector, option_usage
from .sources import Batch


# ----------------------------------------------------------------------------- columns to arrays


def float_columns(batch: Batch, names: list[str]) -> dict[str, np.ndarray]:
    """Each named column of the batch as float64: (n,) for a scalar column, (n, d) for a vector column."""
    return {name: _float_column(batch, name) for name in names}


def _float_column(batch: Batch, name: str) -> np.ndarray:
    column = batch.data.column(name)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if is_vector(column.type):
        return _vector(batch, name, column)
    if column.null_count:
        rows = np.nonzero(column.is_null().to_numpy(zero_copy_only=False))[0]
        raise InputDataError(f"Column {name!r} has missing values at {batch.locate(rows)}. "
                             "Fill them or drop those rows before computing a loss.")
    kind = column.type
    if pa.types.is_float64(kind):
        return column.to_numpy(zero_copy_only=False)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind):
        return column.to_numpy(zero_copy_only=False).astype(np.float64)
    if pa.types.is_dictionary(kind):
        return _float_column_of(batch, name, column.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        bad = _not_numbers(column)
        if bad.any():
            rows = np.nonzero(bad)[0]
            examples = ", ".join(repr(v) for v in column.filter(pa.array(bad)).slice(0, 3).to_pylist())
            raise InputDataError(f"Column {name!r} holds text, not numbers ({examples} at {batch.locate(rows[:3])}"
                                 f"{f' and {rows.size - 3} more rows' if rows.size > 3 else ''}). "
                                 "Fix those cells, or choose a numeric column.")
        examples = ", ".join(repr(v) for v in column.slice(0, 3).to_pylist())
        raise InputDataError(f"Column {name!r} holds numbers stored as text ({examples} at {batch.locate(np.arange(min(3, len(column))))}). "
                             "Store the column as numbers (float or integer), or choose a numeric column.")
    raise InputDataError(f"Column {name!r} has type {kind}, not numbers. Choose a numeric column.")


def _float_column_of(batch: Batch, name: str, column: pa.Array) -> np.ndarray:
    data = pa.RecordBatch.from_arrays([column], names=[name])
    return _float_column(Batch(data, batch.source, batch.offset, batch.first), name)


def _not_numbers(column: pa.Array) -> np.ndarray:
    """A mask of the text cells that do not parse as a number."""
    import pyarrow.compute as pc

    pattern = r"^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|infinity|nan)\s*$"
    ok = pc.match_substring_regex(column, pattern, ignore_case=True)
    return ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)


def _vector(batch: Batch, name: str, column: pa.Array) -> np.ndarray:
    """A list column (a vector per row) as an (n, d) array; every row needs d numbers."""
    import pyarrow.compute as pc

    if pa.types.is_fixed_size_list(column.type) and column.null_count == 0:
        width = column.type.list_size
        values = column.flatten()
        lengths = None
    else:
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
        lengths = np.where(column.is_null().to_numpy(zero_copy_only=False), -1, lengths)
        present = lengths[lengths >= 0]
        width = int(present[0]) if present.size else 0  # the first vector sets the length
        bad = np.nonzero(lengths != width)[0]
        if bad.size:
            raise InputDataError(f"Vector column {name!r} has missing vectors or vectors whose length is not "
                                 f"{width} (the first row's) at {batch.locate(bad)}. Every row needs a vector of the same length.")
        values = pc.list_flatten(column)
    if values.null_count:
        parents = pc.list_parent_indices(column).to_numpy() if lengths is not None else \
            np.repeat(np.arange(len(column)), width)
        rows = np.unique(parents[values.is_null().to_numpy(zero_copy_only=False)])
        raise InputDataError(f"Vector column {name!r} has missing elements at {batch.locate(rows)}.")
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise InputDataError(f"Vector column {name!r} holds {values.type}, not numbers.")
    return values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False).reshape(len(column), width)


# ----------------------------------------------------------------------------- role arrays


def element_names(columns: list[str], arrays: dict[str, np.ndarray]) -> list[str]:
    """The user-facing name of every element of a role: the column, or ``name[k]`` inside a vector column."""
    names = []
    for name in columns:
        array = arrays[name]
        names += [name] if array.ndim == 1 else [f"{name}[{k}]" for k in range(array.shape[1])]
    return names


def role_array(arrays: dict[str, np.ndarray], columns: list[str], start: int, stop: int) -> np.ndarray:
    """One role's (rows, elements) array for rows [start, stop): a view for one column, a small copy for several."""
    if len(columns) == 1:
        a = arrays[columns[0]][start:stop]
        return a[:, None] if a.ndim == 1 else a
    parts = [arrays[c][start:stop] for c in columns]
    return np.column_stack(parts)


def check_widths(lp: LossPlan, arrays: dict[str, np.ndarray]) -> dict[str, int]:
    """Refuse a role whose number of elements does not fit the loss (exit 3); the width of each role."""
    widths = {role: sum(1 if arrays[c].ndim == 1 else arrays[c].shape[1] for c in cols)
              for role, cols in lp.columns.items()}
    pred_width = widths[lp.first]
    for role in lp.loss.inputs:
        expected, width = role.width, widths[role.name]
        ok = (expected is None or (isinstance(expected, int) and width == expected)
              or (expected == "pred" and width == pred_width) or (expected == "1|pred" and width in (1, pred_width)))
        if not ok:
            want = {None: "one or more", "pred": f"{pred_width} (one per pred column)",
                    "1|pred": f"1 or {pred_width} (one per pred column)"}.get(expected, str(expected))
            raise InputDataError(
                f"Loss {lp.label!r}: {role.name} needs {want} columns, got {width} ({', '.join(lp.columns[role.name])}). "
                f"Name the right columns with {option_usage(role.name)}.")
    return widths


# ----------------------------------------------------------------------------- checks on a block


def check_finite(name: str, values: np.ndarray, batch: Batch, start: int) -> None:
    """Refuse NaN and infinities in a column: never skipped, never coerced."""
    if np.isfinite(values).all():
        return
    bad = ~np.isfinite(values)
    rows = np.nonzero(bad.any(axis=1) if bad.ndim == 2 else bad)[0]
    raise InputDataError(f"Column {name!r} has NaN or infinite values at {batch.locate(start + rows)}. "
                         "Remove those rows or fix the values; losscli does not skip them silently.")


def check_block(lp: LossPlan, inputs: dict[str, np.ndarray], element_cols: dict[str, list[str]], batch: Batch,
                start: int) -> None:
    """The domain of each input and the loss's own checks, on rows [start, start + n) of the batch."""
    for role in lp.loss.inputs:
        if role.domain is REAL:
            continue
        array = inputs[role.name]
        bad = role.domain.is_bad(array)
        if bad.any():
            _domain_error(lp, role, array, bad, element_cols[role.name], batch, start)
    if lp.loss.check is not None:
        for problem in lp.loss.check(**inputs, **lp.params):
            bad = np.asarray(problem.bad)
            if not bad.any():  # the usual answer, found without NumPy's slow axis-1 reduction
                continue
            rows = np.nonzero(bad.any(axis=1) if bad.ndim == 2 else bad)[0]
            if rows.size:
                raise InputDataError(f"Loss {lp.label!r}: {problem.message} "
                                     f"({', '.join(lp.columns[problem.role])} at {batch.locate(start + rows)}).")


def _domain_error(lp: LossPlan, role: Role, array, bad, names: list[str], batch: Batch, start: int) -> None:
    col = int(np.nonzero(bad.any(axis=0))[0][0])
    rows = np.nonzero(bad[:, col])[0]
    shown = ", ".join(f"{v:g}" for v in array[rows[:3], col])
    raise InputDataError(f"Loss {lp.label!r}: {role.name} must be {role.domain.text}, but column {names[col]!r} has "
                         f"{shown} at {batch.locate(start + rows[:3])}"
                         f"{f' (and {rows.size - 3} more rows)' if rows.size > 3 else ''}. {role.hint}".rstrip())


def probability_columns(lp: LossPlan, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For roles that warn when given probabilities: whether each element column lies in [0, 1] on these rows."""
    flags = {}
    for role in lp.loss.inputs:
        advice = role.warn_if_probabilities
        advice = advice(lp.params) if callable(advice) else advice
        if advice:
            a = inputs[role.name]
            # column by column: NumPy's axis-0 reductions of a narrow (n, c) block walk it a row at a time
            flags[role.name] = np.array([a[:, k].min() >= 0.0 and a[:, k].max() <= 1.0 for k in range(a.shape[1])],
                                        dtype=bool)
    return flags


def probability_warning(lp: LossPlan, role_name: str, column: str) -> str:
    role = lp.loss.role(role_name)
    advice = role.warn_if_probabilities
    advice = advice(lp.params) if callable(advice) else advice
    return f"Loss {lp.label!r}: {role_name} column {column!r} lies entirely in [0, 1]; {advice}"


def check_weights(name: str, w: np.ndarray, batch: Batch, start: int) -> None:
    negative = np.nonzero(w < 0)[0]
    if negative.size:
        raise InputDataError(f"--weight column {name!r} has negative weights at {batch.locate(start + negative)}. "
                             "Weights must be >= 0.")
