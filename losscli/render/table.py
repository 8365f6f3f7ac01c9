"""The Rich table for people at a terminal; plain ASCII with no colour when piped."""

from __future__ import annotations

import sys
from typing import Any


def console(file=None, stderr: bool = False):
    """A Rich console that colours only a terminal and honours NO_COLOR / FORCE_COLOR (Rich reads both)."""
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


def render(report, file=None, checks: list[Any] | None = None) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    out = console(file)
    has_grad = any(r.grad is not None for r in report.results)
    has_group = bool(report.group_by)
    sources = ", ".join(report.sources)
    table = Table(
        title=escape(f"{sources} · {report.rows} rows"), title_justify="left",
        box=box.ROUNDED if out.is_terminal else box.ASCII, header_style="bold" if out.is_terminal else "",
    )
    table.add_column("loss", style="cyan" if out.is_terminal else "")
    if has_group:
        table.add_column("group")
    table.add_column("value", justify="right")
    table.add_column("rows", justify="right")
    if has_grad:
        for name in ("grad l2", "grad abs_max", "grad mean"):
            table.add_column(name, justify="right")
    for result in report.results:
        row = [escape(result.label)]
        if has_group:
            row.append(escape(", ".join(f"{k}={v}" for k, v in result.group.items())) if result.group else "(all)")
        row += [number(result.value), str(result.n)]
        if has_grad:
            g = result.grad or {}
            row += [number(g.get("l2")), number(g.get("abs_max")), number(g.get("mean"))] if g else ["", "", ""]
        table.add_row(*row)
    out.print(table)
