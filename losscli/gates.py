"""Gates: ``--fail-if 'focal>0.35'`` or ``--fail-if 'mae[sex=a]>=2'`` trip when the value crosses the bound.

A gate names a result by its label (the --loss SPEC exactly as typed) and, optionally,
a group of --group-by in brackets; without brackets it applies to the overall value.
A gate trips (fails) when ``value OP NUMBER`` is true, so ``focal>0.35`` fails on 0.4.
A value that is not a number (no rows) trips every gate: a gate cannot pass on nothing.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

from .errors import UsageProblem

OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_GATE = re.compile(r"^(?P<label>[^<>\[\]]+?)\s*(?:\[(?P<group>[^\]]*)\])?\s*(?P<op>>=|<=|>|<)\s*(?P<bound>\S+)\s*$")


@dataclass(frozen=True)
class Gate:
    expr: str
    label: str
    group: tuple[tuple[str, str], ...] | None  # (column, value) pairs, None for the overall value
    op: str
    bound: float

    def trips(self, value: float | None) -> bool:
        if value is None or value != value:
            return True
        return bool(OPERATORS[self.op](value, self.bound))


@dataclass(frozen=True)
class Check:
    expr: str
    value: float | None
    passed: bool

    def as_json(self) -> dict:
        return {"expr": self.expr, "value": self.value, "passed": self.passed}


def parse_gate(expr: str, labels: list[str], group_by: list[str]) -> Gate:
    """Parse and check one --fail-if expression against the labels being computed (exit 2 when off)."""
    match = _GATE.match(expr.strip())
    if not match:
        raise UsageProblem(f"--fail-if {expr!r}: expected LABEL OP NUMBER with OP one of > >= < <=, "
                           "for example --fail-if 'focal>0.35' or --fail-if 'mae[sex=a]>=2'.")
    label = match["label"].strip()
    try:
        bound = float(match["bound"])
    except ValueError:
        raise UsageProblem(f"--fail-if {expr!r}: {match['bound']!r} is not a number.") from None
    if bound != bound:
        raise UsageProblem(f"--fail-if {expr!r}: the bound is NaN, which no value ever crosses, so the gate would "
                           "always pass. Give a number (a templated threshold may have come out empty or NaN).")
    if label not in labels:
        raise UsageProblem(f"--fail-if {expr!r} names {label!r}, which is not a computed loss. "
                           f"Gates use the --loss labels exactly as typed: {', '.join(labels)}.")
    group = None
    if match["group"] is not None:
        pairs = []
        for item in filter(None, (p.strip() for p in match["group"].split(","))):
            column, eq, value = item.partition("=")
            if not eq or column.strip() not in group_by:
                raise UsageProblem(f"--fail-if {expr!r}: the bracket must name --group-by columns as COL=value "
                                   f"(grouping by: {', '.join(group_by) or 'nothing; add --group-by COL'}).")
            pairs.append((column.strip(), value.strip()))
        group = tuple(pairs)
    return Gate(expr=expr, label=label, group=group, op=match["op"], bound=bound)


def evaluate(gates: list[Gate], results) -> list[Check]:
    """One Check per gate; a gate whose group does not exist is a usage error."""
    checks = []
    for gate in gates:
        candidates = [r for r in results if r.label == gate.label]
        if gate.group is None:
            found = [r for r in candidates if r.group is None]
        else:
            wanted = dict(gate.group)
            found = [r for r in candidates if r.group is not None
                     and all(str(r.group.get(k)) == v for k, v in wanted.items())
                     and set(wanted) == set(r.group)]
            if not found:
                known = sorted({", ".join(f"{k}={v}" for k, v in r.group.items()) for r in candidates if r.group})
                raise UsageProblem(f"--fail-if {gate.expr!r}: no group {dict(gate.group)} in the data. "
                                   f"Groups: {'; '.join(known) or 'none'}.")
        value = found[0].value
        value = None if value is None or value != value else float(value)
        checks.append(Check(expr=gate.expr, value=value, passed=not gate.trips(value)))
    return checks
