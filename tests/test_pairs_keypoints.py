"""hinge_embedding and margin_ranking against torch; oks against Ultralytics' KeypointLoss written in torch ops.

References relied on:
- torch.nn.functional.hinge_embedding_loss and margin_ranking_loss (values and autograd), called directly.
- ultralytics/utils/loss.py KeypointLoss.forward: d = dx^2 + dy^2; kpt_loss_factor = K / (sum(mask != 0) + 1e-9);
  e = d / ((2 sigma)^2 (area + 1e-9) 2); mean over objects and keypoints of factor (1 - exp(-e)) mask, with
  mask = visibility != 0 and sigmas = OKS_SIGMA (COCO) for 17 keypoints, else ones / K (v8PoseLoss).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from losscli.errors import InputDataError

from .harness import assert_close, assert_matches_torch, ours

rng = np.random.default_rng(44)


def pair_data(kind: str, n: int = 60) -> dict:
    y = rng.choice([-1.0, 1.0], size=(n, 2))
    if kind == "random":
        x = rng.uniform(-1, 3, size=(n, 2))
    elif kind == "huge":
        x = rng.choice([-1e4, 1e4, 1e6, 0.25], size=(n, 2))
    elif kind == "kink":  # exactly on the hinge: x = margin
        x = np.ones((n, 2))
    elif kind == "single":
        return {"pred": np.array([[0.4]]), "target": np.array([[-1.0]])}
    else:
        raise ValueError(kind)
    return {"pred": x, "target": y}


@pytest.mark.parametrize("kind", ["random", "huge", "kink", "single"])
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_hinge_embedding_matches_torch(kind, margin):
    assert_matches_torch("hinge_embedding", {"margin": margin}, pair_data(kind),
                         lambda pred, target: F.hinge_embedding_loss(pred, target, margin=margin))
    assert_matches_torch("hinge_embedding", {"margin": margin}, pair_data(kind),
                         lambda pred, target: F.hinge_embedding_loss(pred, target, margin=margin, reduction="sum"),
                         reduction="sum")


@pytest.mark.parametrize("kind", ["random", "huge", "kink", "single"])
@pytest.mark.parametrize("margin", [0.0, 0.5])
def test_margin_ranking_matches_torch(kind, margin):
    d = pair_data(kind)
    d["second"] = d["pred"] - margin * d["target"] if kind == "kink" else rng.normal(size=d["pred"].shape)
    assert_matches_torch("margin_ranking", {"margin": margin}, d,
                         lambda pred, second, target: F.margin_ranking_loss(pred, second, target, margin=margin))


def test_pair_labels_must_be_signed():
    with pytest.raises(InputDataError, match="1 or -1"):
        ours("hinge_embedding", {}, {"pred": [0.5, 0.2], "target": [0.0, 1.0]})


# ----------------------------------------------------------------------------- oks

OKS_SIGMA = np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87,
                      0.89, 0.89]) / 10.0


def ultralytics(k, sigmas=None):
    default = OKS_SIGMA if k == 17 else np.ones(k) / k
    s = torch.tensor(default if sigmas is None else sigmas, dtype=torch.float64)

    def fn(pred, target, visibility, area):
        pk, gk = pred.view(-1, k, 2), target.view(-1, k, 2)
        mask = visibility != 0
        d = (pk[..., 0] - gk[..., 0]).pow(2) + (pk[..., 1] - gk[..., 1]).pow(2)
        # Ultralytics adds 1e-9 to an integer count, which torch turns into float32; the formula is taken in float64
        factor = mask.shape[1] / (torch.sum(mask != 0, dim=1).double() + 1e-9)
        e = d / ((2 * s).pow(2) * (area + 1e-9) * 2)
        return (factor.view(-1, 1) * ((1 - torch.exp(-e)) * mask)).mean()

    return fn


def keypoints(kind: str, k: int, n: int = 40) -> dict:
    target = rng.uniform(0, 640, size=(n, 2 * k))
    vis = rng.choice([0.0, 1.0, 2.0], size=(n, k))
    area = rng.uniform(100, 1e4, size=(n, 1))
    if kind == "random":
        pred = target + rng.normal(size=(n, 2 * k)) * 20
    elif kind == "huge":  # predictions 1e6 away: exp(-e) underflows to 0, loss saturates at 1 per keypoint
        pred = target + rng.choice([1e6, -1e6, 0.0], size=(n, 2 * k))
    elif kind == "exact":  # perfect predictions, and objects with no labelled keypoint
        pred = target.copy()
        vis[::4] = 0.0
    elif kind == "tiny area":
        pred = target + rng.normal(size=(n, 2 * k))
        area[:] = 0.0
    else:
        raise ValueError(kind)
    return {"pred": pred, "target": target, "visibility": vis, "area": area}


@pytest.mark.parametrize("kind", ["random", "huge", "exact", "tiny area"])
@pytest.mark.parametrize("k", [17, 4])
def test_oks_matches_ultralytics(kind, k):
    assert_matches_torch("oks", {}, keypoints(kind, k), ultralytics(k))


def test_oks_own_sigmas_single_object_and_errors():
    sig = (0.1, 0.2, 0.3)
    assert_matches_torch("oks", {"sigmas": sig}, keypoints("random", 3, n=1), ultralytics(3, sig))
    d = keypoints("random", 3, n=2)
    with pytest.raises(InputDataError, match="sigmas has 2 values but there are 3 keypoints"):
        ours("oks", {"sigmas": (0.1, 0.2)}, d)
    with pytest.raises(InputDataError, match="two columns .x, y. per keypoint"):
        ours("oks", {}, {**d, "visibility": d["visibility"][:, :2]})
    value, _ = ours("oks", {}, keypoints("huge", 3))
    assert 0 < value <= 1.0 + 1e-9  # each labelled keypoint costs at most 1, rescaled by K / labelled
