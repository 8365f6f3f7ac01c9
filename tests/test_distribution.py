"""Distribution Focal Loss against Ultralytics' DFLoss, re-written in torch ops.

Ultralytics ultralytics/utils/loss.py DFLoss.__call__ (found by code search): target clamped to
[0, reg_max - 1 - 0.01], tl = target.long(), tr = tl + 1, wl = tr - target, wr = 1 - wl, then
F.cross_entropy(pred, tl) * wl + F.cross_entropy(pred, tr) * wr, averaged over the last axis.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
import torch
import torch.nn.functional as F

from losscli import compute
from losscli.errors import InputDataError
from losscli.spec import parse_spec

from .harness import named, assert_close, assert_matches_torch, ours, reduced_value


def ultralytics_dfl(pred, target):
    """Ultralytics' DFLoss for reg_max = pred.shape[1], one box side per row, then the mean over rows."""
    reg_max = pred.shape[1]
    t = target[:, 0].clamp(0, reg_max - 1 - 0.01)
    tl = t.long()
    tr = tl + 1
    wl = tr - t
    wr = 1 - wl
    per_row = F.cross_entropy(pred, tl, reduction="none") * wl + F.cross_entropy(pred, tr, reduction="none") * wr
    return per_row.mean()


def data(kind: str, n: int = 50, k: int = 16):
    r = np.random.default_rng(3)
    if kind == "random":
        return {"pred": r.normal(size=(n, k)) * 2, "target": r.uniform(0, k - 1, size=n)}
    if kind == "clamped":  # negative targets, beyond the last bin, exactly at K - 1 and at whole numbers
        t = np.concatenate([[-3.0, 0.0, k - 1.0, k + 5.0, 7.0, k - 1.01, k - 1.005], r.uniform(-1, k + 1, size=n - 7)])
        return {"pred": r.normal(size=(n, k)), "target": t}
    if kind == "huge":  # logits of +-1e4
        return {"pred": r.choice([-1e4, 1e4, 0.0], size=(n, k)), "target": r.uniform(0, k - 1, size=n)}
    if kind == "single":
        return {"pred": r.normal(size=(1, k)), "target": np.array([3.3])}
    raise ValueError(kind)


@pytest.mark.parametrize("k", [16, 2, 5])
@pytest.mark.parametrize("kind", ["random", "clamped", "huge", "single"])
def test_dfl_matches_ultralytics(kind, k):
    assert_matches_torch("dfl", {}, data(kind, k=k), ultralytics_dfl)


def test_dfl_sum_and_weights_match_ultralytics():
    arrays = data("random")
    assert_matches_torch("dfl", {}, arrays, lambda pred, target: ultralytics_dfl(pred, target) * pred.shape[0],
                         reduction="sum")
    w = np.random.default_rng(1).uniform(0.1, 2.0, size=50)

    def weighted(pred, target):  # BboxLoss style: (dfl * weight).sum() / weight.sum()
        reg_max = pred.shape[1]
        t = target[:, 0].clamp(0, reg_max - 1 - 0.01)
        tl = t.long()
        wl = tl + 1 - t
        per_row = F.cross_entropy(pred, tl, reduction="none") * wl + F.cross_entropy(pred, tl + 1, reduction="none") * (1 - wl)
        wt = torch.tensor(w)
        return (per_row * wt).sum() / wt.sum()

    assert_matches_torch("dfl", {}, arrays, weighted, weight=w)


def test_dfl_worked_numbers():
    # target 2.25 on 4 bins: 0.75 CE to bin 2 and 0.25 CE to bin 3; equal logits give log 4 either way
    value, grad = ours("dfl", {}, {"pred": [[0.0, 0.0, 0.0, 0.0]], "target": [2.25]})
    assert_close(value, math.log(4), 1e-12, "uniform logits")
    np.testing.assert_allclose(grad, [[0.25, 0.25, 0.25 - 0.75, 0.25 - 0.25]], atol=1e-15)
    # a target at the top of the range is clamped to K - 1.01: weights 0.01 and 0.99
    value, _ = ours("dfl", {}, {"pred": [[0.0, 1.0, 2.0]], "target": [9.0]})
    logp = np.array([0.0, 1.0, 2.0]) - np.log(np.exp([0.0, 1.0, 2.0]).sum())
    assert_close(value, -(0.01 * logp[1] + 0.99 * logp[2]), 1e-12, "clamped top")


def test_dfl_million_rows():
    r = np.random.default_rng(0)
    pred = r.normal(size=(1_000_000, 8))
    target = r.uniform(-0.5, 8.0, size=1_000_000)
    ref = ultralytics_dfl(torch.tensor(pred), torch.tensor(target)[:, None]).item()
    assert_close(reduced_value("dfl", {}, {"pred": pred, "target": target}), ref, 1e-9, "million rows")


def test_dfl_needs_two_bins():
    table = named(pa.table({"logit": [0.1, 0.2], "target": [0.0, 0.5]}), "t.csv")
    with pytest.raises(InputDataError, match="K >= 2 bin columns"):
        compute(table, [parse_spec("dfl")])
