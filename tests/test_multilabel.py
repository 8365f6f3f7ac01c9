"""Multi-label losses against torch (values and autograd) and scikit-learn.

References relied on:
- torch.nn.functional.multilabel_soft_margin_loss (weight per class) and multilabel_margin_loss (targets as class
  indices padded with -1, built here from the multi-hot columns), called directly.
- sklearn.metrics.hamming_loss, label_ranking_loss and coverage_error, called directly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import coverage_error, hamming_loss, label_ranking_loss

from losscli.errors import InputDataError

from .harness import assert_close, assert_matches_torch, ours

C = 5
rng = np.random.default_rng(33)


def data(kind: str, n: int = 60) -> dict:
    y = (rng.random((n, C)) < 0.4).astype(float)
    if kind == "random":
        x = rng.normal(size=(n, C)) * 3
    elif kind == "huge":
        x = rng.choice([-1e4, 1e4, 0.0, 2.5], size=(n, C))
    elif kind == "ties":  # integer scores: many ties
        x = rng.integers(-2, 3, size=(n, C)).astype(float)
    elif kind == "edge rows":  # rows with every label and rows with none
        x = rng.normal(size=(n, C))
        y[::3] = 1.0
        y[1::3] = 0.0
    elif kind == "single":
        return {"pred": np.array([[0.2, -1.0, 3.0, 0.0, 0.5]]), "target": np.array([[1.0, 0.0, 1.0, 0.0, 0.0]])}
    else:
        raise ValueError(kind)
    return {"pred": x, "target": y}


KINDS = ["random", "huge", "ties", "edge rows", "single"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weight", [None, (1.0, 2.0, 0.5, 0.0, 3.0)])
def test_multilabel_soft_margin_matches_torch(kind, weight):
    w = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    assert_matches_torch("multilabel_soft_margin", {"weight": weight}, data(kind),
                         lambda pred, target: F.multilabel_soft_margin_loss(pred, target, weight=w))


def torch_margin(reduction="mean"):
    def fn(pred, target):
        rows = []
        for row in target.numpy():
            idx = list(np.flatnonzero(row == 1)) + [-1] * (C - int(row.sum()))
            rows.append(idx[:C])
        return F.multilabel_margin_loss(pred, torch.tensor(rows), reduction=reduction)

    return fn


@pytest.mark.parametrize("kind", ["random", "huge", "edge rows", "single"])
def test_multilabel_margin_matches_torch(kind):
    # ties put hinges exactly at 1 - 0 = 1 > 0, which is fine; exact hinge zeros are avoided by the data
    assert_matches_torch("multilabel_margin", {}, data(kind), torch_margin())
    assert_matches_torch("multilabel_margin", {}, data(kind), torch_margin("sum"), reduction="sum")


@pytest.mark.parametrize("kind", KINDS)
def test_hamming_label_ranking_and_coverage_match_sklearn(kind):
    d = data(kind)
    n = d["pred"].shape[0]
    w = rng.uniform(0.1, 2, size=n)
    p = 1 / (1 + np.exp(-np.clip(d["pred"], -700, 700)))
    value, grad = ours("hamming", {}, {"pred": p, "target": d["target"]}, weight=w)
    assert_close(value, hamming_loss(d["target"], (p > 0.5).astype(float), sample_weight=w), 1e-13, "hamming")
    assert np.all(grad == 0)
    value, _ = ours("hamming", {"from_logits": True}, d, weight=w)
    assert_close(value, hamming_loss(d["target"], (d["pred"] > 0).astype(float), sample_weight=w), 1e-13,
                 "hamming on logits")
    if kind != "single":  # sklearn needs a 2-D multilabel-indicator with both classes present
        value, grad = ours("label_ranking", {}, d, weight=w)
        assert_close(value, label_ranking_loss(d["target"], d["pred"], sample_weight=w), 1e-13, "label_ranking")
        assert np.all(grad == 0)
        value, _ = ours("coverage_error", {}, d, weight=w)
        assert_close(value, coverage_error(d["target"], d["pred"], sample_weight=w), 1e-13, "coverage_error")
    else:
        assert ours("label_ranking", {}, d)[0] == 1 / 6  # pairs (0,4) misordered: 0.2 < 0.5
        assert ours("coverage_error", {}, d)[0] == 3.0  # 3.0, 0.5, 0.2 down to the lowest relevant 0.2


def test_hamming_exact_probabilities_and_a_million_rows():
    p = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.5000001]])
    y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert ours("hamming", {}, {"pred": p, "target": y})[0] == 1 / 6
    n = 1_000_000
    p = rng.uniform(size=(n, 2))
    y = (rng.random((n, 2)) < 0.5).astype(float)
    value, _ = ours("hamming", {}, {"pred": p, "target": y})
    assert_close(value, hamming_loss(y, (p > 0.5).astype(float)), 1e-12, "a million rows")


def test_targets_must_be_multi_hot():
    with pytest.raises(InputDataError, match="0 or 1"):
        ours("label_ranking", {}, {"pred": [[0.1, 0.2]], "target": [[0.5, 1.0]]})
    with pytest.raises(InputDataError, match="weight parameter has 2 values"):
        ours("multilabel_soft_margin", {"weight": (1.0, 2.0)}, {"pred": [[0.1, 0.2, 0.3]], "target": [[0.0, 1.0, 1.0]]})


def test_grad_warns_for_the_piecewise_constant_ones(tmp_path):
    from click.testing import CliRunner

    from losscli.cli import main

    path = tmp_path / "m.csv"
    path.write_text("pred_0,pred_1,target_0,target_1\n0.3,1.2,1,0\n-0.5,0.1,0,1\n")
    result = CliRunner().invoke(main, ["compute", "-l", "label_ranking", "-l", "coverage_error",
                                       "-l", "multilabel_margin", "--grad", str(path)])
    assert result.exit_code == 0, result.output
    assert "label_ranking is piecewise constant" in result.stderr
    assert "coverage_error is piecewise constant" in result.stderr
    assert "multilabel_margin" not in result.stderr  # it has a real gradient
