"""`losscli diff`: a candidate's predictions against a baseline's, with paired-bootstrap intervals."""

from __future__ import annotations

import click

from ..options import RESAMPLES, REDUCTIONS, column_options, gate_options, loss_options, output_options
from .common import (MachineReadable, OptionalNumberCommand, class_list, column_specs, emit_report, gate_exit,
                     parse_gates, reading_options, stdin_stream, warn)


class DiffCommand(MachineReadable, OptionalNumberCommand):
    optional_numbers = {"--fail-if-worse": "0"}


@click.command(cls=DiffCommand)
@click.argument("baseline", metavar="BASELINE")
@click.argument("candidate", metavar="CANDIDATE")
@loss_options
@column_options
@click.option("--reduction", type=REDUCTIONS, default="mean", show_default=True,
              help="How per-element losses are reduced, as in PyTorch.")
@output_options
@gate_options
@click.option("--on", metavar="KEY", help="Pair rows by this key column (default: by position).")
@click.option("--bootstrap", "resamples", type=RESAMPLES, default=1000, show_default=True,
              help="Paired bootstrap resamples for the 95% interval of each delta.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap, for repeatable intervals.")
@click.option("--fail-if-worse", "fail_if_worse", type=float, default=None,
              metavar="[TOL]", help="Exit 1 when a loss is worse (higher) by more than TOL (default 0) "
              "and its 95% interval excludes zero.")
@reading_options
def diff(baseline, candidate, losses, pred, target, weight, extra_inputs, reduction, fmt, quiet, fail_if, summary,
         on, resamples, seed, fail_if_worse, sep, classes, renormalize):
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
    from ..api import diff as run
    from ..spec import parse_spec

    if fail_if_worse is not None and fail_if_worse != fail_if_worse:
        from ..errors import UsageProblem

        raise UsageProblem("--fail-if-worse nan: give a number; a NaN tolerance would never trip, so the gate "
                           "would pass whatever the candidate does.")
    specs = [parse_spec(text) for text in losses]
    parse_gates(fail_if, specs, None)  # refuse a bad gate before reading anything (None: diff has no groups)
    report = run(baseline, candidate, specs, inputs=column_specs(pred, target, extra_inputs), weight=weight,
                 reduction=reduction, resamples=resamples, seed=seed, on=on, stdin=stdin_stream(), sep=sep,
                 classes=class_list(classes), renormalize=renormalize)
    checks = report.check(*fail_if, fail_if_worse=fail_if_worse)
    warn(report.warnings, quiet)
    emit_report(fmt, report, checks or None, summary=summary, quiet=quiet)
    gate_exit(checks)


COMMANDS = [diff]
