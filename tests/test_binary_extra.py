"""perceptron, exponential, zero_one and sparsemax against their libraries.

References relied on:
- perceptron: optax.losses.perceptron_loss = max(0, -s y), y in {-1, 1} (optax/losses/_classification.py),
  written here in torch ops for values and autograd.
- exponential: scikit-learn's private sklearn._loss.loss.ExponentialLoss (loss and gradient with respect to the
  raw prediction), called directly; and y exp(-f) + (1 - y) exp(f) in torch ops for autograd.
- zero_one: sklearn.metrics.zero_one_loss, called directly (binary and multilabel indicator data).
- sparsemax: optax.losses.sparsemax_loss = jax.nn.sparse_plus(where(labels, -logits, logits)), with
  sparse_plus(x) = 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1; written here in torch ops.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from sklearn._loss.loss import ExponentialLoss
from sklearn.metrics import zero_one_loss

from losscli.cli import main
from losscli.errors import InputDataError

from .harness import assert_close, assert_matches_torch, named, ours

rng = np.random.default_rng(12)


def scores(kind: str, n: int = 60, width: int = 2, labels=(0.0, 1.0)):
    target = rng.choice(labels, size=(n, width))
    if kind == "random":
        return {"pred": rng.normal(size=(n, width)) * 3, "target": target}
    if kind == "extreme":
        return {"pred": rng.choice([-1e4, 1e4, 0.0, 0.7], size=(n, width)), "target": target}
    if kind == "single":
        return {"pred": np.array([[-0.4]]), "target": np.array([[labels[1]]])}
    raise ValueError(kind)


# ----------------------------------------------------------------------------- perceptron


@pytest.mark.parametrize("labels", [(-1.0, 1.0), (0.0, 1.0)])
@pytest.mark.parametrize("kind", ["random", "extreme", "single"])
def test_perceptron_matches_optax_formula(kind, labels):
    def fn(pred, target):
        y = torch.where(target == 0, -1.0, target)
        return torch.relu(-pred * y).mean()

    assert_matches_torch("perceptron", {}, scores(kind, labels=labels), fn)


def test_perceptron_is_hinge_with_zero_margin():
    data = scores("random", labels=(-1.0, 1.0))
    assert_close(ours("perceptron", {}, data)[0], ours("hinge", {"margin": 0.0}, data)[0], 1e-15, "hinge margin 0")


# ----------------------------------------------------------------------------- exponential


@pytest.mark.parametrize("soft", [False, True])
def test_exponential_matches_sklearn_private_loss(soft):
    n = 80
    raw = rng.normal(size=n) * 4
    y = rng.uniform(size=n) if soft else (rng.random(n) < 0.5).astype(float)
    ref = ExponentialLoss()
    value, grad = ours("exponential", {}, {"pred": raw, "target": y})
    assert_close(value, ref.loss(y_true=y, raw_prediction=raw).mean(), 1e-13, "value vs sklearn")
    assert_close(grad[:, 0], ref.gradient(y_true=y, raw_prediction=raw) / n, 1e-13, "gradient vs sklearn")


@pytest.mark.parametrize("kind", ["random", "single"])
def test_exponential_autograd(kind):
    def fn(pred, target):
        return (target * torch.exp(-pred) + (1 - target) * torch.exp(pred)).mean()

    assert_matches_torch("exponential", {}, scores(kind), fn)


def test_exponential_saturated_right_answers_cost_nothing_and_wrong_ones_are_refused():
    # logits of +-1e4 on the right side: exp(-1e4) = 0 exactly, and 0 * exp(1e4) never forms inf * 0
    value, grad = ours("exponential", {}, {"pred": [1e4, -1e4, 800.0], "target": [1.0, 0.0, 1.0]})
    assert value == 0.0 and np.all(grad == 0.0)
    # the wrong side: the loss is exp(1e4), beyond float64, so the rows are named, not reported as inf
    with pytest.raises(InputDataError, match=r"larger than the largest float64.*rows? 2"):
        ours("exponential", {}, {"pred": [0.0, -1e4], "target": [1.0, 1.0]})
    # a soft label keeps a finite value up to log(max float) on the wrong side
    v, _ = ours("exponential", {}, {"pred": [700.0], "target": [0.5]})
    assert_close(v, 0.5 * np.exp(700.0), 1e-13, "large but finite")


# ----------------------------------------------------------------------------- zero_one


def test_zero_one_matches_sklearn_on_probabilities_and_logits():
    n = 500
    p = rng.choice([0.0, 1.0, 0.5, 0.2, 0.9, 0.5 + 1e-12], size=n)
    y = (rng.random(n) < 0.5).astype(float)
    value, grad = ours("zero_one", {}, {"pred": p, "target": y})
    assert_close(value, zero_one_loss(y, (p > 0.5).astype(float)), 1e-15, "probabilities")
    assert np.all(grad == 0.0)
    x = rng.choice([-1e4, 1e4, 0.0, -0.3, 2.0], size=n)
    value, _ = ours("zero_one", {"from_logits": True}, {"pred": x, "target": y})
    assert_close(value, zero_one_loss(y, (x > 0).astype(float)), 1e-15, "logits")
    value, _ = ours("zero_one", {"from_logits": True, "threshold": 1.5}, {"pred": x, "target": y})
    assert_close(value, zero_one_loss(y, (x > 1.5).astype(float)), 1e-15, "threshold in logit units")


def test_zero_one_on_several_columns_is_sklearns_subset_loss():
    p = rng.uniform(size=(300, 3))
    y = (rng.random((300, 3)) < 0.5).astype(float)
    w = rng.uniform(0, 2, size=300)
    value, _ = ours("zero_one", {"threshold": 0.4}, {"pred": p, "target": y}, weight=w)
    assert_close(value, zero_one_loss(y, (p > 0.4).astype(int), sample_weight=w), 1e-14, "multilabel, weighted")


def test_zero_one_single_row_and_a_million_rows():
    assert ours("zero_one", {}, {"pred": [0.7], "target": [0.0]})[0] == 1.0
    n = 1_000_000
    p = rng.uniform(size=n)
    y = (rng.random(n) < 0.3).astype(float)
    value, _ = ours("zero_one", {}, {"pred": p, "target": y})
    assert_close(value, zero_one_loss(y, (p > 0.5).astype(float)), 1e-14, "a million rows")


def test_zero_one_grad_warns_and_refuses_logits_as_probabilities(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("pred,target\n0.2,0\n0.9,1\n0.7,0\n")
    result = CliRunner().invoke(main, ["compute", "-l", "zero_one", "--grad", "-f", "json", str(path)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["results"][0]["value"] == pytest.approx(1 / 3) and doc["results"][0]["grad"]["l2"] == 0.0
    assert "piecewise constant" in result.stderr and "gradient is 0" in result.stderr
    path.write_text("pred,target\n2.5,1\n-1,0\n")
    bad = CliRunner().invoke(main, ["compute", "-l", "zero_one", str(path)])
    assert bad.exit_code == 3 and "set from_logits=true" in bad.stderr and "rows 1, 2" in bad.stderr


# ----------------------------------------------------------------------------- sparsemax


def sparse_plus(z):
    return torch.where(z <= -1, torch.zeros_like(z), torch.where(z < 1, (z + 1) ** 2 / 4, z))


@pytest.mark.parametrize("kind", ["random", "extreme", "single"])
def test_sparsemax_matches_optax_formula(kind):
    def fn(pred, target):
        return sparse_plus(torch.where(target == 1, -pred, pred)).mean()

    assert_matches_torch("sparsemax", {}, scores(kind), fn)


def test_sparsemax_is_zero_exactly_when_the_sparse_sigmoid_hits_the_label():
    x = np.array([1.0, 3.0, -1.0, -7.0, 0.999, -0.999])
    y = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    per_row = ours("sparsemax", {}, {"pred": x, "target": y}, reduction="sum")[0]
    assert_close(per_row, 2 * (0.001 ** 2 / 4), 1e-9, "only the two rows inside (-1, 1) cost")


def test_sparsemax_refuses_soft_labels():
    with pytest.raises(InputDataError, match="0 or 1"):
        ours("sparsemax", {}, {"pred": [0.3], "target": [0.5]})
