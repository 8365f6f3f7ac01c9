"""Properties every loss in the catalogue must have, driven by the registry (sklearn style).

The properties themselves live in ``losscli.checks``, where `losscli check` runs them on a user's
losses too; here they run on every catalogue loss with the inputs of tests/cases. A loss without
example inputs fails `test_every_loss_has_cases`, so a new loss cannot slip past these checks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import losscli
from losscli import catalogue, checks
from losscli.catalogue import CATALOGUE

from .cases import all_cases
from .harness import (as_arrays, assert_close, assert_gradient_matches_fd, assert_hessian_matches_fd,
                      assert_merge_equals_whole, compute_arrays, finite_difference, ours, reduced_value)

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


# losses that hold their rows (lovasz, the median) are not sums of statistics; diff refuses them
SET_LEVEL = [pytest.param(name, cases[0], id=name) for name, cases in sorted(CASES.items())
             if CATALOGUE[name].per == "set" and not CATALOGUE[name].holds_rows]


@pytest.mark.parametrize("name,case", SET_LEVEL)
def test_set_level_value_takes_many_totals_at_once(name, case):
    """diff's bootstrap evaluates a set-level loss on (R, k) totals, one value per resample, in one call."""
    loss = CATALOGUE[name]
    params = {**loss.defaults(), **case.params}
    rng = np.random.default_rng(9)
    stats = np.stack([loss.stats(**as_arrays(case.make(rng, 20)), **params).sum(axis=0) for _ in range(5)])
    many = np.asarray(loss.value(totals=stats, **params))
    assert many.shape == (5,)
    # equal up to the order of summation (a batched matrix product rounds differently)
    np.testing.assert_allclose(many, [float(loss.value(totals=t, **params)) for t in stats], rtol=1e-12, atol=1e-15)


def test_finite_differences_approximate_a_known_derivative():
    arrays = {"pred": np.array([[1.0], [3.0]]), "target": np.array([[0.0], [0.0]])}
    # d/dp mean(p^2) = p (2 rows): [1, 3]
    np.testing.assert_allclose(finite_difference("mse", {}, arrays), [[1.0], [3.0]], rtol=1e-8)


# ----------------------------------------------------------------------------- Hessian diagonals

# Every loss without a Hessian diagonal, and why. A new loss must either give ``hess`` or be listed here.
NO_HESSIAN = {
    "dice": "set-level: a ratio of sums over the whole set, so no row has a second derivative of its own",
    "jaccard": "set-level: a ratio of sums over the whole set",
    "tversky": "set-level: a ratio of sums over the whole set",
    "focal_tversky": "set-level: a power of a ratio of sums over the whole set",
    "cosine": "embedding loss on normalised vectors: trained by autograd frameworks, not Newton boosting; "
              "gradient only",
    "cosine_embedding": "embedding loss on normalised vectors: gradient only",
    "triplet": "embedding loss on p-norm distances with a hinge: gradient only",
    "iou": "box loss through min/max of coordinates: gradient only",
    "giou": "box loss through min/max of coordinates: gradient only",
    "diou": "box loss through min/max of coordinates: gradient only",
    "ciou": "box loss with an arctan aspect term through min/max of coordinates: gradient only",
    # set-level losses: the engine's set path (second pass over the totals) carries gradients only
    "generalized_dice": "set-level: a ratio of class-weighted sums over the whole set",
    "mcc": "set-level: a ratio of products of sums (TP, FP, FN, TN) over the whole set",
    "weighted_kappa": "set-level: the log of a ratio of sums (observed over chance disagreement) over the whole set",
    "lovasz_hinge": "set-level and holds its rows: the Lovasz extension of the whole set's sorted errors",
    "lovasz_softmax": "set-level and holds its rows: the Lovasz extension of the whole set's sorted errors per class",
    "max_error": "set-level order statistic (holds its rows): only the worst element moves it; 0 wherever it exists",
    "median_absolute_error": "set-level order statistic (holds its rows): only the median elements move it",
    # piecewise-constant metrics: gradient and Hessian are 0 wherever they exist, nothing a Newton step can use
    "zero_one": "piecewise constant (a count of wrong rows after a threshold): no curvature anywhere",
    "hamming": "piecewise constant (a count of wrong labels after a threshold): no curvature anywhere",
    "top_k_error": "piecewise constant (a rank test): no curvature anywhere",
    "label_ranking": "piecewise constant (a count of misordered label pairs): no curvature anywhere",
    "coverage_error": "piecewise constant (a count of labels): no curvature anywhere",
    # query losses: engine/queries.py evaluates them on whole queries and carries no Hessian
    "ranking_softmax": "query loss: the engine's query path (engine/queries.py) reports gradients only",
    "pairwise_logistic": "query loss: the engine's query path reports gradients only",
    "lambdarank": "query loss: the engine's query path reports gradients only",
    "ndcg_loss": "query loss and piecewise constant in the scores (a sort): no curvature anywhere",
    "triplet_hard": "query loss with in-batch mining through max/min over pairs: the query path reports gradients only",
    "triplet_semihard": "query loss with in-batch mining through masked min/max: the query path reports gradients only",
    "ntxent": "query loss over all pairs of a batch: the engine's query path reports gradients only",
    "npairs": "query loss over all pairs of a batch: the engine's query path reports gradients only",
    "circle": "query loss over all pairs of a batch: the engine's query path reports gradients only",
}

HESS = [pytest.param(name, case, id=f"{name}-{case.name}") for name, cases in sorted(CASES.items())
        for case in cases if CATALOGUE[name].hess is not None]


def test_every_loss_has_a_hessian_or_a_reason():
    without = {name for name, loss in CATALOGUE.items() if loss.hess is None}
    assert without == set(NO_HESSIAN), (f"losses without hess and not listed: {sorted(without - set(NO_HESSIAN))}; "
                                        f"listed but have one: {sorted(set(NO_HESSIAN) - without)}")
    for name in NO_HESSIAN:
        with pytest.raises(losscli.UsageProblem, match=f"Loss '{name}' has no Hessian"):
            case = CASES[name][0]
            losscli.get(name, **case.params).hess(**as_arrays(case.make(np.random.default_rng(0), 3)))


@pytest.mark.parametrize("name,case", HESS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_hessian_matches_finite_differences_of_the_gradient(name, case, reduction):
    arrays = case.make(np.random.default_rng(1), 6)
    assert_hessian_matches_fd(name, case.params, arrays, reduction=reduction, rtol=case.fd_rtol)


@pytest.mark.parametrize("name,case", HESS)
def test_weighted_hessian_matches_finite_differences_of_the_gradient(name, case):
    rng = np.random.default_rng(2)
    arrays = case.make(rng, 6)
    assert_hessian_matches_fd(name, case.params, arrays, weight=rng.uniform(0.2, 3.0, size=6), rtol=case.fd_rtol)


@pytest.mark.parametrize("name,case", HESS)
def test_hessian_of_a_single_row_is_finite_and_streams(name, case):
    arrays = as_arrays(case.make(np.random.default_rng(6), 1))
    g, h = losscli.get(name, **case.params).grad_hess(**arrays)
    assert np.all(np.isfinite(h)) and h.shape == g.shape == arrays[CATALOGUE[name].inputs[0].name].shape
    arrays = as_arrays(case.make(np.random.default_rng(9), 23))
    f = losscli.get(name, **case.params)
    whole = f.hess(**arrays, reduction="sum")
    from losscli.sinks import MemorySink

    sink = MemorySink()
    losscli.compute(arrays, [f], inputs={r: r for r in arrays}, grad_out=sink, hess=True, reduction="sum",
                    batch_rows=5, block_rows=2)
    table = sink.table()
    streamed = np.column_stack([table.column(c).to_numpy() for c in table.column_names if c.startswith("hess[")])
    np.testing.assert_allclose(streamed, whole.reshape(streamed.shape), rtol=1e-14, atol=1e-300)


def test_hessian_check_catches_a_wrong_hessian(monkeypatch):
    """The finite-difference check of the Hessian must fail on one that is off by 1% (focal, a per-element loss)
    and on one that misses the softmax coupling (cross-entropy's p(1 - p) without its row sum of c)."""
    for name, wrong in (("focal", lambda good: lambda *a, **k: 1.01 * good(*a, **k)),
                        ("cross_entropy", lambda good: lambda pred, target, **k: good(pred, target, **k) + 1e-3)):
        good = CATALOGUE[name]
        monkeypatch.setitem(catalogue.CATALOGUE, name, dataclasses.replace(good, hess=wrong(good.hess)))
        arrays = CASES[name][0].make(np.random.default_rng(0), 5)
        with pytest.raises(AssertionError):
            assert_hessian_matches_fd(name, {}, arrays)
        monkeypatch.setitem(catalogue.CATALOGUE, name, good)
        assert_hessian_matches_fd(name, {}, arrays)
