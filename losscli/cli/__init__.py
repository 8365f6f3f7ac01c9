"""The command line: parse, call the library, render. One module per command; heavy modules load
inside commands, so `losscli --help` imports neither numpy nor pandas."""

from __future__ import annotations

import sys

import click

from .. import __version__

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
      losscli grad -l focal --hess sample_data/binary.csv -o derivatives.parquet
      cat preds.csv | losscli compute -l bce_logits --format json
      losscli list
      losscli check my_losses.py
    """


def _register() -> None:
    from . import catalogue, check, compute, diff, grad, plot, suggest

    for module in (compute, diff, grad, catalogue, check, plot, suggest):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
