"""Validation: the one place where input values are checked, behind every entry point.

Three steps, all on the batches of the pipeline:

- ``screen`` reads a batch's numeric columns as float64 arrays (without a copy where the column
  already is float64 without nulls): CSV cells are parsed here, so a bad cell is named with its
  row; Parquet and in-memory columns of integers, floats of any width, decimals, booleans and
  dictionaries are widened; class names in a target column become class indices. It refuses what
  is not a number (text, hexadecimal literals, ragged or empty vectors) and finds the rows with a
  missing, NaN or infinite value and those with a missing group key, which ``--nan`` refuses
  (error, the default), leaves out (drop) or reports as NaN results (propagate). It runs once per batch.
- ``check_block`` checks one block of rows for one loss: each input's domain, soft labels that
  must sum to 1, the column widths the loss needs, and the loss's own checks. It runs on the
  engine's threads.
- ``check_weight_total`` refuses weights whose sum float64 cannot hold.

Every refusal is an InputDataError (exit 3) naming the loss, the file, the column and the first rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .arrow import as_numpy
from .catalogue.base import REAL, Role
from .cells import MISSING_CELLS, NUMBER
from .errors import InputDataError, describe_rows
from .plan import ClassNames, LossPlan, Plan, is_text, is_vector, option_for, option_usage
from .sources import Batch

NAN_MODES = ("error", "drop", "propagate")
# Soft labels are distributions: a row must sum to 1 within this tolerance per class (labels
# written with six decimals are off by up to 5e-7 each).
SUM_TOLERANCE = 1e-6


# ----------------------------------------------------------------------------- columns to arrays


def float_columns(batch: Batch, names: list[str], classes: dict[str, ClassNames] | None = None) -> dict[str, np.ndarray]:
    """Each named column of the batch as float64: (n,) for a scalar column, (n, d) for a vector column.

    Missing values are NaN here; ``screen`` decides what they mean.
    """
    classes = classes or {}
    return {name: number_column(batch, name, classes.get(name)) for name in names}


def number_column(batch: Batch, name: str, classes: ClassNames | None = None) -> np.ndarray:
    """One column as float64 (read once per batch: the batch keeps it)."""
    if name not in batch.numbers:
        column = batch.data.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if classes is not None and is_text(column.type):
            batch.numbers[name] = class_indices(batch, name, column, classes)
        else:
            batch.numbers[name] = _numbers(batch, name, column)
    return batch.numbers[name]


def _numbers(batch: Batch, name: str, column: pa.Array) -> np.ndarray:
    kind = column.type
    if is_vector(kind):
        return _vector(batch, name, column)
    if pa.types.is_float64(kind):
        return as_numpy(column)  # nulls become NaN
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind):
        import pyarrow.compute as pc  # only here: float64 columns never need it, and importing it takes 50 ms

        return as_numpy(pc.cast(column, pa.float64(), safe=False))
    if pa.types.is_dictionary(kind):
        return _numbers(batch, name, column.dictionary_decode())
    if is_text(kind):
        check_text(batch, name, column)
        return _parse_cells(batch, name, column)
    raise InputDataError(f"Column {name!r} of {batch.source} holds {kind} values, not numbers. Choose a numeric column.")


def check_text(batch: Batch, name: str, column) -> None:
    """Refuse text that is not UTF-8: Parquet does not check it, and such a value cannot even be printed.
    (CSV text is checked as it is read.)"""
    if batch.cells:
        return
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return
    try:
        (column.dictionary if pa.types.is_dictionary(column.type) else column).validate(full=True)
    except pa.ArrowInvalid:
        raise InputDataError(f"Column {name!r} of {batch.source} holds text that is not valid UTF-8: the file is "
                             "damaged, or was written in another encoding. Write it again as UTF-8.") from None


def _parse_cells(batch: Batch, name: str, column: pa.Array) -> np.ndarray:
    """Text cells as numbers: decimal numbers, inf and nan; the usual spellings of a missing value (empty,
    NA, NULL...) as NaN; true/false as 1/0. Anything else (words, hexadecimal 0x10, 1,5) is refused."""
    import pyarrow.compute as pc

    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        try:
            column = column.cast(pa.string())
        except pa.ArrowInvalid:
            raise InputDataError(f"Column {name!r} of {batch.source} holds bytes that are not UTF-8 text, "
                                 "not numbers. Choose a numeric column.") from None
    if batch.cells:
        try:
            return as_numpy(pc.cast(column, pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # some cells are not plain numbers: find out which, below
    trimmed = pc.utf8_trim_whitespace(column)
    missing = _mask(pc.is_in(trimmed, value_set=pa.array(MISSING_CELLS))) | _mask(column.is_null())
    lowered = pc.utf8_lower(trimmed)
    true, false = _mask(pc.equal(lowered, "true")), _mask(pc.equal(lowered, "false"))
    number = _mask(pc.match_substring_regex(trimmed, NUMBER, ignore_case=True))
    bad = ~(missing | true | false | number)
    if not bad.any():
        text = pc.if_else(pa.array(missing), "nan", pc.if_else(pa.array(true), "1", pc.if_else(pa.array(false), "0", trimmed)))
        try:
            values = as_numpy(pc.cast(text, pa.float64()))
        except pa.ArrowInvalid:  # a spelling the pattern allows and the cast does not: find it cell by cell
            bad = np.array([not _casts(v) for v in text.to_pylist()], dtype=bool)
        else:
            if batch.cells:
                return values
    raise _text_error(batch, name, column, bad)


def _casts(cell: str | None) -> bool:
    """Whether pyarrow reads this one cell as a float (the slow way, for a cell the pattern misjudged)."""
    import pyarrow.compute as pc

    if cell is None:
        return True
    try:
        pc.cast(pa.array([cell]), pa.float64())
    except pa.ArrowInvalid:
        return False
    return True


def _mask(array) -> np.ndarray:
    """A boolean Arrow array as a NumPy mask, nulls as False."""
    return as_numpy(array.fill_null(False))


def _text_error(batch: Batch, name: str, column: pa.Array, bad: np.ndarray) -> InputDataError:
    if not bad.any():  # a typed text column whose cells all read as numbers
        shown = _examples(batch, column, np.arange(min(3, len(column))))
        return InputDataError(f"Column {name!r} holds numbers stored as text, at {shown}. Store the column as "
                              "numbers (float or integer), or choose a numeric column.")
    rows = np.flatnonzero(bad)
    values = column.take(pa.array(rows[:3])).to_pylist()
    hints = []
    if any(isinstance(v, str) and v.strip().lower().startswith(("0x", "-0x", "+0x")) for v in values):
        hints.append("losscli reads decimal numbers only: a hexadecimal cell is taken for a damaged one")
    if any(isinstance(v, str) and "," in v and v.replace(",", "").replace(".", "").strip().lstrip("+-").isdigit()
           for v in values):
        hints.append("numbers are written with a decimal point and no thousands separators")
    hint = f" ({'; '.join(hints)})" if hints else ""
    return InputDataError(f"Column {name!r} holds text, not numbers, at {_examples(batch, column, rows)}{hint}. "
                          "Fix those cells, or choose a numeric column.")


def _examples(batch: Batch, column: pa.Array, rows: np.ndarray) -> str:
    """"a.csv rows 7, 12 and 5 more ('abc', '0x10')": where, then the first cells themselves."""
    values = column.take(pa.array(rows[:3])).to_pylist()
    return f"{batch.locate(rows)} ({', '.join(_cell(v) for v in values)}{', ...' if rows.size > 3 else ''})"


def _cell(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "an empty cell"
    if isinstance(value, float):
        return "NaN" if value != value else repr(value).replace("inf", "infinity")
    if isinstance(value, (list, tuple)):
        return "a vector holding NaN, infinity or a gap"
    text = value if isinstance(value, str) else str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _vector(batch: Batch, name: str, column: pa.Array) -> np.ndarray:
    """A list column (a vector per row) as an (n, d) array; every row needs d numbers. A missing vector is a row
    of NaN (a missing value for --nan); vectors of other lengths, or only empty ones, are refused."""
    import pyarrow.compute as pc

    n = len(column)
    missing = _mask(column.is_null()) if column.null_count else np.zeros(n, dtype=bool)
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
        values = column.values.slice(column.offset * width, n * width)
    else:
        lengths = as_numpy(pc.list_value_length(column).fill_null(-1))
        present = lengths[~missing]
        width = int(present[0]) if present.size else 0  # the first vector sets the length
        ragged = np.flatnonzero(~missing & (lengths != width))
        if ragged.size:
            raise InputDataError(f"Vector column {name!r} has vectors whose length is not {width} (the first row's) at "
                                 f"{batch.locate(ragged)}. Every row needs a vector of the same length.")
        values = pc.list_flatten(column)  # the present vectors, one after the other
    if width == 0:
        raise InputDataError(f"Vector column {name!r} of {batch.source} holds only empty vectors: there are no values "
                             "to compute a loss on. Check the column.")
    kind = values.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
            or pa.types.is_boolean(kind)):
        raise InputDataError(f"Vector column {name!r} holds {kind}, not numbers.")
    flat = _numbers(batch, name, values)  # as a column of numbers is read: float64 as it is, the rest cast
    if pa.types.is_fixed_size_list(column.type):
        out = flat.reshape(n, width).copy() if missing.any() else flat.reshape(n, width)
    else:
        out = np.full((n, width), np.nan)
        out[~missing] = flat.reshape(-1, width)
    if missing.any():
        out[missing] = np.nan
    return out


def class_indices(batch: Batch, name: str, column: pa.Array, classes: ClassNames) -> np.ndarray:
    """Class names in a target column as class indices (NaN where a cell is empty)."""
    import pyarrow.compute as pc

    check_text(batch, name, column)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        try:
            column = column.cast(pa.string())
        except pa.ArrowInvalid:
            raise InputDataError(f"Target column {name!r} of {batch.source} holds bytes that are not UTF-8 text.") from None
    trimmed = pc.utf8_trim_whitespace(column)
    missing = _mask(column.is_null()) | _mask(pc.equal(trimmed, ""))
    index = pc.index_in(trimmed, value_set=pa.array(list(classes.names), type=pa.string()))
    unknown = _mask(index.is_null()) & ~missing
    if unknown.any():
        rows = np.flatnonzero(unknown)
        strangers = pc.unique(trimmed.filter(pa.array(unknown))).to_pylist()
        seen = pc.unique(trimmed.filter(pa.array(~missing))).to_pylist()
        listed = ", ".join(repr(s) for s in strangers[:5]) + (f" and {len(strangers) - 5} more" if len(strangers) > 5 else "")
        seen_text = ", ".join(str(s) for s in sorted(seen)[:20]) + (" ..." if len(seen) > 20 else "")
        raise InputDataError(
            f"Target column {name!r} holds class names ({listed} at {batch.locate(rows)}) that are not among the classes "
            f"{', '.join(classes.names)} ({classes.origin}). Classes seen in these rows: {seen_text}. "
            "Give every class, in pred column order, with --classes, or name the pred columns PREFIX_<class>.")
    return as_numpy(index).astype(np.float64)


# ----------------------------------------------------------------------------- missing values


@dataclass
class Screened:
    """A batch read for the pipeline: its numeric columns, and the rows --nan is about."""

    batch: Batch
    columns: dict[str, np.ndarray]
    missing: np.ndarray | None = None  # rows with a missing, NaN or infinite used value (--nan drop/propagate)
    key_missing: np.ndarray | None = None  # rows whose group key is missing (--nan drop)


def _sum_is_finite(values: np.ndarray) -> bool:
    """A finite sum of every value proves them all finite (NaN and inf propagate); False may also mean the
    sum overflowed, which only sends the check down an exact path."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(values, axis=None)))


def _bad_rows(values: np.ndarray) -> np.ndarray | None:
    """The rows holding a NaN or an infinity, or None when there is none.

    A finite sum of every value proves them all finite (NaN and inf propagate; an overflow to inf
    only sends the check down the exact path), and a sum runs at memory speed where isfinite writes
    a boolean array.
    """
    if _sum_is_finite(values):
        return None
    bad = ~np.isfinite(values)
    if bad.ndim == 1:
        return bad
    bad = bad.reshape(len(bad), -1)
    # a row at a time over a short last axis is slow: OR the columns instead
    rows = bad[:, 0].copy()
    for k in range(1, bad.shape[1]):
        rows |= bad[:, k]
    return rows


def screen(batch: Batch, plan: Plan, nan: str = "error", finite_in_blocks: bool = False) -> Screened:
    """Read the numeric columns of a batch and find its missing values; with --nan error (the default) the
    first column holding one is refused, naming its rows.

    ``finite_in_blocks`` (with --nan error only) leaves the proof that every value is finite to the
    engine's blocks (:func:`finite_rows`), which run on the thread pool and read each block while it is
    about to be used; a block that fails it calls this again without the flag, for the message."""
    classes = getattr(plan, "classes", {}) or {}
    columns = {name: number_column(batch, name, classes.get(name)) for name in plan.numeric}
    missing = None
    for name, values in ({} if finite_in_blocks and nan == "error" else columns).items():
        bad = _bad_rows(values)
        if bad is not None and bad.any():
            if nan == "error":
                raise _missing_error(batch, name, bad)
            missing = bad if missing is None else missing | bad
    for name in plan.group_by + plan.keep:
        check_text(batch, name, batch.data.column(name))
    key_missing = None
    for name in plan.group_by:
        bad = missing_keys(batch.data.column(name))
        if bad is not None:
            if nan != "drop":
                raise _missing_key_error(batch, name, bad, nan)
            key_missing = bad if key_missing is None else key_missing | bad
    return Screened(batch, columns, missing, key_missing)


def finite_rows(columns: dict[str, np.ndarray], start: int, stop: int) -> bool:
    """True when rows [start, stop) of every column are proved finite by their sum, as _bad_rows proves a
    column; False may also mean a sum overflowed, which the exact screen then settles."""
    return all(_sum_is_finite(values[start:stop]) for values in columns.values())


def check_finite(batch: Batch, name: str, values: np.ndarray) -> None:
    """Refuse missing, NaN and infinite values in one column (for readers outside the pipeline, such as suggest's)."""
    bad = _bad_rows(values)
    if bad is not None and bad.any():
        raise _missing_error(batch, name, bad)


def missing_keys(column) -> np.ndarray | None:
    """Rows whose key is missing: null, empty text or NaN. None when there are none."""
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    bad = _mask(column.is_null()) if column.null_count else None
    kind = column.type
    extra = None
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        extra = as_numpy(pc.binary_length(column)) == 0  # NaN (a null) is no empty key
    elif pa.types.is_floating(kind):
        extra = _mask(pc.is_nan(column))
    if extra is not None and extra.any():
        bad = extra if bad is None else bad | extra
    return bad if bad is not None and bad.any() else None


def _missing_error(batch: Batch, name: str, bad: np.ndarray) -> InputDataError:
    rows = np.flatnonzero(bad)
    column = batch.data.column(name)
    if is_vector(column.type):
        shown = f"{batch.locate(rows)} (a missing vector, or one holding NaN or infinity)"
    else:
        shown = _examples(batch, column, rows)
    return InputDataError(f"Column {name!r} has missing values, NaN or infinite values at {shown}. Fix them, or let "
                          "losscli compute leave those rows out (--nan drop) or give NaN results (--nan propagate).")


def _missing_key_error(batch: Batch, name: str, bad: np.ndarray, nan: str) -> InputDataError:
    advice = "let losscli compute leave those rows out (--nan drop)" if nan == "error" else \
        "--nan propagate cannot put them in a group; pass --nan drop to leave those rows out"
    return InputDataError(f"--group-by column {name!r} has missing keys (empty, null or NaN) at "
                          f"{batch.locate(np.flatnonzero(bad))}. Fill them, or {advice}.")


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


def _distributions(lp: LossPlan, inputs: dict[str, np.ndarray]):
    """The inputs of a loss that are soft labels, one distribution per row (K >= 2 columns)."""
    for role in lp.loss.inputs:
        if getattr(role, "sums_to_one", False) and inputs[role.name].shape[1] >= 2:
            yield role


def renormalised(lp: LossPlan, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """--renormalize: soft-label rows divided by their sums (rows summing to 0 are left for check_block to refuse)."""
    for role in _distributions(lp, inputs):
        a = inputs[role.name]
        sums = a.sum(axis=1, keepdims=True)
        inputs[role.name] = np.where(sums > 0, a / np.where(sums > 0, sums, 1.0), a)
    return inputs


def check_block(lp: LossPlan, inputs: dict[str, np.ndarray], element_cols: dict[str, list[str]], batch: Batch,
                start: int, renormalize: bool = False) -> None:
    """The domain of each input and the loss's own checks, on rows [start, start + n) of the batch."""
    for role in lp.loss.inputs:
        if role.domain is REAL:
            continue
        array = inputs[role.name]
        bad = role.domain.is_bad(array)
        if bad.any():
            _domain_error(lp, role, array, bad, element_cols[role.name], batch, start)
    for role in _distributions(lp, inputs):
        a = inputs[role.name]
        sums = a.sum(axis=1)
        off = np.abs(sums - 1.0) > SUM_TOLERANCE * a.shape[1]
        if off.any():
            rows = np.flatnonzero(off)
            shown = ", ".join(f"{s:.6g}" for s in sums[rows[:3]])
            fix = ("--renormalize cannot rescale a row that sums to 0; fix those rows" if renormalize else
                   "Pass --renormalize to divide each row by its sum, or fix the labels")
            raise InputDataError(
                f"Loss {lp.label!r}: the {role.name} columns ({', '.join(lp.columns[role.name])}) are soft labels, one "
                f"distribution per row, but rows sum to {shown} at {batch.locate(start + rows)}, not 1. {fix}.")
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


def check_weight_total(name: str, total: float, norms) -> None:
    """Refuse weights that sum to 0 (no weighted mean exists) or beyond float64 (the mean would come out 0 or NaN)."""
    if not np.isfinite(total) or any(not np.all(np.isfinite(n)) for n in norms):
        raise InputDataError(f"--weight column {name!r} sums to more than float64 can hold (about 1.8e308), so the "
                             "weighted mean cannot be computed. Divide the weights by a common factor: the weighted mean "
                             "does not change.")
    if total <= 0:
        raise InputDataError(f"--weight column {name!r} is zero on every row, so no weighted mean exists.")
