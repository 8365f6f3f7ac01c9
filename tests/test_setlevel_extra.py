"""generalized_dice, mcc and weighted_kappa: set-level losses against their libraries' formulas in torch ops.

References relied on:
- optax/losses/_segmentation.py multiclass_generalized_dice_loss: weights 1/(T_c^2 + 1e-7) rescaled to sum to C,
  per-class dice_loss with alpha = beta = 0.5: 1 - (I + s)/(I + (P - I)/2 + (T - I)/2 + s), mean over classes;
  apply_softmax softmaxes across the class axis.
- segmentation_models_pytorch losses/mcc.py MCCLoss: TP, TN, FP, FN summed over everything, + eps each,
  1 - (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)).
- tensorflow_addons/losses/kappa_loss.py _weighted_kappa_loss: numerator sum(weight * y_pred) with the row weights
  from labels = y_true @ (0..K-1); denominator sum(label_dist W pred_dist^T) / N; log(divide_no_nan + epsilon).
  Its docstring's worked example (-1.1611923, float32) is checked too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from .harness import assert_close, assert_matches_torch, ours

rng = np.random.default_rng(55)
C = 3


def one_hot(n=80, classes=C, kind="probs"):
    labels = rng.integers(0, classes, size=n)
    labels[:classes] = np.arange(classes)
    target = np.eye(classes)[labels]
    if kind == "probs":
        pred = rng.dirichlet(np.ones(classes), size=n)
    elif kind == "exact":  # probabilities exactly 0 and 1, half of them right
        pred = np.where(rng.random(n)[:, None] < 0.5, target, np.eye(classes)[rng.integers(0, classes, size=n)])
    elif kind == "logits":
        pred = rng.normal(size=(n, classes)) * 3
    elif kind == "logits 1e4":
        pred = rng.choice([-1e4, 1e4, 0.0, 2.0], size=(n, classes))
    else:
        raise ValueError(kind)
    return {"pred": pred, "target": target}


def optax_generalized_dice(smooth=1.0, softmax=False):
    def fn(pred, target):
        p = torch.softmax(pred, dim=1) if softmax else pred
        freq = target.sum(0)
        w = 1.0 / (freq ** 2 + 1e-7)
        w = w / w.sum() * len(w)
        inter, ps, ts = (p * target).sum(0), p.sum(0), target.sum(0)
        dice = 1 - (inter + smooth) / (inter + 0.5 * (ps - inter) + 0.5 * (ts - inter) + smooth)
        return (dice * w).mean()

    return fn


@pytest.mark.parametrize("kind", ["probs", "exact", "logits", "logits 1e4"])
@pytest.mark.parametrize("smooth", [1.0, 1e-5])
def test_generalized_dice_matches_optax(kind, smooth):
    logits = kind.startswith("logits")
    params = {"smooth": smooth, "from_logits": logits}
    assert_matches_torch("generalized_dice", params, one_hot(kind=kind), optax_generalized_dice(smooth, logits))


def test_generalized_dice_single_row_and_absent_class():
    d = {"pred": np.array([[0.7, 0.2, 0.1]]), "target": np.array([[1.0, 0.0, 0.0]])}
    assert_matches_torch("generalized_dice", {}, d, optax_generalized_dice())
    value, _ = ours("generalized_dice", {}, d)
    # absent classes get weight ~1/1e-7 (as optax): the present class's weight is ~1e-7 of theirs, so the value
    # is the absent classes' Dice losses 1 - s/(P/2 + s) with weight 3/2 each
    assert_close(value, (1.5 * (1 - 1 / 1.1) + 1.5 * (1 - 1 / 1.05)) / 3, 1e-6, "absent classes dominate")


def smp_mcc(eps=1e-5, logits=False):
    def fn(pred, target):
        p = torch.sigmoid(pred) if logits else pred
        tp = (p * target).sum() + eps
        tn = ((1 - p) * (1 - target)).sum() + eps
        fp = (p * (1 - target)).sum() + eps
        fn_ = ((1 - p) * target).sum() + eps
        return 1 - (tp * tn - fp * fn_) / torch.sqrt((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_))

    return fn


def masks(kind: str, n: int = 90, width: int = 2):
    target = (rng.random((n, width)) < 0.3).astype(float)
    if kind == "probs":
        return {"pred": rng.uniform(size=(n, width)), "target": target}
    if kind == "exact":
        return {"pred": (rng.random((n, width)) < 0.5).astype(float), "target": target}
    if kind == "perfect":
        return {"pred": target.copy(), "target": target}
    if kind == "logits 1e4":
        return {"pred": rng.choice([-1e4, 1e4, 0.3], size=(n, width)), "target": target}
    if kind == "single":
        return {"pred": np.array([[0.8]]), "target": np.array([[1.0]])}
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["probs", "exact", "perfect", "logits 1e4", "single"])
def test_mcc_matches_smp(kind):
    logits = kind.startswith("logits")
    assert_matches_torch("mcc", {"from_logits": logits}, masks(kind), smp_mcc(logits=logits))
    assert_matches_torch("mcc", {"from_logits": logits, "eps": 0.5}, masks(kind), smp_mcc(0.5, logits))


def tfa_kappa(weightage="quadratic", epsilon=1e-6):
    def fn(pred, target):
        k = pred.shape[1]
        t = torch.nn.functional.one_hot(target[:, 0].long(), k).double() if target.shape[1] == 1 else target
        labels = t @ torch.arange(k, dtype=torch.float64)[:, None]
        vec = torch.arange(k, dtype=torch.float64)
        if weightage == "linear":
            weight = (labels - vec[None, :]).abs() / (k - 1)
            mat = (vec[:, None] - vec[None, :]).abs() / (k - 1)
        else:
            weight = (labels - vec[None, :]) ** 2 / (k - 1) ** 2
            mat = (vec[:, None] - vec[None, :]) ** 2 / (k - 1) ** 2
        numerator = (weight * pred).sum()
        denominator = (t.sum(0, keepdim=True) @ (mat @ pred.sum(0, keepdim=True).T)).sum() / t.shape[0]
        return torch.log(numerator / denominator + epsilon)

    return fn


@pytest.mark.parametrize("weightage", ["quadratic", "linear"])
@pytest.mark.parametrize("kind", ["probs", "exact"])
@pytest.mark.parametrize("form", ["index", "onehot"])
def test_weighted_kappa_matches_tfa(weightage, kind, form):
    d = one_hot(n=70, classes=5, kind=kind)
    if form == "index":
        d["target"] = d["target"].argmax(axis=1).astype(float)
    assert_matches_torch("weighted_kappa", {"weightage": weightage}, d, tfa_kappa(weightage))


def test_weighted_kappa_tfa_docstring_example():
    # tfa WeightedKappaLoss(num_classes=4) docstring: Loss: -1.1611923 (computed in float32 there)
    y_true = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)
    y_pred = np.array([[0.1, 0.2, 0.6, 0.1], [0.1, 0.5, 0.3, 0.1], [0.8, 0.05, 0.05, 0.1], [0.01, 0.09, 0.1, 0.8]])
    value, _ = ours("weighted_kappa", {}, {"pred": y_pred, "target": y_true})
    assert_close(value, -1.1611923, 1e-6, "TFA's documented number")


def test_weighted_kappa_perfect_and_single_row():
    d = one_hot(n=20, classes=4, kind="probs")
    d["pred"] = d["target"].copy()
    value, grad = ours("weighted_kappa", {}, d)
    assert_close(value, np.log(1e-6), 1e-12, "perfect: log(0 + epsilon)")
    assert np.all(np.isfinite(grad))
    single = {"pred": np.array([[0.2, 0.5, 0.3]]), "target": np.array([1.0])}
    assert_matches_torch("weighted_kappa", {}, single, tfa_kappa())
