"""The command line: parse, call the library, render. One module per command; heavy modules load
inside commands, so `losscli --help` imports neither numpy nor pandas."""

from __future__ import annotations

import sys

import click

from .. import __version__

EXIT_INTERNAL = 4


class LossCliGroup(click.Group):
    """A group that turns any unexpected exception into a one-line message, never a traceback.

    Ctrl-C exits 130 and SIGTERM 143 (SIGHUP 129), as a process killed by the signal would, after
    the clean-up of the run (no temporary or half-written file stays). NumPy's RuntimeWarnings are
    not shown: they name no file or row, and the checks of validate say what is wrong instead.
    """

    def invoke(self, ctx):
        import warnings

        previous = _on_signals()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            from ..errors import EXIT_INTERRUPTED

            click.echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(0)
        except MemoryError:
            click.echo("Error: out of memory. Read fewer rows at once with --batch-rows (for example --batch-rows "
                       "100000), group by fewer keys, or use a machine with more memory.", err=True)
            ctx.exit(3)
        except Exception as exc:  # a bug in losscli, not in the user's input
            from ..errors import IncompleteInstall

            if isinstance(exc, IncompleteInstall):
                click.echo(f"Error: {exc}", err=True)
            else:
                click.echo(f"Error: internal error ({type(exc).__name__}: {exc}). This is a bug in losscli "
                           f"{__version__}; please report it with the command you ran.", err=True)
            ctx.exit(EXIT_INTERNAL)
        except BaseException as exc:
            from ..errors import Terminated

            if isinstance(exc, Terminated):
                click.echo("Terminated.", err=True)
                ctx.exit(128 + exc.signum)
            raise
        finally:
            _restore_signals(previous)


def run() -> None:
    """The `losscli` program: :func:`main`, then an exit without the interpreter's teardown.

    By the time main returns, every output file has been closed and renamed into place and every
    temporary file removed (the last few, tracked by sources, are removed here as at exit); what
    the teardown would still do is free memory and modules one object at a time, and stop
    pyarrow's threads: 0.1-0.15 s of every run on the project's machine. After Ctrl-C or a signal
    it matters more: a reader thread of pyarrow's may still be inside a Python call (a read of
    standard input), and the teardown ends such a thread by an unwind C++ cannot take ("terminate
    called without an active exception"; a Ctrl-C test of the suite once saw SIGABRT instead of
    exit 130). main ends every run, failed or not, by SystemExit with the exit code.
    """
    try:
        main(prog_name="losscli")
    except SystemExit as exc:
        if exc.code is not None and not isinstance(exc.code, int):
            raise
        import os

        sources = sys.modules.get("losscli.sources")
        if sources is not None:
            sources.remove_temporary_files()
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:  # None when the program was started with the stream closed (>&-)
                    stream.flush()
            except (OSError, ValueError):  # a closed pipe (losscli ... | head) has nothing left to flush to
                pass
        os._exit(exc.code or 0)


def _on_signals() -> dict:
    """SIGTERM and SIGHUP raise Terminated in the main thread, so the run cleans up before it exits."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, frame):
        from ..errors import Terminated

        raise Terminated(signum)

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, stop)
    return previous


def _restore_signals(previous: dict) -> None:
    import signal

    for number, handler in previous.items():
        signal.signal(number, handler)


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
