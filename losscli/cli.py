"""The command line: parse, call the library, render. Heavy modules load inside commands,
so `losscli --help` imports neither numpy nor pandas."""

from __future__ import annotations

import sys

import click

from . import __version__
from .options import column_options, loss_options, output_options, reduction_options

EXIT_INTERNAL = 4


class LossCliGroup(click.Group):
    """A group that turns any unexpected exception into a one-line message, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(0)
        except MemoryError:
            click.echo("Error: out of memory. Read fewer rows at once or use a machine with more memory.", err=True)
            ctx.exit(3)
        except Exception as exc:  # a bug in losscli, not in the user's input
            click.echo(f"Error: internal error ({type(exc).__name__}: {exc}). This is a bug in losscli "
                       f"{__version__}; please report it with the command you ran.", err=True)
            ctx.exit(EXIT_INTERNAL)


def _silence_stdout() -> None:
    """After a reader such as `head` closed the pipe, send what is left to /dev/null so exit is quiet."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@click.group(cls=LossCliGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="losscli")
def main():
    """Compute loss values and gradients for predictions in CSV, TSV or Parquet files.

    \b
    Examples:
      losscli compute --loss focal sample_data/binary.csv
      losscli compute -l mse -l huber:delta=2 --grad sample_data/regression.csv
      cat preds.csv | losscli compute -l bce_logits --format json
      losscli list
    """


class Writer:
    """Writes results to stdout; a reader that stops early (`| head -1`) is not an error."""

    def __init__(self) -> None:
        self.closed = False

    def write(self, text: str) -> None:
        if self.closed:
            return
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            self.closed = True
            _silence_stdout()

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return sys.stdout.isatty()


def warn(messages, quiet: bool) -> None:
    if quiet:
        return
    for message in dict.fromkeys(messages):
        click.echo(f"Warning: {message}", err=True)


def read_input(files: tuple[str, ...]):
    from .errors import UsageProblem
    from .readers import read_table

    stdin = click.get_binary_stream("stdin")
    if not files:
        if stdin.isatty():
            raise UsageProblem("No input: name a CSV, TSV or Parquet file, or pipe CSV into standard input (use - for stdin).")
        files = ("-",)
    return read_table(list(files), stdin=stdin)


def column_specs(pred, target, extra_inputs) -> dict:
    from .columns import parse_inputs

    specs = parse_inputs(extra_inputs)
    specs.update({"pred": pred or specs.get("pred"), "target": target or specs.get("target")})
    return specs


@main.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@loss_options
@column_options
@reduction_options
@output_options
def compute(files, losses, pred, target, weight, extra_inputs, reduction, with_grad, fmt, quiet):
    """Compute losses (and gradients) for the predictions in FILE.

    FILE is .csv, .tsv, .parquet/.pq, a folder of such files, or - for CSV on
    standard input (also read when no FILE is given and input is piped).
    Several files are read as one table.

    \b
    Examples:
      losscli compute --loss focal sample_data/binary.csv
      losscli compute -l cross_entropy --pred 'logit_*' --target species sample_data/multiclass.csv
      losscli compute -l huber:delta=5 -l mae --grad --format json sample_data/regression.parquet
      cat sample_data/binary.csv | losscli compute -l bce_logits
    """
    from .api import compute as run
    from .spec import parse_spec

    specs = [parse_spec(text) for text in losses]
    table = read_input(files)
    report = run(table, specs, columns=column_specs(pred, target, extra_inputs), weight=weight,
                 reduction=reduction, with_grad=with_grad)
    warn(report.warnings, quiet)
    out = Writer()
    if fmt == "json":
        from .render.machine import report_json

        out.write(report_json(report))
    else:
        from .render.table import render

        render(report, file=out)


@main.command(name="list")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_losses(fmt):
    """List every loss: its inputs, parameters with defaults, and formula.

    \b
    Examples:
      losscli list
      losscli list --format json | jq '.[].name'
    """
    from .render.catalogue import catalogue_json, catalogue_table

    if fmt == "json":
        Writer().write(catalogue_json())
    else:
        catalogue_table(Writer())
