"""`losscli list` and `losscli explain`: the catalogue rendered for people and machines."""

from __future__ import annotations

import json

from ..catalogue import everything
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


def alias_groups(loss: Loss) -> dict[tuple[str, str, str], list[str]]:
    """A loss's aliases grouped by (library, preset, note), in table order."""
    from ..catalogue import ALIASES

    groups: dict[tuple[str, str, str], list[str]] = {}
    for a in ALIASES:
        if a.loss == loss.name:
            groups.setdefault((a.source, a.preset, a.note), []).append(a.name)
    return groups


def catalogue_entries() -> list[dict]:
    """One plain dict per loss: what `losscli list --format json` prints and losscli.losses() returns."""
    from ..catalogue import ALIASES

    entries = []
    for loss in everything().values():
        entries.append({
            "name": loss.name, "family": loss.family, "summary": loss.summary, "formula": loss.formula,
            "per": loss.per, "sample_weights": loss.sample_weights, "hess": loss.hess is not None,
            "plugin": loss.origin or None,
            "inputs": [{"role": r.name, "text": r.text, "domain": r.domain.text,
                        "width": r.width, "defaults": list(r.defaults)} for r in loss.inputs],
            "params": [{"name": p.name, "default": list(p.default) if isinstance(p.default, tuple) else p.default,
                        "domain": p.domain_text(), "text": p.text} for p in loss.params],
            "aliases": [{"name": a.name, "source": a.source, "preset": a.preset, "note": a.note}
                        for a in ALIASES if a.loss == loss.name],
        })
    return entries


def catalogue_json() -> str:
    return json.dumps(catalogue_entries(), indent=2) + "\n"


LIST_WIDTH = 80  # the compact list fits 80 columns when piped (COLUMNS changes it)


def _wrap(text: str, width: int, indent: int) -> list[str]:
    """Lines of ``text`` at most ``width`` wide, continuation lines indented; long words fold, never vanish."""
    import textwrap

    return textwrap.wrap(text, width=max(width, indent + 20), subsequent_indent=" " * indent,
                         break_long_words=True, break_on_hyphens=False) or [""]


def _emit(out, lines: list[tuple[str, str]]) -> None:
    """Print (text, style) lines already fitted to the width: plain on a pipe, styled on a terminal."""
    from rich.text import Text

    for text, style in lines:
        out.print(Text(text, style=style if out.is_terminal else ""), overflow="ignore", crop=False)


def _shorten(text: str, room: int) -> str:
    """``text`` in ``room`` characters: whole, or cut at a word with an ellipsis (--long has it whole)."""
    if len(text) <= room:
        return text
    cut = text[:max(room - 1, 1)]
    if " " in cut[len(cut) // 2:]:
        cut = cut[:cut.rfind(" ")]
    return cut.rstrip(" ,;:(") + "…"


def catalogue_table(file, long: bool = False) -> None:
    """``losscli list``: one line a loss (name and summary) then the aliases; ``long``: a block a loss."""
    from .table import console

    out = console(file, piped_width=100 if long else LIST_WIDTH)
    width = out.width
    catalogue = everything()
    aliases = sum(len(loss.aliases) for loss in catalogue.values())
    lines = [(line, "bold") for line in _wrap(
        f"losscli catalogue: {len(catalogue)} losses, {aliases} aliases. "
        + ("" if long else "losscli list --long adds inputs, parameters and formulas; ")
        + "losscli explain NAME shows one.", width, 0)]
    name_width = max(len(name) for name in catalogue) + 2
    family = None
    for loss in catalogue.values():
        shown = loss.family if not loss.origin else f"{loss.family} (plugin: {loss.origin})"
        if shown != family and not long:
            family = shown
            lines.append((family, "bold"))
        if long:
            lines.append(("", ""))
            lines += [(line, "bold") for line in _wrap(f"{loss.name} ({shown}): {loss.summary}", width, 4)]
            fields = [("formula", loss.formula), ("inputs", describe_inputs(loss)),
                      ("parameters", describe_params(loss)), ("aliases", ", ".join(loss.aliases) or "-")]
            for key, text in fields:
                lines += [(line, "") for line in _wrap(f"    {key:<11} {text}", width, 16)]
            continue
        lines.append((f"  {loss.name:<{name_width}}{_shorten(loss.summary, width - 2 - name_width)}", ""))
    if not long:
        lines += [("", ""), ("aliases (name: the loss and preset parameters it stands for)", "bold")]
        from ..catalogue import ALIASES

        by_spec: dict[str, list[str]] = {}
        for a in ALIASES:
            by_spec.setdefault(a.spec, []).append(a.name)
        for spec, names in by_spec.items():
            lines += [(line, "") for line in _wrap(f"  {spec}: {', '.join(names)}", width, 6)]
    _emit(out, lines)


def explain_page(loss: Loss, file=None, alias=None) -> None:
    """A page per loss: formula, parameters, inputs, gradient, when to use it, aliases, neighbours, reference.

    Wrapped to the terminal, or to 100 columns when piped (COLUMNS changes it).
    """
    from .table import console

    out = console(file, piped_width=100)
    with out.capture() as page:
        _explain(out, loss, alias)
    # Rich pads table cells to the column width; a page should not end its lines in spaces
    out.file.write("\n".join(line.rstrip() for line in page.get().split("\n")))


def _explain(out, loss: Loss, alias) -> None:
    from rich import box
    from rich.markup import escape
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    e = loss.explain
    if alias is not None:
        meaning = f"{loss.name} with {alias.preset}" if alias.preset else loss.name
        note = f" ({alias.note})" if alias.note else ""
        out.print(Text(f"{alias.name} is the {alias.source} name for {meaning}{note}.\n"))
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
    also = "; ".join(f"{', '.join(names)} ({source}{': ' + preset if preset else ''}{'; ' + note if note else ''})"
                     for (source, preset, note), names in alias_groups(loss).items()) or "none"
    columns = ",".join(f"{r.name}=COL" for r in loss.inputs)
    for heading, text in (("computed", kind), ("inputs", e.inputs), ("gradient", e.gradient), ("use it for", e.use),
                          ("avoid it for", e.avoid), ("neighbours", e.relations), ("also known as", also),
                          ("reference", e.reference)):
        out.print(Text(heading, style="bold" if out.is_terminal else ""))
        out.print(Padding(Text(text), (0, 0, 0, 2)))
    out.print(Text(f"\nexample: losscli compute -l {loss.name} FILE\n"
                   f"its own columns: losscli compute -l '{loss.name}:{columns}' FILE"), overflow="fold")
