"""Machine formats, written with plain writes to stdout: never through Rich, which would
wrap lines and take square brackets for markup.

Every format carries each result's reproducibility signature
(``focal|gamma=2|alpha=0.25|compat=torch|mean|losscli 0.2.0``): equal signatures, comparable numbers.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from xml.etree import ElementTree as ET

from .text import group_label, markdown_cell, one_line, plain

COMPUTE_COLUMNS = ("label", "loss", "group", "value", "n", "grad_l2", "grad_abs_max", "grad_mean", "signature", "columns")
DIFF_COLUMNS = ("label", "loss", "baseline", "candidate", "delta", "rel_delta", "ci_low", "ci_high", "n", "signature")


def group_text(group: dict | None) -> str:
    return group_label(group)


def compute_rows(report) -> list[dict[str, Any]]:
    rows = []
    for r in report.results:
        g = r.grad or {}
        rows.append({"label": r.label, "loss": r.loss, "group": group_text(r.group), "value": r.value, "n": r.n,
                     "grad_l2": g.get("l2"), "grad_abs_max": g.get("abs_max"), "grad_mean": g.get("mean"),
                     "signature": r.signature, "columns": columns_text(r.columns)})
    return rows


def diff_rows(report) -> list[dict[str, Any]]:
    return [{"label": r.label, "loss": r.loss, "baseline": r.baseline, "candidate": r.candidate, "delta": r.delta,
             "rel_delta": r.rel_delta, "ci_low": r.ci[0], "ci_high": r.ci[1], "n": r.n, "signature": r.signature}
            for r in report.results]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if value == value else "nan"
    return str(value)


def to_csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return buffer.getvalue()


def _md(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else markdown_cell(value)


def to_markdown(rows: list[dict], columns: tuple[str, ...], title: str = "") -> str:
    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "|".join(" --- " if c in ("label", "loss", "group", "signature", "expr") else " ---: "
                                for c in columns) + "|")
    for row in rows:
        lines.append("| " + " | ".join(_md(row[c]) for c in columns) + " |")
    return "\n".join(lines) + "\n"


VERDICTS = {"passed": "pass", "failed": "FAIL", "skipped": "skipped"}


def checks_markdown(checks) -> str:
    if not checks:
        return ""
    rows = [{"expr": f"`{c.expr}`", "value": c.value,
             "result": "**FAIL**" if c.status == "failed" else VERDICTS[c.status] + (f" ({c.note})" if c.note else "")}
            for c in checks]
    return "\n" + to_markdown(rows, ("expr", "value", "result"), "Gates")


def top_markdown(top) -> str:
    """The --top tables: the hardest rows of each loss."""
    parts = []
    for label, rows in (top or {}).items():
        columns = tuple(rows[0]) if rows else ("row", "loss")
        parts.append("\n" + to_markdown(rows, columns, f"Hardest rows: {label}"))
    return "".join(parts)


def compute_json(report, checks=None, top=None) -> str:
    return "".join(compute_json_parts(report, checks, top))


def compute_json_parts(report, checks=None, top=None):
    """The compute document in pieces, to be written as they come: a million groups never make one giant
    string. Each result is one line; every value passes through plain(), so the JSON is always valid."""
    head = {"source": report.sources, "rows": report.rows}
    tail: dict[str, Any] = {}
    if checks is not None:
        tail["checks"] = [c.as_json() for c in checks]
    if top is not None:
        tail["top"] = top
    return _document(head, "results", (r.as_json() for r in report.results), tail)


def _document(head: dict, name: str, items, tail: dict):
    """{head keys, "name": [one item per line], tail keys}, with the C JSON encoder (indent would make
    json use its pure-Python one, 40 times slower)."""
    def dumps(value) -> str:
        try:
            return json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):  # a NaN, a date, bytes...: made plain only where needed (it is slow)
            return json.dumps(plain(value), allow_nan=False)

    yield "{\n" + "".join(f"  {dumps(k)}: {dumps(v)},\n" for k, v in head.items()) + f"  {dumps(name)}: ["
    lines, separator = [], "\n    "
    for item in items:
        lines.append(separator + dumps(item))
        separator = ",\n    "
        if len(lines) >= 4096:
            yield "".join(lines)
            lines = []
    yield "".join(lines) + ("]" if separator == "\n    " else "\n  ]")
    yield "".join(f",\n  {dumps(k)}: {dumps(v)}" for k, v in tail.items()) + "\n}\n"


def compute_markdown(report, checks=None, top=None) -> str:
    columns = tuple(c for c in COMPUTE_COLUMNS if (c != "group" or report.group_by) and c != "columns")
    if not any(r.grad for r in report.results):
        columns = tuple(c for c in columns if not c.startswith("grad_"))
    title = f"losscli: {', '.join(report.sources)} ({report.rows} rows)"
    return (to_markdown(compute_rows(report), columns, title) + columns_markdown(report.results)
            + checks_markdown(checks) + top_markdown(top))


def columns_text(columns: dict[str, list[str]]) -> str:
    """``pred=logit, target=label``: the columns of each role a result used."""
    return ", ".join(f"{role}={','.join(names)}" for role, names in columns.items())


def columns_by_loss(results) -> dict[str, str]:
    """Each loss label's columns, once per loss (its groups use the same)."""
    return {label: text for label, text in dict.fromkeys(
        (r.label, columns_text(r.columns)) for r in results if getattr(r, "columns", None))}


def columns_markdown(results) -> str:
    used = columns_by_loss(results)
    if not used:
        return ""
    if len(set(used.values())) == 1:
        return f"\nColumns: `{next(iter(used.values()))}`\n"
    return "\nColumns: " + "; ".join(f"{label} `{text}`" for label, text in used.items()) + "\n"


def diff_json(report, checks=None) -> str:
    head = {"source": report.sources, "rows": report.rows, "bootstrap": report.bootstrap, "seed": report.seed}
    tail = {} if checks is None else {"checks": [c.as_json() for c in checks]}
    return "".join(_document(head, "results", (r.as_json() for r in report.results), tail))


def diff_markdown(report, checks=None) -> str:
    title = f"losscli diff: {' vs '.join(report.sources)} ({report.rows} paired rows, {report.bootstrap} bootstrap resamples)"
    return to_markdown(diff_rows(report), DIFF_COLUMNS, title) + checks_markdown(checks)


def _suite(root_name: str, cases: int, failures: int, errors: int, skipped: int):
    root = ET.Element("testsuites", name=root_name, tests=str(cases), failures=str(failures), errors=str(errors))
    suite = ET.SubElement(root, "testsuite", name=root_name, tests=str(cases), failures=str(failures),
                          errors=str(errors), skipped=str(skipped))
    return root, suite


def _xml(root) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def junit(checks, results, suite: str = "losscli") -> str:
    """JUnit XML: one test case per check (a gate's every selected group is one), so CI shows gates as tests.

    A skipped check (its group is not in the data) is a skipped case. Each result's value, signature
    and columns ride along as test-suite properties.
    """
    failures = sum(c.status == "failed" for c in checks)
    skipped = sum(c.status == "skipped" for c in checks)
    root, ts = _suite(suite, len(checks), failures, 0, skipped)
    props = ET.SubElement(ts, "properties")
    for r in results:
        group = group_text(getattr(r, "group", None))
        name = one_line(r.label) + (f"[{group}]" if group else "")
        ET.SubElement(props, "property", name=name, value=f"{_cell(r.value)} ({one_line(r.signature)})")
    for label, text in columns_by_loss(results).items():
        ET.SubElement(props, "property", name=f"{one_line(label)} columns", value=one_line(text))
    for c in checks:
        case = ET.SubElement(ts, "testcase", name=one_line(c.expr), classname=f"{suite}.gates")
        if c.status == "skipped":
            ET.SubElement(case, "skipped", message=c.note or "skipped")
        elif c.status == "failed":
            why = c.note or f"value {_cell(c.value)}"
            failure = ET.SubElement(case, "failure", message=f"gate tripped: {c.expr} ({why})", type="GateFailed")
            failure.text = f"{c.expr}: {why}"
    return _xml(root)


ERROR_KINDS = {1: "gate", 2: "usage", 3: "input", 4: "internal"}


def error_json(message: str, code: int, command: str) -> str:
    """The JSON document of a run that failed: ``{"error": {...}}``, so a consumer still parses something."""
    document = {"error": {"kind": ERROR_KINDS.get(code, "error"), "exit_code": code, "command": command,
                          "message": message}}
    return json.dumps(document, indent=2) + "\n"


def error_junit(message: str, code: int, command: str, suite: str = "losscli") -> str:
    """A JUnit testsuite with one errored test case naming the problem, so a CI report is never empty."""
    root, ts = _suite(suite, 1, 0, 1, 0)
    case = ET.SubElement(ts, "testcase", name=f"losscli {command}", classname=suite)
    error = ET.SubElement(case, "error", message=message.splitlines()[0] if message else "error",
                          type=f"{ERROR_KINDS.get(code, 'error')} error (exit {code})")
    error.text = message
    return _xml(root)
