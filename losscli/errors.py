"""The errors losscli reports, each carrying the exit code the CLI promises.

Exit codes: 0 success, 1 a gate failed, 2 usage error (an output that cannot be
written included), 3 bad input data; 130 and 143 when Ctrl-C or a kill (SIGTERM)
stopped the run. Library code raises these; the CLI prints their message on stderr
and exits with their code, so no traceback reaches a user.
"""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a process stopped by Ctrl-C


class UsageProblem(click.UsageError):
    """The command line asks for something that does not exist (exit 2)."""

    exit_code = EXIT_USAGE


class InputDataError(click.ClickException):
    """A file, column or value cannot be used as asked (exit 3)."""

    exit_code = EXIT_BAD_INPUT

    def format_message(self) -> str:
        return self.message


class OutputProblem(click.ClickException):
    """Results cannot be written where they were asked for: standard output closed or full (exit 2)."""

    exit_code = EXIT_USAGE


class IncompleteInstall(ImportError):
    """A module losscli needs is missing or fails to import (a damaged installation): losscli refuses to
    start rather than run without, say, a whole family of losses (exit 4)."""


class Terminated(BaseException):
    """A signal asked the run to stop (SIGTERM, SIGHUP): raised in the main thread so that every
    ``finally`` and clean-up runs, like KeyboardInterrupt for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def describe_rows(rows, limit: int = 5) -> str:
    """'rows 3, 17, 40 and 12 more' for 0-based row positions, shown 1-based.

    Row numbers count data rows from 1, the header excluded, across all input
    files read as one table.
    """
    import numpy as np

    rows = np.asarray(rows).ravel()
    shown = ", ".join(str(int(r) + 1) for r in rows[:limit])
    more = f" and {rows.size - limit} more" if rows.size > limit else ""
    word = "row" if rows.size == 1 else "rows"
    return f"{word} {shown}{more}"
