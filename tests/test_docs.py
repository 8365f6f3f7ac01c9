"""The docstring examples of the public API run, and say what they show: doctest on the public modules."""

from __future__ import annotations

import doctest
import importlib

import pytest

import losscli

PUBLIC_MODULES = ["losscli.api", "losscli.boosting", "losscli.model"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module) if t.examples]
    assert tests, f"{name} has no docstring examples"
    for test in tests:
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0 and results.attempted >= len(tests)


@pytest.mark.parametrize("name", ["compute", "diff", "grad", "get", "losses", "LossFunction", "Report"])
def test_every_public_entry_point_has_a_runnable_example(name):
    entry = getattr(losscli, name)
    documented = entry.check if name == "Report" else entry
    assert ">>> " in (documented.__doc__ or ""), f"losscli.{name} has no example"


@pytest.mark.parametrize("name", ["xgboost_objective", "lightgbm_objective", "xgboost_metric", "lightgbm_metric"])
def test_boosting_adapters_are_documented(name):
    import losscli.boosting as boosting

    text = getattr(boosting, name).__doc__ or ""
    assert "train" in text and len(text) > 200
