"""Daily use at a terminal and in CI (issue 9): aliases, per-loss columns, the columns used, tables that never
cut a number at 60/80/120 columns, group wildcards in gates, machine outputs that parse even on errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import torch
import xmlschema
from click.testing import CliRunner
from sklearn import metrics

import losscli
from losscli.catalogue import CATALOGUE, lookup
from losscli.catalogue.aliases import ALIASES
from losscli.cli import main

ROOT = Path(__file__).resolve().parent.parent
JUNIT = xmlschema.XMLSchema(str(Path(__file__).with_name("junit.xsd")))
WIDTHS = (60, 80, 120)


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def shell(*args, columns: int | None = None):
    env = {**os.environ, "CI": "1"}
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "losscli", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    """Logits and their probabilities side by side, long group names, -1..1 logits and exact 0/1 probabilities."""
    rng = np.random.default_rng(9)
    n = 400
    logit = rng.normal(size=n) * 4
    logit[:4] = [1e4, -1e4, 30.0, -30.0]
    frame = pd.DataFrame({
        "id": np.arange(n), "logit": logit, "prob": 0.5 * (1 + np.tanh(logit / 2)), "label": rng.integers(0, 2, n),
        "region": rng.choice(["east", "west", "north", "southeasternmost-outer-district"], n),
        "sex": rng.choice(["a", "b"], n),
    })
    frame.loc[:1, "prob"] = [1.0, 0.0]  # exact 0 and 1, where the libraries' guards differ
    path = tmp_path_factory.mktemp("daily") / "binary.csv"
    frame.to_csv(path, index=False)
    return path, frame


def doc(result) -> dict:
    return json.loads(result.stdout)


# ----------------------------------------------------------------------------- aliases


@pytest.mark.parametrize("alias,loss,preset", [
    ("binary_crossentropy", "bce", {"compat": "keras"}), ("BinaryCrossentropy", "bce", {"compat": "keras"}),
    ("binary_cross_entropy", "bce", {"compat": "torch"}), ("BCELoss", "bce", {"compat": "torch"}),
    ("log_loss", "bce", {"compat": "sklearn"}), ("BCEWithLogitsLoss", "bce_logits", {}),
    ("l1", "mae", {}), ("l2", "mse", {}), ("pinball", "quantile", {}), ("mean_squared_error", "mse", {}),
    ("reg:squarederror", "mse", {}), ("binary:logistic", "bce", {}), ("binary:logitraw", "bce_logits", {}),
    ("categorical_crossentropy", "cross_entropy", {"from_logits": False, "compat": "keras"}),
    ("sparse_categorical_crossentropy", "cross_entropy", {"from_logits": False, "compat": "keras"}),
    ("multiclass", "cross_entropy", {"from_logits": False, "compat": "torch"}),
    ("mean_tweedie_deviance", "tweedie", {"power": 0.0}), ("mean_gamma_deviance", "tweedie", {"power": 2.0}),
    ("count:poisson", "poisson", {"log_input": False}), ("bcewithlogitsloss", "bce_logits", {}),
])
def test_alias_resolves_to_the_loss_with_the_library_compat(alias, loss, preset):
    f = losscli.get(alias)
    assert f.name == loss
    assert {k: f.params[k] for k in preset} == preset


def test_every_alias_is_sound():
    names = [a.name for a in ALIASES]
    assert len(names) == len(set(names)), "an alias is listed twice"
    for a in ALIASES:
        assert a.name not in CATALOGUE and a.loss in CATALOGUE
        assert losscli.get(a.spec).name == a.loss  # the preset parses against the loss's parameters
        assert a.name in CATALOGUE[a.loss].aliases
        # an alias that differs from a catalogue name only in letter case must mean exactly that loss
        for name in CATALOGUE:
            if name.casefold() == a.name.casefold():
                assert (a.loss, a.preset) == (name, "")


def test_no_input_is_named_like_a_parameter():
    # spec keys are parameters or inputs (bce:pred=prob): one name must not be both
    for loss in CATALOGUE.values():
        assert not {r.name for r in loss.inputs} & set(loss.param_names), loss.name


def test_alias_label_stays_as_typed_and_signature_shows_the_compat(binary):
    path, _ = binary
    result = run("compute", "-l", "binary_crossentropy:pred=prob", "--target", "label", "-f", "json", path)
    assert result.exit_code == 0, result.output
    r = doc(result)["results"][0]
    assert r["label"] == "binary_crossentropy:pred=prob" and r["loss"] == "bce" and r["params"] == {"compat": "keras"}
    assert r["signature"].startswith("bce|compat=keras|mean")


def _value(path, spec, *extra):
    result = run("compute", "-l", spec, "--target", "label", "-f", "json", *extra, path)
    assert result.exit_code == 0, result.output
    return doc(result)["results"][0]["value"]


def test_alias_numbers_equal_the_libraries_own(binary):
    path, frame = binary
    p, y, x = (torch.tensor(frame[c].to_numpy(), dtype=torch.float64) for c in ("prob", "label", "logit"))
    assert _value(path, "BCELoss:pred=prob") == pytest.approx(torch.nn.BCELoss()(p, y).item(), rel=1e-12)
    assert _value(path, "BCEWithLogitsLoss:pred=logit") == pytest.approx(
        torch.nn.BCEWithLogitsLoss()(x, y).item(), rel=1e-12)
    assert _value(path, "log_loss:pred=prob") == pytest.approx(
        metrics.log_loss(frame.label, frame.prob), rel=1e-12)
    # Keras' binary_crossentropy clips p to [1e-7, 1 - 1e-7] (keras.backend.epsilon()); written out here
    q = np.clip(frame.prob.to_numpy(), 1e-7, 1 - 1e-7)
    keras = -np.mean(frame.label * np.log(q) + (1 - frame.label) * np.log(1 - q))
    assert _value(path, "binary_crossentropy:pred=prob") == pytest.approx(keras, rel=1e-12)
    # the three guards really differ on exact 0/1 probabilities, so the compat mode is what makes them equal
    assert len({round(_value(path, s + ":pred=prob"), 6) for s in ("BCELoss", "log_loss", "binary_crossentropy")}) == 3


def test_regression_aliases_equal_torch_and_sklearn():
    rng = np.random.default_rng(3)
    pred, target = rng.gamma(2.0, size=300) + 1e-3, rng.gamma(2.0, size=300) + 1e-3
    pred[:2] = [1e6, 1e-6]
    tp, tt = torch.tensor(pred), torch.tensor(target)
    cases = {
        "l1": torch.nn.L1Loss()(tp, tt).item(), "MSELoss": torch.nn.MSELoss()(tp, tt).item(),
        "HuberLoss": torch.nn.HuberLoss()(tp, tt).item(),
        "mean_pinball_loss": metrics.mean_pinball_loss(target, pred),
        "mean_tweedie_deviance": metrics.mean_tweedie_deviance(target, pred),
        "mean_poisson_deviance": metrics.mean_poisson_deviance(target, pred),
        "mean_gamma_deviance": metrics.mean_gamma_deviance(target, pred),
        "mean_absolute_percentage_error": metrics.mean_absolute_percentage_error(target, pred),
    }
    for alias, expected in cases.items():
        assert losscli.get(alias).value(pred=pred, target=target) == pytest.approx(expected, rel=1e-10), alias


def test_keras_categorical_aliases_rescale_and_clip_probabilities():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(3), size=50) * 0.8  # rows that do not sum to 1, as Keras rescales them
    p[0] = [0.0, 0.8, 0.0]
    index = rng.integers(0, 3, 50)
    index[0] = 0
    onehot = np.eye(3)[index]
    q = np.clip(p / p.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
    keras = -np.mean(np.sum(onehot * np.log(q), axis=1))
    assert losscli.get("categorical_crossentropy").value(pred=p, target=onehot) == pytest.approx(keras, rel=1e-12)
    assert losscli.get("sparse_categorical_crossentropy").value(pred=p, target=index) == pytest.approx(keras, rel=1e-12)
    logits = torch.tensor(rng.normal(size=(50, 3)) * 1e3)
    ce = torch.nn.CrossEntropyLoss()(logits, torch.tensor(index)).item()
    assert losscli.get("CrossEntropyLoss").value(pred=logits.numpy(), target=index) == pytest.approx(ce, rel=1e-12)


@pytest.mark.parametrize("typed,suggested", [("binary_cross_entropi", "'binary_cross_entropy' (= bce)"),
                                             ("log_los", "'log_loss' (= bce:compat=sklearn)"),
                                             ("BCEWithLogitLoss", "'BCEWithLogitsLoss' (= bce_logits)")])
def test_did_you_mean_uses_aliases(typed, suggested):
    result = run("compute", "-l", typed, "-")
    assert result.exit_code == 2 and suggested in result.stderr and "losscli list" in result.stderr


def test_names_from_the_issue_no_longer_suggest_wrong_losses():
    for typed, loss in (("binary_cross_entropy", "bce"), ("l1", "mae"), ("pinball", "quantile"), ("log_loss", "bce")):
        assert lookup(typed)[0].name == loss


def test_list_and_explain_show_aliases():
    listing = run("list").stdout
    assert "binary_crossentropy" in listing and "bce:compat=keras" in listing and "reg:squarederror" in listing
    page = run("explain", "binary_crossentropy")
    assert page.exit_code == 0
    assert "binary_crossentropy is the Keras name for bce with compat=keras" in page.stdout
    assert "BCELoss" in page.stdout and "log_loss" in page.stdout  # the other names of bce
    entry = next(e for e in json.loads(run("list", "-f", "json").stdout) if e["name"] == "bce")
    assert {"name": "log_loss", "source": "scikit-learn", "preset": "compat=sklearn",
            "note": "binary: one probability column"} in entry["aliases"]


# ----------------------------------------------------------------------------- per-loss columns


def test_each_loss_reads_its_own_columns(binary):
    path, frame = binary
    result = run("compute", "-l", "bce:pred=prob", "-l", "focal:pred=logit", "--target", "label", "-f", "json", path)
    assert result.exit_code == 0, result.output
    bce, focal = doc(result)["results"]
    assert bce["columns"] == {"pred": ["prob"], "target": ["label"]}
    assert focal["columns"] == {"pred": ["logit"], "target": ["label"]}
    p, y, x = (torch.tensor(frame[c].to_numpy(), dtype=torch.float64) for c in ("prob", "label", "logit"))
    assert bce["value"] == pytest.approx(torch.nn.functional.binary_cross_entropy(p, y).item(), rel=1e-12)
    assert focal["value"] == pytest.approx(losscli.get("focal").value(pred=frame.logit, target=frame.label), rel=1e-12)


def test_own_columns_override_the_global_ones(binary):
    path, _ = binary
    result = run("compute", "--pred", "logit", "--target", "label", "-l", "bce_logits", "-l", "bce:pred=prob",
                 "-f", "json", path)
    used = {r["label"]: r["columns"]["pred"] for r in doc(result)["results"]}
    assert used == {"bce_logits": ["logit"], "bce:pred=prob": ["prob"]}
    assert "default" not in result.stderr  # every column was named


def test_own_columns_take_lists_and_globs(tmp_path):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(20, 3)), columns=["s_0", "s_1", "s_2"]).assign(cls=rng.integers(0, 3, 20))
    frame.to_csv(tmp_path / "m.csv", index=False)
    listed = run("compute", "-l", "cross_entropy:pred=s_0;s_1;s_2,target=cls", "-f", "json", tmp_path / "m.csv")
    globbed = run("compute", "-l", "cross_entropy:pred=s_*,target=cls,label_smoothing=0.1", "-f", "json",
                  tmp_path / "m.csv")
    assert doc(listed)["results"][0]["columns"] == {"pred": ["s_0", "s_1", "s_2"], "target": ["cls"]}
    assert doc(globbed)["results"][0]["columns"]["pred"] == ["s_0", "s_1", "s_2"]
    expected = torch.nn.CrossEntropyLoss()(torch.tensor(frame[["s_0", "s_1", "s_2"]].to_numpy()),
                                           torch.tensor(frame.cls.to_numpy())).item()
    assert doc(listed)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("args,fragments", [
    (["-l", "bce", "--pred", "prob", "-l", "focal", "--pred", "logit"],
     ["--pred was given 2 times", "-l 'bce:pred=prob' -l 'focal:pred=logit'"]),
    (["-l", "mae", "--target", "label", "--target", "id"], ["--target was given 2 times"]),
    (["-l", "mae", "--weight", "id", "--weight", "label"], ["--weight was given 2 times"]),
    (["-l", "gaussian_nll", "--input", "var=a", "--input", "var=b"], ["--input var= was given twice"]),
    (["-l", "mae", "--pred", "prob", "--input", "pred=logit"], ["both name the pred columns"]),
    (["-l", "bce:prd=prob"], ["no parameter 'prd'", "Did you mean 'pred'"]),
])
def test_repeated_or_conflicting_column_options_are_usage_errors(binary, args, fragments):
    result = run("compute", *args, binary[0])
    assert result.exit_code == 2
    for fragment in fragments:
        assert fragment in result.stderr
    assert result.stdout == ""


def test_own_column_that_does_not_exist_names_the_loss(binary):
    result = run("compute", "-l", "bce:pred=Prob", "--target", "label", binary[0])
    assert result.exit_code == 3
    assert "--loss 'bce:pred=Prob' (pred=Prob)" in result.stderr and "Did you mean prob?" in result.stderr


def test_columns_picked_by_default_are_said_once(binary):
    path, _ = binary
    result = run("compute", "-l", "bce_logits", "-l", "focal", "--group-by", "region", "-f", "json", path)
    assert result.exit_code == 0
    assert result.stderr.count("columns picked by their default names: pred=logit, target=label") == 1
    assert all(r["columns"] == {"pred": ["logit"], "target": ["label"]} for r in doc(result)["results"])
    assert run("compute", "-l", "bce_logits", "-q", path).stderr == ""


def test_table_names_the_columns_once_per_loss(binary):
    path, _ = binary
    result = run("compute", "-l", "bce:pred=prob", "-l", "focal:pred=logit", "--target", "label", "--group-by",
                 "region", path)
    assert result.stdout.count("columns of bce:pred=prob: pred=prob, target=label") == 1
    assert result.stdout.count("columns of focal:pred=logit: pred=logit, target=label") == 1
    same = run("compute", "-l", "bce_logits", "-l", "focal", "--group-by", "region", path).stdout
    assert same.count("columns: pred=logit, target=label") == 1


# ----------------------------------------------------------------------------- tables that never cut a number


def _numbers(document) -> list[str]:
    out = []
    for r in document["results"]:
        out.append(f"{r['value']:.6g}")
        out += [f"{v:.6g}" for v in (r["grad"] or {}).values()]
    return out


def _assert_whole(text: str, width: int, numbers: list[str]) -> None:
    assert "…" not in text and "..." not in text
    assert all(len(line) <= width for line in text.splitlines()), text
    tokens = set(re.findall(r"[-+]?[0-9][0-9.e+-]*", text))
    missing = [n for n in numbers if n not in tokens]
    assert not missing, f"numbers cut or missing: {missing}\n{text}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("extra", [[], ["--grad"], ["--group-by", "region"], ["--grad", "--group-by", "region"],
                                   ["--grad", "--group-by", "region", "--group-by", "sex"]])
def test_no_number_is_cut_at_any_width(binary, width, extra):
    path, _ = binary
    args = ["compute", "-l", "bce_logits", "-l", "focal:gamma=1.5,alpha=0.5", *extra, path]
    numbers = _numbers(doc(run(*args, "-f", "json")))
    result = run(*args, env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    _assert_whole(result.stdout, width, numbers)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_number_is_cut_in_a_real_process(binary, width):
    path, _ = binary
    args = ["compute", "-l", "bce_logits", "-l", "focal:gamma=1.5,alpha=0.5", "--grad", "--group-by", "region", path]
    numbers = _numbers(doc(run(*args, "-f", "json")))
    result = shell(*args, columns=width)
    assert result.returncode == 0, result.stderr
    _assert_whole(result.stdout, width, numbers)


@pytest.mark.parametrize("width", WIDTHS)
def test_gates_top_and_diff_tables_keep_numbers_whole(binary, tmp_path, width):
    path, frame = binary
    env = {"COLUMNS": str(width)}
    args = ["compute", "-l", "bce_logits", "--grad", "--group-by", "region", "--fail-if", "bce_logits[region=*]>0.1",
            "--top", "3", "--keep", "id,region", path]
    document = doc(run(*args, "-f", "json"))
    numbers = [f"{c['value']:.6g}" for c in document["checks"]] + [f"{r['loss']:.6g}" for r in document["top"]["bce_logits"]]
    _assert_whole(run(*args, env=env).stdout, width, numbers)
    other = tmp_path / "other.csv"
    frame.assign(logit=frame.logit * 0.9).to_csv(other, index=False)
    result = run("diff", path, other, "-l", "bce_logits", "-l", "focal:gamma=1.5,alpha=0.5", "--bootstrap", "50",
                 env=env)
    diff_doc = doc(run("diff", path, other, "-l", "bce_logits", "-l", "focal:gamma=1.5,alpha=0.5", "--bootstrap", "50",
                       "-f", "json"))
    numbers = [f"{r[k]:.6g}" for r in diff_doc["results"] for k in ("baseline", "candidate")]
    _assert_whole(result.stdout, width, numbers)


def test_many_groups_show_the_worst_and_say_how_many(tmp_path):
    rng = np.random.default_rng(6)
    n = 3000
    frame = pd.DataFrame({"pred": rng.normal(size=n), "target": rng.normal(size=n), "shop": rng.integers(0, 120, n)})
    frame.loc[frame.shop == 77, "pred"] += 50  # one shop far worse than the rest
    frame.to_csv(tmp_path / "shops.csv", index=False)
    table = run("compute", "-l", "mae", "--group-by", "shop", tmp_path / "shops.csv").stdout
    assert "more of 120 groups" in table and "the 20 highest are shown" in table
    assert "shop=77" in table and table.count("shop=") == 20
    every = doc(run("compute", "-l", "mae", "--group-by", "shop", "-f", "json", tmp_path / "shops.csv"))
    assert len(every["results"]) == 121


def test_list_is_compact_at_80_columns_and_long_on_request():
    listing = run("list").stdout.splitlines()
    assert all(len(line) <= 80 for line in listing)
    for name in CATALOGUE:  # one line a loss: its name, then its summary
        assert sum(line.startswith(f"  {name} ") for line in listing) == 1
    assert len(listing) < 150
    long = run("list", "--long", env={"COLUMNS": "80"}).stdout
    assert all(len(line) <= 80 for line in long.splitlines())
    assert "alpha_t (1 - p_t)^gamma" in long and "sigmoid_focal_loss" in long


@pytest.mark.parametrize("env,width", [({}, 100), ({"COLUMNS": "60"}, 60)])
def test_explain_wraps_when_piped(env, width):
    page = run("explain", "focal", env=env).stdout
    assert max(len(line) for line in page.splitlines()) <= width
    assert not any(line.endswith(" ") for line in page.splitlines())


# ----------------------------------------------------------------------------- gates over groups


def test_group_wildcard_gates_every_group_each_its_own_check(binary):
    path, frame = binary
    result = run("compute", "-l", "mae:pred=prob", "--target", "label", "--group-by", "region", "--fail-if",
                 "mae:pred=prob[region=*]>0.3", "-f", "junit", path)
    root = ET.fromstring(result.stdout)
    JUNIT.validate(result.stdout)
    cases = {c.get("name"): c.find("failure") is not None for c in root.iter("testcase")}
    regions = sorted(frame.region.unique())
    expected = {f"mae:pred=prob[region={r}]>0.3": bool(np.mean(np.abs(frame.prob - frame.label)[frame.region == r]) > 0.3)
                for r in regions}
    assert cases == expected
    assert result.exit_code == (1 if any(expected.values()) else 0)


def test_star_gates_every_group_of_every_column(binary):
    path, frame = binary
    result = run("compute", "-l", "bce_logits", "--group-by", "region", "--group-by", "sex", "--fail-if",
                 "bce_logits[*]>1e9", "-f", "json", path)
    checks = doc(result)["checks"]
    assert len(checks) == frame.groupby(["region", "sex"]).ngroups
    assert all(c["status"] == "passed" and c["gate"] == "bce_logits[*]>1e9" for c in checks)
    partial = doc(run("compute", "-l", "bce_logits", "--group-by", "region", "--group-by", "sex", "--fail-if",
                      "bce_logits[sex=a]>1e9", "-f", "json", path))["checks"]
    assert sorted(c["expr"] for c in partial) == sorted(f"bce_logits[region={r}, sex=a]>1e9" for r in frame.region.unique())


def test_an_absent_group_is_skipped_or_failed_when_strict(binary):
    path, _ = binary
    args = ["compute", "-l", "bce_logits", "--group-by", "region", "--fail-if", "bce_logits[region=mars]>1", path]
    skipped = run(*args, "-f", "junit")
    assert skipped.exit_code == 0 and "was skipped: no group region=mars" in skipped.stderr
    case = ET.fromstring(skipped.stdout).find(".//testcase")
    assert case.find("skipped") is not None and "region=mars" in case.find("skipped").get("message")
    JUNIT.validate(skipped.stdout)
    strict = run(*args, "--strict-groups", "-f", "junit")
    assert strict.exit_code == 1
    assert ET.fromstring(strict.stdout).find(".//testcase/failure") is not None
    JUNIT.validate(strict.stdout)


def test_diff_gate_with_brackets_does_not_suggest_group_by(binary):
    path, _ = binary
    result = run("diff", path, path, "-l", "bce_logits", "--fail-if", "bce_logits[region=n]>1")
    assert result.exit_code == 2 and "--group-by" not in result.stderr and "--fail-if 'bce_logits>1'" in result.stderr


# ----------------------------------------------------------------------------- machine outputs always parse


@pytest.mark.parametrize("args,code", [
    (["compute", "-l", "mse", "--pred", "nope"], 3),  # a bad column
    (["compute", "-l", "msee"], 2),  # a bad loss
    (["compute", "-l", "mse", "--top", "abc"], 2),  # click's own parsing error, before the command runs
    (["compute", "-l", "mse", "--top", "3"], 2),  # --top does not fit junit
    (["diff", "-l", "mse", "--on", "zzz"], 3),
])
def test_junit_on_error_is_a_valid_report(binary, args, code):
    path, _ = binary
    files = [path, path] if args[0] == "diff" else [path]
    result = run(*args, "--format", "junit", *files)
    assert result.exit_code == code
    root = ET.fromstring(result.stdout)
    JUNIT.validate(result.stdout)
    error = root.find(".//testcase/error")
    assert root.find("testsuite").get("errors") == "1" and error is not None
    assert f"exit {code}" in error.get("type") and error.text.strip() in result.stderr


def test_junit_file_from_a_failed_process_is_not_empty(binary, tmp_path):
    path, _ = binary
    result = shell("compute", "-l", "mse", "--pred", "nope", "-f", "junit", path)
    assert result.returncode == 3 and "nope" in result.stderr
    (tmp_path / "gates.xml").write_text(result.stdout)
    JUNIT.validate(str(tmp_path / "gates.xml"))


def test_json_on_error_is_an_error_document(binary):
    result = run("compute", "-l", "mse", "--pred", "nope", "-f", "json", binary[0])
    assert result.exit_code == 3
    error = doc(result)["error"]
    assert error["exit_code"] == 3 and error["kind"] == "input" and "'nope'" in error["message"]
    assert run("compute", "-l", "mse", "--pred", "nope", "-f", "csv", binary[0]).stdout == ""


def test_internal_error_still_writes_the_document(binary, monkeypatch):
    import losscli.api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(losscli.api, "compute", broken)
    result = run("compute", "-l", "mse", "-f", "json", binary[0])
    assert result.exit_code == 4 and doc(result)["error"]["kind"] == "internal"


def test_junit_of_a_normal_run_is_valid(binary):
    result = run("compute", "-l", "bce_logits", "--group-by", "region", "--fail-if", "bce_logits>0.1",
                 "--fail-if", "bce_logits[region=*]<1e9", "-f", "junit", binary[0])
    JUNIT.validate(result.stdout)
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert int(suite.get("tests")) == len(suite.findall("testcase")) == 1 + 4
    assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))


def test_top_in_markdown_and_refused_where_it_cannot_go(binary):
    path, frame = binary
    markdown = run("compute", "-l", "bce_logits", "--top", "2", "--keep", "id", "-f", "markdown", path)
    assert markdown.exit_code == 0 and "### Hardest rows: bce_logits" in markdown.stdout
    worst = frame.assign(l=losscli.get("bce_logits").per_row(pred=frame.logit, target=frame.label)).nlargest(2, "l")
    for i in worst.id:
        assert f"| {i} |" in markdown.stdout
    refused = run("compute", "-l", "bce_logits", "--top", "2", "-f", "csv", path)
    assert refused.exit_code == 2 and "--top does not fit --format csv" in refused.stderr and refused.stdout == ""


# ----------------------------------------------------------------------------- message slips


def test_column_did_you_mean_ignores_letter_case(tmp_path):
    (tmp_path / "y.csv").write_text("pred,y\n1,2\n")
    result = run("compute", "-l", "mse", "--target", "Y", tmp_path / "y.csv")
    assert result.exit_code == 3 and "Did you mean y?" in result.stderr


def test_width_message_names_the_option_with_a_space(tmp_path):
    (tmp_path / "w.csv").write_text("p1,p2,t1,v\n1,2,3,1\n")
    target = run("compute", "-l", "mse", "--pred", "p1,p2", "--target", "t1", tmp_path / "w.csv")
    assert "--target COLS" in target.stderr
    var = run("compute", "-l", "gaussian_nll", "--pred", "p1", "--target", "t1", "--input", "var=v,p2",
              tmp_path / "w.csv")
    assert var.exit_code == 3 and "--input var=COLS" in var.stderr


def test_minus_one_labels_for_bce_logits_say_how_to_map_them(tmp_path):
    (tmp_path / "pm.csv").write_text("logit,target\n0.5,-1\n1,1\n")
    result = run("compute", "-l", "bce_logits", tmp_path / "pm.csv")
    assert result.exit_code == 3 and "(y + 1) / 2" in result.stderr
