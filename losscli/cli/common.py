"""What the commands share: writing to stdout, warnings, the input, rendering a report, gates, progress."""

from __future__ import annotations

import sys

import click

from ..cells import is_number
from ..options import _stack
from . import _silence_stdout


class Writer:
    """Writes results to stdout; a reader that stops early (`| head -1`) is not an error, a closed or full
    standard output is (exit 2, with the system's reason)."""

    def __init__(self) -> None:
        self.closed = False

    def write(self, text: str) -> None:
        from ..errors import OutputProblem

        if self.closed:
            return
        if sys.stdout is None:
            raise OutputProblem("Standard output is closed, so the results cannot be written. "
                                "Run losscli with its output going to a file or a pipe.")
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            self.closed = True
            _silence_stdout()
        except (OSError, ValueError) as exc:  # ENOSPC, EIO, EBADF; ValueError: the stream was closed
            self.closed = True
            _silence_stdout()
            reason = getattr(exc, "strerror", None) or str(exc)
            raise OutputProblem(f"Could not write the results to standard output: {reason}. "
                                "Check the disk or the file standard output goes to.") from None

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return sys.stdout is not None and sys.stdout.isatty()


def warn(messages, quiet: bool) -> None:
    if quiet:
        return
    for message in dict.fromkeys(messages):
        click.echo(f"Warning: {message}", err=True)


def input_data(files: tuple[str, ...]) -> list[str]:
    """The files named, or standard input when none is named and something is piped in."""
    from ..errors import UsageProblem

    if files:
        return list(files)
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageProblem("No input: name a CSV, TSV or Parquet file, or pipe one into standard input (use - for stdin).")
    return ["-"]


def stdin_stream():
    return getattr(sys.stdin, "buffer", sys.stdin)


reading_options = _stack(
    click.option("--sep", metavar="CHAR", help="Separator of text files: ',' (default; tab for .tsv), ';', '|', tab... "
                 "Standard input is told by its header line unless given."),
    click.option("--classes", metavar="A,B,...", help="Class names, in pred column order, for a target column "
                 "holding names (cat, dog) rather than indices. Default: the suffixes of the pred columns (prob_cat, prob_dog)."),
    click.option("--renormalize", is_flag=True, help="Divide soft-label rows (class probabilities as target) by "
                 "their sums instead of refusing rows that do not sum to 1."),
)


def class_list(classes: str | None) -> list[str] | None:
    return None if classes is None else [c.strip() for c in classes.split(",")]


class OptionalNumberCommand(click.Command):
    """A command whose options in ``optional_numbers`` take a number only when one follows them:
    `diff --fail-if-worse a.csv b.csv` keeps a.csv as a file (the option gets its default) where click
    alone would take a.csv for the tolerance."""

    optional_numbers: dict[str, str] = {}

    def parse_args(self, ctx, args):
        args = list(args)
        for i, token in enumerate(args):
            if token == "--":
                break
            if token in self.optional_numbers:
                following = args[i + 1] if i + 1 < len(args) else None
                if following is None or not is_number(following):
                    args[i] = f"{token}={self.optional_numbers[token]}"
        return super().parse_args(ctx, args)


def column_specs(pred, target, extra_inputs) -> dict:
    from ..plan import parse_inputs

    specs = parse_inputs(extra_inputs)
    specs.update({"pred": pred or specs.get("pred"), "target": target or specs.get("target")})
    return specs


def emit_report(fmt: str, compute_like, checks, top=None, summary: bool = False, quiet: bool = False) -> None:
    """Render a compute or diff report in the chosen format to stdout (and the step summary)."""
    from ..model import DiffReport
    from ..render import machine, table

    is_diff = isinstance(compute_like, DiffReport)
    out = Writer()
    if fmt == "table":
        if is_diff:
            table.render_diff(compute_like, file=out, checks=checks)
        else:
            table.render_compute(compute_like, file=out, checks=checks, top=top)
    elif fmt == "json":
        if is_diff:
            out.write(machine.diff_json(compute_like, checks))
        else:
            for part in machine.compute_json_parts(compute_like, checks, top):
                out.write(part)
    elif fmt == "csv":
        rows = machine.diff_rows(compute_like) if is_diff else machine.compute_rows(compute_like)
        out.write(machine.to_csv(rows, machine.DIFF_COLUMNS if is_diff else machine.COMPUTE_COLUMNS))
    elif fmt == "markdown":
        out.write(machine.diff_markdown(compute_like, checks) if is_diff else machine.compute_markdown(compute_like, checks))
    elif fmt == "junit":
        out.write(machine.junit(checks or [], compute_like.results))
    if fmt in ("csv",) and checks:
        for c in checks:
            click.echo(f"gate {c.expr}: {'pass' if c.passed else 'FAIL'} (value {c.value})", err=True)
    if summary:
        write_summary(compute_like, checks, is_diff, quiet)


def write_summary(report, checks, is_diff: bool, quiet: bool) -> None:
    """Append the markdown report to the file GITHUB_STEP_SUMMARY names (GitHub Actions' job summary)."""
    import os

    from ..render import machine

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        warn(["--summary: GITHUB_STEP_SUMMARY is not set, so no summary was written."], quiet)
        return
    text = machine.diff_markdown(report, checks) if is_diff else machine.compute_markdown(report, checks)
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    except OSError as exc:
        warn([f"--summary: could not append to {path}: {exc}"], quiet)


class ReadProgress:
    """A progress bar on stderr (rows, bytes, rate, ETA) for runs longer than about a second.

    Only when stderr is a terminal and the CI variable is unset: never in pipes or CI logs.
    """

    DELAY = 1.0

    def __init__(self, quiet: bool) -> None:
        import os

        self.enabled = not quiet and sys.stderr.isatty() and not os.environ.get("CI")
        self.bar = None
        self.task = None
        self.started = None

    def __enter__(self):
        if not self.enabled:
            return None
        import time

        self.started = time.monotonic()
        return self.update

    def update(self, rows: int, total_rows: int | None = None, total_bytes: int | None = None) -> None:
        import time

        if self.bar is None:
            if time.monotonic() - self.started < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import (BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn)

            self.bar = Progress(TextColumn("reading"), BarColumn(), TextColumn("{task.fields[detail]}"),
                                TimeElapsedColumn(), TimeRemainingColumn(), console=Console(file=sys.stderr),
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task("read", total=total_rows, detail="")
        elapsed = max(1e-9, time.monotonic() - self.started)
        detail = f"{rows:,} rows"
        if total_bytes and total_rows:
            detail += f" · {rows * total_bytes / total_rows / 2**20:,.0f} MiB"
        detail += f" · {rows / elapsed:,.0f} rows/s"
        self.bar.update(self.task, completed=rows, total=total_rows, detail=detail)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def parse_gates(expressions, specs, group_by):
    from ..gates import parse_gate

    labels = [s.label for s in specs]
    return [parse_gate(expr, labels, list(group_by)) for expr in expressions]


def gate_exit(checks) -> None:
    from ..errors import EXIT_GATE_FAILED

    if any(not c.passed for c in checks):
        sys.exit(EXIT_GATE_FAILED)


