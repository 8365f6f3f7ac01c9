"""`losscli list` and `losscli explain`: the catalogue rendered for people and machines."""

from __future__ import annotations

import json

from ..catalogue import CATALOGUE
from ..catalogue.base import Loss
from ..spec import format_param


def describe_inputs(loss: Loss) -> str:
    parts = []
    for role in loss.inputs:
        width = {None: "", "pred": "", "1|pred": " (1 or per pred column)"}.get(role.width, f" ({role.width} columns)")
        parts.append(f"{role.name}: {role.text}{width}")
    return "; ".join(parts)


def describe_params(loss: Loss) -> str:
    return ", ".join(f"{p.name}={format_param(p.default)}" for p in loss.params) or "-"


def catalogue_json() -> str:
    entries = []
    for loss in CATALOGUE.values():
        entries.append({
            "name": loss.name, "family": loss.family, "summary": loss.summary, "formula": loss.formula,
            "per": loss.per, "sample_weights": loss.sample_weights, "plugin": loss.origin or None,
            "inputs": [{"role": r.name, "text": r.text, "domain": r.domain.text,
                        "width": r.width, "defaults": list(r.defaults)} for r in loss.inputs],
            "params": [{"name": p.name, "default": list(p.default) if isinstance(p.default, tuple) else p.default,
                        "domain": p.domain_text(), "text": p.text} for p in loss.params],
        })
    return json.dumps(entries, indent=2) + "\n"


def catalogue_table(file) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from .table import console

    out = console(file)
    table = Table(title=f"losscli catalogue · {len(CATALOGUE)} losses", title_justify="left",
                  box=box.SIMPLE_HEAD if out.is_terminal else box.ASCII, show_lines=False)
    for name in ("loss", "family", "inputs", "parameters", "formula"):
        table.add_column(name, overflow="fold")
    for loss in CATALOGUE.values():
        family = loss.family if not loss.origin else f"{loss.family} (plugin: {loss.origin})"
        table.add_row(escape(loss.name), escape(family), escape(describe_inputs(loss)),
                      escape(describe_params(loss)), escape(loss.formula))
    out.print(table)


def explain_page(loss: Loss, file=None) -> None:
    """A page per loss: formula, parameters, inputs, gradient, when to use it, neighbours, reference."""
    from rich import box
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    from .table import console

    out = console(file)
    e = loss.explain
    origin = f" · plugin from {escape(loss.origin)}" if loss.origin else ""
    out.print(Panel(f"[bold]{escape(loss.name)}[/] · {escape(loss.family)}{origin}\n{escape(loss.summary)}\n\n"
                    f"[bold]formula[/]  {escape(loss.formula)}", expand=False,
                    box=box.ROUNDED if out.is_terminal else box.ASCII))
    if loss.params:
        params = Table(title="parameters", title_justify="left", show_edge=False, box=None, padding=(0, 2))
        for name in ("name", "default", "allowed", "what it does"):
            params.add_column(name, overflow="fold")
        for p in loss.params:
            params.add_row(escape(p.name), escape(format_param(p.default)), escape(p.domain_text()), escape(p.text))
        out.print(params)
        out.print()
    roles = Table(title="inputs", title_justify="left", show_edge=False, box=None, padding=(0, 2))
    for name in ("role", "expects", "domain", "default columns"):
        roles.add_column(name, overflow="fold")
    for r in loss.inputs:
        roles.add_row(r.name, escape(r.text), escape(r.domain.text), escape(", ".join(r.defaults) or "-"))
    out.print(roles)
    out.print()
    kind = {"element": "per element (the mean runs over every prediction element)",
            "row": "per row (the mean runs over rows)",
            "set": "on the whole set (no per-row value; --weight does not apply)",
            "query": "per query: the rows sharing a --query key together (one value per query, mean over queries; "
                     "--weight must be equal on a query's rows)"}[loss.per]
    for heading, text in (("computed", kind), ("inputs", e.inputs), ("gradient", e.gradient), ("use it for", e.use),
                          ("avoid it for", e.avoid), ("neighbours", e.relations), ("reference", e.reference)):
        out.print(f"[bold]{heading}[/]")
        out.print(f"  {escape(text)}")
    out.print(f"\nexample: losscli compute -l {escape(loss.name)} FILE")
