"""The errors losscli reports, each carrying the exit code the CLI promises.

Exit codes: 0 success, 1 a gate failed, 2 usage error, 3 bad input data.
Library code raises these; the CLI prints their message on stderr and exits
with their code, so no traceback reaches a user.
"""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3


class UsageProblem(click.UsageError):
    """The command line asks for something that does not exist (exit 2)."""

    exit_code = EXIT_USAGE


class InputDataError(click.ClickException):
    """A file, column or value cannot be used as asked (exit 3)."""

    exit_code = EXIT_BAD_INPUT

    def format_message(self) -> str:
        return self.message


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
