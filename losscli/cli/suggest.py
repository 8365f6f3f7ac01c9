"""`losscli suggest`: losses that fit the data, with the evidence for each and their values on it."""

from __future__ import annotations

import click

from .common import Writer, input_data, stdin_stream, warn


@click.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--pred", metavar="COLS", help="Prediction columns (default as in compute: pred, prediction, ..., logit_*).")
@click.option("--target", metavar="COLS", help="Target columns (default as in compute: target, label, ...).")
@click.option("--task", type=click.Choice(["auto", "regression", "binary", "multiclass", "soft", "segmentation"]),
              default="auto", show_default=True,
              help="What the columns are; auto reads it from their shapes and values (a 0/1 target named like "
                   "mask or seg is read as a segmentation mask).")
@click.option("--interval", type=float, metavar="COVERAGE",
              help="Regression: you want prediction intervals of this coverage (e.g. 0.8): quantile losses at its ends.")
@click.option("--fit-robust", "fit", is_flag=True,
              help="Regression: fit Barron's alpha and scale even when the residuals are not heavy-tailed.")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table for people, json for machines.")
@click.option("--batch-rows", "batch_rows", type=click.IntRange(min=1), metavar="N",
              help="Rows read at a time (default 1048576).")
@click.option("-q", "--quiet", is_flag=True, help="Silence warnings on stderr.")
def suggest(files, pred, target, task, interval, fit, fmt, batch_rows, quiet):
    """Recommend losses for the predictions and targets in FILE, with the evidence.

    Reads a uniform sample of rows (at most 200,000) as the file streams for the
    evidence: residual outliers and tails, target skew, class imbalance, rare
    foreground, soft labels. Then computes each suggested loss on the whole file
    next to the default (mse or cross-entropy). For heavy-tailed residuals it
    fits Barron's robust loss (alpha and scale) by maximum likelihood. A loss's
    value is on its own scale: compare models with one loss, not losses.

    \b
    Examples:
      losscli suggest sample_data/regression.csv
      losscli suggest sample_data/binary.csv --pred logit
      losscli suggest preds.parquet --interval 0.8 --format json
    """
    from ..suggest import suggest as run

    result = run(input_data(files), pred=pred, target=target, task=task, interval=interval, fit=fit,
                 batch_rows=batch_rows, stdin=stdin_stream())
    warn(result.warnings, quiet)
    out = Writer()
    if fmt == "json":
        import json

        out.write(json.dumps(result.as_json(), indent=2) + "\n")
        return
    render(result, out)


def render(result, file) -> None:
    from rich.markup import escape

    from ..render.table import Col, console, grid, number

    out = console(file)
    sampled = "" if result.sampled == result.rows else f" · evidence from a sample of {result.sampled:,}"
    out.print(escape(f"{', '.join(result.sources)} · {result.rows:,} rows{sampled}"), soft_wrap=True)
    for e in result.evidence:
        out.print(escape(f"  {e.text}"), soft_wrap=True)
    rows = [[a.spec + (" (default)" if a.default else ""), number(a.value) if a.value is not None else "-",
             a.reason + (f" [{a.note}]" if a.note else "")] for a in result.advice]
    grid(out, "suggested losses", [Col("loss"), Col("value", True), Col("why")], rows)
    if len(result.advice) == 1:
        out.print("Nothing in the data calls for another loss: keep the default.", soft_wrap=True)
    out.print("Each value is on its own loss's scale: compare models with one loss, not losses with each other.",
              soft_wrap=True, style="dim" if out.is_terminal else None)


COMMANDS = [suggest]
