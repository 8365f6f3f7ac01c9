"""Keypoint losses: one row per object, K keypoints each as interleaved (x, y) pred and target columns."""

from __future__ import annotations

import numpy as np

from ..errors import InputDataError
from .base import NON_NEGATIVE, Explain, Loss, Param, Role, pred_role

# COCO's per-keypoint standard deviations for the 17 person keypoints, as cocoeval and Ultralytics use them
COCO_SIGMAS = np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87,
                        0.89, 0.89]) / 10.0
# Ultralytics adds 1e-9 to the area and to the count of labelled keypoints
_TINY = 1e-9

PRED = pred_role("predicted keypoints: 2K columns x_0, y_0, x_1, y_1, ... (interleaved)")
TARGET = Role("target", "true keypoints in the same 2K-column layout as pred", width="pred",
              defaults=("target", "target_*", "gt", "gt_*", "y_true", "y_true_*"))
VISIBILITY = Role("visibility", "K columns of keypoint visibility; 0 means not labelled (COCO's v = 0)",
                  NON_NEGATIVE, defaults=("visibility", "visibility_*", "vis_*", "v_*"),
                  hint="Visibility is COCO's v: 0 (not labelled), 1 (labelled, hidden) or 2 (visible).")
AREA = Role("area", "one column: the object's area (Ultralytics passes the box area times 0.53)", NON_NEGATIVE,
            width=1, defaults=("area",))


def _sigmas(sigmas, k):
    if sigmas is not None:
        return np.asarray(sigmas, dtype=np.float64)
    # Ultralytics: COCO's sigmas for the 17-keypoint person layout, else 1/K for every keypoint
    return COCO_SIGMAS if k == 17 else np.full(k, 1.0 / k)


def _oks_parts(pred, target, visibility, area, sigmas):
    k = visibility.shape[1]
    s = _sigmas(sigmas, k)
    dx, dy = pred[:, 0::2] - target[:, 0::2], pred[:, 1::2] - target[:, 1::2]
    scale = (2.0 * s) ** 2 * (area + _TINY) * 2.0  # cocoeval's denominator: 8 sigma^2 area
    e = (dx * dx + dy * dy) / scale
    mask = (visibility != 0).astype(np.float64)
    factor = k / (mask.sum(axis=1, keepdims=True) + _TINY)
    return e, mask, factor, dx, dy, scale


def oks(pred, target, visibility, area, *, sigmas=None):
    """K / (#labelled) sum_k (1 - exp(-e_k)) [v_k != 0], e = d^2 / (8 sigma_k^2 (area + 1e-9)); per object."""
    e, mask, factor, *_ = _oks_parts(pred, target, visibility, area, sigmas)
    return factor[:, 0] * (-np.expm1(-e) * mask).sum(axis=1)


def oks_grad(pred, target, visibility, area, *, sigmas=None):
    e, mask, factor, dx, dy, scale = _oks_parts(pred, target, visibility, area, sigmas)
    common = factor * mask * np.exp(-e) * 2.0 / scale  # d(1 - exp(-e))/de times de/d(d^2) times d(d^2)/d(dx) / dx
    g = np.empty_like(pred)
    g[:, 0::2] = common * dx
    g[:, 1::2] = common * dy
    return g


def oks_hess(pred, target, visibility, area, *, sigmas=None):
    """K/(n_v + 1e-9) [v_k != 0] exp(-e_k) (2/S_k) (1 - 2 dx^2/S_k) for x, the same with dy for y; S_k the
    denominator 8 sigma_k^2 (area + 1e-9), e_k = (dx^2 + dy^2)/S_k.

    The diagonal of each object's Hessian in its 2K coordinates: d^2 (1 - exp(-e))/dx^2 = exp(-e) (e'' - e'^2)
    with e' = 2 dx/S and e'' = 2/S. Positive near the keypoint, negative beyond dx^2 = S/2 (the loss saturates
    at 1), and 0 for unlabelled keypoints. Smooth everywhere: no kink to choose a value at. Where exp(-e) is 0
    (a keypoint hopelessly far) 0 is given, not 0 times an infinite dx^2/S.
    """
    e, mask, factor, dx, dy, scale = _oks_parts(pred, target, visibility, area, sigmas)
    common = factor * mask * np.exp(-e) * 2.0 / scale
    h = np.empty_like(pred)
    with np.errstate(invalid="ignore"):  # 0 * inf where d^2 overflowed, replaced by 0
        h[:, 0::2] = np.where(common > 0.0, common * (1.0 - 2.0 * dx * dx / scale), 0.0)
        h[:, 1::2] = np.where(common > 0.0, common * (1.0 - 2.0 * dy * dy / scale), 0.0)
    return h


def oks_norm(pred, target, visibility, area, *, sigmas=None):
    # Ultralytics' .mean() runs over objects AND keypoints, so every object counts K times
    return np.full(pred.shape[0], float(visibility.shape[1]))


def oks_check(pred, target, visibility, area, *, sigmas=None):
    k = visibility.shape[1]
    if pred.shape[1] != 2 * k:
        raise InputDataError(f"Loss 'oks': pred has {pred.shape[1]} columns but visibility has {k}; pred needs two "
                             f"columns (x, y) per keypoint, i.e. {2 * k}, interleaved x_0, y_0, x_1, y_1, ...")
    if sigmas is not None and len(sigmas) != k:
        raise InputDataError(f"Loss 'oks': sigmas has {len(sigmas)} values but there are {k} keypoints; give one "
                             "per keypoint, or leave sigmas unset (COCO's for 17 keypoints, else 1/K each).")
    return []


OKS = Loss(
    name="oks", family="keypoints", per="row",
    summary="Keypoint loss of Ultralytics' pose models: 1 - exp(-e) per labelled keypoint, the OKS error term.",
    formula="K/(n_v + 1e-9) sum_k (1 - exp(-d_k^2 / (8 sigma_k^2 (area + 1e-9)))) [v_k != 0], mean over objects x K",
    inputs=(PRED, TARGET, VISIBILITY, AREA), value=oks, grad=oks_grad, norm=oks_norm, check=oks_check,
    hess=oks_hess,
    params=(Param("sigmas", None, "per-keypoint standard deviations; default COCO's 17 person sigmas when there are "
                  "17 keypoints, else 1/K each (Ultralytics' rule)", kind="floats", low=0.0, low_open=True,
                  allow_none=True),),
    explain=Explain(
        inputs="One row per object. pred and target: 2K columns, x and y of each keypoint interleaved (x_0, y_0, "
               "x_1, ...). visibility: K columns (COCO's v; 0 = not labelled, counted out). area: one column, the "
               "object's scale (Ultralytics passes the box area times 0.53). Name the extra inputs with --input "
               "visibility=COLS --input area=COL unless they are called visibility_*/vis_* and area.",
        gradient="With respect to the predicted coordinates: K/(n_v + 1e-9) [v_k != 0] exp(-e_k) 2 (x - x_gt) / "
                 "(8 sigma_k^2 (area + 1e-9)), and the same for y; 0 for unlabelled keypoints.",
        use="Scoring or training keypoint (pose) predictions on the scale COCO evaluates them with: an error of a "
            "few pixels matters more for an eye (small sigma) than for a hip, and more on a small person.",
        avoid="Objects with no labelled keypoint: they count 0 but still enter the mean (as in Ultralytics).",
        relations="1 - exp(-e) is 1 minus the keypoint's OKS similarity, so the loss is a rescaled 1 - OKS. The mean "
                  "divides by objects times K exactly like Ultralytics' .mean(); with --reduction sum it is that "
                  "mean times n K.",
        reference="ultralytics/utils/loss.py KeypointLoss (e = d / ((2 sigma)^2 (area + 1e-9) 2), 'from cocoeval'); "
                  "OKS_SIGMA in ultralytics/utils/metrics.py; COCO keypoint evaluation (cocoeval.computeOks).",
    ),
)

LOSSES = (OKS,)
