"""Binary and multi-label losses against torch, torchvision's and Ultralytics' formulas, Keras and sklearn."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from losscli.cli import main

from .harness import assert_close, assert_matches_torch, ours

rng = np.random.default_rng(7)


def binary(n=60, width=2, kind="random"):
    target = (rng.random((n, width)) < 0.4).astype(float)
    if kind == "random":
        return {"pred": rng.uniform(0.01, 0.99, size=(n, width)), "target": target}
    if kind == "exact":  # exact 0 and 1 predictions, right and wrong
        pred = rng.choice([0.0, 1.0, 0.5], size=(n, width))
        return {"pred": pred, "target": target}
    if kind == "soft":
        return {"pred": rng.uniform(0, 1, size=(n, width)), "target": rng.uniform(0, 1, size=(n, width))}
    raise ValueError(kind)


def logit_data(n=60, width=2, kind="random"):
    target = (rng.random((n, width)) < 0.4).astype(float)
    if kind == "random":
        return {"pred": rng.normal(size=(n, width)) * 3, "target": target}
    if kind == "extreme":  # +-1e4, right and wrong
        return {"pred": rng.choice([-1e4, 1e4, 0.0, 30.0, -40.0], size=(n, width)), "target": target}
    if kind == "soft":
        return {"pred": rng.normal(size=(n, width)) * 3, "target": rng.uniform(0, 1, size=(n, width))}
    if kind == "single":
        return {"pred": np.array([[1.3]]), "target": np.array([[1.0]])}
    raise ValueError(kind)


# ----------------------------------------------------------------------------- bce


@pytest.mark.parametrize("kind", ["random", "exact", "soft"])
def test_bce_matches_torch(kind):
    assert_matches_torch("bce", {}, binary(kind=kind), lambda pred, target: F.binary_cross_entropy(pred, target))


def test_bce_sum_and_weights_match_torch():
    data = binary()
    assert_matches_torch("bce", {}, data, lambda pred, target: F.binary_cross_entropy(pred, target, reduction="sum"),
                         reduction="sum")
    w = rng.uniform(0, 2, size=60)

    def weighted(pred, target):
        per_row = F.binary_cross_entropy(pred, target, reduction="none").mean(dim=1)
        return (torch.tensor(w) * per_row).sum() / w.sum()

    assert_matches_torch("bce", {}, data, weighted, weight=w)


@pytest.mark.parametrize("kind", ["random", "exact"])
def test_bce_keras_compat(kind):
    # keras 3 backend binary_crossentropy: p clipped to [1e-7, 1 - 1e-7], then y log p + (1 - y) log(1 - p)
    def keras(pred, target):
        p = pred.clamp(1e-7, 1 - 1e-7)
        return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()

    assert_matches_torch("bce", {"compat": "keras"}, binary(kind=kind), keras)


@pytest.mark.parametrize("kind", ["random", "exact"])
def test_bce_sklearn_compat(kind):
    from sklearn.metrics import log_loss

    data = binary(width=1, kind=kind)
    ref = log_loss(data["target"][:, 0], data["pred"][:, 0], labels=[0, 1])
    value, _ = ours("bce", {"compat": "sklearn"}, data)
    assert value == pytest.approx(ref, rel=1e-12)
    eps = np.finfo(np.float64).eps
    assert_matches_torch("bce", {"compat": "sklearn"}, data, lambda pred, target: F.binary_cross_entropy(
        pred.clamp(eps, 1 - eps), target), rtol_value=1e-12)


def test_bce_libraries_disagree_at_exact_zero():
    data = {"pred": [[0.0]], "target": [[1.0]]}
    assert ours("bce", {}, data)[0] == 100.0
    assert ours("bce", {"compat": "keras"}, data)[0] == pytest.approx(-np.log(1e-7))
    assert ours("bce", {"compat": "sklearn"}, data)[0] == pytest.approx(-np.log(np.finfo(float).eps))


# ----------------------------------------------------------------------------- bce_logits


@pytest.mark.parametrize("kind", ["random", "extreme", "soft", "single"])
@pytest.mark.parametrize("pos_weight", [1.0, 0.3, 4.0])
def test_bce_logits_matches_torch(kind, pos_weight):
    def ref(pred, target):
        return F.binary_cross_entropy_with_logits(pred, target, pos_weight=torch.tensor(pos_weight, dtype=torch.float64))

    assert_matches_torch("bce_logits", {"pos_weight": pos_weight}, logit_data(kind=kind), ref)


def test_bce_logits_keeps_tiny_losses_of_confident_logits():
    # a correct logit of -40 costs log(1 + e^-40) = 4.25e-18; torch's BCEWithLogitsLoss rounds it to 0,
    # torch's softplus (exact there) keeps it, and so do we
    for x, y in ((-40.0, 0.0), (40.0, 1.0), (-700.0, 0.0)):
        exact = lambda pred, target: F.softplus(torch.where(target == 1, -pred, pred)).mean()  # noqa: E731
        assert_matches_torch("bce_logits", {}, {"pred": [[x]], "target": [[y]]}, exact, rtol_value=1e-12)
    assert ours("bce_logits", {}, {"pred": [[-40.0]], "target": [[0.0]]})[0] == pytest.approx(np.log1p(np.exp(-40.0)), rel=1e-15)


def test_bce_logits_equals_bce_on_sigmoid():
    data = logit_data()
    probs = {"pred": 1 / (1 + np.exp(-data["pred"])), "target": data["target"]}
    assert_close(ours("bce_logits", {}, data)[0], ours("bce", {}, probs)[0], 1e-12, "bce_logits vs bce")


# ----------------------------------------------------------------------------- focal


def torchvision_focal(gamma, alpha, reduction="mean"):
    """torchvision.ops.sigmoid_focal_loss, written out in torch ops."""
    def fn(pred, target):
        p = torch.sigmoid(pred)
        ce = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
        p_t = p * target + (1 - p) * (1 - target)
        loss = ce * ((1 - p_t) ** gamma)
        if alpha >= 0:
            loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
        return loss.mean() if reduction == "mean" else loss.sum()

    return fn


@pytest.mark.parametrize("kind", ["random", "soft", "single"])
@pytest.mark.parametrize("gamma,alpha", [(2.0, 0.25), (0.0, 0.25), (1.5, -1.0), (0.5, 0.6), (3.0, 0.0)])
def test_focal_matches_torchvision(kind, gamma, alpha):
    assert_matches_torch("focal", {"gamma": gamma, "alpha": alpha}, logit_data(kind=kind), torchvision_focal(gamma, alpha))


def test_focal_extreme_logits():
    # torchvision forms 1 - p_t from p = sigmoid(x) and loses it to rounding for |x| > 37; we keep it,
    # so values agree to the last digit where torch is exact and gradients agree to torch's absolute precision
    data = logit_data(kind="extreme")
    value, grad = ours("focal", {}, data)
    ref = torchvision_focal(2.0, 0.25)
    x = torch.tensor(data["pred"], requires_grad=True)
    out = ref(x, torch.tensor(data["target"]))
    out.backward()
    assert value == pytest.approx(out.item(), rel=1e-12)
    np.testing.assert_allclose(grad, x.grad.numpy(), rtol=1e-7, atol=1e-15)
    assert np.all(np.isfinite(grad))


def test_focal_gamma_below_one_is_finite_at_saturation():
    value, grad = ours("focal", {"gamma": 0.5}, {"pred": [[1e4], [-1e4], [50.0]], "target": [[1.0], [0.0], [1.0]]})
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_focal_gamma_zero_no_alpha_is_bce_logits():
    data = logit_data()
    v1, g1 = ours("focal", {"gamma": 0.0, "alpha": -1.0}, data)
    v2, g2 = ours("bce_logits", {}, data)
    assert_close(v1, v2, 1e-14, "value")
    assert_close(g1, g2, 1e-13, "gradient")


def ultralytics_focal(gamma=1.5, alpha=0.25):
    """ultralytics.utils.loss.FocalLoss.forward written in torch: BCE * (1 - p_t)^gamma * alpha_t, .mean(1).sum()."""
    def fn(pred, target):
        loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
        p = pred.sigmoid()
        p_t = target * p + (1 - target) * (1 - p)
        loss = loss * (1.0 - p_t) ** gamma
        if alpha > 0:
            loss = loss * (target * alpha + (1 - target) * (1 - alpha))
        return loss.mean(1).sum()

    return fn


def test_focal_worked_example_ultralytics():
    """Ultralytics FocalLoss(gamma=1.5) on logits [0.8, -1.5, 0.1], targets [1, 0, 1]: 0.080528 (sum)."""
    data = {"pred": [[0.8], [-1.5], [0.1]], "target": [[1.0], [0.0], [1.0]]}
    value, _ = ours("focal", {"gamma": 1.5}, data, reduction="sum")
    assert round(value, 6) == 0.080528
    assert_matches_torch("focal", {"gamma": 1.5}, data, ultralytics_focal(), reduction="sum")


def keras_focal(gamma):
    """keras binary_focal_crossentropy(from_logits=True, apply_class_balancing=False) in torch ops:
    bce from logits times (1 - p_t)^gamma, no alpha."""
    def fn(pred, target):
        p = torch.sigmoid(pred)
        p_t = target * p + (1 - target) * (1 - p)
        return ((1 - p_t) ** gamma * F.binary_cross_entropy_with_logits(pred, target, reduction="none")).mean()

    return fn


@pytest.mark.parametrize("gamma", [2.0, 1.0])
def test_focal_compat_conventions(gamma):
    data = logit_data()
    assert_matches_torch("focal", {"gamma": gamma, "compat": "keras"}, data, keras_focal(gamma))
    # alpha = 0: torchvision weights positives by 0, Ultralytics switches alpha off
    assert_matches_torch("focal", {"gamma": gamma, "alpha": 0.0}, data, torchvision_focal(gamma, 0.0))
    one = {"pred": data["pred"][:, :1], "target": data["target"][:, :1]}
    assert_matches_torch("focal", {"gamma": gamma, "alpha": 0.0, "compat": "ultralytics"}, one,
                         ultralytics_focal(gamma, 0.0), reduction="sum")
    assert_matches_torch("focal", {"gamma": gamma, "compat": "ultralytics"}, one,
                         ultralytics_focal(gamma, 0.25), reduction="sum")


def test_million_rows_match_torch_values():
    n = 1_000_000
    x, y = rng.normal(size=(n, 1)) * 4, (rng.random((n, 1)) < 0.2).astype(float)
    tx, ty = torch.tensor(x), torch.tensor(y)
    assert ours("bce_logits", {}, {"pred": x, "target": y})[0] == pytest.approx(
        F.binary_cross_entropy_with_logits(tx, ty).item(), rel=1e-10)
    assert ours("focal", {}, {"pred": x, "target": y})[0] == pytest.approx(torchvision_focal(2.0, 0.25)(tx, ty).item(), rel=1e-10)
    p = 1 / (1 + np.exp(-x))
    assert ours("bce", {}, {"pred": p, "target": y})[0] == pytest.approx(
        F.binary_cross_entropy(torch.tensor(p), ty).item(), rel=1e-10)


# ----------------------------------------------------------------------------- varifocal


def ultralytics_varifocal(alpha=0.75, gamma=2.0, reduction="mean"):
    """ultralytics VarifocalLoss: weight = alpha sigmoid(x)^gamma (1 - label) + q label, times BCE(x, q); not detached."""
    def fn(pred, target):
        label = (target > 0).to(pred.dtype)
        weight = alpha * pred.sigmoid().pow(gamma) * (1 - label) + target * label
        loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * weight
        return loss.mean() if reduction == "mean" else loss.mean(1).sum()

    return fn


@pytest.mark.parametrize("alpha,gamma", [(0.75, 2.0), (0.5, 1.0), (1.0, 3.0)])
def test_varifocal_matches_ultralytics(alpha, gamma):
    q = np.where(rng.random((60, 2)) < 0.5, 0.0, rng.uniform(0.05, 1, size=(60, 2)))
    data = {"pred": rng.normal(size=(60, 2)) * 3, "target": q}
    assert_matches_torch("varifocal", {"alpha": alpha, "gamma": gamma}, data, ultralytics_varifocal(alpha, gamma))
    one = {"pred": data["pred"][:, :1], "target": q[:, :1]}
    assert_matches_torch("varifocal", {"alpha": alpha, "gamma": gamma}, one,
                         ultralytics_varifocal(alpha, gamma, "sum"), reduction="sum")


def test_varifocal_extreme_logits_are_finite():
    data = {"pred": [[1e4], [-1e4], [1e4], [-1e4]], "target": [[0.0], [0.0], [0.7], [0.7]]}
    value, grad = ours("varifocal", {}, data)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert_matches_torch("varifocal", {}, data, ultralytics_varifocal())


# ----------------------------------------------------------------------------- input errors and warnings


def test_bce_given_logits_exits_3_and_suggests_bce_logits(tmp_path):
    path = tmp_path / "logits.csv"
    path.write_text("pred,target\n0.2,1\n2.5,1\n-1.0,0\n")
    result = CliRunner().invoke(main, ["compute", "-l", "bce", str(path)])
    assert result.exit_code == 3
    for fragment in ("probabilities in [0, 1]", "'pred'", "rows 2, 3", "bce_logits"):
        assert fragment in result.stderr


def test_logits_loss_given_probabilities_warns(tmp_path):
    path = tmp_path / "probs.csv"
    path.write_text("pred,target\n0.2,1\n0.9,1\n0.1,0\n")
    result = CliRunner().invoke(main, ["compute", "-l", "bce_logits", "-l", "focal", "-f", "json", str(path)])
    assert result.exit_code == 0 and "lies entirely in [0, 1]" in result.stderr and "use bce" in result.stderr
    json.loads(result.stdout)


def test_target_outside_unit_interval_is_input_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("pred,target\n0.2,1\n0.9,2\n")
    result = CliRunner().invoke(main, ["compute", "-l", "bce_logits", str(path)])
    assert result.exit_code == 3 and "'target'" in result.stderr and "row 2" in result.stderr


def test_sample_binary_file_runs_every_classification_loss():
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "sample_data" / "binary.csv"
    result = CliRunner().invoke(main, ["compute", "-l", "focal", "-l", "bce_logits", "-l", "varifocal", "-f", "json", str(sample)])
    assert result.exit_code == 0
    values = [r["value"] for r in json.loads(result.stdout)["results"]]
    assert all(0 < v < 1 for v in values)
