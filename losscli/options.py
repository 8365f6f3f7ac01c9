"""Option bundles shared by commands, so every command spells --pred or --format the same way."""

from __future__ import annotations

import click

FORMATS = ("table", "json", "csv", "markdown", "junit", "html")

# Value types shared by the command line and the Python API, so both refuse a value with the same words.
REDUCTIONS = click.Choice(["mean", "sum"])
ENGINES = click.Choice(["local", "dask"])
AT_LEAST_ONE = click.IntRange(min=1)
RESAMPLES = click.IntRange(min=10)


def _stack(*decorators):
    def apply(func):
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


loss_options = _stack(
    click.option("-l", "--loss", "losses", multiple=True, required=True, metavar="SPEC",
                 help="Loss to compute, repeatable: NAME or NAME:key=value,... with the loss's parameters or its own "
                 "columns (focal:gamma=1.5,alpha=0.25; bce:pred=prob). NAME may be an alias (BCEWithLogitsLoss, "
                 "log_loss, binary_crossentropy, l1, reg:squarederror...): see 'losscli list'."),
)

def _once(ctx, param, values):
    """A global column option names the columns of every loss, so giving it twice is a mistake, never last-wins."""
    if len(values) > 1:
        from .errors import UsageProblem

        option = param.opts[0]
        given = ", ".join(repr(v) for v in values)
        if option == "--weight":
            raise UsageProblem(f"--weight was given {len(values)} times ({given}); one weight column applies to "
                               "every loss. Give --weight once.")
        role = option.lstrip("-")
        # the losses, when click has read them already (it reads options in the order they were typed)
        from .spec import split_spec

        names = [split_spec(text)[0] for text in ctx.params.get("losses") or ()] + ["LOSS", "OTHER"]
        example = " ".join(f"-l '{name}:{role}={value}'" for name, value in zip(names, values[:2]))
        raise UsageProblem(f"{option} was given {len(values)} times ({given}); it names the {role} columns of every "
                           f"loss, so give it once. To give one loss its own columns, put them in its spec: {example}.")
    return values[0] if values else None


column_options = _stack(
    click.option("--pred", metavar="COLS", multiple=True, callback=_once,
                 help="Prediction columns of every loss: a name, a comma list or a glob (logit_*). Default: the first of "
                 "pred, prediction, y_pred, score, logit, prob, then the globs pred_*, logit_*, prob_*. "
                 "One loss's own columns go in its spec: -l 'bce:pred=prob'."),
    click.option("--target", metavar="COLS", multiple=True, callback=_once,
                 help="Target columns of every loss. Default: the first of target, label, y_true, y, then target_*. "
                 "One loss's own: -l 'mae:target=y2'."),
    click.option("--weight", metavar="COL", multiple=True, callback=_once,
                 help="Sample-weight column: mean = sum(w*l) / sum(w)."),
    click.option("--input", "extra_inputs", multiple=True, metavar="ROLE=COLS",
                 help="Columns for another input of a loss (var, anchor, positive, negative, label), repeatable."),
)

def parse_reduction(text: str) -> tuple[str, float | int | None]:
    """``mean``, ``sum``, ``hard:FRACTION`` or ``hard:K`` -> (kind, fraction or count); ValueError says why.

    A number with a point or an exponent is a fraction in (0, 1] (hard:0.1, hard:1.0); a plain integer
    is a count of rows (hard:100).
    """
    kind, _, value = text.strip().partition(":")
    if kind in ("mean", "sum") and not value:
        return kind, None
    if kind != "hard" or not value:
        raise ValueError(f"{text!r} is not one of mean, sum, hard:FRACTION (e.g. hard:0.1) or hard:K (e.g. hard:100).")
    value = value.strip()
    if value.isdigit():
        if int(value) < 1:
            raise ValueError(f"{text!r}: hard:K needs K >= 1 rows.")
        return "hard", int(value)
    try:
        fraction = float(value)
    except ValueError:
        raise ValueError(f"{text!r}: {value!r} is neither a fraction nor a count.") from None
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"{text!r}: the fraction must be in (0, 1].")
    return "hard", fraction


class Reduction(click.ParamType):
    name = "REDUCTION"

    def convert(self, value, param, ctx):
        try:
            parse_reduction(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return value.strip()


# compute's reductions (diff and grad take REDUCTIONS: a hard mean has no paired resample or per-row form)
REDUCTION = Reduction()


reduction_options = _stack(
    click.option("--reduction", type=REDUCTION, default="mean", show_default=True, metavar="mean|sum|hard:F|hard:K",
                 help="How per-element losses are reduced, as in PyTorch; hard:0.1 (or hard:100) is the exact mean of "
                 "the 10% (or 100) largest per-row losses, online hard example mining."),
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
                 "(e.g. 'focal>0.35'; with --group-by: 'mae[sex=a]>=2', 'mae[sex=*]>2' for every sex, "
                 "'mae[*]>2' for every group)."),
    click.option("--summary", is_flag=True,
                 help="Also append the markdown report to the file named by GITHUB_STEP_SUMMARY."),
)

plugin_option = click.option(
    "--plugin", "plugins", multiple=True, metavar="FILE",
    help="A Python file of your own losses (a LOSSES list of losscli Loss values), repeatable; "
    "packages can add losses through the losscli.losses entry-point group instead.")

spark_option = click.option(
    "--no-spark", "no_spark", is_flag=True,
    help="Leave out the sparkline of per-row losses in the table and html (and skip the histogram behind it).")
