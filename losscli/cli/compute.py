"""`losscli compute`: losses and gradient summaries of predictions in files or standard input."""

from __future__ import annotations

import click

from ..options import (AT_LEAST_ONE, ENGINES, column_options, gate_options, loss_options, output_options,
                       plugin_option, reduction_options, spark_option)
from .common import (MachineReadable, ReadProgress, check_top, class_list, column_specs, emit_report, gate_exit,
                     input_data, load_plugins, parse_gates, reading_options, stdin_stream, warn, warn_skipped)


@click.command(cls=MachineReadable)
@click.argument("files", nargs=-1, metavar="[FILE]...")
@loss_options
@column_options
@reduction_options
@output_options
@spark_option
@gate_options
@click.option("--group-by", "group_by", multiple=True, metavar="COL",
              help="Also compute every loss per group of COL (repeatable: groups of several columns).")
@click.option("--strict-groups", "strict_groups", is_flag=True,
              help="A --fail-if group that is not in the data fails the run (exit 1) instead of being skipped.")
@click.option("--per-row", "per_row", metavar="FILE", help="Write each row's loss to FILE (.csv or .parquet).")
@click.option("--grad-out", "grad_out", metavar="FILE",
              help="Write the per-element gradient of each value to FILE, columns grad[LABEL][COL].")
@click.option("--query", metavar="COL",
              help="Key column grouping rows for losses over queries (ranking, in-batch metric learning); "
              "default qid, query or query_id. Their --per-row output has one row per query.")
@click.option("--keep", metavar="COLS", help="Key columns to copy into --per-row, --grad-out and --top output.")
@click.option("--nan", type=click.Choice(["error", "drop", "propagate"]), default="error", show_default=True,
              help="Rows with a missing, NaN or infinite value (or group key): error names them; drop leaves them "
              "out and counts them; propagate makes every result over them NaN.")
@reading_options
@click.option("--top", type=AT_LEAST_ONE, metavar="K", help="Show the K rows with the largest loss per loss.")
@click.option("--batch-rows", "batch_rows", type=AT_LEAST_ONE, metavar="N",
              help="Rows read at a time (default 1048576). Every run streams; this only tunes memory against speed.")
@click.option("--engine", type=ENGINES, default="local", show_default=True,
              help="local: this machine's cores. dask: the files' partitions on a Dask cluster (pip install 'losscli[dask]').")
@plugin_option
@click.option("--scheduler", metavar="ADDRESS",
              help="With --engine dask: the scheduler of an existing cluster (tcp://host:8786); default a local cluster.")
def compute(files, losses, pred, target, weight, extra_inputs, reduction, with_grad, fmt, quiet, no_spark, fail_if,
            summary, group_by, strict_groups, per_row, grad_out, query, keep, nan, sep, classes, renormalize, top,
            batch_rows, engine, plugins, scheduler):
    """Compute losses (and gradients) for the predictions in FILE.

    FILE is .csv, .tsv, .parquet/.pq, a folder or a quoted glob of such files, or
    - for standard input (CSV, TSV or Parquet, told apart by the first bytes; also
    read when no FILE is given and input is piped). Several files are read as one
    table, in batches, so memory does not grow with the input. Exit status: 0
    success, 1 a --fail-if gate tripped, 2 usage error, 3 bad input data, 4 a bug.
    With --format json or junit a failed run still prints a document that parses.

    Each loss takes its columns from --pred/--target (or the default names, said
    on stderr), or from its own spec: -l 'bce:pred=prob' -l 'focal:pred=logit'.

    \b
    Examples:
      losscli compute --loss focal sample_data/binary.csv
      losscli compute -l cross_entropy --group-by species sample_data/multiclass.csv
      losscli compute -l huber:delta=5 -l mae --grad --format json sample_data/regression.parquet
      losscli compute -l mae --group-by sex --fail-if 'mae[sex=*]>50' sample_data/regression.csv
      losscli compute -l 'bce:pred=prob' -l 'focal:pred=logit' sample_data/binary.csv
      losscli compute -l BCEWithLogitsLoss -l binary_crossentropy:pred=prob sample_data/binary.csv
      losscli compute -l bce_logits --per-row rows.csv --keep id --top 5 sample_data/binary.csv
      losscli compute -l focal --format html sample_data/binary.csv > report.html
      cat sample_data/binary.csv | losscli compute -l bce_logits
      losscli compute -l lambdarank:k=10 -l ndcg_loss:k=10 --query qid ranking.csv
      losscli compute -l bce_logits --reduction hard:0.25 sample_data/binary.csv
      losscli compute --plugin examples/my_losses.py -l expectile:tau=0.9 sample_data/regression.csv
      losscli compute -l mse --nan drop --sep ';' export.csv
    """
    from ..api import compute as run
    from ..gates import evaluate
    from ..spec import parse_spec

    load_plugins(plugins)
    check_top(top, fmt)
    specs = [parse_spec(text) for text in losses]
    gates = parse_gates(fail_if, specs, group_by)
    with ReadProgress(quiet) as show:
        report = run(input_data(files), specs, inputs=column_specs(pred, target, extra_inputs), weight=weight,
                     group_by=list(group_by), keep=keep, query=query, reduction=reduction, grad=with_grad, per_row=per_row,
                     grad_out=grad_out, top=top, batch_rows=batch_rows, engine=engine, scheduler=scheduler,
                     progress=show, stdin=stdin_stream(), nan=nan, sep=sep, classes=class_list(classes),
                     renormalize=renormalize, histogram=None if no_spark or fmt not in ("table", "html") else "overall")
    checks = evaluate(gates, report.results, strict_groups)
    warn(report.warnings, quiet)
    warn_skipped(checks, quiet)
    emit_report(fmt, report, checks if gates else None, report.top, summary, quiet)
    gate_exit(checks)


COMMANDS = [compute]
