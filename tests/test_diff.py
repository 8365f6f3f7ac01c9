"""`losscli diff`: pairing, deltas, the paired-bootstrap interval (coverage), gates and the example CI job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner

from losscli import diff
from losscli.cli import main
from losscli.spec import parse_spec

from .harness import named

ROOT = Path(__file__).resolve().parent.parent


def table(frame: pd.DataFrame, name: str):
    return named(pa.Table.from_pandas(frame, preserve_index=False), name)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def pair_files(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    base = pd.DataFrame({"id": np.arange(300), "pred": y + rng.normal(size=300) * 0.5, "target": y})
    cand = base.copy()
    cand["pred"] = y + rng.normal(size=300) * 1.0  # clearly worse
    paths = tmp_path / "base.csv", tmp_path / "cand.csv"
    base.to_csv(paths[0], index=False)
    cand.sample(frac=1.0, random_state=3).to_csv(paths[1], index=False)  # shuffled: needs --on
    return paths, base, cand


def test_identical_files_have_zero_delta_and_zero_interval(pair_files):
    (base_path, _), _, _ = pair_files
    doc = json.loads(run("diff", base_path, base_path, "-l", "mse", "-l", "mae", "-f", "json").output)
    for r in doc["results"]:
        assert r["delta"] == 0.0 and r["ci"] == [0.0, 0.0] and r["rel_delta"] == 0.0
        assert r["baseline"] == r["candidate"] == r["value"]
        assert set(r) >= {"label", "loss", "params", "baseline", "candidate", "value", "delta", "rel_delta", "ci"}
        assert r["columns"] == {"pred": ["pred"], "target": ["target"]}


def test_worse_candidate_detected_with_key_pairing(pair_files):
    (base_path, cand_path), base, cand = pair_files
    result = run("diff", base_path, cand_path, "-l", "mse", "--on", "id", "--fail-if-worse", "-f", "json")
    assert result.exit_code == 1
    r = json.loads(result.output)["results"][0]
    expected_b = ((base.pred - base.target) ** 2).mean()
    expected_c = ((cand.pred - cand.target) ** 2).mean()
    assert r["baseline"] == pytest.approx(expected_b, rel=1e-12) and r["candidate"] == pytest.approx(expected_c, rel=1e-12)
    assert r["delta"] == pytest.approx(expected_c - expected_b, rel=1e-12)
    assert r["rel_delta"] == pytest.approx((expected_c - expected_b) / expected_b, rel=1e-12)
    assert 0 < r["ci"][0] < r["delta"] < r["ci"][1]
    # a tolerance larger than the delta lets it pass; without the flag the exit is 0
    assert run("diff", base_path, cand_path, "-l", "mse", "--on", "id", "--fail-if-worse", "10").exit_code == 0
    assert run("diff", base_path, cand_path, "-l", "mse", "--on", "id").exit_code == 0


def test_position_pairing_refuses_different_targets(pair_files):
    (base_path, cand_path), _, _ = pair_files
    result = run("diff", base_path, cand_path, "-l", "mse")
    assert result.exit_code == 3 and "differ between baseline and candidate" in result.stderr and "--on" in result.stderr


def test_key_errors(pair_files, tmp_path):
    (base_path, _), base, _ = pair_files
    short = tmp_path / "short.csv"
    base.iloc[:10].to_csv(short, index=False)
    assert run("diff", base_path, short, "-l", "mse").exit_code == 3
    result = run("diff", base_path, short, "-l", "mse", "--on", "id")
    assert result.exit_code == 3 and "same keys" in result.stderr
    result = run("diff", base_path, base_path, "-l", "mse", "--on", "nope")
    assert result.exit_code == 3 and "no column 'nope'" in result.stderr


def test_diff_formats(pair_files):
    (base_path, cand_path), _, _ = pair_files
    md = run("diff", base_path, cand_path, "-l", "mse", "--on", "id", "-f", "markdown").output
    assert "| label | loss | baseline | candidate | delta |" in md
    csv_lines = run("diff", base_path, cand_path, "-l", "mse", "--on", "id", "-f", "csv").output.splitlines()
    assert csv_lines[0].startswith("label,loss,baseline,candidate,delta,rel_delta,ci_low,ci_high") and len(csv_lines) == 2
    table = run("diff", base_path, cand_path, "-l", "mse", "--on", "id").output
    assert "95% CI of delta" in table


def test_seed_makes_intervals_repeatable(pair_files):
    (base_path, cand_path), _, _ = pair_files
    args = ("diff", base_path, cand_path, "-l", "mae", "--on", "id", "-f", "json", "--bootstrap", "200")
    first = json.loads(run(*args, "--seed", "7").output)["results"][0]["ci"]
    assert first == json.loads(run(*args, "--seed", "7").output)["results"][0]["ci"]
    assert first != json.loads(run(*args, "--seed", "8").output)["results"][0]["ci"]


def test_bootstrap_interval_covers_the_true_delta():
    """95% intervals cover the known delta of expected MSE in roughly 95% of 200 seeded trials.

    target ~ N(0, 1); baseline error ~ N(0, 1), candidate error ~ N(0, 1.2^2), independent:
    the true delta of expected MSE is 1.44 - 1 = 0.44.
    """
    spec = [parse_spec("mse")]
    covered = 0
    trials = 200
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        y = rng.normal(size=200)
        base = pd.DataFrame({"pred": y + rng.normal(size=200), "target": y})
        cand = pd.DataFrame({"pred": y + 1.2 * rng.normal(size=200), "target": y})
        report = diff(table(base, "b"), table(cand, "c"), spec, resamples=400, seed=seed)
        low, high = report.results[0].ci
        covered += low <= 0.44 <= high
    assert 0.89 <= covered / trials <= 0.99, covered


def test_bootstrap_interval_covers_a_ratio_delta():
    """The same for a set-level loss, whose value is a ratio of sums: dice on masks with a known population value.

    t ~ Bernoulli(0.3); baseline p = 0.7 t + 0.3 U, candidate p = 0.4 t + 0.6 U (U uniform, independent). As the rows
    grow, dice -> 1 - 2 E[pt] / (E[p] + E[t]): baseline 1 - 0.51/0.66, candidate 1 - 0.42/0.72 (smooth ~ 0), so the
    true delta is 0.42/0.72 ... written out below; the interval must cover it in roughly 95% of 200 seeded trials.
    """
    true_delta = (1 - 0.42 / 0.72) - (1 - 0.51 / 0.66)
    spec = [parse_spec("dice:smooth=1e-9")]
    covered, trials, n = 0, 200, 400
    for seed in range(trials):
        rng = np.random.default_rng(10_000 + seed)
        t = (rng.random(n) < 0.3).astype(float)
        base = pd.DataFrame({"pred": 0.7 * t + 0.3 * rng.random(n), "target": t})
        cand = pd.DataFrame({"pred": 0.4 * t + 0.6 * rng.random(n), "target": t})
        low, high = diff(table(base, "b"), table(cand, "c"), spec, resamples=400, seed=seed).results[0].ci
        covered += low <= true_delta <= high
    assert 0.89 <= covered / trials <= 0.99, covered


def test_example_ci_job_runs(tmp_path):
    """examples/ci.sh gates the sample model and diffs it against itself: every gate passes."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    result = subprocess.run(["bash", str(ROOT / "examples" / "ci.sh")], capture_output=True, text=True, cwd=tmp_path,
                            env={**env, "LOSSCLI_ROOT": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "| bce_logits |" in result.stdout and (tmp_path / "summary.md").read_text().count("| focal:gamma=2 |") == 1
    gates = (tmp_path / "losscli-gates.xml").read_text()
    assert gates.count("<testcase") == 2 and "<failure" not in gates


def test_set_level_loss_is_recomputed_on_each_resample():
    """Dice has no per-row value: each resample recomputes it from the resampled rows' statistics."""
    from losscli.catalogue import CATALOGUE

    rng = np.random.default_rng(1)
    t = (rng.random(400) < 0.3).astype(float)
    base = pd.DataFrame({"pred": np.clip(t * 0.7 + rng.random(400) * 0.3, 0, 1), "target": t})
    cand = pd.DataFrame({"pred": np.clip(t * 0.4 + rng.random(400) * 0.6, 0, 1), "target": t})
    report = diff(table(base, "b"), table(cand, "c"), [parse_spec("dice")], resamples=300, seed=0)
    r = report.results[0]
    loss = CATALOGUE["dice"]
    params = loss.defaults()

    def value(frame):
        arrays = {"pred": frame[["pred"]].to_numpy(), "target": frame[["target"]].to_numpy()}
        return loss.value(totals=loss.stats(**arrays, **params).sum(axis=0), **params)

    assert r.delta == pytest.approx(value(cand) - value(base), rel=1e-12)
    # the interval is a real spread around the delta, not a point
    assert r.ci[0] < r.delta < r.ci[1] and r.ci[1] - r.ci[0] > 1e-4
    # a manual resample reproduces the machinery: recompute dice on resampled rows
    idx = np.random.default_rng(0).integers(0, 400, size=400)
    manual = value(cand.iloc[idx]) - value(base.iloc[idx])
    assert r.ci[0] - 0.05 < manual < r.ci[1] + 0.05


def test_weight_is_ignored_with_a_warning_by_set_level_losses(tmp_path):
    path = tmp_path / "seg.csv"
    pd.DataFrame({"pred": [0.2, 0.9, 0.6], "target": [0.0, 1.0, 1.0], "w": [1.0, 2.0, 3.0]}).to_csv(path, index=False)
    weighted = CliRunner().invoke(main, ["compute", "-l", "dice", "--weight", "w", "-f", "json", str(path)])
    plain = CliRunner().invoke(main, ["compute", "-l", "dice", "-f", "json", str(path)])
    assert "cannot take sample weights; --weight is ignored" in weighted.stderr
    assert json.loads(weighted.stdout)["results"][0]["value"] == json.loads(plain.stdout)["results"][0]["value"]
