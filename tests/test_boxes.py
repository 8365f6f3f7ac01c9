"""Box losses (iou, giou, diou, ciou) against torchvision's formulas written in torch ops.

torchvision does not import beside our torch, so its loss functions are re-written here
from torchvision/ops/giou_loss.py, diou_loss.py (_diou_iou_loss), ciou_loss.py and
_utils._loss_inter_union: iou = inter / (union + eps), giou adds (C - U) / (C + eps),
diou adds rho^2 / (diag^2 + eps), ciou adds alpha v with alpha computed under no_grad.
Autograd of these gives the reference gradient; finite differences give a second one.
Worked numbers are torchvision's own, from test/test_ops.py (TestGeneralizedBoxIouLoss,
TestDistanceBoxIouLoss, TestCompleteBoxIouLoss).
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

from .harness import named, assert_close, assert_matches_torch, ours

rng = np.random.default_rng(7)
KINDS = ("iou", "giou", "diou", "ciou")


def reference(kind: str, eps: float = 1e-7, fmt: str = "xyxy", alpha_fixed=None):
    """torchvision's loss (mean over rows) in torch ops; alpha_fixed freezes ciou's alpha to given values."""

    def fn(pred, target):
        def corners(b):
            if fmt == "xyxy":
                return b.unbind(-1)
            cx, cy, w, h = b.unbind(-1)
            return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

        x1, y1, x2, y2 = corners(pred)
        x1g, y1g, x2g, y2g = corners(target)
        xk1, yk1 = torch.max(x1, x1g), torch.max(y1, y1g)
        xk2, yk2 = torch.min(x2, x2g), torch.min(y2, y2g)
        inter = torch.zeros_like(x1)
        mask = (yk2 > yk1) & (xk2 > xk1)
        inter[mask] = (xk2[mask] - xk1[mask]) * (yk2[mask] - yk1[mask])
        union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
        iou = inter / (union + eps)
        loss = 1 - iou
        xc1, yc1 = torch.min(x1, x1g), torch.min(y1, y1g)
        xc2, yc2 = torch.max(x2, x2g), torch.max(y2, y2g)
        if kind == "giou":
            area_c = (xc2 - xc1) * (yc2 - yc1)
            loss = loss + (area_c - union) / (area_c + eps)
        if kind in ("diou", "ciou"):
            diag = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
            centre = ((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2 + ((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2
            loss = loss + centre / diag
        if kind == "ciou":
            v = (4 / torch.pi**2) * (torch.atan((x2g - x1g) / (y2g - y1g)) - torch.atan((x2 - x1) / (y2 - y1))) ** 2
            if alpha_fixed is None:
                with torch.no_grad():
                    alpha = v / (1 - iou + v + eps)
            else:
                alpha = torch.as_tensor(alpha_fixed)
            fn.alpha = alpha.detach().clone()
            loss = loss + alpha * v
        return loss.mean()

    return fn


def random_boxes(n: int, fmt: str = "xyxy", scale: float = 1.0, shift: float = 0.0):
    c = rng.uniform(0, 10, size=(n, 2))
    wh = rng.uniform(0.5, 5, size=(n, 2))
    pc = c + rng.normal(size=(n, 2)) + shift
    pwh = rng.uniform(0.5, 5, size=(n, 2))
    if fmt == "xywh":
        return {"pred": np.hstack([pc, pwh]) * scale, "target": np.hstack([c, wh]) * scale}
    return {"pred": np.hstack([pc - pwh / 2, pc + pwh / 2]) * scale, "target": np.hstack([c - wh / 2, c + wh / 2]) * scale}


def adversarial() -> dict:
    """Identical, nested, touching, disjoint and zero-area-target boxes (xyxy)."""
    pred = [[0, 0, 2, 2], [-1, -1, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1], [5, 5, 9, 6], [0, 0, 3, 1], [0, 0, 2, 3], [1, 1, 4, 2]]
    target = [[0, 0, 2, 2], [0, 0, 1, 1], [0, 1, 1, 2], [1, 1, 2, 2], [0, 0, 1, 1], [1, 0, 2, 4], [1, 1, 1, 3], [2, 1, 3, 1]]
    return {"pred": np.array(pred, float), "target": np.array(target, float)}


DATA = {
    "random": lambda: random_boxes(40),
    "disjoint": lambda: random_boxes(20, shift=30.0),
    "huge 1e6": lambda: random_boxes(20, scale=1e6),
    "huge offset": lambda: {k: v + 1e6 for k, v in random_boxes(20).items()},
    "single": lambda: random_boxes(1),
    "adversarial": adversarial,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("data", list(DATA))
def test_matches_torchvision_formula(kind, data):
    arrays = DATA[data]()
    # ciou's atan(w/h) is 0/0 = NaN in torchvision for the zero-area (line) target of the adversarial set
    if kind == "ciou" and data == "adversarial":
        arrays = {k: v[:6] for k, v in arrays.items()}
    assert_matches_torch(kind, {}, arrays, reference(kind))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("eps", [1e-7, 1e-3, 0.0])
def test_every_eps_and_xywh(kind, eps):
    arrays = random_boxes(30, fmt="xywh")
    assert_matches_torch(kind, {"fmt": "xywh", "eps": eps}, arrays, reference(kind, eps=eps, fmt="xywh"))
    assert_matches_torch(kind, {"eps": eps}, random_boxes(30), reference(kind, eps=eps))


def test_identical_boxes_give_torch_half_gradients_at_ties():
    # every min/max ties; torch.maximum/minimum split the gradient in half there
    box = np.array([[0.0, 0.0, 2.0, 3.0]])
    for kind in KINDS:
        assert_matches_torch(kind, {}, {"pred": box, "target": box.copy()}, reference(kind))
        value, grad = ours(kind, {}, {"pred": box, "target": box.copy()})
        assert value == pytest.approx(1e-7 / (6 + 1e-7), rel=1e-6)  # 1 - A/(A + eps)
        assert np.all(np.isfinite(grad))


def test_worked_numbers_from_torchvision_tests():
    box1, box2, box3, box4 = [-1, -1, 1, 1], [0, 0, 1, 1], [0, 1, 1, 2], [1, 1, 2, 2]

    def one(kind, a, b):
        return ours(kind, {}, {"pred": [a], "target": [b]})[0]

    # torchvision test_ops.py TestGeneralizedBoxIouLoss
    assert one("giou", box1, box1) == pytest.approx(0.0, abs=1e-6)
    assert one("giou", box1, box2) == pytest.approx(0.75, rel=1e-6)
    assert one("giou", box2, box3) == pytest.approx(1.0, rel=1e-6)
    assert one("giou", box2, box4) == pytest.approx(1.5, rel=1e-6)
    assert ours("giou", {}, {"pred": [box2, box2], "target": [box3, box4]})[0] == pytest.approx(1.25, rel=1e-6)
    assert ours("giou", {}, {"pred": [box2, box2], "target": [box3, box4]}, reduction="sum")[0] == pytest.approx(2.5, rel=1e-6)
    # TestDistanceBoxIouLoss and TestCompleteBoxIouLoss (the same numbers: these boxes are all squares)
    for kind in ("diou", "ciou"):
        assert one(kind, box1, box1) == pytest.approx(0.0, abs=1e-6)
        assert one(kind, box1, box2) == pytest.approx(0.8125, rel=1e-6)
        assert one(kind, box1, box3) == pytest.approx(1.1923, abs=1e-4)
        assert one(kind, box1, box4) == pytest.approx(1.25, rel=1e-6)
        assert ours(kind, {}, {"pred": [box2, box2], "target": [box3, box4]})[0] == pytest.approx(1.225, rel=1e-6)


def central_differences(f, x, h=1e-6):
    g = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        step = h * max(1.0, abs(x[index]))
        up[index] += step
        down[index] -= step
        g[index] = (f(up) - f(down)) / (2 * step)
    return g


@pytest.mark.parametrize("fmt", ["xyxy", "xywh"])
def test_ciou_gradient_is_finite_differences_with_alpha_frozen(fmt):
    # Boxes of different aspect ratios, so the v term is live. Freezing alpha at its value
    # at the point makes the loss a function whose true derivative is our gradient.
    arrays = random_boxes(6, fmt=fmt)
    t = torch.tensor(arrays["target"])
    ref = reference("ciou", fmt=fmt)
    ref(torch.tensor(arrays["pred"]), t)
    frozen = reference("ciou", fmt=fmt, alpha_fixed=ref.alpha)
    fd = central_differences(lambda p: frozen(torch.tensor(p), t).item(), arrays["pred"])
    _, grad = ours("ciou", {"fmt": fmt}, arrays)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)
    # ... and it is NOT the derivative of the reported value (alpha does vary), as documented
    full = central_differences(lambda p: ours("ciou", {"fmt": fmt}, {"pred": p, "target": arrays["target"]})[0], arrays["pred"])
    assert np.abs(full - grad).max() > 1e-6


def test_zero_height_pred_box_has_finite_ciou_gradient():
    # atan(w/h) with h = 0: torchvision's value is finite (atan(inf)) but autograd gives NaN; ours is finite.
    arrays = {"pred": np.array([[0.0, 0.0, 2.0, 0.0]]), "target": np.array([[0.0, 0.0, 1.0, 1.0]])}
    value, grad = ours("ciou", {}, arrays)
    ref = reference("ciou")(torch.tensor(arrays["pred"]), torch.tensor(arrays["target"])).item()
    assert value == pytest.approx(ref, rel=1e-12)
    assert np.all(np.isfinite(grad))


def test_million_rows_value():
    big = random_boxes(1_000_000)
    t = {k: torch.tensor(v) for k, v in big.items()}
    for kind in KINDS:
        assert ours(kind, {}, big)[0] == pytest.approx(reference(kind)(t["pred"], t["target"]).item(), rel=1e-9)


# ----------------------------------------------------------------------------- degenerate boxes


def table(pred, target):
    cols = {f"pred_{k}": [row[i] for row in pred] for i, k in enumerate(("x1", "y1", "x2", "y2"))}
    cols.update({f"target_{k}": [row[i] for row in target] for i, k in enumerate(("x1", "y1", "x2", "y2"))})
    return named(pa.table(cols), "boxes.csv")


def test_degenerate_pred_boxes_are_refused_naming_rows():
    pred = [[0, 0, 1, 1], [2, 0, 1, 1], [0, 0, 1, 1], [0, 3, 1, 1]]
    target = [[0, 0, 1, 1]] * 4
    with pytest.raises(InputDataError) as err:
        compute(table(pred, target), [parse_spec("giou")])
    message = str(err.value)
    assert "x2 < x1" in message and "pred_x1" in message and "boxes.csv rows 2, 4" in message  # 1-based data rows


def test_degenerate_target_xywh_is_refused():
    pred = [[0, 0, 1, 1]] * 3
    target = [[0, 0, 1, 1], [0, 0, 1, -2], [0, 0, 1, 1]]
    with pytest.raises(InputDataError) as err:
        compute(table(pred, target), [parse_spec("iou:fmt=xywh")])
    assert "negative width or height" in str(err.value) and "target_x1" in str(err.value)


def test_cli_degenerate_boxes_exit_3(tmp_path):
    path = tmp_path / "boxes.csv"
    path.write_text("pred_x1,pred_y1,pred_x2,pred_y2,target_x1,target_y1,target_x2,target_y2\n"
                    "0,0,1,1,0,0,1,1\n0,0,1,1,0,0,1,1\n5,0,1,1,0,0,1,1\n")
    result = CliRunner().invoke(main, ["compute", "-l", "ciou", str(path)])
    assert result.exit_code == 3, result.output
    assert "x2 < x1" in result.stderr and "boxes.csv row 3" in result.stderr


def test_zero_area_boxes_are_accepted():
    # x1 == x2 is a zero-area box, not a degenerate one: torchvision handles it and so do we
    arrays = {"pred": [[0.0, 0.0, 1.0, 1.0]], "target": [[0.5, 0.5, 0.5, 0.5]]}
    for kind in ("iou", "giou", "diou"):
        assert_matches_torch(kind, {}, arrays, reference(kind))
    value, grad = ours("ciou", {}, arrays)  # torchvision: NaN (0/0 in atan); ours: aspect term 0
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert_close(value, ours("diou", {}, arrays)[0] + (4 / np.pi**2) * (np.pi / 4) ** 2
                 * ((4 / np.pi**2) * (np.pi / 4) ** 2 / (1 + (4 / np.pi**2) * (np.pi / 4) ** 2 + 1e-7)), 1e-12, "ciou point box")


def test_box_target_is_not_taken_from_a_label_column():
    # the generic target defaults would try "label" first; box files often have a class label
    data = random_boxes(5)
    t = table(data["pred"].tolist(), data["target"].tolist())
    report = compute(named(t.table.append_column("label", pa.array([1, 2, 1, 3, 1])), "boxes.csv"), [parse_spec("diou")])
    assert report.results[0].columns["target"] == ["target_x1", "target_y1", "target_x2", "target_y2"]
    ref = reference("diou")(torch.tensor(data["pred"]), torch.tensor(data["target"])).item()
    assert_close(report.results[0].value, ref, 1e-12, "diou through the API")
