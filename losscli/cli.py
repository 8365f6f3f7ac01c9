"""The command line: parse, call the library, render. Heavy modules load inside commands,
so `losscli --help` imports neither numpy nor pandas."""

from __future__ import annotations

import sys

import click

from . import __version__
from .options import column_options, gate_options, loss_options, output_options, reduction_options

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

    stdin = getattr(sys.stdin, "buffer", sys.stdin)
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


def emit_report(fmt: str, compute_like, checks, top=None, summary: bool = False, quiet: bool = False) -> None:
    """Render a compute or diff report in the chosen format to stdout (and the step summary)."""
    from .diff import DiffReport
    from .render import machine, table

    is_diff = isinstance(compute_like, DiffReport)
    out = Writer()
    if fmt == "table":
        if is_diff:
            table.render_diff(compute_like, file=out, checks=checks)
        else:
            table.render_compute(compute_like, file=out, checks=checks, top=top)
    elif fmt == "json":
        out.write(machine.diff_json(compute_like, checks) if is_diff else machine.compute_json(compute_like, checks, top))
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

    from .render import machine

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


STREAM_ABOVE_BYTES = 1 << 30


def should_stream(files, batch_rows, row_outputs: bool) -> bool:
    """Stream when asked, or when the named files are too big to read comfortably at once."""
    import os

    from .errors import UsageProblem

    if batch_rows:
        if row_outputs:
            raise UsageProblem("--per-row, --grad-out and --top need every row in memory; drop --batch-rows.")
        if not files or "-" in files:
            raise UsageProblem("--batch-rows streams files; standard input cannot be streamed. Name the file.")
        return True
    if row_outputs or not files or "-" in files:
        return False
    size = 0
    for path in files:
        if os.path.isdir(path):
            size += sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
        elif os.path.isfile(path):
            size += os.path.getsize(path)
    return size > STREAM_ABOVE_BYTES


class ReadProgress:
    """Rows read so far, on stderr, only when stderr is a terminal (never in pipes or CI logs)."""

    def __init__(self, quiet: bool) -> None:
        self.live = None if quiet or not sys.stderr.isatty() else True

    def __enter__(self):
        if not self.live:
            return None
        from rich.console import Console
        from rich.status import Status

        self.live = Status("reading…", console=Console(file=sys.stderr))
        self.live.start()
        return lambda rows: self.live.update(f"read {rows:,} rows")

    def __exit__(self, *exc) -> None:
        if self.live:
            self.live.stop()


def parse_gates(expressions, specs, group_by):
    from .gates import parse_gate

    labels = [s.label for s in specs]
    return [parse_gate(expr, labels, list(group_by)) for expr in expressions]


def gate_exit(checks) -> None:
    from .errors import EXIT_GATE_FAILED

    if any(not c.passed for c in checks):
        sys.exit(EXIT_GATE_FAILED)


@main.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@loss_options
@column_options
@reduction_options
@output_options
@gate_options
@click.option("--group-by", "group_by", multiple=True, metavar="COL",
              help="Also compute every loss per group of COL (repeatable: groups of several columns).")
@click.option("--per-row", "per_row", metavar="FILE", help="Write each row's loss to FILE (.csv or .parquet).")
@click.option("--grad-out", "grad_out", metavar="FILE",
              help="Write the per-element gradient of each value to FILE, columns grad[LABEL][COL].")
@click.option("--keep", metavar="COLS", help="Key columns to copy into --per-row, --grad-out and --top output.")
@click.option("--top", type=click.IntRange(min=1), metavar="K", help="Show the K rows with the largest loss per loss.")
@click.option("--batch-rows", "batch_rows", type=click.IntRange(min=1), metavar="N",
              help="Stream the files N rows at a time, so memory stays bounded (automatic for inputs over 1 GiB).")
def compute(files, losses, pred, target, weight, extra_inputs, reduction, with_grad, fmt, quiet, fail_if, summary,
            group_by, per_row, grad_out, keep, top, batch_rows):
    """Compute losses (and gradients) for the predictions in FILE.

    FILE is .csv, .tsv, .parquet/.pq, a folder of such files, or - for CSV on
    standard input (also read when no FILE is given and input is piped).
    Several files are read as one table. Exit status: 0 success, 1 a --fail-if
    gate tripped, 2 usage error, 3 bad input data.

    \b
    Examples:
      losscli compute --loss focal sample_data/binary.csv
      losscli compute -l cross_entropy --group-by species sample_data/multiclass.csv
      losscli compute -l huber:delta=5 -l mae --grad --format json sample_data/regression.parquet
      losscli compute -l mae --group-by sex --fail-if 'mae>50' sample_data/regression.csv
      losscli compute -l bce_logits --per-row rows.csv --keep id --top 5 sample_data/binary.csv
      cat sample_data/binary.csv | losscli compute -l bce_logits
    """
    from .api import compute as run
    from .outputs import check_output_path, grad_frame, per_row_frame, set_level_labels, top_rows, write_frame
    from .spec import parse_spec

    specs = [parse_spec(text) for text in losses]
    gates = parse_gates(fail_if, specs, group_by)
    for path, option in ((per_row, "--per-row"), (grad_out, "--grad-out")):
        if path:
            check_output_path(path, option)
    row_outputs = bool(per_row or grad_out or top)
    if should_stream(files, batch_rows, row_outputs):
        from .stream import compute_streaming

        with ReadProgress(quiet) as show:
            report = compute_streaming(list(files), specs, columns=column_specs(pred, target, extra_inputs),
                                       weight=weight, reduction=reduction, with_grad=with_grad,
                                       group_by=list(group_by), batch_rows=batch_rows or 1_000_000, progress=show)
        table = None
    else:
        table = read_input(files)
        report = run(table, specs, columns=column_specs(pred, target, extra_inputs), weight=weight,
                     reduction=reduction, with_grad=with_grad, group_by=list(group_by))
    from .gates import evaluate

    checks = evaluate(gates, report.results)
    hard = top_rows(report, table, keep, top) if top else None
    # files first, so a failure to write one is reported before any result is printed
    if per_row or top:
        skipped = set_level_labels(report)
        if skipped:
            report.warnings.append(f"{', '.join(skipped)}: set-level losses have no per-row value; "
                                   "they are left out of --per-row and --top.")
    if per_row:
        write_frame(per_row_frame(report, table, keep), per_row)
    if grad_out:
        write_frame(grad_frame(report, table, keep, report.weight, reduction), grad_out)
    warn(report.warnings, quiet)
    emit_report(fmt, report, checks if gates else None, hard, summary, quiet)
    gate_exit(checks)


@main.command()
@click.argument("baseline", metavar="BASELINE")
@click.argument("candidate", metavar="CANDIDATE")
@loss_options
@column_options
@click.option("--reduction", type=click.Choice(["mean", "sum"]), default="mean", show_default=True,
              help="How per-element losses are reduced, as in PyTorch.")
@output_options
@gate_options
@click.option("--on", metavar="KEY", help="Pair rows by this key column (default: by position).")
@click.option("--bootstrap", "resamples", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Paired bootstrap resamples for the 95% interval of each delta.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap, for repeatable intervals.")
@click.option("--fail-if-worse", "fail_if_worse", type=float, is_flag=False, flag_value=0.0, default=None,
              metavar="[TOL]", help="Exit 1 when a loss is worse (higher) by more than TOL (default 0) "
              "and its 95% interval excludes zero.")
def diff(baseline, candidate, losses, pred, target, weight, extra_inputs, reduction, fmt, quiet, fail_if, summary,
         on, resamples, seed, fail_if_worse):
    """Compare a CANDIDATE's predictions with a BASELINE's on the same rows.

    Both files hold predictions for the same rows with the same target columns;
    rows are paired by --on KEY or by position. For each loss: baseline,
    candidate, delta (candidate - baseline), relative delta and a 95% paired
    bootstrap interval of the delta. --fail-if gates apply to the candidate.

    \b
    Examples:
      losscli diff old.csv new.csv -l bce_logits -l focal
      losscli diff old.parquet new.parquet -l mae --on id --fail-if-worse 0.01 --format json
    """
    from .diff import diff as run, worse
    from .gates import Check, evaluate
    from .readers import read_table
    from .spec import parse_spec

    specs = [parse_spec(text) for text in losses]
    gates = parse_gates(fail_if, specs, ())
    stdin = getattr(sys.stdin, "buffer", sys.stdin)
    base_table = read_table([baseline], stdin=stdin)
    cand_table = read_table([candidate], stdin=stdin)
    report = run(base_table, cand_table, specs, columns=column_specs(pred, target, extra_inputs), weight=weight,
                 reduction=reduction, resamples=resamples, seed=seed, on=on)
    checks = evaluate(gates, report.results) if gates else []
    if fail_if_worse is not None:
        checks += [Check(expr=f"{r.label} not worse by > {fail_if_worse:g}", value=r.delta,
                         passed=not worse(r, fail_if_worse)) for r in report.results]
    warn(report.warnings, quiet)
    emit_report(fmt, report, checks or None, summary=summary, quiet=quiet)
    gate_exit(checks)


@main.command()
@click.argument("name")
def explain(name):
    """Explain one loss: formula, parameters, inputs, gradient, when to use it, references.

    \b
    Examples:
      losscli explain focal
      losscli explain huber
    """
    from .catalogue import CATALOGUE, closest
    from .errors import UsageProblem
    from .render.catalogue import explain_page

    if name not in CATALOGUE:
        guesses = closest(name)
        hint = f" Did you mean {' or '.join(repr(g) for g in guesses)}?" if guesses else ""
        raise UsageProblem(f"Unknown loss {name!r}.{hint} Run 'losscli list' to see every loss.")
    explain_page(CATALOGUE[name], file=Writer())


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
