"""Gates: ``--fail-if 'focal>0.35'`` or ``--fail-if 'mae[region=north]>=2'`` trip when the value crosses the bound.

A gate names a result by its label (the --loss SPEC exactly as typed) and, optionally, groups
of --group-by in brackets; without brackets it applies to the overall value.
A gate trips (fails) when ``value OP NUMBER`` is true, so ``focal>0.35`` fails on 0.4.
A value that is not a number (no rows) trips every gate: a gate cannot pass on nothing.

Brackets select groups: ``[region=north]`` the group whose region is north, ``[region=*]`` every
region, ``[*]`` every group of every --group-by; with several --group-by columns, a column the
bracket does not name matches any value. Each selected group is its own check (and its own JUnit
test case), named ``mae[region=north]>2``.

A named group that is not in the data (a day without rows from the north) is a *skipped* check:
reported, with a warning, but it does not fail the run, because the data, not the command, changed.
With ``--strict-groups`` it is a failed check instead (exit 1). A wildcard that selects no group at
all is treated the same way.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from .errors import UsageProblem

OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_GATE = re.compile(r"^(?P<label>[^<>\[\]]+?)\s*(?:\[(?P<group>[^\]]*)\])?\s*(?P<op>>=|<=|>|<)\s*(?P<bound>\S+)\s*$")
ANY = "*"


@dataclass(frozen=True)
class Gate:
    expr: str
    label: str
    group: tuple[tuple[str, str], ...] | None  # (column, value or *) pairs; () for [*]; None for the overall value
    op: str
    bound: float
    bound_text: str = ""

    def trips(self, value: float | None) -> bool:
        if value is None or value != value:
            return True
        return bool(OPERATORS[self.op](value, self.bound))

    @property
    def wildcard(self) -> bool:
        return self.group is not None and (not self.group or any(v == ANY for _, v in self.group))

    def selects(self, group: dict | None) -> bool:
        if self.group is None or group is None:
            return self.group is None and group is None
        return all(column in group and (value == ANY or str(group[column]) == value) for column, value in self.group)

    def name_for(self, group: dict) -> str:
        """The check of one selected group: ``mae[region=north]>2``."""
        text = ", ".join(f"{k}={v}" for k, v in group.items())
        return f"{self.label}[{text}]{self.op}{self.bound_text}"


@dataclass(frozen=True)
class Check:
    """One verdict: passed, failed, or skipped (its group is not in the data; a skipped check does not fail)."""

    expr: str
    value: float | None
    passed: bool
    skipped: bool = False
    note: str = ""
    gate: str = ""  # the --fail-if it came from, when that selected several groups

    @property
    def status(self) -> str:
        return "skipped" if self.skipped else ("passed" if self.passed else "failed")

    def as_json(self) -> dict:
        document = {"expr": self.expr, "value": self.value, "passed": self.passed, "status": self.status}
        if self.gate:
            document["gate"] = self.gate
        if self.note:
            document["note"] = self.note
        return document


def parse_gate(expr: str, labels: list[str], group_by: list[str] | None) -> Gate:
    """Parse and check one --fail-if expression against the labels being computed (exit 2 when off).

    ``group_by`` is None for a command that has no groups (diff).
    """
    match = _GATE.match(expr.strip())
    if not match:
        raise UsageProblem(f"--fail-if {expr!r}: expected LABEL OP NUMBER with OP one of > >= < <=, "
                           "for example --fail-if 'focal>0.35' or --fail-if 'mae[region=*]>=2'.")
    label = match["label"].strip()
    try:
        bound = float(match["bound"])
    except ValueError:
        raise UsageProblem(f"--fail-if {expr!r}: {match['bound']!r} is not a number. "
                           "Write the bound as a plain number, for example --fail-if 'mae>0.5'.") from None
    if bound != bound:
        raise UsageProblem(f"--fail-if {expr!r}: the bound is NaN, which no value ever crosses, so the gate would "
                           "always pass. Give a number (a templated threshold may have come out empty or NaN).")
    if label not in labels:
        raise UsageProblem(f"--fail-if {expr!r} names {label!r}, which is not a computed loss. "
                           f"Gates use the --loss labels exactly as typed: {', '.join(labels)}.")
    group = None
    if match["group"] is not None:
        if group_by is None:
            raise UsageProblem(f"--fail-if {expr!r}: this command has no groups, so a gate cannot name one. "
                               f"Gate the whole value instead, for example --fail-if '{label}{match['op']}{match['bound']}'.")
        group = _parse_bracket(expr, match["group"], group_by)
    return Gate(expr=expr.strip(), label=label, group=group, op=match["op"], bound=bound, bound_text=match["bound"])


def _parse_bracket(expr: str, text: str, group_by: list[str]) -> tuple[tuple[str, str], ...]:
    if text.strip() == ANY:
        if not group_by:
            raise UsageProblem(f"--fail-if {expr!r}: [*] gates every group, but there are none. "
                               "Add --group-by COL, or drop the brackets to gate the overall value.")
        return ()
    pairs = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        column, eq, value = item.partition("=")
        if not eq or column.strip() not in group_by:
            columns = ", ".join(group_by) or "none: add --group-by COL"
            raise UsageProblem(f"--fail-if {expr!r}: the bracket must name --group-by columns as COL=value or "
                               f"COL=* (grouping by: {columns}); [*] gates every group.")
        pairs.append((column.strip(), value.strip()))
    if not pairs:
        raise UsageProblem(f"--fail-if {expr!r}: empty brackets. Write [COL=value], [COL=*] or [*].")
    return tuple(pairs)


def evaluate(gates: list[Gate], results, strict_groups: bool = False) -> list[Check]:
    """Checks of every gate: one per selected group; an absent group is skipped, or failed when strict."""
    checks = []
    for gate in gates:
        found = [r for r in results if r.label == gate.label and gate.selects(r.group)]
        if not found:
            wanted = "at all" if gate.group == () else ", ".join(f"{k}={v}" for k, v in gate.group or ())
            note = f"no group {wanted} in the data"
            checks.append(Check(expr=gate.expr, value=None, passed=not strict_groups, skipped=not strict_groups,
                                note=note))
            continue
        for result in found:
            value = result.value
            value = None if value is None or value != value else float(value)
            several = gate.group is not None and (gate.wildcard or len(result.group) > len(gate.group))
            checks.append(Check(expr=gate.name_for(result.group) if several else gate.expr, value=value,
                                passed=not gate.trips(value), gate=gate.expr if several else ""))
    return checks
