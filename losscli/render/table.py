"""Rich tables for people at a terminal; plain ASCII with no colour when piped.

Rich itself honours NO_COLOR and FORCE_COLOR; we choose the box style and the width. A table
never cuts a number: number columns are as wide as their widest cell and never wrap; only the
text columns (labels, groups) fold onto more lines. When even that does not fit the width, the
table is stacked: one block per row, each number with its heading, wrapped between pairs.

Width: the terminal's; when piped, COLUMNS if set, else wide enough (200) that a piped table is
not wrapped at 80 columns.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

PIPED_WIDTH = 200
TEXT_MIN = 12  # a text column folds, but not narrower than this (or its longest header word)
MAX_GROUPS = 50  # more groups than this per loss: the table shows the worst SHOWN_GROUPS of them
SHOWN_GROUPS = 20

from .text import group_label, one_line


def console(file=None, stderr: bool = False, piped_width: int = PIPED_WIDTH):
    from rich.console import Console

    stream = file or (sys.stderr if stderr else sys.stdout)
    terminal = stream.isatty() if hasattr(stream, "isatty") else False
    width = None if terminal else (_env_columns() or piped_width)
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def _env_columns() -> int | None:
    text = os.environ.get("COLUMNS", "")
    return int(text) if text.isdigit() and int(text) > 0 else None


def number(value: float | None) -> str:
    """Six significant digits: enough to compare runs by eye; JSON carries full precision."""
    if value is None or value != value:
        return "nan"
    return f"{value:.6g}"


# ----------------------------------------------------------------------------- fitting a table to the width


@dataclass(frozen=True)
class Col:
    header: str
    numeric: bool = False  # right-aligned, never wrapped or cut


@dataclass(frozen=True)
class Cell:
    text: str
    style: str | None = None  # used on a terminal only


def _plain(cell) -> Cell:
    return cell if isinstance(cell, Cell) else Cell(one_line(cell))


def _widths(cols: list[Col], rows: list[list[Cell]], width: int) -> list[int] | None:
    """Column widths (without padding) that fit ``width`` with every number whole; None when none do."""
    natural, least = [], []
    for j, col in enumerate(cols):
        longest_cell = max((len(r[j].text) for r in rows), default=0)
        longest_word = max((len(w) for w in col.header.split()), default=1)
        natural.append(max(longest_cell, len(col.header), 1))
        floor = max(longest_cell, longest_word, 1)  # a header may wrap between its words; a number never
        least.append(floor if col.numeric else min(floor, max(TEXT_MIN, longest_word)))
    frame = 3 * len(cols) + 1  # a space either side of each cell and a border between and around them
    if sum(least) + frame > width:
        return None
    widths = list(natural)
    excess = sum(widths) + frame - width
    # wrap the headers of number columns first, then fold the widest text column
    for numeric in (True, False):
        while excess > 0:
            room = [k for k, c in enumerate(cols) if c.numeric == numeric and widths[k] > least[k]]
            if not room:
                break
            j = max(room, key=lambda k: widths[k])
            widths[j] -= 1
            excess -= 1
    return widths


def grid(out, title: str, cols: list[Col], rows: list[list], sections: list[int] = ()) -> None:
    """Print ``rows`` under ``title`` as a table that fits the console, or stacked when it cannot."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    rows = [[_plain(c) for c in row] for row in rows]
    _line(out, one_line(title), bold=True)
    widths = _widths(cols, rows, out.width)
    if widths is None:
        _stacked(out, cols, rows)
        return
    table = Table(box=box.ROUNDED if out.is_terminal else box.ASCII, header_style="bold" if out.is_terminal else "")
    for col, w in zip(cols, widths):
        # a number column is as wide as its widest number, which has no space to wrap at: it stays whole
        table.add_column(col.header, width=w, overflow="fold", justify="right" if col.numeric else "left")
    for i, row in enumerate(rows):
        table.add_row(*[Text(c.text, style=c.style if out.is_terminal and c.style else "") for c in row],
                      end_section=i in sections)
    out.print(table)


def _stacked(out, cols: list[Col], rows: list[list[Cell]]) -> None:
    """One block a row: its text cells as a heading, then ``header value`` pairs wrapped between pairs."""
    from rich.text import Text

    for row in rows:
        texts = [c.text for col, c in zip(cols, row) if not col.numeric and c.text.strip()]
        heading = " · ".join(texts) or "-"
        indent = " " * (len(heading) - len(heading.lstrip()) + 4)  # a group's numbers sit under its name
        _line(out, heading, bold=True)
        line = Text(indent)
        for col, cell in zip(cols, row):
            if not col.numeric or not cell.text:
                continue
            pair = Text(f"{col.header} ")
            pair.append(cell.text, style=cell.style if out.is_terminal and cell.style else "")
            if len(line) > len(indent) and len(line) + 3 + len(pair) > out.width:
                out.print(line, overflow="fold")
                line = Text(indent)
            if len(line) > len(indent):
                line.append("   ")
            line.append_text(pair)
        if len(line) > len(indent):
            out.print(line, overflow="fold")


def _line(out, text: str, bold: bool = False, dim: bool = False) -> None:
    """A line of plain text (never markup), folded at the console width rather than cut."""
    from rich.text import Text

    style = ("bold" if bold else "dim" if dim else "") if out.is_terminal else ""
    out.print(Text(text, style=style), overflow="fold")


# ----------------------------------------------------------------------------- compute and diff


def _signatures(out, results) -> None:
    for signature in dict.fromkeys(r.signature for r in results):
        _line(out, f"signature: {signature}", dim=True)


def _columns(out, results) -> None:
    """The columns each loss read, once per loss: one line when every loss read the same."""
    from .machine import columns_by_loss

    used = columns_by_loss(results)
    if len(set(used.values())) == 1:
        _line(out, f"columns: {next(iter(used.values()))}", dim=True)
        return
    for label, text in used.items():
        _line(out, f"columns of {label}: {text}", dim=True)


def _checks(out, checks) -> None:
    if not checks:
        return
    rows = []
    for c in checks:
        verdict = {"passed": Cell("pass", "green"), "failed": Cell("FAIL", "bold red"),
                   "skipped": Cell("skipped", "yellow")}[c.status]
        if c.note:
            verdict = Cell(f"{verdict.text}: {c.note}", verdict.style)
        rows.append([Cell(c.expr), Cell("" if c.value is None else number(c.value)), verdict])
    grid(out, "gates", [Col("gate"), Col("value", numeric=True), Col("result")], rows)


def _worst_first(results):
    """Groups by value, highest (worst) first; a group without a value (nan) first of all."""
    return sorted(results, key=lambda r: -math.inf if r.value is None or r.value != r.value else -r.value)


def compute_rows(report, with_grad: bool, sparks: dict[int, str] | None = None) -> tuple[list[list[Cell]], list[int]]:
    """Rows of the compute table: each loss's overall result, then its groups (the worst 20 of more than 50);
    ``sparks`` maps a result's id to its sparkline, for the last column."""
    rows, sections = [], []
    labels = list(dict.fromkeys(r.label for r in report.results))
    for label in labels:
        overall = [r for r in report.results if r.label == label and r.group is None]
        groups = [r for r in report.results if r.label == label and r.group is not None]
        hidden = 0
        if len(groups) > MAX_GROUPS:
            hidden = len(groups) - SHOWN_GROUPS
            groups = _worst_first(groups)[:SHOWN_GROUPS]
        for r in overall + groups:
            name = one_line(label) if r.group is None else "  " + group_label(r.group)
            row = [Cell(name, "cyan" if r.group is None else None), Cell(number(r.value)), Cell(str(r.n))]
            if with_grad:
                g = r.grad or {}
                row += [Cell(number(g.get(k)) if g else "") for k in ("l2", "abs_max", "mean")]
            if sparks is not None:
                row.append(Cell(sparks.get(id(r), "")))
            rows.append(row)
        if hidden:
            total = hidden + SHOWN_GROUPS
            rows.append([Cell(f"  + {hidden} more of {total} groups (the {SHOWN_GROUPS} highest are shown; "
                              "--format json or csv lists every group)")] + [Cell("")] * (len(rows[-1]) - 1))
        if report.group_by:
            sections.append(len(rows) - 1)
    return rows, sections


def render_compute(report, file=None, checks=None, top=None) -> None:
    from . import spark

    out = console(file)
    with_grad = any(r.grad is not None for r in report.results)
    cols = [Col("loss · group" if report.group_by else "loss"), Col("value", True), Col("rows", True)]
    if with_grad:
        cols += [Col("grad l2", True), Col("grad abs_max", True), Col("grad mean", True)]
    sparks = spark.column(report.results, out.is_terminal)  # None unless the run kept histograms
    if sparks:
        cols.append(Col(spark.TITLE, True))
    rows, sections = compute_rows(report, with_grad,
                                  {id(r): s for r, s in zip(report.results, sparks)} if sparks else None)
    grid(out, f"{', '.join(report.sources)} · {report.rows} rows", cols, rows, sections)
    _columns(out, report.results)
    _signatures(out, report.results)
    _checks(out, checks)
    for label, records in (top or {}).items():
        keys = list(records[0]) if records else ["row", "loss"]
        hard = [[Cell(number(v) if k == "loss" else one_line(v)) for k, v in record.items()] for record in records]
        grid(out, f"hardest rows · {one_line(label)}", [Col(one_line(k), numeric=k in ("row", "loss")) for k in keys],
             hard)


def render_diff(report, file=None, checks=None) -> None:
    out = console(file)
    title = f"{' vs '.join(report.sources)} · {report.rows} paired rows · {report.bootstrap} bootstrap resamples"
    cols = [Col("loss"), *(Col(h, numeric=True) for h in ("baseline", "candidate", "delta", "rel delta", "95% CI of delta"))]
    rows = []
    for r in report.results:
        rel = "" if r.rel_delta is None else f"{100 * r.rel_delta:+.2f}%"
        colour = "red" if r.ci[0] > 0 else "green" if r.ci[1] < 0 else None
        rows.append([Cell(r.label), Cell(number(r.baseline)), Cell(number(r.candidate)), Cell(f"{r.delta:+.6g}", colour),
                     Cell(rel), Cell(f"[{number(r.ci[0])}, {number(r.ci[1])}]")])
    grid(out, title, cols, rows)
    _signatures(out, report.results)
    _checks(out, checks)
