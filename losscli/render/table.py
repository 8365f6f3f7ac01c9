"""Rich tables for people at a terminal; plain ASCII with no colour when piped.

Rich itself honours NO_COLOR and FORCE_COLOR; we only choose the box style and the
width, so a piped table is never wrapped at 80 columns or drawn with box characters.
"""

from __future__ import annotations

import sys

from .text import group_label, one_line


def console(file=None, stderr: bool = False):
    from rich.console import Console

    stream = file or (sys.stderr if stderr else sys.stdout)
    terminal = stream.isatty() if hasattr(stream, "isatty") else False
    # A piped console would wrap at 80 columns; results must not be cut, so give it room.
    return Console(file=stream, width=None if terminal else 200, highlight=False, soft_wrap=False)


def number(value: float | None) -> str:
    """Six significant digits: enough to compare runs by eye; JSON carries full precision."""
    if value is None or value != value:
        return "nan"
    return f"{value:.6g}"


def _table(out, title: str):
    """A table whose title is printed as its own line first: a Rich title would wrap to the table's width."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    out.print(("[bold]" if out.is_terminal else "") + escape(one_line(title)) + ("[/]" if out.is_terminal else ""),
              soft_wrap=True)
    return Table(box=box.ROUNDED if out.is_terminal else box.ASCII, header_style="bold" if out.is_terminal else "")


def _signatures(out, results) -> None:
    from rich.markup import escape

    for signature in dict.fromkeys(r.signature for r in results):
        out.print(escape(f"signature: {signature}"), soft_wrap=True, style="dim" if out.is_terminal else None)


def _checks(out, checks) -> None:
    from rich.markup import escape

    if not checks:
        return
    table = _table(out, "gates")
    for name in ("gate", "value", "result"):
        table.add_column(name, justify="right" if name == "value" else "left")
    for c in checks:
        verdict = "pass" if c.passed else "FAIL"
        if out.is_terminal:
            verdict = f"[green]{verdict}[/]" if c.passed else f"[bold red]{verdict}[/]"
        table.add_row(escape(c.expr), number(c.value), verdict)
    out.print(table)


def render_compute(report, file=None, checks=None, top=None) -> None:
    from rich.markup import escape

    out = console(file)
    has_grad = any(r.grad is not None for r in report.results)
    table = _table(out, f"{', '.join(report.sources)} · {report.rows} rows")
    table.add_column("loss", style="cyan" if out.is_terminal else "")
    if report.group_by:
        table.add_column("group")
    table.add_column("value", justify="right")
    table.add_column("rows", justify="right")
    if has_grad:
        for name in ("grad l2", "grad abs_max", "grad mean"):
            table.add_column(name, justify="right")
    for result in report.results:
        row = [escape(result.label)]
        if report.group_by:
            row.append(escape(group_label(result.group)) if result.group else "(all)")
        row += [number(result.value), str(result.n)]
        if has_grad:
            g = result.grad or {}
            row += [number(g.get("l2")), number(g.get("abs_max")), number(g.get("mean"))] if g else ["", "", ""]
        table.add_row(*row)
    out.print(table)
    _signatures(out, report.results)
    _checks(out, checks)
    for label, rows in (top or {}).items():
        hard = _table(out, f"hardest rows · {label}")
        keys = [k for k in (rows[0] if rows else {"row": 0, "loss": 0})]
        for key in keys:
            hard.add_column(escape(one_line(key)), justify="right" if key in ("row", "loss") else "left")
        for record in rows:
            hard.add_row(*[number(v) if k == "loss" else escape(one_line(v)) for k, v in record.items()])
        out.print(hard)


def render_diff(report, file=None, checks=None) -> None:
    from rich.markup import escape

    out = console(file)
    title = f"{' vs '.join(report.sources)} · {report.rows} paired rows · {report.bootstrap} bootstrap resamples"
    table = _table(out, title)
    for name in ("loss", "baseline", "candidate", "delta", "rel delta", "95% CI of delta"):
        table.add_column(name, justify="left" if name == "loss" else "right")
    for r in report.results:
        rel = "" if r.rel_delta is None else f"{100 * r.rel_delta:+.2f}%"
        delta = f"{r.delta:+.6g}"
        if out.is_terminal and r.ci[0] > 0:
            delta = f"[red]{delta}[/]"
        elif out.is_terminal and r.ci[1] < 0:
            delta = f"[green]{delta}[/]"
        table.add_row(escape(r.label), number(r.baseline), number(r.candidate), delta, rel,
                      f"[{number(r.ci[0])}, {number(r.ci[1])}]".replace("[", "\\["))
    out.print(table)
    _signatures(out, report.results)
    _checks(out, checks)
