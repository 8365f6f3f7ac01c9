"""Margin losses against torch (SoftMarginLoss) and Keras' hinge formulas written in torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from losscli.cli import main

from .harness import assert_close, assert_matches_torch, ours

rng = np.random.default_rng(3)


def data(labels=(-1.0, 1.0), n=50, scale=2.0):
    return {"pred": rng.normal(size=(n, 2)) * scale, "target": rng.choice(labels, size=(n, 2))}


def as_signed(target):
    return torch.where(target == 0, -torch.ones_like(target), target)


def keras_hinge(margin, squared=False):
    def fn(pred, target):
        h = torch.clamp(margin - as_signed(target) * pred, min=0)
        return (h**2 if squared else h).mean()

    return fn


@pytest.mark.parametrize("labels", [(-1.0, 1.0), (0.0, 1.0)])
@pytest.mark.parametrize("margin", [1.0, 0.5, 2.0])
def test_hinge_family(labels, margin):
    d = data(labels)
    assert_matches_torch("hinge", {"margin": margin}, d, keras_hinge(margin))
    assert_matches_torch("squared_hinge", {"margin": margin}, d, keras_hinge(margin, squared=True))


@pytest.mark.parametrize("labels", [(-1.0, 1.0), (0.0, 1.0)])
def test_soft_margin_matches_torch(labels):
    d = data(labels)
    assert_matches_torch("soft_margin", {}, d, lambda pred, target: F.soft_margin_loss(pred, as_signed(target)))
    # torch's SoftMarginLoss computes log(1 + exp(-y s)) literally and overflows to inf at y s = -1e4;
    # the exact value is 1e4, which torch's own softplus (a stable form of the same function) gives
    extreme = {"pred": np.array([[1e4], [-1e4], [1e4]]), "target": np.array([[1.0], [1.0], [-1.0]])}
    assert F.soft_margin_loss(torch.tensor(extreme["pred"]), torch.tensor(extreme["target"])).item() == float("inf")
    assert_matches_torch("soft_margin", {}, extreme, lambda pred, target: F.softplus(-target * pred).mean())


def test_soft_margin_is_bce_logits_on_binary_labels():
    d = data((0.0, 1.0))
    assert_close(ours("soft_margin", {}, d)[0], ours("bce_logits", {}, d)[0], 1e-13, "soft_margin vs bce_logits")


def test_keras_hinge_docstring_style_number():
    # y = [[0, 1], [0, 0]] -> [[-1, 1], [-1, -1]]; s = [[0.6, 0.4], [0.4, 0.6]]:
    # hinge per element max(0, 1 - y s) = [[1.6, 0.6], [1.4, 1.6]], mean 1.3
    value, _ = ours("hinge", {}, {"pred": [[0.6, 0.4], [0.4, 0.6]], "target": [[0, 1], [0, 0]]})
    assert value == pytest.approx(1.3)


def test_million_rows():
    n = 1_000_000
    s, y = rng.normal(size=(n, 1)), rng.choice([-1.0, 1.0], size=(n, 1))
    assert ours("soft_margin", {}, {"pred": s, "target": y})[0] == pytest.approx(
        F.soft_margin_loss(torch.tensor(s), torch.tensor(y)).item(), rel=1e-10)


@pytest.mark.parametrize("content,fragment", [
    ("pred,target\n0.2,1\n0.9,2\n0.1,-1\n", "labels -1 or 1"),
    ("pred,target\n0.2,1\n0.9,0\n0.1,-1\n", "mix 0 and -1"),
])
def test_bad_labels_exit_3_naming_rows(tmp_path, content, fragment):
    path = tmp_path / "m.csv"
    path.write_text(content)
    result = CliRunner().invoke(main, ["compute", "-l", "hinge", str(path)])
    assert result.exit_code == 3 and fragment in result.stderr and "row 2" in result.stderr
