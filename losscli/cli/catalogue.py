"""`losscli list` and `losscli explain`: the catalogue for people and machines."""

from __future__ import annotations

import click

from ..options import plugin_option
from .common import Writer, load_plugins


@click.command()
@click.argument("name")
@plugin_option
def explain(name, plugins):
    """Explain one loss: formula, parameters, inputs, gradient, when to use it, aliases, references.

    NAME is a catalogue name or an alias (BCEWithLogitsLoss, binary_crossentropy, log_loss...).
    The page wraps to the terminal, or to 100 columns when piped (COLUMNS sets another width).

    \b
    Examples:
      losscli explain focal
      losscli explain binary_crossentropy
      losscli explain --plugin examples/my_losses.py expectile
    """
    load_plugins(plugins)
    from ..catalogue import lookup
    from ..render.catalogue import explain_page
    from ..spec import unknown_loss

    found = lookup(name)
    if found is None:
        raise unknown_loss(name)
    explain_page(found[0], file=Writer(), alias=found[1])


@click.command(name="list")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--long", "long", is_flag=True, help="A block a loss: summary, formula, inputs, parameters, aliases.")
@plugin_option
def list_losses(fmt, long, plugins):
    """List every loss, one line each, then the aliases they go by (--long for the details); plugin losses are marked.

    \b
    Examples:
      losscli list
      losscli list --long
      losscli list | grep -i crossentropy
      losscli list --format json | jq '.[].name'
      losscli list --plugin examples/my_losses.py
    """
    load_plugins(plugins)
    from ..render.catalogue import catalogue_json, catalogue_table

    if fmt == "json":
        Writer().write(catalogue_json())
    else:
        catalogue_table(Writer(), long=long)


COMMANDS = [explain, list_losses]
