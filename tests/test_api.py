"""The Python API mirrors the command line: every CLI feature through Python gives the same numbers, and
every refusal is the same error (same exit code as its exception's, same message) raised as an exception."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import losscli
from losscli.render import machine

from .test_cli import run, small  # noqa: F401 - the CLI's own runner and its small.csv fixture

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"




# ----------------------------------------------------------------------------- the same numbers


@pytest.mark.parametrize("cli,api", [
    (["-l", "mse", "-l", "huber:delta=0.5", "--grad"], dict(losses=["mse", "huber:delta=0.5"], grad=True)),
    (["-l", "mae", "--reduction", "sum", "--weight", "w"], dict(losses=["mae"], reduction="sum", weight="w")),
    (["-l", "mae", "-l", "mse", "--group-by", "grp", "--grad"], dict(losses=["mae", "mse"], group_by="grp", grad=True)),
    (["-l", "mse", "--pred", "target", "--target", "pred"], dict(losses=["mse"], pred="target", target="pred")),
    (["-l", "mse", "--top", "2", "--keep", "id"], dict(losses=["mse"], top=2, keep="id")),
])
def test_compute_gives_the_clis_json(small, cli, api):
    result = run("compute", *cli, "-f", "json", small)
    assert result.exit_code == 0, result.output
    report = losscli.compute(small, **api)
    assert machine.compute_json(report, top=report.top) == result.stdout


def test_every_input_kind_gives_the_same_report(small, tmp_path):
    frame = pd.read_csv(small)
    parquet = tmp_path / "small.parquet"
    frame.to_parquet(parquet)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:2].to_csv(folder / "a.csv", index=False)
    frame.iloc[2:].to_parquet(folder / "b.parquet")
    expected = run("compute", "-l", "mse", "-f", "json", small).stdout
    value = json.loads(expected)["results"][0]["value"]
    inputs = [small, str(small), parquet, folder, [folder / "a.csv", folder / "b.parquet"], str(folder / "*"), frame,
              pa.Table.from_pandas(frame), {c: frame[c].to_numpy() for c in frame}]
    for data in inputs:
        report = losscli.compute(data, ["mse"])
        assert report.rows == 4 and report.results[0].value == value, type(data)
    piped = losscli.compute("-", ["mse"], stdin=io.BytesIO(Path(small).read_bytes()))
    assert machine.compute_json(piped) == run("compute", "-l", "mse", "-f", "json", input=Path(small).read_text()).stdout


def test_per_row_grad_out_and_keep_write_the_clis_files(small, tmp_path):
    cli_rows, cli_grads = tmp_path / "cli_rows.parquet", tmp_path / "cli_grads.csv"
    run("compute", "-l", "mse", "-l", "mae", "--per-row", cli_rows, "--grad-out", cli_grads, "--keep", "id", small)
    rows, grads = tmp_path / "rows.parquet", tmp_path / "grads.csv"
    losscli.compute(small, ["mse", "mae"], per_row=rows, grad_out=grads, keep="id")
    pd.testing.assert_frame_equal(pd.read_parquet(rows), pd.read_parquet(cli_rows))
    assert Path(grads).read_text() == Path(cli_grads).read_text()


def test_gates_through_report_check_equal_the_clis(small):
    result = run("compute", "-l", "mse", "-l", "mae", "--group-by", "grp", "--fail-if", "mse>4",
                 "--fail-if", "mae[grp=b]>=2", "-f", "json", small)
    assert result.exit_code == 1
    checks = losscli.compute(small, ["mse", "mae"], group_by="grp").check("mse>4", "mae[grp=b]>=2")
    assert [c.as_json() for c in checks] == json.loads(result.stdout)["checks"]
    assert [c.passed for c in checks] == [False, False]


def test_to_frame_holds_the_clis_csv_numbers(small):
    csv = pd.read_csv(io.StringIO(run("compute", "-l", "mae", "--group-by", "grp", "--grad", "-f", "csv", small).stdout))
    frame = losscli.compute(small, ["mae"], group_by="grp", grad=True).to_frame()
    assert list(frame.columns) == ["label", "loss", "grp", "value", "n", "grad_l2", "grad_abs_max", "grad_mean"]
    for column in ("value", "n", "grad_l2", "grad_abs_max", "grad_mean"):
        np.testing.assert_array_equal(frame[column].to_numpy(), csv[column].to_numpy())


def test_warnings_are_the_clis():
    soft = SAMPLES / "soft_labels.csv"
    stderr = run("compute", "-l", "cross_entropy", "-f", "json", soft).stderr
    report = losscli.compute(soft, ["cross_entropy"])
    assert report.warnings and all(f"Warning: {w}" in stderr for w in report.warnings)
    grad_stderr = run("grad", "-l", "cross_entropy", "-o", "/dev/null/x.csv", soft).stderr  # refused: no such folder
    assert "does not exist" in grad_stderr
    with pytest.warns(UserWarning, match="look like probabilities") as caught:
        losscli.grad(soft, ["cross_entropy"])
    assert [str(w.message) for w in caught] == report.warnings


def test_set_level_per_row_warning_is_the_clis(tmp_path):
    out = tmp_path / "rows.csv"
    stderr = run("compute", "-l", "dice:from_logits=true", "-l", "mse", "--per-row", out, SAMPLES / "binary.csv").stderr
    report = losscli.compute(SAMPLES / "binary.csv", ["dice:from_logits=true", "mse"], per_row=tmp_path / "r.csv")
    assert any("set-level losses have no per-row value" in w for w in report.warnings)
    assert all(f"Warning: {w}" in stderr for w in report.warnings)


def test_diff_gives_the_clis_json_and_checks(tmp_path):
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    rng = np.random.default_rng(0)
    target = rng.normal(size=300)
    pd.DataFrame({"id": np.arange(300), "pred": target + rng.normal(size=300), "target": target}).to_csv(old, index=False)
    pd.DataFrame({"id": np.arange(300)[::-1], "pred": (target + rng.normal(size=300) * 1.5)[::-1],
                  "target": target[::-1]}).to_csv(new, index=False)
    result = run("diff", old, new, "-l", "mae", "-l", "mse", "--on", "id", "--bootstrap", "300", "--seed", "3",
                 "--fail-if", "mae>0.5", "--fail-if-worse", "0.01", "-f", "json")
    assert result.exit_code == 1
    report = losscli.diff(old, new, ["mae", "mse"], on="id", resamples=300, seed=3)
    checks = report.check("mae>0.5", fail_if_worse=0.01)
    assert machine.diff_json(report, checks) == result.stdout


def test_grad_gives_the_clis_output(tmp_path):
    data = SAMPLES / "multiclass.csv"
    out = tmp_path / "d.parquet"
    result = run("grad", "-l", "cross_entropy", "-l", "focal_ce:gamma=1", "--hess", "--keep", "id", "-o", out, data)
    frame = losscli.grad(data, ["cross_entropy", "focal_ce:gamma=1"], hess=True, keep="id")
    assert result.exit_code == 0 and f"Wrote {len(pd.read_csv(data))} rows" in result.stderr
    pd.testing.assert_frame_equal(frame, pd.read_parquet(out))
    stdout = run("grad", "-l", "cross_entropy", "--reduction", "mean", data).stdout
    assert stdout.startswith('"row","grad[cross_entropy][logit_0]","grad[cross_entropy][logit_1]"')
    streamed = pd.read_csv(io.StringIO(stdout))
    pd.testing.assert_frame_equal(streamed, losscli.grad(data, ["cross_entropy"], reduction="mean"), check_dtype=False)
    # grad columns are the gradient of the reported value: sum reduction by default, mean on request
    f = losscli.get("cross_entropy")
    table = pd.read_csv(data)
    logits = table[["logit_0", "logit_1", "logit_2"]].to_numpy()
    g, h = f.grad_hess(pred=logits, target=table["target"].to_numpy(), reduction="sum")
    np.testing.assert_array_equal(frame[[f"grad[cross_entropy][logit_{k}]" for k in range(3)]].to_numpy(), g)
    np.testing.assert_array_equal(frame[[f"hess[cross_entropy][logit_{k}]" for k in range(3)]].to_numpy(), h)


def test_losses_is_the_clis_list():
    assert losscli.losses() == json.loads(run("list", "--format", "json").stdout)
    focal = losscli.get("focal")
    assert focal.loss.formula in run("explain", "focal").stdout.replace("\n", " ")
    assert focal.has_hess and not losscli.get("dice").has_hess


def test_loss_function_equals_compute_on_the_same_columns():
    rng = np.random.default_rng(1)
    pred, target, w = rng.normal(size=(50, 3)), rng.integers(0, 3, 50).astype(float), rng.uniform(0.1, 2, 50)
    f = losscli.get("cross_entropy", label_smoothing=0.1)
    report = losscli.compute({"pred": pred, "target": target, "w": w}, [f], weight="w", grad=True)
    assert f.value(pred=pred, target=target, weight=w) == report.results[0].value
    g = f.grad(pred=pred, target=target, weight=w)
    assert np.sqrt((g * g).sum()) == pytest.approx(report.results[0].grad["l2"], rel=1e-14)
    assert f.label == "cross_entropy:label_smoothing=0.1" and report.results[0].label == f.label


# ----------------------------------------------------------------------------- the same refusals


def refused(call):
    with pytest.raises((losscli.UsageProblem, losscli.InputDataError)) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("cli,api", [
    (["-l", "msee"], lambda f: losscli.compute(f, ["msee"])),
    (["-l", "msee"], lambda f: losscli.get("msee")),
    (["-l", "huber:dleta=2"], lambda f: losscli.compute(f, ["huber:dleta=2"])),
    (["-l", "huber:delta=-1"], lambda f: losscli.compute(f, ["huber:delta=-1"])),
    (["-l", "huber:delta"], lambda f: losscli.compute(f, ["huber:delta"])),
    (["-l", "mse", "--pred", "nope"], lambda f: losscli.compute(f, ["mse"], pred="nope")),
    (["-l", "mse", "--weight", "grp"], lambda f: losscli.compute(f, ["mse"], weight="grp")),
    (["-l", "mse", "--group-by", "nope"], lambda f: losscli.compute(f, ["mse"], group_by="nope")),
    (["-l", "mse", "--keep", "nope"], lambda f: losscli.compute(f, ["mse"], keep="nope")),
    (["-l", "mse", "--reduction", "median"], lambda f: losscli.compute(f, ["mse"], reduction="median")),
    (["-l", "mse", "--top", "0"], lambda f: losscli.compute(f, ["mse"], top=0)),
    (["-l", "mse", "--batch-rows", "0"], lambda f: losscli.compute(f, ["mse"], batch_rows=0)),
    (["-l", "mse", "--engine", "spark"], lambda f: losscli.compute(f, ["mse"], engine="spark")),
    (["-l", "mse", "--scheduler", "tcp://x:1"], lambda f: losscli.compute(f, ["mse"], scheduler="tcp://x:1")),
    (["-l", "mse", "--input", "var=w"], lambda f: losscli.compute(f, ["mse"], inputs={"var": "w"})),
    (["-l", "mse", "--per-row", "rows.txt"], lambda f: losscli.compute(f, ["mse"], per_row="rows.txt")),
    (["-l", "mse", "--grad-out", "no/such/g.csv"], lambda f: losscli.compute(f, ["mse"], grad_out="no/such/g.csv")),
    (["-l", "mse", "--fail-if", "mae>1"], lambda f: losscli.compute(f, ["mse"]).check("mae>1")),
    (["-l", "mse", "--fail-if", "mse~1"], lambda f: losscli.compute(f, ["mse"]).check("mse~1")),
    (["-l", "mae", "--fail-if", "mae[grp=a]>2"], lambda f: losscli.compute(f, ["mae"]).check("mae[grp=a]>2")),
    (["-l", "bce"], lambda f: losscli.compute(f, ["bce"])),
    (["-l", "cross_entropy", "--pred", "pred,target", "--target", "w"],
     lambda f: losscli.compute(f, ["cross_entropy"], pred="pred,target", target="w")),
    (["-l", "mse", "--pred", "pred,w"], lambda f: losscli.compute(f, ["mse"], pred="pred,w")),
])
def test_compute_refuses_as_the_cli_does(small, cli, api):
    result = run("compute", *cli, small)
    error = refused(lambda: api(small))
    assert result.exit_code == error.exit_code, result.stderr
    assert str(error) in result.stderr and str(error)


def test_a_named_group_the_data_lacks_is_skipped_at_both_doors(small):
    result = run("compute", "-l", "mae", "--group-by", "grp", "--fail-if", "mae[grp=z]>2", "-f", "json", small)
    assert result.exit_code == 0
    api_check = losscli.compute(small, ["mae"], group_by="grp").check("mae[grp=z]>2")[0]
    assert json.loads(result.stdout)["checks"][0]["status"] == api_check.status == "skipped"


@pytest.mark.parametrize("cell", ["nan", "inf", "", "abc", "-1"])
def test_bad_cells_are_the_same_error(tmp_path, cell):
    path = tmp_path / "bad.csv"
    path.write_text(f"pred,target,w\n1,2,1\n3,4,1\n{cell},5,{cell or 1}\n")
    cli = run("compute", "-l", "mse", "--weight", "w", path)
    error = refused(lambda: losscli.compute(path, ["mse"], weight="w"))
    assert cli.exit_code == error.exit_code == 3 and str(error) in cli.stderr


def test_missing_file_and_empty_input_are_the_same_error(tmp_path):
    for args, data in ((["no/such/file.csv"], "no/such/file.csv"), ([tmp_path], tmp_path)):
        cli = run("compute", "-l", "mse", *args)
        error = refused(lambda: losscli.compute(data, ["mse"]))
        assert cli.exit_code == error.exit_code == 3 and str(error) in cli.stderr


def test_diff_and_grad_refuse_as_the_cli_does(small, tmp_path):
    for cli, api in (
        (["diff", small, small, "-l", "mse", "--bootstrap", "5"], lambda: losscli.diff(small, small, ["mse"], resamples=5)),
        (["diff", small, small, "-l", "mse", "--on", "nope"], lambda: losscli.diff(small, small, ["mse"], on="nope")),
        (["diff", small, small, "-l", "mse", "--reduction", "max"],
         lambda: losscli.diff(small, small, ["mse"], reduction="max")),
        (["grad", "-l", "dice", "--hess", small], lambda: losscli.grad(small, ["dice"], hess=True)),
        (["grad", "-l", "mse", "-o", tmp_path / "g.json", small], lambda: losscli.grad(small, ["mse"], out=tmp_path / "g.json")),
        (["grad", "-l", "mse", "--reduction", "none", small], lambda: losscli.grad(small, ["mse"], reduction="none")),
    ):
        result = run(*cli)
        error = refused(api)
        assert result.exit_code == error.exit_code and str(error) in result.stderr, result.stderr


def test_arrays_are_validated_as_a_file_is(tmp_path):
    """The same check on arrays as on a file: the message differs only in the source's name."""
    path = tmp_path / "c.csv"
    path.write_text("pred_0,pred_1,pred_2,target\n2,0,-1,0\n1,1,1,7\n")
    cli = run("compute", "-l", "cross_entropy", path)
    error = refused(lambda: losscli.get("cross_entropy").value(pred=[[2, 0, -1], [1, 1, 1]], target=[0, 7]))
    assert cli.exit_code == error.exit_code == 3
    assert str(error).split(" (target at ")[0] in cli.stderr and "<arrays> row 2" in str(error)
    for call, fragment in (
        (lambda: losscli.get("bce").value(pred=[0.5, 1.5], target=[1, 0]), "pred must be probabilities in [0, 1]"),
        (lambda: losscli.get("mse").value(pred=[1.0, np.nan], target=[1, 0]), "NaN or infinite values at <arrays> row 2"),
        (lambda: losscli.get("mse").value(pred=[1.0, 2.0], target=[1.0]), "different numbers of rows"),
        (lambda: losscli.get("mse").value(pred=[1.0], target=[1.0], weight=[-1.0]), "negative weights"),
        (lambda: losscli.get("mse").value(pred=[1.0], target=[1.0], reduction="median"), "'median' is not one of mean, sum, hard:"),
        (lambda: losscli.get("mse").value(pred=[1.0], targte=[1.0]), "has no input 'targte'"),
        (lambda: losscli.get("mse").value(pred=[1.0]), "needs target"),
        (lambda: losscli.get("dice").per_row(pred=[0.5], target=[1.0]), "set-level loss"),
        (lambda: losscli.get("iou").hess(pred=[[0, 0, 1, 1]], target=[[0, 0, 1, 1]]), "has no Hessian"),
        (lambda: losscli.compute({"pred": [1.0], "target": [1.0]}, ["mse"], hess=True), "give grad_out too"),
        (lambda: losscli.compute({"pred": [1.0], "target": [1.0]}, []), "No loss given"),
    ):
        with pytest.raises((losscli.UsageProblem, losscli.InputDataError), match=None) as caught:
            call()
        assert fragment in str(caught.value), str(caught.value)
