"""Column selection: names, comma lists and globs to float64 arrays, checked.

A column spec is a name (``pred``), a comma-separated list (``p0,p1,p2``) or a
glob (``logit_*``); columns matched by a glob keep the order they have in the
file. A Parquet list column (fixed-size or not) counts as one column per element,
so an embedding stored as a vector column can be named directly.
"""

from __future__ import annotations

import difflib
import fnmatch

import numpy as np
import pyarrow as pa

from .catalogue.base import Role
from .errors import InputDataError, UsageProblem
from .readers import Table


def match(columns: list[str], spec: str) -> list[str]:
    """The columns a spec names, in spec order for lists and file order for globs; [] if none."""
    chosen: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if any(ch in part for ch in "*?["):
            found = [c for c in columns if fnmatch.fnmatchcase(c, part)]
        else:
            found = [part] if part in columns else []
        if not found:
            return []
        chosen.extend(c for c in found if c not in chosen)
    return chosen


def resolve(table: Table, spec: str | None, role: Role, option: str) -> list[str]:
    """Columns for one role: the user's spec, else the first default that exists."""
    columns = table.columns
    if spec:
        chosen = match(columns, spec)
        if chosen:
            return chosen
        missing = [p.strip() for p in spec.split(",") if p.strip() and not match(columns, p.strip())]
        guesses = difflib.get_close_matches(missing[0] if missing else spec, columns, n=3)
        hint = f" Did you mean {', '.join(guesses)}?" if guesses else ""
        raise InputDataError(
            f"{option} {spec!r}: no column {', '.join(repr(m) for m in missing) or repr(spec)} in {', '.join(table.sources)}.{hint} "
            f"The columns are: {', '.join(columns)}."
        )
    for default in role.defaults:
        chosen = match(columns, default)
        if chosen:
            return chosen
    looked = ", ".join(role.defaults) if role.defaults else "(no default names)"
    raise InputDataError(
        f"No {role.name} column: {option} was not given and none of the default names exists ({looked}) "
        f"in {', '.join(table.sources)}. The columns are: {', '.join(columns)}. Name them with {option} COLS."
    )


def numeric(table: Table, names: list[str], what: str) -> np.ndarray:
    """The named columns as an (n, c) float64 array; bad cells are an InputDataError.

    ``what`` says who asked ("loss 'focal', pred") so the message can name it.
    Missing cells, text, NaN and infinities are refused, never coerced.
    """
    parts = []
    for name in names:
        column = table.data.column(name)
        if pa.types.is_list(column.type) or pa.types.is_fixed_size_list(column.type) or pa.types.is_large_list(column.type):
            parts.append(_vector_column(table, name, column, what))
            continue
        parts.append(_scalar_column(table, name, column, what)[:, None])
    array = np.hstack(parts) if len(parts) > 1 else parts[0]
    bad = ~np.isfinite(array)
    if bad.any():
        col = int(np.nonzero(bad.any(axis=0))[0][0])
        rows = np.nonzero(bad[:, col])[0]
        label = _element_name(names, table, col)
        raise InputDataError(
            f"{what}: column {label!r} has NaN or infinite values at {table.locate(rows)}. "
            "Remove those rows or fix the values; losscli does not skip them silently."
        )
    return array


def _scalar_column(table: Table, name: str, column: pa.ChunkedArray, what: str) -> np.ndarray:
    if column.null_count:
        rows = np.nonzero(column.is_null().to_numpy(zero_copy_only=False))[0]
        raise InputDataError(
            f"{what}: column {name!r} has missing values at {table.locate(rows)}. "
            "Fill them or drop those rows before computing a loss."
        )
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind):
        return column.to_numpy().astype(np.float64)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column.to_numpy(zero_copy_only=False)
        import pandas as pd

        # The reader only leaves a column as text when some cell is not a number.
        rows = np.nonzero(np.isnan(pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(dtype=np.float64)))[0]
        examples = ", ".join(repr(str(v)) for v in text[rows[:3]])
        raise InputDataError(
            f"{what}: column {name!r} holds text, not numbers ({examples} at {table.locate(rows)}). "
            "Fix those cells, or choose a numeric column."
        )
    raise InputDataError(f"{what}: column {name!r} has type {kind}, not numbers. Choose a numeric column.")


def _vector_column(table: Table, name: str, column: pa.ChunkedArray, what: str) -> np.ndarray:
    """A list column (an embedding per row) as an (n, d) array; every row needs d numbers."""
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    lengths = np.where(column.is_null().to_numpy(zero_copy_only=False), -1, lengths)
    present = lengths[lengths >= 0]
    common = int(present[0]) if present.size else 0  # the first vector sets the length
    bad = np.nonzero(lengths != common)[0]
    if bad.size:
        raise InputDataError(f"{what}: vector column {name!r} has missing vectors or vectors whose length is not "
                             f"{common} (the first row's) at {table.locate(bad)}. Every row needs a vector of the same length.")
    values = pc.list_flatten(column)
    if values.null_count:
        rows = np.unique(pc.list_parent_indices(column).to_numpy()[values.is_null().to_numpy(zero_copy_only=False)])
        raise InputDataError(f"{what}: vector column {name!r} has missing elements at {table.locate(rows)}.")
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise InputDataError(f"{what}: vector column {name!r} holds {values.type}, not numbers.")
    return values.to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(column), int(common))


def _element_name(names: list[str], table: Table, index: int) -> str:
    """The user-facing name of the index-th column after list columns are expanded."""
    position = 0
    for name in names:
        column = table.data.column(name)
        width = 1
        if pa.types.is_fixed_size_list(column.type):
            width = column.type.list_size
        elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            first = column[0].as_py()
            width = len(first) if first is not None else 1
        if index < position + width:
            return name if width == 1 else f"{name}[{index - position}]"
        position += width
    return names[-1]


def check_width(role: Role, names: list[str], width: int, pred_width: int, loss: str) -> None:
    """Refuse a role whose column count does not fit the loss (exit 3)."""
    expected = role.width
    ok = (
        expected is None
        or (isinstance(expected, int) and width == expected)
        or (expected == "pred" and width == pred_width)
        or (expected == "1|pred" and width in (1, pred_width))
    )
    if ok:
        return
    want = {None: "one or more", "pred": f"{pred_width} (one per pred column)",
            "1|pred": f"1 or {pred_width} (one per pred column)"}.get(expected, str(expected))
    raise InputDataError(
        f"Loss {loss!r}: {role.name} needs {want} columns, got {width} ({', '.join(names)}). "
        f"Name the right columns with --{role.name if role.name in ('pred', 'target') else 'input ' + role.name + '='}COLS."
    )


def parse_inputs(items: tuple[str, ...]) -> dict[str, str]:
    """``--input var=sigma2 --input anchor=a_*`` to {"var": "sigma2", "anchor": "a_*"}."""
    roles: dict[str, str] = {}
    for item in items:
        role, eq, spec = item.partition("=")
        if not eq or not role.strip() or not spec.strip():
            raise UsageProblem(f"--input {item!r}: expected ROLE=COLS, for example --input var=variance.")
        roles[role.strip()] = spec.strip()
    return roles


