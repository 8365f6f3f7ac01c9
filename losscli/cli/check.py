"""`losscli check`: the catalogue's own property tests, run on the losses of a plugin file."""

from __future__ import annotations

import click

from .common import Writer


@click.command()
@click.argument("plugin", metavar="FILE")
@click.option("-l", "--loss", "names", multiple=True, metavar="NAME", help="Check only these losses of the plugin.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def check(plugin, names, fmt):
    """Check the losses of a plugin FILE as losscli checks its own catalogue.

    Every loss of the file's LOSSES goes through the properties the catalogue's tests
    enforce: gradient against central finite differences (mean, sum and weighted, on
    random inputs), finite value and gradient on adversarial inputs (+-1e4 and 1e6
    magnitudes, probabilities of exactly 0 and 1), chunks merged equal the whole, row
    order, integer weights equal repeated rows, a single row, groups, and value_and_grad
    against value and grad. Inputs come from the file's CASES (as in losscli's tests:
    {"name": [losscli.checks.Case(...)]}) or are drawn from each input's domain.
    Exit status: 0 every property holds, 1 one fails, 2 the file cannot be used.

    \b
    Examples:
      losscli check examples/my_losses.py
      losscli check my_losses.py -l expectile --format json
    """
    import json

    from .. import checks
    from ..catalogue import PLUGIN_MODULES, load_plugin
    from ..errors import EXIT_GATE_FAILED, UsageProblem

    losses = load_plugin(plugin)
    module = PLUGIN_MODULES.get(losses[0].origin) if losses else None
    module_cases = getattr(module, "CASES", None) or {}
    chosen = [loss for loss in losses if not names or loss.name in names]
    unknown = sorted(set(names) - {loss.name for loss in losses})
    if unknown:
        raise UsageProblem(f"{plugin} has no loss {', '.join(repr(n) for n in unknown)}; "
                           f"it defines {', '.join(loss.name for loss in losses)}.")
    outcomes = []
    for loss in chosen:
        cases = list(module_cases.get(loss.name) or [checks.generated_case(loss)])
        for prop, case, failure in checks.run_properties(loss.name, cases):
            outcomes.append({"loss": loss.name, "case": case, "property": prop, "passed": failure is None,
                             "message": failure})
    out = Writer()
    if fmt == "json":
        out.write(json.dumps(outcomes, indent=2) + "\n")
    else:
        _table(outcomes, plugin, out)
    if any(not o["passed"] for o in outcomes):
        raise SystemExit(EXIT_GATE_FAILED)


def _table(outcomes, plugin, file) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from ..render.table import console

    out = console(file)
    failed = sum(not o["passed"] for o in outcomes)
    title = f"losscli check {plugin} · {len(outcomes) - failed} passed, {failed} failed"
    out.print(("[bold]" if out.is_terminal else "") + escape(title) + ("[/]" if out.is_terminal else ""), soft_wrap=True)
    table = Table(box=box.ROUNDED if out.is_terminal else box.ASCII)
    for name in ("loss", "inputs", "property", "result"):
        table.add_column(name, overflow="fold")
    for o in outcomes:
        verdict = "pass" if o["passed"] else "FAIL: " + o["message"]
        if out.is_terminal:
            verdict = f"[green]{escape(verdict)}[/]" if o["passed"] else f"[bold red]{escape(verdict)}[/]"
        else:
            verdict = escape(verdict)
        table.add_row(escape(o["loss"]), escape(o["case"]), o["property"], verdict)
    out.print(table)


COMMANDS = [check]
