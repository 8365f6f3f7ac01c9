"""Option bundles shared by commands, so every command spells --pred or --format the same way."""

from __future__ import annotations

import click

FORMATS = ("table", "json", "csv", "markdown", "junit", "html")


def _stack(*decorators):
    def apply(func):
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


loss_options = _stack(
    click.option("-l", "--loss", "losses", multiple=True, required=True, metavar="SPEC",
                 help="Loss to compute, repeatable: NAME or NAME:key=value,... (e.g. focal:gamma=1.5,alpha=0.25)."),
)

column_options = _stack(
    click.option("--pred", metavar="COLS", help="Prediction columns: a name, a comma list or a glob (logit_*). "
                 "Default: the first of pred, prediction, y_pred, score, logit, prob, then the globs pred_*, logit_*, prob_*."),
    click.option("--target", metavar="COLS", help="Target columns. Default: the first of target, label, y_true, y, then target_*."),
    click.option("--weight", metavar="COL", help="Sample-weight column: mean = sum(w*l) / sum(w)."),
    click.option("--input", "extra_inputs", multiple=True, metavar="ROLE=COLS",
                 help="Columns for another input of a loss (var, anchor, positive, negative, label), repeatable."),
)

reduction_options = _stack(
    click.option("--reduction", type=click.Choice(["mean", "sum"]), default="mean", show_default=True,
                 help="How per-element losses are reduced, as in PyTorch."),
    click.option("--grad", "with_grad", is_flag=True,
                 help="Also report the gradient of each value w.r.t. every prediction: l2 norm, abs_max, mean."),
)

output_options = _stack(
    click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                 help="table for people; json, csv, markdown or junit for machines; html: one self-contained "
                 "page (tables, distribution plots, gates, signatures) for CI artifacts."),
    click.option("-q", "--quiet", is_flag=True, help="Silence warnings on stderr."),
)

gate_options = _stack(
    click.option("--fail-if", "fail_if", multiple=True, metavar="EXPR",
                 help="Gate, repeatable: exit 1 when LABEL OP NUMBER holds, OP one of > >= < <= "
                 "(e.g. 'focal>0.35', 'mae[sex=a]>=2' for a --group-by group)."),
    click.option("--summary", is_flag=True,
                 help="Also append the markdown report to the file named by GITHUB_STEP_SUMMARY."),
)

spark_option = click.option(
    "--no-spark", "no_spark", is_flag=True,
    help="Leave out the sparkline of per-row losses in the table and html (and skip the histogram behind it).")
