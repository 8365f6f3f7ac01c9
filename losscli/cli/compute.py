"""`losscli compute`: losses and gradient summaries of predictions in files or standard input."""

from __future__ import annotations

import click

from ..options import column_options, gate_options, loss_options, output_options, reduction_options
from .common import (ReadProgress, class_list, column_specs, emit_report, gate_exit, input_data, parse_gates,
                     reading_options, stdin_stream, warn)


@click.command()
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
@click.option("--nan", type=click.Choice(["error", "drop", "propagate"]), default="error", show_default=True,
              help="Rows with a missing, NaN or infinite value (or group key): error names them; drop leaves them "
              "out and counts them; propagate makes every result over them NaN.")
@reading_options
@click.option("--top", type=click.IntRange(min=1), metavar="K", help="Show the K rows with the largest loss per loss.")
@click.option("--batch-rows", "batch_rows", type=click.IntRange(min=1), metavar="N",
              help="Rows read at a time (default 1048576). Every run streams; this only tunes memory against speed.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: this machine's cores. dask: the files' partitions on a Dask cluster (pip install 'losscli[dask]').")
@click.option("--scheduler", metavar="ADDRESS",
              help="With --engine dask: the scheduler of an existing cluster (tcp://host:8786); default a local cluster.")
def compute(files, losses, pred, target, weight, extra_inputs, reduction, with_grad, fmt, quiet, fail_if, summary,
            group_by, per_row, grad_out, keep, nan, sep, classes, renormalize, top, batch_rows, engine, scheduler):
    """Compute losses (and gradients) for the predictions in FILE.

    FILE is .csv, .tsv, .parquet/.pq, a folder or a quoted glob of such files, or
    - for standard input (CSV, TSV or Parquet, told apart by the first bytes; also
    read when no FILE is given and input is piped). Several files are read as one
    table, in batches, so memory does not grow with the input. Exit status: 0
    success, 1 a --fail-if gate tripped, 2 usage error, 3 bad input data, 4 a bug.

    \b
    Examples:
      losscli compute --loss focal sample_data/binary.csv
      losscli compute -l cross_entropy --group-by species sample_data/multiclass.csv
      losscli compute -l huber:delta=5 -l mae --grad --format json sample_data/regression.parquet
      losscli compute -l mae --group-by sex --fail-if 'mae>50' sample_data/regression.csv
      losscli compute -l bce_logits --per-row rows.csv --keep id --top 5 sample_data/binary.csv
      cat sample_data/binary.csv | losscli compute -l bce_logits
      losscli compute -l mse --nan drop --sep ';' export.csv
    """
    from ..api import compute as run
    from ..gates import evaluate
    from ..spec import parse_spec

    if scheduler and engine != "dask":
        from ..errors import UsageProblem

        raise UsageProblem("--scheduler goes with --engine dask.")
    specs = [parse_spec(text) for text in losses]
    gates = parse_gates(fail_if, specs, group_by)
    with ReadProgress(quiet) as show:
        report = run(input_data(files), specs, inputs=column_specs(pred, target, extra_inputs), weight=weight,
                     group_by=list(group_by), keep=keep, reduction=reduction, grad=with_grad, per_row=per_row,
                     grad_out=grad_out, top=top, batch_rows=batch_rows, engine=engine, scheduler=scheduler,
                     progress=show, stdin=stdin_stream(), nan=nan, sep=sep, classes=class_list(classes),
                     renormalize=renormalize)
    checks = evaluate(gates, report.results)
    if per_row or top:
        skipped = [s.label for s in specs if s.loss.per == "set"]
        if skipped:
            report.warnings.append(f"{', '.join(skipped)}: set-level losses have no per-row value; "
                                   "they are left out of --per-row and --top.")
    warn(report.warnings, quiet)
    emit_report(fmt, report, checks if gates else None, report.top, summary, quiet)
    gate_exit(checks)


COMMANDS = [compute]
