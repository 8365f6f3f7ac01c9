"""median_absolute_error, max_error, lovasz_hinge and lovasz_softmax: the set-level losses that keep every row.

References relied on:
- sklearn.metrics.median_absolute_error (multioutput='uniform_average') and max_error, called directly.
- segmentation_models_pytorch losses/lovasz.py: _lovasz_grad, _lovasz_hinge_flat (errors 1 - x (2y - 1), sorted
  decreasingly, dot(relu(errors), grad)) and _lovasz_softmax_flat (classes='present', |fg - p| per class, mean),
  transcribed here in torch ops so autograd gives the reference gradient.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from sklearn.metrics import max_error, median_absolute_error

from losscli.api import diff as api_diff
from losscli.cli import main
from losscli.errors import UsageProblem

from .harness import assert_close, assert_matches_torch, compute_arrays, ours

rng = np.random.default_rng(66)


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_median_and_max_match_sklearn(n):
    target = rng.normal(size=(n, 2))
    pred = target + rng.choice([1e6, -3.0, 0.5, 0.0, 2.0], size=(n, 2)) * rng.uniform(size=(n, 2))
    value, grad = ours("median_absolute_error", {}, {"pred": pred, "target": target})
    assert_close(value, median_absolute_error(target, pred), 1e-15, "median")
    # at most 1/2 per column (split among the middle rows; 0 where the median residual is exactly 0)
    assert np.isfinite(grad).all() and np.abs(grad).sum() <= 1.0 + 1e-12
    value, _ = ours("max_error", {}, {"pred": pred[:, :1], "target": target[:, :1]})
    assert_close(value, max_error(target[:, 0], pred[:, 0]), 1e-15, "max")


def test_median_streams_exactly_over_many_batches_and_groups():
    n = 100_000
    target = rng.normal(size=n)
    pred = target + rng.standard_cauchy(size=n)
    groups = rng.integers(0, 3, size=n)
    report = compute_arrays("median_absolute_error", {}, {"pred": pred, "target": target}, groups=groups,
                            batch_rows=7_001, block_rows=999)
    assert_close(report.results[0].value, median_absolute_error(target, pred), 0, "whole set, many batches")
    for g in range(3):
        mine = groups == g
        assert_close(report.results[g + 1].value, median_absolute_error(target[mine], pred[mine]), 0, f"group {g}")


def test_order_statistic_gradients_touch_only_the_selected_rows():
    pred = np.array([0.0, 4.0, -1.0, 2.5, 10.0])
    target = np.zeros(5)
    _, g = ours("median_absolute_error", {}, {"pred": pred, "target": target})
    assert g[:, 0].tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]  # |r| = 0, 4, 1, 2.5, 10: the median is 2.5
    _, g = ours("max_error", {}, {"pred": pred, "target": target})
    assert g[:, 0].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
    _, g = ours("median_absolute_error", {}, {"pred": pred[:4], "target": target[:4]})
    assert g[:, 0].tolist() == [0.0, 0.0, -0.5, 0.5]  # even count: |r| = 1 and 2.5 share; r = -1 has sign -1


def test_median_gradient_is_shared_evenly_among_tied_middle_elements():
    # |r| = 2, 2, 2, 1, 5: the median 2 is held by three rows, each gets 1/3 (times sign r)
    _, g = ours("median_absolute_error", {}, {"pred": np.array([2.0, -2.0, 2.0, 1.0, 5.0]), "target": np.zeros(5)})
    np.testing.assert_allclose(g[:, 0], [1 / 3, -1 / 3, 1 / 3, 0.0, 0.0], rtol=1e-15)
    # even count, |r| = 1, 3, 3, 0: the middle two are 1 (one row, 1/2) and 3 (two rows, 1/4 each)
    _, g = ours("median_absolute_error", {}, {"pred": np.array([1.0, -3.0, 3.0, 0.0]), "target": np.zeros(4)})
    np.testing.assert_allclose(g[:, 0], [0.5, -0.25, 0.25, 0.0], rtol=1e-15)
    # two columns: each column's share is divided by the number of columns (the value is their mean)
    pred = np.array([[2.0, 7.0], [2.0, 7.0], [0.0, 1.0]])
    _, g = ours("median_absolute_error", {}, {"pred": pred, "target": np.zeros((3, 2))})
    np.testing.assert_allclose(g, [[0.25, 0.25], [0.25, 0.25], [0.0, 0.0]], rtol=1e-15)


def test_grad_warns_and_diff_refuses(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("pred,target\n1,0\n3,0\n-2,0\n")
    result = CliRunner().invoke(main, ["compute", "-l", "median_absolute_error", "-l", "max_error", "--grad", "-f",
                                       "json", str(path)])
    assert result.exit_code == 0, result.output
    values = [r["value"] for r in json.loads(result.stdout)["results"]]
    assert values == [2.0, 3.0]
    assert "not a sum over rows" in result.stderr and "median row(s)" in result.stderr
    with pytest.raises(UsageProblem, match="diff cannot compare"):
        api_diff(str(path), str(path), ["median_absolute_error"])


def test_held_rows_are_refused_beyond_the_stated_limit(monkeypatch):
    from losscli.engine import held

    monkeypatch.setattr(held, "HELD_LIMIT", 100)
    with pytest.raises(UsageProblem, match="needs every row in memory"):
        ours("median_absolute_error", {}, {"pred": np.zeros((60, 2)), "target": np.ones((60, 2))})


# ----------------------------------------------------------------------------- Lovász


def lovasz_grad(gt_sorted):
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


def smp_hinge(pred, target):
    logits, labels = pred.reshape(-1), target.reshape(-1)
    errors = 1.0 - logits * (2.0 * labels - 1.0)
    errors_sorted, perm = torch.sort(errors, descending=True, stable=True)
    return torch.dot(torch.relu(errors_sorted), lovasz_grad(labels[perm]))


def smp_softmax(from_logits=True):
    def fn(pred, target):
        probas = torch.softmax(pred, dim=1) if from_logits else pred
        labels = target[:, 0]
        losses = []
        for c in range(pred.shape[1]):
            fg = (labels == c).double()
            if fg.sum() == 0:
                continue
            errors = (fg - probas[:, c]).abs()
            errors_sorted, perm = torch.sort(errors, descending=True, stable=True)
            losses.append(torch.dot(errors_sorted, lovasz_grad(fg[perm])))
        return sum(losses) / len(losses)

    return fn


@pytest.mark.parametrize("kind", ["random", "huge", "single", "all negative"])
def test_lovasz_hinge_matches_smp(kind):
    n = 1 if kind == "single" else 80
    target = (rng.random((n, 2)) < 0.4).astype(float)
    if kind == "huge":
        pred = rng.choice([-1e4, 1e4, 0.3, -2.0], size=(n, 2)) + rng.normal(size=(n, 2)) * 1e-3
    elif kind == "all negative":
        target[:] = 0.0
        pred = rng.normal(size=(n, 2))
    else:
        pred = rng.normal(size=(n, 2)) * 2
    assert_matches_torch("lovasz_hinge", {}, {"pred": pred, "target": target}, smp_hinge)


@pytest.mark.parametrize("kind", ["ties", "ulps apart"])
def test_lovasz_hinge_orders_many_tied_and_close_errors_as_torch(kind):
    # beyond 4,096 elements the errors are ordered through integer keys whose lowest bits hold the row: tied errors
    # must still keep row order (the gradient's split among them depends on it) and errors a few ulps apart must
    # still come out by value
    n = 3000
    target = (rng.random((n, 2)) < 0.4).astype(float)
    if kind == "ties":
        size = rng.choice([0.25, 0.5, 2.0, 3.0], size=(n, 2))
    else:
        size = 0.5 + rng.integers(0, 40, size=(n, 2)) * 2.0**-52
    pred = np.where(target == 1.0, size, -size)  # the error 1 - x (2y - 1) is 1 - size whatever the label
    assert_matches_torch("lovasz_hinge", {}, {"pred": pred, "target": target}, smp_hinge)


@pytest.mark.parametrize("kind", ["ties", "ulps apart"])
def test_lovasz_hinge_over_more_than_a_million_elements_matches_smp(kind):
    # past 2^20 sorted elements the Jaccard weights are formed a block at a time, their running sums carried
    # across the blocks; ties and near-ties straddle the block boundaries
    n = 800_000
    target = (rng.random((n, 2)) < 0.4).astype(float)
    if kind == "ties":
        size = rng.choice([-0.5, 0.25, 0.75, 3.0], size=(n, 2))  # three in four errors > 0: 1.2M sorted
    else:
        size = 0.5 + rng.integers(0, 40, size=(n, 2)) * 2.0**-52
    pred = np.where(target == 1.0, size, -size)
    assert_matches_torch("lovasz_hinge", {}, {"pred": pred, "target": target}, smp_hinge)


def test_lovasz_softmax_over_more_than_a_million_rows_matches_smp():
    # each class sorts every row: 1.1M. Continuous logits: with tied probabilities one ulp apart between two
    # softmax implementations, which of the tied rows comes first (and so the gradient's split) is not defined
    labels = rng.integers(0, 2, size=1_100_000).astype(float)
    logits = rng.normal(size=(labels.size, 2)) * 3
    assert_matches_torch("lovasz_softmax", {}, {"pred": logits, "target": labels}, smp_softmax())


@pytest.mark.parametrize("kind", ["logits", "huge", "probabilities", "absent class", "huge, many rows"])
def test_lovasz_softmax_matches_smp(kind):
    n, k = (5000, 3) if kind == "huge, many rows" else (90, 4)
    labels = rng.integers(0, k if kind != "absent class" else k - 1, size=n).astype(float)
    params = {}
    if kind == "probabilities":
        pred = rng.dirichlet(np.ones(k), size=n)
        params = {"from_logits": False}
    elif kind.startswith("huge"):  # probabilities of exactly 0 and 1: many tied errors
        pred = rng.choice([-1e4, 1e4, 0.5], size=(n, k)) + rng.normal(size=(n, k))
    else:
        pred = rng.normal(size=(n, k)) * 2
    assert_matches_torch("lovasz_softmax", params, {"pred": pred, "target": labels},
                         smp_softmax(params.get("from_logits", True)))
