"""Gather and check one loss's inputs from a table: columns, widths, domains, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .catalogue.base import REAL, Loss
from .columns import check_width, numeric, resolve
from .errors import InputDataError, UsageProblem
from .readers import Table


@dataclass
class LossInputs:
    arrays: dict[str, np.ndarray]
    columns: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)


def gather(loss: Loss, params: dict, table: Table, specs: dict[str, str | None], label: str) -> LossInputs:
    """Arrays for every input of ``loss``; ``specs`` maps role names to the user's column specs.

    Raises InputDataError (exit 3) naming the loss, file, column and first bad rows.
    """
    arrays: dict[str, np.ndarray] = {}
    columns: dict[str, list[str]] = {}
    warnings: list[str] = []
    first_width = None
    for role in loss.inputs:
        option = f"--{role.name}" if role.name in ("pred", "target") else f"--input {role.name}="
        names = resolve(table, specs.get(role.name), role, option)
        array = numeric(table, names, f"Loss {label!r}, {role.name}")
        if first_width is None:
            first_width = array.shape[1]
        check_width(role, names, array.shape[1], first_width, label)
        if role.domain is not REAL:
            bad = role.domain.is_bad(array)
            if bad.any():
                col = int(np.nonzero(bad.any(axis=0))[0][0])
                rows = np.nonzero(bad[:, col])[0]
                shown = ", ".join(f"{v:g}" for v in array[rows[:3], col])
                column = names[col] if len(names) == array.shape[1] else f"{names[0]}[{col}]"
                raise InputDataError(
                    f"Loss {label!r}: {role.name} must be {role.domain.text}, but column {column!r} has {shown} "
                    f"at {table.locate(rows)}. {role.hint}".rstrip()
                )
        advice = role.warn_if_probabilities
        advice = advice(params) if callable(advice) else advice
        if advice:
            inside = [name for k, name in enumerate(names[: array.shape[1]])
                      if array.shape[0] > 1 and np.all((array[:, k] >= 0) & (array[:, k] <= 1))]
            if inside:
                warnings.append(f"Loss {label!r}: {role.name} column {inside[0]!r} lies entirely in [0, 1]; "
                                f"{advice}")
        arrays[role.name] = array
        columns[role.name] = names
    if loss.check is not None:
        for problem in loss.check(**arrays, **params):
            bad = np.asarray(problem.bad)
            rows = np.nonzero(bad.any(axis=1) if bad.ndim == 2 else bad)[0]
            if rows.size:
                raise InputDataError(
                    f"Loss {label!r}: {problem.message} ({', '.join(columns[problem.role])} at {table.locate(rows)})."
                )
    return LossInputs(arrays=arrays, columns=columns, warnings=warnings)


def check_roles(losses, specs: dict[str, str | None]) -> None:
    """Refuse an --input ROLE that none of the requested losses takes (exit 2)."""
    known = {role.name for loss in losses for role in loss.inputs} | {"pred", "target"}
    unknown = [role for role, spec in specs.items() if spec and role not in known]
    if unknown:
        takes = ", ".join(sorted(known - {"pred", "target"})) or "none besides pred and target"
        raise UsageProblem(f"--input {unknown[0]}=...: no requested loss has an input called {unknown[0]!r} "
                           f"(extra inputs of these losses: {takes}).")


def weights(table: Table, column: str | None, whole: bool = True) -> np.ndarray | None:
    """The --weight column, checked: finite, non-negative, and (for a whole table) not all zero."""
    if not column:
        return None
    from .catalogue.base import Role

    names = resolve(table, column, Role("weight", "sample weights"), "--weight")
    if len(names) != 1:
        raise InputDataError(f"--weight {column!r} names {len(names)} columns ({', '.join(names)}); give exactly one.")
    w = numeric(table, names, "--weight")[:, 0]
    negative = np.nonzero(w < 0)[0]
    if negative.size:
        raise InputDataError(f"--weight column {names[0]!r} has negative weights at {table.locate(negative)}. Weights must be >= 0.")
    if whole and not (w > 0).any():
        raise InputDataError(f"--weight column {names[0]!r} is zero on every row, so no weighted mean exists.")
    return w
