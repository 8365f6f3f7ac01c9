"""`losscli list` and `losscli explain`: the catalogue for people and machines."""

from __future__ import annotations

import click

from ..options import plugin_option
from .common import Writer, load_plugins


@click.command()
@click.argument("name")
@plugin_option
def explain(name, plugins):
    """Explain one loss: formula, parameters, inputs, gradient, when to use it, references.

    \b
    Examples:
      losscli explain focal
      losscli explain huber
      losscli explain --plugin examples/my_losses.py expectile
    """
    load_plugins(plugins)
    from ..catalogue import CATALOGUE, closest
    from ..errors import UsageProblem
    from ..render.catalogue import explain_page

    if name not in CATALOGUE:
        guesses = closest(name)
        hint = f" Did you mean {' or '.join(repr(g) for g in guesses)}?" if guesses else ""
        raise UsageProblem(f"Unknown loss {name!r}.{hint} Run 'losscli list' to see every loss.")
    explain_page(CATALOGUE[name], file=Writer())


@click.command(name="list")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@plugin_option
def list_losses(fmt, plugins):
    """List every loss: its inputs, parameters with defaults, and formula; plugin losses are marked.

    \b
    Examples:
      losscli list
      losscli list --format json | jq '.[].name'
      losscli list --plugin examples/my_losses.py
    """
    load_plugins(plugins)
    from ..render.catalogue import catalogue_json, catalogue_table

    if fmt == "json":
        Writer().write(catalogue_json())
    else:
        catalogue_table(Writer())


COMMANDS = [explain, list_losses]
