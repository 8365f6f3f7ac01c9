"""Bounding-box losses: 4 pred columns and 4 target columns per row, one value per row.

Boxes are (x1, y1, x2, y2) corners with fmt=xyxy, or (cx, cy, w, h) with fmt=xywh
(converted to corners first; the gradient is chained back to the user's columns).
Every loss is 1 minus an overlap metric, written as torchvision.ops writes it, so the
eps lands in the same places:

    I   = overlap area (0 unless the overlap has positive width AND height)
    U   = area(pred) + area(target) - I                 iou  = I / (U + eps)
    C   = area of the smallest enclosing box            giou: 1 - iou + (C - U) / (C + eps)
    rho = squared distance of the centres, c2 = squared diagonal of the enclosing box + eps
                                                         diou: 1 - iou + rho / c2
    v   = 4/pi^2 (atan(w_t/h_t) - atan(w_p/h_p))^2,  alpha = v / (1 - iou + v + eps)
                                                         ciou: diou + alpha v (alpha held constant)

The gradient copies torch autograd's conventions at the kinks of min/max: where
the two arguments tie, each gets half (torch.maximum/minimum backward), and an empty
overlap contributes nothing (torchvision fills it through a mask).
"""

from __future__ import annotations

import numpy as np

from .base import Explain, Loss, Param, Problem, Role, pred_role

PRED = pred_role("the predicted box: 4 columns, (x1, y1, x2, y2) or with fmt=xywh (cx, cy, w, h)", width=4)
# Not the generic target defaults: those try "label" and "y" first, and box files often
# carry a class "label" column that is not the box.
TARGET = Role("target", "the true box: 4 columns in the same format as pred", width=4,
              defaults=("target", "target_*", "y_true", "y_true_*", "gt", "gt_*"))

_FOUR_OVER_PI2 = 4.0 / np.pi ** 2


def _check(pred, target, *, fmt="xyxy", **_):
    problems = []
    for role, box in (("pred", pred), ("target", target)):
        if fmt == "xyxy":
            bad = (box[:, 2] < box[:, 0]) | (box[:, 3] < box[:, 1])
            why = "degenerate boxes with x2 < x1 or y2 < y1 (fmt=xyxy wants x1, y1, x2, y2 with x1 <= x2, y1 <= y2)"
        else:
            bad = (box[:, 2] < 0.0) | (box[:, 3] < 0.0)
            why = "negative width or height (fmt=xywh wants cx, cy, w, h with w, h >= 0)"
        problems.append(Problem(role, bad, f"{role} has {why}; check the column order and the fmt parameter (e.g. -l iou:fmt=xywh)"))
    return problems


def _corners(box, fmt):
    if fmt == "xyxy":
        return box[:, 0], box[:, 1], box[:, 2], box[:, 3]
    cx, cy, w, h = box[:, 0], box[:, 1], box[:, 2], box[:, 3]
    return cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h


def _to_user(g, fmt):
    """Chain a gradient w.r.t. (x1, y1, x2, y2) back to the user's columns."""
    if fmt == "xyxy":
        return g
    gx1, gy1, gx2, gy2 = g[:, 0], g[:, 1], g[:, 2], g[:, 3]
    return np.stack([gx1 + gx2, gy1 + gy2, 0.5 * (gx2 - gx1), 0.5 * (gy2 - gy1)], axis=1)


def _win(a, b):
    """d max(a, b) / da as torch.maximum's backward: 1 if a > b, 1/2 at a tie, else 0."""
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))


def _parts(pred, target, fmt, eps, kind, grad):
    """Loss per row for kind in iou/giou/diou/ciou and, with grad, its gradient w.r.t. the 4 corners."""
    x1, y1, x2, y2 = _corners(pred, fmt)
    gx1, gy1, gx2, gy2 = _corners(target, fmt)
    n = x1.shape[0]
    zero = np.zeros(n)

    # overlap
    iw = np.minimum(x2, gx2) - np.maximum(x1, gx1)
    ih = np.minimum(y2, gy2) - np.maximum(y1, gy1)
    mask = (iw > 0) & (ih > 0)
    inter = np.where(mask, iw * ih, 0.0)
    w, h = x2 - x1, y2 - y1
    union = w * h + (gx2 - gx1) * (gy2 - gy1) - inter
    ue = union + eps
    iou = inter / ue
    loss = 1.0 - iou

    if grad:
        m = mask.astype(np.float64)
        d_inter = np.stack([-m * ih * _win(x1, gx1), -m * iw * _win(y1, gy1),
                            m * ih * _win(-x2, -gx2), m * iw * _win(-y2, -gy2)], axis=1)
        d_area = np.stack([-h, -w, h, w], axis=1)
        d_union = d_area - d_inter
        d_iou = d_inter / ue[:, None] - (inter / (ue * ue))[:, None] * d_union
        g = -d_iou

    if kind in ("giou", "diou", "ciou"):
        cw = np.maximum(x2, gx2) - np.minimum(x1, gx1)
        ch = np.maximum(y2, gy2) - np.minimum(y1, gy1)
        if grad:
            # d cw / d(x1, x2), d ch / d(y1, y2): min/max split at ties as in torch
            dcw = np.stack([-_win(-x1, -gx1), zero, _win(x2, gx2), zero], axis=1)
            dch = np.stack([zero, -_win(-y1, -gy1), zero, _win(y2, gy2)], axis=1)

    if kind == "giou":
        area_c = cw * ch
        ce = area_c + eps
        loss = loss + (area_c - union) / ce
        if grad:
            d_c = ch[:, None] * dcw + cw[:, None] * dch
            g = g + (d_c - d_union) / ce[:, None] - ((area_c - union) / (ce * ce))[:, None] * d_c

    if kind in ("diou", "ciou"):
        diag = cw * cw + ch * ch + eps
        dx = 0.5 * (x1 + x2) - 0.5 * (gx1 + gx2)
        dy = 0.5 * (y1 + y2) - 0.5 * (gy1 + gy2)
        rho = dx * dx + dy * dy
        loss = loss + rho / diag
        if grad:
            d_rho = np.stack([dx, dy, dx, dy], axis=1)  # d(dx^2)/dx1 = 2 dx * 1/2
            d_diag = 2.0 * cw[:, None] * dcw + 2.0 * ch[:, None] * dch
            g = g + d_rho / diag[:, None] - (rho / (diag * diag))[:, None] * d_diag

    if kind == "ciou":
        gw, gh = gx2 - gx1, gy2 - gy1
        # atan(w/h) as arctan2(w, h): the same for h > 0, pi/2 for h = 0 < w as torch's atan(inf),
        # and 0 for a zero-size box where torchvision's 0/0 gives NaN.
        diff = np.arctan2(gw, gh) - np.arctan2(w, h)
        v = _FOUR_OVER_PI2 * diff * diff
        # alpha uses the same eps as the rest (torchvision's ciou passes eps only here; its
        # DIoU part keeps the default 1e-7, so the two agree at the default).
        alpha = v / (1.0 - iou + v + eps)
        loss = loss + alpha * v
        if grad:
            r2 = w * w + h * h
            safe = np.where(r2 > 0, r2, 1.0)
            # d atan2(w, h)/dw = h / (w^2 + h^2), /dh = -w / (w^2 + h^2); 0 for a zero-size box.
            da_dw = np.where(r2 > 0, h / safe, 0.0)
            da_dh = np.where(r2 > 0, -w / safe, 0.0)
            dv = -2.0 * _FOUR_OVER_PI2 * diff  # dv / d atan(w/h)
            scale = alpha * dv  # alpha is a constant (torch.no_grad in torchvision)
            g = g + np.stack([-scale * da_dw, -scale * da_dh, scale * da_dw, scale * da_dh], axis=1)

    return loss, (_to_user(g, fmt) if grad else None)


def _make(kind):
    def value(pred, target, *, fmt="xyxy", eps=1e-7):
        return _parts(pred, target, fmt, eps, kind, False)[0]

    def grad(pred, target, *, fmt="xyxy", eps=1e-7):
        return _parts(pred, target, fmt, eps, kind, True)[1]

    value.__doc__ = f"1 - {kind.upper()} per row, as torchvision.ops (see the module docstring)."
    return value, grad


FMT = Param("fmt", "xyxy", "box format of both pred and target: xyxy = (x1, y1, x2, y2) corners, "
            "xywh = (centre x, centre y, width, height)", kind=str, choices=("xyxy", "xywh"))
EPS = Param("eps", 1e-7, "added to the union, the enclosing area/diagonal and alpha's denominator, as torchvision", low=0.0)

_INPUTS = ("pred and target are 4 columns each: one box per row, (x1, y1, x2, y2) by default or (cx, cy, w, h) with "
           "fmt=xywh. Boxes with x2 < x1 or y2 < y1 (negative w or h) are refused, naming the rows. "
           "One value per row, mean over rows; the gradient is with respect to pred's 4 columns in its own format.")
_TIES = " Where pred and target edges coincide, min/max split the gradient in half, as torch autograd does."

IOU_VALUE, IOU_GRAD = _make("iou")
GIOU_VALUE, GIOU_GRAD = _make("giou")
DIOU_VALUE, DIOU_GRAD = _make("diou")
CIOU_VALUE, CIOU_GRAD = _make("ciou")

IOU = Loss(
    name="iou", family="boxes", summary="IoU loss: 1 - intersection over union of two boxes.",
    formula="1 - I / (U + eps)",
    inputs=(PRED, TARGET), value=IOU_VALUE, grad=IOU_GRAD, per="row", check=_check, params=(FMT, EPS),
    explain=Explain(
        inputs=_INPUTS,
        gradient="-(I' / (U + eps) - I U' / (U + eps)^2) with U' = area' - I'. Zero when the boxes do not overlap: "
                 "disjoint boxes get no signal at all." + _TIES,
        use="Reporting box overlap as a loss, or regression once boxes already overlap (scale invariant).",
        avoid="Training from poor initial boxes: disjoint boxes give loss 1 and gradient 0. Use giou, diou or ciou.",
        relations="giou, diou and ciou add penalties that keep a gradient for disjoint boxes; all four equal "
                  "1 - iou for identical boxes.",
        reference="Yu et al. (2016), UnitBox; the overlap and eps convention of torchvision.ops._loss_inter_union "
                  "(iou = intersection / (union + eps)).",
    ),
)

GIOU = Loss(
    name="giou", family="boxes", summary="Generalized IoU loss (Rezatofighi et al. 2019).",
    formula="1 - I / (U + eps) + (C - U) / (C + eps), C = enclosing box area",
    inputs=(PRED, TARGET), value=GIOU_VALUE, grad=GIOU_GRAD, per="row", check=_check, params=(FMT, EPS),
    explain=Explain(
        inputs=_INPUTS,
        gradient="The iou gradient plus (C' - U') / (C + eps) - (C - U) C' / (C + eps)^2." + _TIES,
        use="Box regression (DETR and many detectors): still informative for disjoint boxes through the "
            "empty part of the enclosing box. Values lie in [0, 2].",
        avoid="Boxes that contain one another: the enclosing term vanishes and it reduces to the iou loss, "
              "which converges slowly there; diou/ciou handle that case better.",
        relations="iou plus the fraction of the enclosing box that neither box covers.",
        reference="Rezatofighi et al. (2019), Generalized Intersection over Union; "
                  "torchvision.ops.generalized_box_iou_loss.",
    ),
)

DIOU = Loss(
    name="diou", family="boxes", summary="Distance IoU loss: IoU loss plus normalised centre distance.",
    formula="1 - I / (U + eps) + rho^2 / (c^2 + eps)",
    inputs=(PRED, TARGET), value=DIOU_VALUE, grad=DIOU_GRAD, per="row", check=_check, params=(FMT, EPS),
    explain=Explain(
        inputs=_INPUTS,
        gradient="The iou gradient plus rho'/(c^2 + eps) - rho (c^2)'/(c^2 + eps)^2, rho the squared centre "
                 "distance and c^2 the squared enclosing diagonal." + _TIES,
        use="Box regression where centres should converge fast, including nested boxes.",
        avoid="When aspect ratio matters as much as position: ciou adds that term.",
        relations="iou plus a centre-distance penalty; ciou adds an aspect-ratio term on top.",
        reference="Zheng et al. (2020), Distance-IoU Loss (arXiv 1911.08287); torchvision.ops.distance_box_iou_loss.",
    ),
)

CIOU = Loss(
    name="ciou", family="boxes", summary="Complete IoU loss: DIoU plus an aspect-ratio term.",
    formula="diou + alpha v, v = 4/pi^2 (atan(w_t/h_t) - atan(w_p/h_p))^2, alpha = v / (1 - iou + v + eps)",
    inputs=(PRED, TARGET), value=CIOU_VALUE, grad=CIOU_GRAD, per="row", check=_check, params=(FMT, EPS),
    explain=Explain(
        inputs=_INPUTS,
        gradient="The diou gradient plus alpha dv, with alpha held constant (torchvision computes it under "
                 "torch.no_grad). atan(w/h) is taken as atan2(w, h), so a zero-height "
                 "box has a finite gradient and a zero-size box an aspect term of 0 (torchvision gives NaN there)."
                 + _TIES,
        use="YOLO-style box regression: overlap, centre distance and aspect ratio in one loss.",
        avoid="When the gradient must be that of the reported value exactly: holding alpha constant means the "
              "gradient is not the derivative of the number shown (finite differences disagree where v > 0).",
        relations="diou plus alpha v. With a non-default eps we use it everywhere; torchvision's ciou passes eps "
                  "only to alpha and keeps 1e-7 inside its DIoU part (identical at the default).",
        reference="Zheng et al. (2020), Distance-IoU Loss (arXiv 1911.08287); torchvision.ops.complete_box_iou_loss.",
    ),
)

LOSSES = (IOU, GIOU, DIOU, CIOU)
