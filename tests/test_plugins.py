"""Losses of your own: --plugin files, the losscli.losses entry-point group, `losscli check`, and the errors
a plugin that cannot be used gets (exit 2, naming the file and the problem)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import losscli
from losscli import catalogue
from losscli.cli import main
from losscli.errors import UsageProblem

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "my_losses.py"

HEADER = "import numpy as np\nfrom losscli.catalogue.base import Explain, Loss, pred_role, target_role\n"
EXPLAIN = "Explain(inputs='pred and target columns', gradient='the derivative', use='tests of plugins', " \
          "avoid='production use', relations='mse', reference='this test file')"


def loss_source(name: str = "my_sq", grad: str = "lambda pred, target: 2.0 * (pred - target)") -> str:
    return (f"Loss(name={name!r}, family='regression', summary='squared error', formula='(p - y)^2', "
            f"inputs=(pred_role('p'), target_role('y')), value=lambda pred, target: (pred - target) ** 2, "
            f"grad={grad}, explain={EXPLAIN})")


@pytest.fixture(autouse=True)
def clean_catalogue(monkeypatch):
    """Plugins register into the process's catalogue: give every test its own copy."""
    monkeypatch.setattr(catalogue, "CATALOGUE", dict(catalogue.CATALOGUE))
    monkeypatch.setattr(catalogue, "PLUGIN_MODULES", dict(catalogue.PLUGIN_MODULES))


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def regression(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "reg.csv"
    pd.DataFrame({"pred": rng.normal(size=50), "target": rng.normal(size=50)}).to_csv(path, index=False)
    return path


def write(tmp_path, text: str, name: str = "plugin.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- the example plugin


def test_example_plugin_computes_lists_and_explains(regression):
    frame = pd.read_csv(regression)
    result = run("compute", "--plugin", EXAMPLE, "-l", "expectile:tau=0.9", "-f", "json", regression)
    assert result.exit_code == 0, result.output
    r = frame["target"] - frame["pred"]
    expected = np.mean(np.where(r < 0, 0.1, 0.9) * r * r)  # Newey and Powell's asymmetric squares
    assert json.loads(result.stdout)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)
    listed = run("list", "--plugin", EXAMPLE)
    assert "expectile" in listed.output and "(plugin:" in listed.output and "my_losses.py" in listed.output
    doc = {e["name"]: e for e in json.loads(run("list", "--plugin", EXAMPLE, "-f", "json").stdout)}
    assert doc["expectile"]["plugin"].endswith("my_losses.py") and doc["mse"]["plugin"] is None
    page = run("explain", "--plugin", EXAMPLE, "expectile")
    assert page.exit_code == 0 and "plugin from" in page.output and "Newey and Powell" in page.output


def test_example_plugin_passes_losscli_check():
    result = run("check", EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output and "FAIL" not in result.output
    doc = json.loads(run("check", EXAMPLE, "-l", "relative_l2", "-f", "json").stdout)
    assert {o["loss"] for o in doc} == {"relative_l2"} and all(o["passed"] for o in doc)
    assert {"gradient (mean)", "merged chunks", "integer weights", "adversarial inputs"} <= {o["property"] for o in doc}


def test_loading_the_same_plugin_twice_is_harmless(regression):
    for _ in range(2):
        assert run("compute", "--plugin", EXAMPLE, "-l", "expectile", regression).exit_code == 0
    assert [loss.name for loss in catalogue.load_plugin(str(EXAMPLE))] == ["expectile", "relative_l2"]
    assert losscli.get("relative_l2").value([[1.0, 1.0]], [[0.0, 2.0]]) == pytest.approx(2.0 / 4.0)


# ----------------------------------------------------------------------------- check catches a wrong gradient


def test_check_catches_a_gradient_that_is_one_percent_wrong(tmp_path):
    wrong = write(tmp_path, HEADER + f"LOSSES = [{loss_source(grad='lambda pred, target: 2.02 * (pred - target)')}]\n")
    result = run("check", wrong)
    assert result.exit_code == 1
    assert "FAIL" in result.output and "gradient vs finite differences" in result.output
    doc = json.loads(run("check", wrong, "-f", "json").stdout)
    failed = {o["property"] for o in doc if not o["passed"]}
    assert {"gradient (mean)", "gradient (sum)", "gradient (weighted)"} <= failed
    right = write(tmp_path, HEADER + f"LOSSES = [{loss_source('my_sq_right')}]\n", "right.py")
    assert run("check", right).exit_code == 0


def test_check_reports_a_loss_that_breaks_on_extreme_inputs(tmp_path):
    source = loss_source("exp_loss").replace("(pred - target) ** 2", "np.exp(pred - target)").replace(
        "2.0 * (pred - target)", "np.exp(pred - target)")
    path = write(tmp_path, HEADER + f"LOSSES = [{source}]\n")
    doc = json.loads(run("check", path, "-f", "json").stdout)
    assert [o["property"] for o in doc if not o["passed"]] == ["adversarial inputs"]


# ----------------------------------------------------------------------------- plugins that cannot be used


@pytest.mark.parametrize("text,message", [
    ("def broken(:\n", "could not be imported (line 1): SyntaxError"),
    ("import no_such_module_here\n", "could not be imported (line 1): ModuleNotFoundError"),
    ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
    (HEADER + "X = 1\n", "defines no LOSSES"),
    (HEADER + f"LOSSES = [{loss_source('mse')}]\n", "loss 'mse' already exists (from the built-in catalogue)"),
    (HEADER + f"LOSSES = [{loss_source()}, {loss_source()}]\n", "defines loss 'my_sq' twice"),
    (HEADER + f"LOSSES = [{loss_source(grad='None')}]\n", "loss 'my_sq' has no gradient"),
    (HEADER + "LOSSES = [Loss(name='g', family='f', summary='s', formula='f', inputs=(pred_role('p'),), "
     "value=lambda pred: pred, explain=None)]\n", "A Loss needs grad="),
    (HEADER + "LOSSES = [1]\n", "not a losscli Loss"),
])
def test_unusable_plugin_is_a_usage_error_naming_the_file(tmp_path, text, message):
    path = write(tmp_path, text)
    for command in (["compute", "--plugin", path, "-l", "mse", "-"], ["list", "--plugin", path], ["check", path]):
        result = CliRunner().invoke(main, [str(c) for c in command], input="pred,target\n1,2\n")
        assert result.exit_code == 2, (command, result.output)
        assert str(path.name) in result.output and message in result.output
        assert "Traceback" not in result.output


def test_missing_plugin_file():
    result = run("compute", "--plugin", "nowhere.py", "-l", "mse", "-", input="pred,target\n1,2\n")
    assert result.exit_code == 2 and "no such file" in result.output


# ----------------------------------------------------------------------------- installed packages


class FakeEntryPoint:
    def __init__(self, name, value, target):
        self.name, self.value, self._target = name, value, target

    def load(self):
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


@pytest.fixture
def installed_package(monkeypatch):
    """An installed package declaring a losscli.losses entry point, not looked for yet in this process.
    Returns the list that records each search for entry points."""
    module = catalogue.PLUGIN_MODULES.get(str(EXAMPLE)) or catalogue._import_file(str(EXAMPLE))
    renamed = [l.__class__(**{**l.__dict__, "name": "pkg_" + l.name}) for l in module.LOSSES]
    searches = []

    def entry_points(group):
        searches.append(group)
        return [FakeEntryPoint("mypkg", "mypkg.losses:LOSSES", renamed)] if group == "losscli.losses" else []

    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(catalogue, "_installed_plugins_loaded", False)
    return searches


def test_installed_packages_are_looked_for_only_when_a_name_is_not_built_in(installed_package, regression):
    result = run("compute", "-l", "mse", "-l", "MSELoss", "--format", "json", regression)
    assert result.exit_code == 0 and installed_package == []  # built-in names and aliases: no search
    result = run("compute", "-l", "pkg_expectile:tau=0.5", "--format", "json", regression)
    assert result.exit_code == 0, result.output
    assert installed_package == ["losscli.losses"]
    assert json.loads(result.stdout)["results"][0]["label"] == "pkg_expectile:tau=0.5"
    run("compute", "-l", "pkg_relative_l2", regression)
    assert installed_package == ["losscli.losses"]  # once per process


@pytest.mark.parametrize("command", [["list"], ["explain", "pkg_expectile"], ["compute", "-l", "pkg_expectil"]])
def test_listing_explaining_and_suggesting_names_see_installed_packages(installed_package, regression, command):
    result = run(*command, *([regression] if command[0] == "compute" else []))
    assert installed_package == ["losscli.losses"]
    assert "pkg_expectile" in result.output


def test_entry_point_packages_add_losses_marked_with_their_origin():
    module = catalogue.PLUGIN_MODULES.get(str(EXAMPLE)) or catalogue._import_file(str(EXAMPLE))
    renamed = [l.__class__(**{**l.__dict__, "name": "pkg_" + l.name}) for l in module.LOSSES]
    added = catalogue.load_entry_points([FakeEntryPoint("mypkg", "mypkg.losses:LOSSES", renamed)])
    assert [l.name for l in added] == ["pkg_expectile", "pkg_relative_l2"]
    assert catalogue.CATALOGUE["pkg_expectile"].origin == "package entry point mypkg (mypkg.losses:LOSSES)"
    assert losscli.get("pkg_expectile", tau=0.5).value([1.0], [3.0]) == pytest.approx(2.0)
    with pytest.raises(UsageProblem, match="entry point broken .* ImportError: gone"):
        catalogue.load_entry_points([FakeEntryPoint("broken", "broken:LOSSES", ImportError("gone"))])
    with pytest.raises(UsageProblem, match="already exists"):
        catalogue.load_entry_points([FakeEntryPoint("again", "again:LOSSES", [catalogue.CATALOGUE["mse"].__class__(
            **{**catalogue.CATALOGUE["mse"].__dict__, "origin": ""})])])
