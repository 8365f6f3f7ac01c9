"""Properties every loss in the catalogue must have, driven by the registry (sklearn style).

The properties themselves live in ``losscli.checks``, where `losscli check` runs them on a user's
losses too; here they run on every catalogue loss with the inputs of tests/cases. A loss without
example inputs fails `test_every_loss_has_cases`, so a new loss cannot slip past these checks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from losscli import catalogue, checks
from losscli.catalogue import CATALOGUE

from .cases import all_cases
from .harness import assert_gradient_matches_fd, finite_difference

CASES = all_cases()
PARAMS = [pytest.param(name, case, id=f"{name}-{case.name}") for name, cases in sorted(CASES.items()) for case in cases]


def test_every_loss_has_cases():
    missing = sorted(set(CATALOGUE) - set(CASES))
    assert not missing, f"losses without test cases in tests/cases: {missing}"


def test_every_case_names_a_loss():
    unknown = sorted(set(CASES) - set(CATALOGUE))
    assert not unknown, f"cases for losses that do not exist: {unknown}"


def test_every_loss_documents_itself():
    for loss in CATALOGUE.values():
        for field in dataclasses.fields(loss.explain):
            assert len(getattr(loss.explain, field.name).strip()) > 10, f"{loss.name}: explain.{field.name} is empty"
        assert loss.formula and loss.summary, loss.name
        for param in loss.params:
            assert param.text, f"{loss.name}.{param.name} has no description"


@pytest.mark.parametrize("name,case", PARAMS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradient_matches_finite_differences(name, case, reduction):
    checks.check_gradient(name, case, reduction)


@pytest.mark.parametrize("name,case", PARAMS)
def test_weighted_gradient_matches_finite_differences(name, case):
    checks.check_weighted_gradient(name, case)


@pytest.mark.parametrize("name,case", PARAMS)
def test_merged_chunks_equal_whole(name, case):
    checks.check_merged_chunks(name, case)


@pytest.mark.parametrize("name,case", PARAMS)
def test_row_order_does_not_matter(name, case):
    checks.check_row_order(name, case)


@pytest.mark.parametrize("name,case", PARAMS)
def test_integer_weights_equal_repeated_rows(name, case):
    checks.check_integer_weights(name, case)


@pytest.mark.parametrize("name,case", PARAMS)
def test_single_row_is_finite(name, case):
    checks.check_single_row(name, case)


@pytest.mark.parametrize("name,case", PARAMS)
def test_group_results_equal_results_on_each_group(name, case):
    checks.check_groups(name, case)


def test_finite_difference_check_catches_a_wrong_gradient(monkeypatch):
    """The checker itself must fail on a gradient that is off by 1%."""
    good = CATALOGUE["mse"]
    bad = dataclasses.replace(good, grad=lambda pred, target: 1.01 * good.grad(pred, target), value_and_grad=None)
    monkeypatch.setitem(catalogue.CATALOGUE, "mse", bad)
    arrays = CASES["mse"][0].make(np.random.default_rng(0), 5)
    with pytest.raises(AssertionError):
        assert_gradient_matches_fd("mse", {}, arrays)
    # and the unmodified loss passes the same check
    monkeypatch.setitem(catalogue.CATALOGUE, "mse", good)
    assert_gradient_matches_fd("mse", {}, arrays)


FUSED = [pytest.param(name, case, id=f"{name}-{case.name}") for name, cases in sorted(CASES.items())
         for case in cases if CATALOGUE[name].value_and_grad is not None]


@pytest.mark.parametrize("name,case", FUSED)
def test_value_and_grad_agrees_with_value_and_grad_apart(name, case):
    """A definition that computes value and gradient together must give what the two give apart."""
    checks.check_fused(name, case)


def test_finite_differences_approximate_a_known_derivative():
    arrays = {"pred": np.array([[1.0], [3.0]]), "target": np.array([[0.0], [0.0]])}
    # d/dp mean(p^2) = p (2 rows): [1, 3]
    np.testing.assert_allclose(finite_difference("mse", {}, arrays), [[1.0], [3.0]], rtol=1e-8)
