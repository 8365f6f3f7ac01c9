"""Set-level overlap losses against their formulas written in torch ops (autograd gradients).

dice/jaccard: 1 - (2I + s)/(P + T + s) and 1 - (I + s)/(P + T - I + s) per class, mean over
classes (segmentation_models_pytorch soft_dice_score / soft_jaccard_score with smooth).
tversky: smp soft_tversky_score, alpha on FP = sum p(1-t), beta on FN = sum (1-p)t.
focal_tversky: (1 - TI)^gamma per class, gamma the exponent itself as in smp's
TverskyLoss/FocalTverskyLoss (Abraham & Khan's 1/gamma), then the mean over classes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import torch
from click.testing import CliRunner

from losscli import compute
from losscli.cli import main
from losscli.errors import InputDataError
from losscli.spec import parse_spec

from .harness import named, assert_gradient_matches_fd, assert_matches_torch, ours

rng = np.random.default_rng(11)


def torch_loss(name: str, smooth=1.0, from_logits=False, alpha=0.5, beta=0.5, gamma=0.75):
    def fn(pred, target):
        p = torch.sigmoid(pred) if from_logits else pred
        inter = (p * target).sum(0)
        fp = (p * (1 - target)).sum(0)
        fn_ = ((1 - p) * target).sum(0)
        if name == "dice":
            per_class = 1 - (2 * inter + smooth) / (p.sum(0) + target.sum(0) + smooth)
        elif name == "jaccard":
            per_class = 1 - (inter + smooth) / (p.sum(0) + target.sum(0) - inter + smooth)
        else:
            per_class = 1 - (inter + smooth) / (inter + alpha * fp + beta * fn_ + smooth)
            if name == "focal_tversky":
                per_class = per_class ** gamma
        return per_class.mean()

    return fn


def data(kind: str, n: int = 60, classes: int = 3) -> dict:
    if kind == "probs":
        return {"pred": rng.uniform(size=(n, classes)), "target": (rng.uniform(size=(n, classes)) < 0.3).astype(float)}
    if kind == "soft":
        return {"pred": rng.uniform(size=(n, classes)), "target": rng.uniform(size=(n, classes))}
    if kind == "exact01":  # probabilities exactly 0 and 1, partly right
        return {"pred": (rng.uniform(size=(n, classes)) < 0.5).astype(float),
                "target": (rng.uniform(size=(n, classes)) < 0.5).astype(float)}
    if kind == "single":
        return {"pred": np.array([[0.3, 0.9]]), "target": np.array([[1.0, 0.0]])}
    if kind == "logits":
        return {"pred": rng.normal(size=(n, classes)) * 3, "target": (rng.uniform(size=(n, classes)) < 0.3).astype(float)}
    if kind == "logits 1e4":
        return {"pred": rng.choice([-1e4, 1e4, -3.0, 0.5], size=(n, classes)),
                "target": (rng.uniform(size=(n, classes)) < 0.5).astype(float)}
    raise ValueError(kind)


PARAMS = [
    ("dice", {}), ("dice", {"smooth": 1e-5}), ("dice", {"smooth": 10.0}),
    ("jaccard", {}), ("jaccard", {"smooth": 0.01}),
    ("tversky", {}), ("tversky", {"alpha": 0.3, "beta": 0.7}), ("tversky", {"alpha": 1.0, "beta": 0.0, "smooth": 0.5}),
    ("focal_tversky", {}), ("focal_tversky", {"gamma": 2.0, "alpha": 0.7, "beta": 0.3}),
    ("focal_tversky", {"gamma": 1.0, "smooth": 0.2}), ("focal_tversky", {"gamma": 0.5}),
]


@pytest.mark.parametrize("kind", ["probs", "soft", "exact01", "single"])
@pytest.mark.parametrize("name,params", PARAMS, ids=[f"{n}{p}" for n, p in PARAMS])
def test_probabilities_match_torch(name, params, kind):
    arrays = data(kind)
    if kind == "exact01" and name == "focal_tversky":
        arrays["pred"][0] = 1 - arrays["target"][0]  # keep every class imperfect: L^(gamma-1) is finite
    assert_matches_torch(name, params, arrays, torch_loss(name, **params))


@pytest.mark.parametrize("kind", ["logits", "logits 1e4"])
@pytest.mark.parametrize("name,params", PARAMS, ids=[f"{n}{p}" for n, p in PARAMS])
def test_logits_match_torch(name, params, kind):
    params = {**params, "from_logits": True}
    assert_matches_torch(name, params, data(kind), torch_loss(name, **params))


def test_worked_dice_and_jaccard_numbers():
    # hand-computed: p = [1, 1, 0, 0], t = [1, 0, 1, 0]: I = 1, P = T = 2
    arrays = {"pred": [1.0, 1.0, 0.0, 0.0], "target": [1.0, 0.0, 1.0, 0.0]}
    assert ours("dice", {}, arrays)[0] == pytest.approx(1 - 3 / 5, rel=1e-15)  # (2 + 1) / (4 + 1)
    assert ours("jaccard", {}, arrays)[0] == pytest.approx(1 - 2 / 4, rel=1e-15)  # (1 + 1) / (3 + 1)
    # tversky alpha = beta = 1 is jaccard; alpha = beta = 0.5 is (I + s) / ((P + T)/2 + s)
    assert ours("tversky", {"alpha": 1.0, "beta": 1.0}, arrays)[0] == pytest.approx(0.5, rel=1e-15)
    assert ours("tversky", {}, arrays)[0] == pytest.approx(1 - 2 / 3, rel=1e-15)
    assert ours("focal_tversky", {"gamma": 2.0}, arrays)[0] == pytest.approx((1 / 3) ** 2, rel=1e-15)


def test_perfect_prediction_is_zero_with_finite_gradient():
    t = (rng.uniform(size=(50, 2)) < 0.5).astype(float)
    for name in ("dice", "jaccard", "tversky", "focal_tversky"):
        value, grad = ours(name, {}, {"pred": t.copy(), "target": t})
        assert value == 0.0 and np.all(np.isfinite(grad))
    # focal_tversky with gamma < 1 at a perfect class: torch autograd gives inf; we give 0
    value, grad = ours("focal_tversky", {}, {"pred": t.copy(), "target": t})
    assert np.all(grad == 0.0)
    # near-perfect keeps its digits: L = E / D, not 1 - N / D
    p = t.copy()
    p[0, 0] = 1e-12 if t[0, 0] == 0 else 1 - 1e-12
    value, _ = ours("dice", {"smooth": 1.0}, {"pred": p, "target": t})
    n_pos = t[:, 0].sum()
    assert value == pytest.approx(0.5 * 1e-12 / (2 * n_pos + 1), rel=1e-3)


def test_empty_class_is_finite():
    arrays = {"pred": np.zeros((10, 1)), "target": np.zeros((10, 1))}
    for name in ("dice", "jaccard", "tversky", "focal_tversky"):
        value, grad = ours(name, {}, arrays)
        assert value == 0.0 and np.all(np.isfinite(grad))


def test_gradients_match_finite_differences():
    arrays = {"pred": rng.uniform(0.1, 0.9, size=(8, 2)), "target": (rng.uniform(size=(8, 2)) < 0.5).astype(float)}
    for name, params in PARAMS:
        assert_gradient_matches_fd(name, params, arrays)


def test_million_rows_value():
    big = {"pred": rng.uniform(size=(1_000_000, 2)), "target": (rng.uniform(size=(1_000_000, 2)) < 0.1).astype(float)}
    t = {k: torch.tensor(v) for k, v in big.items()}
    for name in ("dice", "jaccard", "tversky", "focal_tversky"):
        assert ours(name, {}, big)[0] == pytest.approx(torch_loss(name)(t["pred"], t["target"]).item(), rel=1e-9)


# ----------------------------------------------------------------------------- domain errors


def test_pred_outside_unit_interval_is_refused_with_logits_hint():
    table = named(pa.table({"pred": [0.2, 1.7, 0.5, -3.0], "target": [1.0, 0.0, 1.0, 0.0]}), "masks.csv")
    with pytest.raises(InputDataError) as err:
        compute(table, [parse_spec("dice")])
    message = str(err.value)
    assert "pred" in message and "masks.csv rows 2, 4" in message and "from_logits=true" in message
    # the same column is fine as logits
    report = compute(table, [parse_spec("dice:from_logits=true")])
    assert np.isfinite(report.results[0].value)


def test_cli_dice_pred_outside_unit_interval_exits_3(tmp_path):
    path = tmp_path / "masks.csv"
    path.write_text("pred,target\n0.5,1\n2.5,0\n")
    result = CliRunner().invoke(main, ["compute", "-l", "dice", str(path)])
    assert result.exit_code == 3, result.output
    assert "from_logits=true" in result.stderr and "row 2" in result.stderr


def test_target_outside_unit_interval_is_refused():
    table = named(pa.table({"pred": [0.2, 0.5], "target": [1.0, 2.0]}), "m.csv")
    with pytest.raises(InputDataError, match="target"):
        compute(table, [parse_spec("jaccard")])
