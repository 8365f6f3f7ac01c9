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


def load_plugins(plugins) -> None:
    """Register the losses of every --plugin FILE (exit 2 naming the file when one cannot be used)."""
    if plugins:
        from ..catalogue import load_plugin

        for path in plugins:
            load_plugin(path)


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
    from ..errors import UsageProblem
    from ..plan import parse_inputs

    specs = parse_inputs(extra_inputs)
    for role, given in (("pred", pred), ("target", target)):
        if given and specs.get(role):
            raise UsageProblem(f"--{role} {given!r} and --input {role}={specs[role]} both name the {role} columns. "
                               f"Give them once, with --{role}.")
    specs.update({"pred": pred or specs.get("pred"), "target": target or specs.get("target")})
    return specs


def format_in(args) -> str | None:
    """The --format/-f value in raw arguments, for an error raised before click has parsed them."""
    args = list(args)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in ("-f", "--format") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--format="):
            return arg.partition("=")[2]
        if arg.startswith("-f") and not arg.startswith("--") and len(arg) > 2:
            return arg[2:]
    return None


def error_document(fmt: str | None, message: str, code: int, command: str) -> None:
    """With --format json or junit, a failed run still writes a document that parses (stdout) besides the
    message on stderr: CI's JUnit reporters and JSON consumers then show the problem instead of choking."""
    from ..render import machine

    if fmt == "json":
        Writer().write(machine.error_json(message, code, command))
    elif fmt == "junit":
        Writer().write(machine.error_junit(message, code, command))


class MachineReadable(click.Command):
    """A command whose --format json/junit output parses even when the run fails, whatever the exit code."""

    def make_context(self, info_name, args, parent=None, **extra):
        raw = list(args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            error_document(format_in(raw), exc.format_message(), exc.exit_code, self.name)
            raise

    def invoke(self, ctx):
        fmt = ctx.params.get("fmt")
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            error_document(fmt, exc.format_message(), exc.exit_code, self.name)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, SystemExit, BrokenPipeError):
            raise
        except MemoryError:
            error_document(fmt, "out of memory", 3, self.name)
            raise
        except Exception as exc:  # the group reports it as a bug (exit 4); the document says so too
            error_document(fmt, f"internal error ({type(exc).__name__}: {exc}); a bug in losscli", 4, self.name)
            raise


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
        out.write(machine.diff_markdown(compute_like, checks) if is_diff
                  else machine.compute_markdown(compute_like, checks, top))
    elif fmt == "junit":
        out.write(machine.junit(checks or [], compute_like.results))
    elif fmt == "html":
        from ..render import html

        out.write(html.report(compute_like, checks, top))
    if fmt in ("csv",) and checks:
        for c in checks:
            click.echo(f"gate {c.expr}: {machine.VERDICTS[c.status]} (value {c.value})", err=True)
    if summary:
        write_summary(compute_like, checks, is_diff, quiet)


TOP_FORMATS = ("table", "json", "markdown", "html")


def check_top(top, fmt: str) -> None:
    """--top needs a format that can hold a second table; csv (one table of results) and junit cannot."""
    if top and fmt not in TOP_FORMATS:
        from ..errors import UsageProblem

        raise UsageProblem(f"--top does not fit --format {fmt}, which holds one table of results. Use --format "
                           f"{', '.join(TOP_FORMATS)} for the hardest rows, or --per-row FILE for every row's loss.")


def warn_skipped(checks, quiet: bool) -> None:
    warn([f"--fail-if {c.expr!r} was skipped: {c.note}. Add --strict-groups to fail the run when a group is missing."
          for c in checks if c.skipped], quiet)


def write_summary(report, checks, is_diff: bool, quiet: bool) -> None:
    """Append the markdown report to the file GITHUB_STEP_SUMMARY names (GitHub Actions' job summary)."""
    import os

    from ..render import machine

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        warn(["--summary: GITHUB_STEP_SUMMARY is not set, so no summary was written."], quiet)
        return
    text = machine.diff_markdown(report, checks) if is_diff else machine.compute_markdown(report, checks, report.top)
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
    """Gates against the labels; ``group_by`` None for a command without groups (diff)."""
    from ..gates import parse_gate

    labels = [s.label for s in specs]
    return [parse_gate(expr, labels, None if group_by is None else list(group_by)) for expr in expressions]


def gate_exit(checks) -> None:
    from ..errors import EXIT_GATE_FAILED

    if any(not c.passed for c in checks):
        sys.exit(EXIT_GATE_FAILED)


