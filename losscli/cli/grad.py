"""`losscli grad`: per-row gradient (and Hessian-diagonal) columns of any loss, for training elsewhere."""

from __future__ import annotations

import click

from ..options import AT_LEAST_ONE, REDUCTIONS, column_options, loss_options
from .common import Writer, column_specs, input_data, stdin_stream, warn


@click.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@loss_options
@column_options
@click.option("--reduction", type=REDUCTIONS, default="sum", show_default=True,
              help="sum: each row's own derivatives (what gradient boosting takes). mean: divided by the mean's "
                   "denominator, as compute --grad-out writes them.")
@click.option("--hess", "with_hess", is_flag=True,
              help="Also write the Hessian diagonal, hess[LABEL][COL] beside each grad[LABEL][COL].")
@click.option("-o", "--output", metavar="FILE",
              help="Write to FILE (.csv or .parquet; written to a temporary file and renamed when complete). "
                   "Default: CSV on standard output.")
@click.option("--keep", metavar="COLS", help="Key columns to copy into the output, after the row number.")
@click.option("--batch-rows", "batch_rows", type=AT_LEAST_ONE, metavar="N",
              help="Rows read at a time (default 1048576); only tunes memory against speed.")
@click.option("-q", "--quiet", is_flag=True, help="Silence warnings and the closing note on stderr.")
def grad(files, losses, pred, target, weight, extra_inputs, reduction, with_hess, output, keep, batch_rows, quiet):
    """Write per-row gradient (and --hess Hessian) columns of each loss for the predictions in FILE.

    Columns: row (1-based), the --keep columns, then grad[LABEL][COL] (and
    hess[LABEL][COL]) for every prediction column COL of each loss: the first and
    second derivative of the loss with respect to that prediction, weighted by
    --weight. Feed them to a trainer of your own, or check a custom objective.
    FILE is read as by compute (files, folders, globs, - for standard input); the
    input is validated in full before the first output row is written.

    \b
    Examples:
      losscli grad -l focal:gamma=2 --hess sample_data/binary.csv -o derivatives.parquet
      losscli grad -l huber:delta=5 --keep id sample_data/regression.csv | head
      losscli grad -l cross_entropy --hess -o d.csv sample_data/multiclass.csv
    """
    from ..api import compute
    from ..spec import parse_spec

    specs = [parse_spec(text) for text in losses]
    report = compute(input_data(files), specs, inputs=column_specs(pred, target, extra_inputs), weight=weight,
                     keep=keep, reduction=reduction, grad_out=output or stdout_csv(), hess=with_hess,
                     batch_rows=batch_rows, stdin=stdin_stream())
    warn(report.warnings, quiet)
    if output and not quiet:
        click.echo(f"Wrote {report.rows:,} rows to {output}.", err=True)


def stdout_csv():
    """A sink writing CSV to standard output (defined here, on use: sinks load pyarrow)."""
    from ..sinks import RowSink

    class StdoutCsvSink(RowSink):
        """CSV on standard output, header first; a reader that stops early (`| head`) is not an error."""

        def __init__(self) -> None:
            self.out = Writer()
            self.header = True

        def write(self, table) -> None:
            import io

            import pyarrow.csv as pacsv

            buffer = io.BytesIO()
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=self.header))
            self.header = False
            self.out.write(buffer.getvalue().decode("utf-8"))

    return StdoutCsvSink()


COMMANDS = [grad]
