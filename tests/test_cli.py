"""The command line through click's CliRunner and real subprocesses: formats, stdin, exit codes, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from losscli import __version__
from losscli.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
REGRESSION = str(SAMPLES / "regression.csv")


def run(*args, input=None, env=None):
    runner = CliRunner()
    return runner.invoke(main, [str(a) for a in args], input=input, env=env, catch_exceptions=False)


def shell(*args, input=None, env=None):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "losscli", *map(str, args)], input=input, capture_output=True,
                          text=True, env=full_env, cwd=ROOT)


def no_traceback(result) -> None:
    text = result.output + (result.stderr if hasattr(result, "stderr") else "")
    assert "Traceback" not in text


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.csv"
    pd.DataFrame({"id": [1, 2, 3, 4], "grp": ["a", "a", "b", "b"], "pred": [1.0, 2.0, 3.0, 5.0],
                  "target": [1.5, 2.0, 2.0, 1.0], "w": [1.0, 2.0, 0.5, 1.0]}).to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- basics


def test_version_and_module_entry_point():
    assert run("--version").output.strip().endswith(__version__)
    result = shell("--version")
    assert result.returncode == 0 and __version__ in result.stdout


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_examples(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "losscli " + command in result.output


def test_help_does_not_import_heavy_modules():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom losscli.cli import main\n"
            "CliRunner().invoke(main, ['--help']); CliRunner().invoke(main, ['compute', '--help'])\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'pyarrow', 'rich', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# ----------------------------------------------------------------------------- results


def test_table_output_names_losses_and_values(small):
    result = run("compute", "-l", "mse", "-l", "huber:delta=0.5", "--grad", small)
    assert result.exit_code == 0
    # mse = (0.25 + 0 + 1 + 16) / 4
    assert "mse" in result.output and "4.3125" in result.output and "huber:delta=0.5" in result.output
    assert "grad l2" in result.output
    assert "\x1b[" not in result.output  # not a terminal: no colour


def test_json_document_schema_and_values(small):
    result = run("compute", "-l", "mse", "-l", "mae", "--grad", "--format", "json", small)
    doc = json.loads(result.output)
    assert doc["source"] == [str(small)] and doc["rows"] == 4
    mse, mae = doc["results"]
    assert set(mse) >= {"label", "loss", "params", "reduction", "value", "n", "grad"}
    assert mse["value"] == pytest.approx(17.25 / 4, rel=1e-15) and mse["n"] == 4 and mse["reduction"] == "mean"
    # gradient of mean (p - y)^2: 2 (p - y) / 4 = [-0.25, 0, 0.5, 2]
    g = np.array([-0.25, 0.0, 0.5, 2.0])
    assert mse["grad"] == pytest.approx({"l2": float(np.linalg.norm(g)), "abs_max": 2.0, "mean": g.mean()}, rel=1e-14)
    assert mae["value"] == pytest.approx((0.5 + 0 + 1 + 4) / 4) and mae["params"] == {}


def test_params_include_defaults_and_label_is_spec_as_typed(small):
    doc = json.loads(run("compute", "-l", "huber", "-l", "smooth_l1:beta=0.5", "-f", "json", small).output)
    assert doc["results"][0]["params"] == {"delta": 1.0}
    assert doc["results"][1]["label"] == "smooth_l1:beta=0.5" and doc["results"][1]["params"] == {"beta": 0.5}
    assert doc["results"][1]["signature"] == f"smooth_l1|beta=0.5|mean|losscli {__version__}"


def test_sum_reduction_and_weighted_mean(small):
    doc = json.loads(run("compute", "-l", "mse", "--reduction", "sum", "-f", "json", small).output)
    assert doc["results"][0]["value"] == pytest.approx(17.25)
    doc = json.loads(run("compute", "-l", "mse", "--weight", "w", "-f", "json", small).output)
    assert doc["results"][0]["value"] == pytest.approx((0.25 * 1 + 0 + 1 * 0.5 + 16 * 1) / 4.5)


def test_stdin_csv_tsv_and_parquet(small, tmp_path):
    csv_text = Path(small).read_text()
    expected = 17.25 / 4
    for data in (csv_text, csv_text.replace(",", "\t")):
        doc = json.loads(run("compute", "-l", "mse", "-f", "json", input=data).output)
        assert doc["results"][0]["value"] == pytest.approx(expected) and doc["source"] == ["<stdin>"]
    doc = json.loads(run("compute", "-l", "mse", "-f", "json", "-", input=csv_text).output)
    assert doc["results"][0]["value"] == pytest.approx(expected)
    parquet = tmp_path / "small.parquet"
    pd.read_csv(small).to_parquet(parquet)
    doc = json.loads(run("compute", "-l", "mse", "-f", "json", input=parquet.read_bytes()).output)
    assert doc["results"][0]["value"] == pytest.approx(expected)


def test_parquet_tsv_folder_and_several_files(small, tmp_path):
    frame = pd.read_csv(small)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:2].to_parquet(folder / "a.parquet")
    frame.iloc[2:].to_csv(folder / "b.tsv", sep="\t", index=False)
    expected = 17.25 / 4
    for args in ([folder], [folder / "a.parquet", folder / "b.tsv"]):
        doc = json.loads(run("compute", "-l", "mse", "-f", "json", *args).output)
        assert doc["rows"] == 4 and doc["results"][0]["value"] == pytest.approx(expected)


def test_globs_keep_file_order_and_lists_keep_given_order(tmp_path):
    path = tmp_path / "wide.csv"
    pd.DataFrame({"p_b": [1.0], "p_a": [2.0], "t_b": [0.0], "t_a": [0.0]}).to_csv(path, index=False)
    # grad per element tells the order: d/dp mean(p - 0)^2 = p (two elements)
    out = tmp_path / "g.csv"
    run("compute", "-l", "mse", "--pred", "p_*", "--target", "t_*", "--grad-out", out, path)
    assert list(pd.read_csv(out).columns) == ["row", "grad[mse][p_b]", "grad[mse][p_a]"]
    run("compute", "-l", "mse", "--pred", "p_a,p_b", "--target", "t_a,t_b", "--grad-out", out, path)
    assert list(pd.read_csv(out).columns) == ["row", "grad[mse][p_a]", "grad[mse][p_b]"]


def test_real_subprocess_on_sample_data():
    result = shell("compute", "-l", "mse", "-l", "mae", "--format", "json", SAMPLES / "regression.parquet")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    frame = pd.read_parquet(SAMPLES / "regression.parquet")
    assert doc["results"][0]["value"] == pytest.approx(((frame.pred - frame.target) ** 2).mean(), rel=1e-12)


# ----------------------------------------------------------------------------- errors and exit codes


@pytest.mark.parametrize("args,code,fragments", [
    (["-l", "msee"], 2, ["Unknown loss 'msee'", "Did you mean 'mse'"]),
    (["-l", "huber:dleta=2"], 2, ["no parameter 'dleta'", "Did you mean 'delta'"]),
    (["-l", "huber:delta=-1"], 2, ["'delta' parameter", "> 0", "-1"]),
    (["-l", "huber:delta=abc"], 2, ["'delta'", "a float"]),
    (["-l", "huber:delta"], 2, ["key=value"]),
    (["-l", "mse", "--pred", "nope"], 3, ["--pred 'nope'", "The columns are: id, grp, pred, target, w"]),
    (["-l", "mse", "--weight", "grp"], 3, ["'grp'", "text, not numbers"]),
    (["-l", "mse", "--fail-if", "mae>1"], 2, ["'mae'", "not a computed loss"]),
    (["-l", "mse", "--fail-if", "mse~1"], 2, ["expected LABEL OP NUMBER"]),
    (["-l", "mse", "--reduction", "median"], 2, ["median"]),
])
def test_usage_and_data_errors(small, args, code, fragments):
    result = run("compute", *args, small)
    assert result.exit_code == code, result.output
    for fragment in fragments:
        assert fragment in result.stderr
    assert result.stdout == ""
    no_traceback(result)


def test_missing_file_is_input_error():
    result = run("compute", "-l", "mse", "no/such/file.csv")
    assert result.exit_code == 3 and "File not found: no/such/file.csv" in result.stderr


def test_missing_default_columns_says_what_was_looked_for(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    result = run("compute", "-l", "mse", path)
    assert result.exit_code == 3
    assert "pred, prediction, y_pred, score, logit, prob" in result.stderr and "--pred" in result.stderr


@pytest.mark.parametrize("cell,fragment", [("nan", "missing values"), ("inf", "NaN or infinite"), ("", "missing values"),
                                           ("abc", "text, not numbers")])
def test_bad_cells_name_file_column_and_rows(tmp_path, cell, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(f"pred,target\n1,2\n3,4\n{cell},5\n6,7\n{cell},8\n")
    result = run("compute", "-l", "mse", path)
    assert result.exit_code == 3
    assert fragment in result.stderr and "'pred'" in result.stderr and f"{path} rows 3, 5" in result.stderr
    no_traceback(result)


def test_rows_are_counted_per_file(tmp_path):
    (tmp_path / "a.csv").write_text("pred,target\n1,2\n3,4\n")
    (tmp_path / "b.csv").write_text("pred,target\n1,2\ninf,4\n")
    result = run("compute", "-l", "mse", tmp_path / "a.csv", tmp_path / "b.csv")
    assert result.exit_code == 3 and f"{tmp_path / 'b.csv'} row 2" in result.stderr


def test_width_mismatch_is_input_error(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("p1,p2,t1\n1,2,3\n")
    result = run("compute", "-l", "mse", "--pred", "p1,p2", "--target", "t1", path)
    assert result.exit_code == 3 and "target needs 2" in result.stderr


def test_files_with_different_columns_are_refused(tmp_path):
    (tmp_path / "a.csv").write_text("pred,target\n1,2\n")
    (tmp_path / "b.csv").write_text("pred,label\n1,2\n")
    result = run("compute", "-l", "mse", tmp_path / "a.csv", tmp_path / "b.csv")
    assert result.exit_code == 3 and "same columns" in result.stderr


@pytest.mark.parametrize("content", [b"", b"pred,target\n", b"\x00\x01garbage\xff\xfe"])
def test_empty_or_garbage_input_is_input_error(tmp_path, content):
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    result = run("compute", "-l", "mse", path)
    assert result.exit_code == 3
    no_traceback(result)


def test_negative_weight_is_input_error(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("pred,target,w\n1,2,1\n3,4,-1\n")
    result = run("compute", "-l", "mse", "--weight", "w", path)
    assert result.exit_code == 3 and "negative weights" in result.stderr and "row 2" in result.stderr


# ----------------------------------------------------------------------------- gates, groups, per-row


def test_gates_exit_1_and_report_every_check(small):
    result = run("compute", "-l", "mse", "-l", "mae", "--fail-if", "mse>4", "--fail-if", "mae>=2", "-f", "json", small)
    assert result.exit_code == 1
    checks = json.loads(result.output)["checks"]
    assert checks == [{"expr": "mse>4", "value": pytest.approx(4.3125), "passed": False, "status": "failed"},
                      {"expr": "mae>=2", "value": pytest.approx(1.375), "passed": True, "status": "passed"}]
    assert run("compute", "-l", "mse", "--fail-if", "mse>5", small).exit_code == 0
    table = run("compute", "-l", "mse", "--fail-if", "mse>4", small)
    assert table.exit_code == 1 and "FAIL" in table.output


def test_group_by_results_and_group_gates(small):
    result = run("compute", "-l", "mae", "--group-by", "grp", "--fail-if", "mae[grp=b]>2", "-f", "json", small)
    doc = json.loads(result.output)
    by_group = {json.dumps(r["group"]): r["value"] for r in doc["results"]}
    assert by_group == {"null": pytest.approx(1.375), '{"grp": "a"}': pytest.approx(0.25), '{"grp": "b"}': pytest.approx(2.5)}
    assert result.exit_code == 1 and doc["checks"][0]["value"] == pytest.approx(2.5)
    missing = run("compute", "-l", "mae", "--group-by", "grp", "--fail-if", "mae[grp=z]>2", small)
    assert missing.exit_code == 0 and "no group grp=z" in missing.stderr and "skipped" in missing.stderr
    strict = run("compute", "-l", "mae", "--group-by", "grp", "--fail-if", "mae[grp=z]>2", "--strict-groups", small)
    assert strict.exit_code == 1 and "FAIL" in strict.stdout
    ungrouped = run("compute", "-l", "mae", "--fail-if", "mae[grp=a]>2", small)
    assert ungrouped.exit_code == 2 and "--group-by" in ungrouped.stderr


def test_per_row_and_grad_out_files(small, tmp_path):
    rows, grads = tmp_path / "rows.parquet", tmp_path / "grads.csv"
    result = run("compute", "-l", "mse", "-l", "mae", "--per-row", rows, "--grad-out", grads, "--keep", "id", small)
    assert result.exit_code == 0
    per_row = pd.read_parquet(rows)
    assert list(per_row.columns) == ["row", "id", "mse", "mae"]
    np.testing.assert_allclose(per_row["mse"], [0.25, 0.0, 1.0, 16.0])
    np.testing.assert_array_equal(per_row["row"], [1, 2, 3, 4])
    g = pd.read_csv(grads)
    np.testing.assert_allclose(g["grad[mse][pred]"], [-0.25, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(g["grad[mae][pred]"], [-0.25, 0.0, 0.25, 0.25])


def test_output_path_is_checked_before_work(small, tmp_path):
    result = run("compute", "-l", "mse", "--per-row", tmp_path / "nope" / "rows.csv", small)
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = run("compute", "-l", "mse", "--per-row", tmp_path / "rows.txt", small)
    assert result.exit_code == 2 and ".csv or .parquet" in result.stderr


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_failed_run_leaves_no_file(tmp_path, suffix):
    # the per-row file is written batch by batch; bad data in a later batch must leave nothing behind
    rows = ["pred,target"] + [f"{i},{i}" for i in range(3000)]
    rows[2900] = "nan,1"
    path = tmp_path / "late.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / f"rows{suffix}"
    result = run("compute", "-l", "mse", "--per-row", out, "--grad-out", tmp_path / "g.csv", "--batch-rows", "100", path)
    assert result.exit_code == 3 and "row 2900" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.csv"]


def test_top_rows(small):
    doc = json.loads(run("compute", "-l", "mse", "--top", "2", "--keep", "id", "-f", "json", small).output)
    # --keep columns of a CSV are read as text, so an id such as 007 keeps its zeros
    assert doc["top"]["mse"] == [{"row": 4, "id": "4", "loss": 16.0}, {"row": 3, "id": "3", "loss": 1.0}]
    table = run("compute", "-l", "mse", "--top", "2", small).output
    assert "hardest rows" in table


# ----------------------------------------------------------------------------- formats and pipes


def test_csv_markdown_and_junit(small):
    csv_out = run("compute", "-l", "mse", "-l", "mae", "-f", "csv", small).output.splitlines()
    assert csv_out[0] == "label,loss,group,value,n,grad_l2,grad_abs_max,grad_mean,signature,columns" and len(csv_out) == 3
    assert csv_out[1].startswith("mse,mse,,4.3125,4,")
    md = run("compute", "-l", "mse", "--fail-if", "mse>9", "-f", "markdown", small).output
    table_lines = [line for line in md.splitlines() if line.startswith("|")]
    assert table_lines[0].startswith("| label | loss |") and set(table_lines[1]) <= set("|-: ")
    assert "`mse>9`" in md and "pass" in md
    result = run("compute", "-l", "mse", "--fail-if", "mse>9", "--fail-if", "mse>1", "-f", "junit", small)
    assert result.exit_code == 1
    root = ET.fromstring(result.output)
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["mse>9", "mse>1"]
    assert cases[0].find("failure") is None and cases[1].find("failure") is not None
    assert root.find("testsuite").get("failures") == "1"


def test_summary_appends_markdown(small, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("before\n")
    run("compute", "-l", "mse", "--summary", small, env={"GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text()
    assert text.startswith("before\n") and "| mse | mse |" in text


def test_json_stays_clean_while_warnings_go_to_stderr(small):
    result = run("compute", "-l", "mse", "--summary", "-f", "json", small, env={"GITHUB_STEP_SUMMARY": ""})
    json.loads(result.stdout)
    assert "Warning: --summary" in result.stderr
    quiet = run("compute", "-l", "mse", "--summary", "-q", "-f", "json", small, env={"GITHUB_STEP_SUMMARY": ""})
    assert quiet.stderr == ""


def test_square_brackets_in_file_names_survive(tmp_path):
    path = tmp_path / "preds[1].csv"
    path.write_text("pred,target\n1,2\n")
    for fmt in ("json", "csv", "table", "markdown"):
        result = run("compute", "-l", "mse", "-f", fmt, path)
        assert result.exit_code == 0
        if fmt in ("json", "table", "markdown"):
            assert "preds[1].csv" in result.output, fmt


def test_broken_pipe_is_quiet(tmp_path):
    big = tmp_path / "big.csv"
    pd.DataFrame({"pred": np.arange(5000.0), "target": np.zeros(5000)}).to_csv(big, index=False)
    cmd = f"{sys.executable} -m losscli compute -l mse --top 3000 -f json {big} | head -1"
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd}"], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout == "{\n" and result.stderr == ""
    assert result.returncode == 0


def test_colour_only_when_asked(small):
    plain = shell("compute", "-l", "mse", small, env={"FORCE_COLOR": "", "NO_COLOR": ""})
    assert "\x1b[" not in plain.stdout and "+--" in plain.stdout
    forced = shell("compute", "-l", "mse", small, env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert "\x1b[" in forced.stdout


# ----------------------------------------------------------------------------- catalogue commands


def test_list_shows_every_loss():
    from losscli.catalogue import CATALOGUE

    doc = json.loads(run("list", "--format", "json").output)
    assert [e["name"] for e in doc] == list(CATALOGUE)
    table = run("list").output
    for name in CATALOGUE:
        assert name in table


@pytest.mark.parametrize("name", sorted(__import__("losscli.catalogue", fromlist=["CATALOGUE"]).CATALOGUE))
def test_every_loss_has_an_explain_page(name):
    from losscli.catalogue import CATALOGUE

    result = run("explain", name)
    assert result.exit_code == 0
    loss = CATALOGUE[name]
    for text in (loss.formula, loss.explain.reference[:30], "use it for", "gradient"):
        assert text in result.output.replace("\n", " ") or text[:20] in result.output


def test_explain_unknown_loss_suggests():
    result = run("explain", "hubber")
    assert result.exit_code == 2 and "Did you mean 'huber'" in result.stderr


def test_input_role_no_loss_takes_is_usage_error(small):
    result = run("compute", "-l", "mse", "--input", "var=w", small)
    assert result.exit_code == 2 and "no requested loss has an input called 'var'" in result.stderr
    result = run("compute", "-l", "mse", "--input", "var", small)
    assert result.exit_code == 2 and "ROLE=COLS" in result.stderr


def test_vector_columns_count_as_one_column_per_element(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "vec.parquet"
    pq.write_table(pa.table({"pred": pa.array([[1.0, 2.0], [3.0, 5.0]], type=pa.list_(pa.float64(), 2)),
                             "target": pa.array([[1.0, 1.0], [1.0, 1.0]], type=pa.list_(pa.float64(), 2))}), path)
    doc = json.loads(run("compute", "-l", "mse", "-f", "json", path).output)
    assert doc["results"][0]["value"] == pytest.approx((0 + 1 + 4 + 16) / 4)
    ragged = tmp_path / "ragged.parquet"
    pq.write_table(pa.table({"pred": pa.array([[1.0, 2.0], [3.0]]), "target": pa.array([[1.0, 1.0], [1.0, 1.0]])}), ragged)
    result = run("compute", "-l", "mse", ragged)
    assert result.exit_code == 3 and "length is not 2" in result.stderr and "ragged.parquet row 2." in result.stderr


def test_logits_loss_warns_on_probabilities_unless_told_they_are():
    soft = SAMPLES / "soft_labels.csv"
    result = run("compute", "-l", "cross_entropy", "-f", "json", soft)
    assert result.exit_code == 0 and "look like probabilities" in result.stderr and "from_logits=false" in result.stderr
    json.loads(result.stdout)
    result = run("compute", "-l", "cross_entropy:from_logits=false", "-f", "json", soft)
    assert result.exit_code == 0 and "probabilities" not in result.stderr
