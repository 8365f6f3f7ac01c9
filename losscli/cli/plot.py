"""`losscli plot`: loss curves and distributions of per-row losses, in the terminal or to a file."""

from __future__ import annotations

import click

from ..options import column_options, loss_options
from .common import ReadProgress, column_specs, input_data, stdin_stream, warn

TERMINAL_WIDTH = 100  # characters, when stdout is not a terminal (CI logs, pipes)


@click.group()
def plot():
    """Draw loss curves and distributions of per-row losses.

    In the terminal by default (text that reads in a CI log and over ssh);
    -o FILE writes a .png, .svg or .pdf instead (pip install 'losscli[plot]').

    \b
    Examples:
      losscli plot curve -l huber -l mse -l mae -l log_cosh --range -4:4
      losscli plot curve -l bce_logits -l focal:gamma=2,alpha=-1 --grad -o focal.png
      losscli plot dist -l mae --group-by sex sample_data/regression.csv
    """


def _output_width(out) -> int:
    return out.width if out.is_terminal else TERMINAL_WIDTH


@plot.command()
@loss_options
@click.option("--range", "range_text", metavar="LOW:HIGH",
              help="The x range: residual (default -4:4), probability of the true class (0:1) or margin (-3:3).")
@click.option("--grad", "with_grad", is_flag=True, help="Also draw each loss's derivative beside it.")
@click.option("-o", "--output", metavar="FILE", help="Write a .png, .svg or .pdf file instead of drawing in the terminal.")
@click.option("--points", type=click.IntRange(min=3, max=100_000), default=401, show_default=True,
              help="Points per curve (files; the terminal uses one per character column).")
@click.option("--height", type=click.IntRange(min=5, max=200), default=16, show_default=True,
              help="Rows of the terminal plot.")
def curve(losses, range_text, with_grad, output, points, height):
    """Draw losses against the error that decides them, from the catalogue's own definitions.

    Regression and robust losses are drawn against the residual pred - target;
    binary and multi-class losses against the predicted probability of the true
    class (the picture of the focal-loss paper); margin losses against the margin.
    --grad adds the derivative with respect to the loss's input (the prediction,
    the logit or the probability, as the loss takes it).

    \b
    Examples:
      losscli plot curve -l huber -l mse -l mae -l log_cosh --range -4:4
      losscli plot curve -l bce_logits -l focal:gamma=0.5,alpha=-1 -l focal:gamma=2,alpha=-1 -l focal:gamma=5,alpha=-1
      losscli plot curve -l robust:alpha=2 -l robust:alpha=1 -l robust:alpha=0 -l robust:alpha=-2 --grad -o robust.svg
    """
    from ..plot.curves import curves
    from ..spec import parse_spec

    specs = [parse_spec(text) for text in losses]
    title = f"loss against the {curves_axis_words(specs)}"
    if output:
        from ..plot import files

        files.check_path(output)
        plot_data = curves(specs, range_text, points)
        files.save(files.curve_figure(plot_data, with_grad, title), output)
        click.echo(f"wrote {output}", err=True)
        return
    from ..plot import terminal
    from ..render.table import console

    out = console()
    total = _output_width(out)
    panels = 2 if with_grad else 1
    width = max(20, (total - 12 * panels - 4 * (panels - 1)) // panels)
    plot_data = curves(specs, range_text, width)
    named = [(s.label + (f" ({s.note})" if s.note else ""), s.y) for s in plot_data.series]
    blocks = [terminal.line_plot(plot_data.x, named, width=width, height=height, title=title,
                                 xlabel=plot_data.xlabel, unicode=out.is_terminal)]
    if with_grad:
        slopes = [(s.label, s.dy) for s in plot_data.series]
        blocks.append(terminal.line_plot(plot_data.x, slopes, width=width, height=height,
                                         title=plot_data.dylabel, xlabel=plot_data.xlabel, unicode=out.is_terminal))
    for line in terminal.side_by_side(blocks) if len(blocks) > 1 else blocks[0]:
        out.print(line, soft_wrap=True)


def curves_axis_words(specs) -> str:
    from ..plot.curves import AXIS_LABELS, axis_of

    axis = axis_of(specs[0])
    return AXIS_LABELS[axis].split("  ")[0]


@plot.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@loss_options
@column_options
@click.option("--group-by", "group_by", multiple=True, metavar="COL",
              help="One distribution per group of COL, side by side (at most 256 groups).")
@click.option("-o", "--output", metavar="FILE", help="Write a .png, .svg or .pdf file instead of drawing in the terminal.")
@click.option("--bins", type=click.IntRange(min=2, max=400), default=20, show_default=True,
              help="Bars per distribution (neighbouring log-spaced bins are merged to fit).")
@click.option("--batch-rows", "batch_rows", type=click.IntRange(min=1), metavar="N",
              help="Rows read at a time (default 1048576): memory against speed.")
@click.option("-q", "--quiet", is_flag=True, help="Silence warnings on stderr.")
def dist(files, losses, pred, target, weight, extra_inputs, group_by, output, bins, batch_rows, quiet):
    """Draw the distribution of per-row losses in FILE.

    Rows are counted in fixed log-spaced bins as the file streams (a histogram
    state merged like every other, never a stored column of losses), so files
    larger than memory work. A heavy tail (99th percentile ten times the median
    or more) is drawn on a log axis in files. Counts are rows, unweighted.

    \b
    Examples:
      losscli plot dist -l mse -l mae sample_data/regression.csv
      losscli plot dist -l focal --group-by size sample_data/binary.csv -o focal-dist.png
      losscli plot dist -l cross_entropy --group-by species sample_data/multiclass.parquet
    """
    from ..api import compute as run
    from ..plot.spread import coarsen, confidence_sink, heavy_tail, summary
    from ..sources import open_source
    from ..spec import parse_spec

    if output:
        from ..plot import files as plot_files

        plot_files.check_path(output)
    specs = [parse_spec(text) for text in losses]
    source = open_source(input_data(files), stdin=stdin_stream())
    columns = column_specs(pred, target, extra_inputs)
    readers = classification_columns(source, specs, columns)
    sink = confidence_sink(readers) if readers else None
    keep = sorted({c for _, p_cols, t_cols in readers.values() for c in p_cols + t_cols})
    with ReadProgress(quiet) as show:
        report = run(source, specs, inputs=columns, weight=weight, group_by=list(group_by), batch_rows=batch_rows,
                     progress=show, histogram="groups" if group_by else "overall", per_row=sink,
                     keep=",".join(keep) if keep else None)
    warnings = list(report.warnings)
    panels = []
    for spec in specs:
        results = [r for r in report.results if r.label == spec.label]
        if results[0].hist is None:
            warnings.append(f"{spec.label}: a set-level loss has no per-row values, so no distribution to draw.")
            continue
        chosen = [r for r in results if r.group is not None] or results
        names = [", ".join(f"{k}={v}" for k, v in r.group.items()) if r.group else "" for r in chosen]
        spreads = coarsen([r.hist for r in chosen], bins)
        by = sink.bins.get(spec.label) if sink is not None else None
        panels.append((spec.label, spreads, names, [summary(r.hist) for r in chosen],
                       heavy_tail(results[0].hist), by if by is not None and by.rows.sum() else None))
    warn(warnings, quiet)
    if not panels:
        from ..errors import UsageProblem

        raise UsageProblem("Nothing to draw: every loss asked for is set-level (no per-row values).")
    if output:
        from ..plot import files as plot_files

        import os

        short = ", ".join(os.path.basename(name) for name in report.sources)
        fig = plot_files.dist_figure([(f"{label} · {short}", spreads, names, heavy, by)
                                      for label, spreads, names, _, heavy, by in panels])
        plot_files.save(fig, output)
        click.echo(f"wrote {output}", err=True)
        return
    from ..plot import terminal
    from ..render.table import console

    out = console()
    where = ", ".join(report.sources)
    for label, spreads, names, summaries, _, by in panels:
        lines = [f"{name}: {text}" if name else text for name, text in zip(names, summaries)]
        block = terminal.histogram_block(spreads, names, width=_output_width(out), unicode=out.is_terminal,
                                         title=f"{label} · {where} · rows per log-spaced bin of per-row loss",
                                         summary=lines)
        if by is not None:
            block += [""] + terminal.confidence_block(by, width=_output_width(out), unicode=out.is_terminal,
                                                       title=f"{label} · where the loss comes from")
        for line in block:
            out.print(line, soft_wrap=True)
        out.print()


def classification_columns(source, specs, columns) -> dict:
    """label -> (spec, pred columns, target columns) for the losses drawn against p of the true class:
    classification losses on plain numeric columns (the columns are kept beside the per-row losses)."""
    import pyarrow as pa

    from ..plan import make_plan

    plan = make_plan(source.schema, source.names, specs, columns)
    readers = {}
    for lp in plan.losses:
        if lp.loss.per == "set" or lp.loss.family not in ("classification", "multiclass"):
            continue
        names = lp.columns["pred"] + lp.columns["target"]
        if all(pa.types.is_integer(source.schema.field(c).type) or pa.types.is_floating(source.schema.field(c).type)
               for c in names):
            readers[lp.label] = (lp.spec, lp.columns["pred"], lp.columns["target"])
    return readers


COMMANDS = [plot]
