"""Segmentation (overlap) losses: set-level scores over the whole column, one score per class.

Each pred column is one class (a binary mask flattened into rows: one row per pixel).
For class c the per-row statistics are the soft true positive, false positive and
false negative counts::

    I_c  = sum_i p_ic t_ic          FP_c = sum_i p_ic (1 - t_ic)          FN_c = sum_i (1 - p_ic) t_ic

They add up over rows, chunks and groups, so ``stats`` returns them as an (n, 3C)
array laid out [I_0..I_C-1, FP_0.., FN_0..]. Every loss here is the mean over classes
of f(L_c) with

    L_c = 1 - (k I_c + s) / (k I_c + a FP_c + b FN_c + s) = (a FP_c + b FN_c) / (k I_c + a FP_c + b FN_c + s)

(dice: k=2, a=b=1; jaccard: k=1, a=b=1; tversky: k=1, a=alpha, b=beta). The right-hand
form is exact algebra, and it is what we compute: it has no "1 - x" cancellation, so a
nearly perfect prediction keeps all its digits, and FP and FN are summed directly
rather than as P - I and T - I, which could round below zero. Since P + T = 2I + FP + FN
the dice denominator is the usual sum p + sum t + smooth.

The gradient with respect to p_ic is, with N = k I + s, E = a FP + b FN, D = N + E,
dL/dp = (E'(p) N - E N'(p)) / D^2 where N' = k t and E' = a (1 - t) - b t; with
from_logits it is multiplied by sigmoid'(x) = p (1 - p).
"""

from __future__ import annotations

import numpy as np

from .base import PROBABILITY, Explain, Loss, Param, Problem, pred_role, sigmoid, target_role

PRED = pred_role("one column per class: probabilities in [0, 1], or logits with from_logits=true")
TARGET = target_role(
    "one column per class: the true mask, 0/1 or soft labels in [0, 1]", PROBABILITY,
    hint="Targets of an overlap loss are mask values in [0, 1], one column per pred column.",
)

_LOGIT_HINT = "pass from_logits=true if these are raw scores (logits), or apply a sigmoid first"


def _check(pred, target, *, from_logits=False, **_):
    """pred's domain depends on from_logits, so it is checked here rather than by the role."""
    if from_logits:
        return []
    bad = (pred < 0.0) | (pred > 1.0)
    return [Problem("pred", bad, f"pred must be probabilities in [0, 1] when from_logits=false; {_LOGIT_HINT}")]


def _probs(pred, from_logits):
    """p and 1 - p; for logits both come from sigmoid of +-x, so 1 - p keeps its digits when p ~ 1."""
    if from_logits:
        return sigmoid(pred), sigmoid(-pred)
    return pred, 1.0 - pred


def _stats(pred, target, *, from_logits=False, **_):
    p, q = _probs(pred, from_logits)
    c = pred.shape[1]
    # column by column into a column-major array: np.hstack of narrow blocks copied them a row at a
    # time, five times the cost of the products, and the engine sums these columns whole
    stats = np.empty((pred.shape[0], 3 * c), order="F")
    for j in range(c):
        np.multiply(p[:, j], target[:, j], out=stats[:, j])
        np.multiply(p[:, j], 1.0 - target[:, j], out=stats[:, c + j])
        np.multiply(q[:, j], target[:, j], out=stats[:, 2 * c + j])
    return stats


def _split(totals):
    """I, FP and FN of the (3C,) totals, or of (n, 3C) totals (each row's own group's)."""
    c = totals.shape[-1] // 3
    return totals[..., :c], totals[..., c:2 * c], totals[..., 2 * c:]


def _class_losses(totals, k, a, b, smooth):
    """L_c = E / (k I + E + s): the exact rewrite of 1 - (k I + s) / (k I + E + s)."""
    inter, fp, fn = _split(np.asarray(totals, dtype=np.float64))
    e = a * fp + b * fn
    n = k * inter + smooth
    return e, n, e / (n + e)


def _grad(pred, target, totals, k, a, b, smooth, from_logits, outer=None):
    """d mean_c f(L_c) / d pred; outer(L) gives f'(L) (None: f is the identity)."""
    e, n, loss = _class_losses(totals, k, a, b, smooth)
    d = n + e
    # E' N - E N' = a N (1 - t) - (b N + k E) t: per-class numbers times (1 - t) and t
    scale = 1.0 / (d * d * pred.shape[1])
    if outer is not None:
        scale = scale * outer(loss)
    inside, outside = a * n * scale, (b * n + k * e) * scale
    g = np.empty(target.shape)
    for j in range(target.shape[1]):  # a class at a time: broadcasting over a narrow block is slow
        g[:, j] = inside[..., j] * (1.0 - target[:, j]) - outside[..., j] * target[:, j]
    if from_logits:
        p, q = _probs(pred, True)
        g = g * p * q
    return g


# ----------------------------------------------------------------------------- dice, jaccard, tversky


def dice_value(*, totals, smooth=1.0, from_logits=False):
    """1 - (2 sum p t + s) / (sum p + sum t + s), mean over classes."""
    return float(_class_losses(totals, 2.0, 1.0, 1.0, smooth)[2].mean())


def dice_grad(pred, target, *, totals, smooth=1.0, from_logits=False):
    return _grad(pred, target, totals, 2.0, 1.0, 1.0, smooth, from_logits)


def jaccard_value(*, totals, smooth=1.0, from_logits=False):
    """1 - (I + s) / (P + T - I + s), mean over classes."""
    return float(_class_losses(totals, 1.0, 1.0, 1.0, smooth)[2].mean())


def jaccard_grad(pred, target, *, totals, smooth=1.0, from_logits=False):
    return _grad(pred, target, totals, 1.0, 1.0, 1.0, smooth, from_logits)


def tversky_value(*, totals, alpha=0.5, beta=0.5, smooth=1.0, from_logits=False):
    """1 - (I + s) / (I + alpha FP + beta FN + s), mean over classes."""
    return float(_class_losses(totals, 1.0, alpha, beta, smooth)[2].mean())


def tversky_grad(pred, target, *, totals, alpha=0.5, beta=0.5, smooth=1.0, from_logits=False):
    return _grad(pred, target, totals, 1.0, alpha, beta, smooth, from_logits)


def focal_tversky_value(*, totals, alpha=0.5, beta=0.5, gamma=0.75, smooth=1.0, from_logits=False):
    """mean over classes of (1 - TI_c)^gamma; the exponent is gamma itself (smp's convention)."""
    loss = _class_losses(totals, 1.0, alpha, beta, smooth)[2]
    return float((loss ** gamma).mean())


def focal_tversky_grad(pred, target, *, totals, alpha=0.5, beta=0.5, gamma=0.75, smooth=1.0, from_logits=False):
    def outer(loss):
        # gamma L^(gamma-1) is infinite at L = 0 for gamma < 1 (torch autograd gives inf there).
        # L = 0 only at a perfect prediction, the minimum, where we report the zero subgradient.
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(loss > 0.0, gamma * loss ** (gamma - 1.0), 1.0 if gamma == 1.0 else 0.0)

    return _grad(pred, target, totals, 1.0, alpha, beta, smooth, from_logits, outer)


# ----------------------------------------------------------------------------- definitions

SMOOTH = Param("smooth", 1.0, "added to numerator and denominator of each class score; keeps an empty class finite "
               "(use a tiny value such as 1e-7 for the plain index)", low=0.0, low_open=True)
FROM_LOGITS = Param("from_logits", False, "apply a sigmoid to pred first (pred are logits)", kind=bool)
ALPHA = Param("alpha", 0.5, "weight of the false positives sum p (1 - t)", low=0.0)
BETA = Param("beta", 0.5, "weight of the false negatives sum (1 - p) t", low=0.0)
GAMMA = Param("gamma", 0.75, "exponent applied to each class's Tversky loss (1 - TI); < 1 keeps pushing "
              "classes that are already good, > 1 focuses on poor ones", low=0.0, low_open=True)

_INPUTS = ("pred and target have one column per class (a flattened mask: one row per pixel or voxel). "
           "pred holds probabilities in [0, 1], or logits with from_logits=true; target holds 0/1 or soft mask values. "
           "The loss is computed over the whole set of rows, not per row, then averaged over the classes.")
_SET = (" It is a set-level loss: there is no per-row value, sample weights and --reduction are ignored, and a group's "
        "value is the loss computed on that group's rows alone.")

DICE = Loss(
    name="dice", family="segmentation", summary="Soft Dice loss over the whole set, mean over classes.",
    formula="mean_c 1 - (2 sum p t + s) / (sum p + sum t + s)",
    inputs=(PRED, TARGET), value=dice_value, grad=dice_grad, stats=_stats, check=_check,
    per="set", sample_weights=False, params=(SMOOTH, FROM_LOGITS),
    explain=Explain(
        inputs=_INPUTS + _SET,
        gradient="Each pixel's gradient depends on the totals of its class: (E' N - E N') / D^2 with N = 2I + s, "
                 "E = FP + FN, D = N + E, divided by the number of classes (times p (1 - p) with from_logits).",
        use="Segmentation with heavy class imbalance (small foreground objects): the score only counts overlap, "
            "so the huge background does not swamp the loss the way it swamps per-pixel cross-entropy.",
        avoid="When you need a per-pixel value or sample weights, or on tiny sets where one pixel swings the score; "
              "pair it with bce for stabler early training.",
        relations="tversky with alpha=beta=0.5 has the same optimum (it is 1 - (I + s)/((P + T)/2 + s)); "
                  "the unsmoothed scores satisfy IoU = Dice / (2 - Dice), so jaccard ranks predictions like dice; focal_tversky adds an exponent.",
        reference="Milletari et al. (2016), V-Net; Sudre et al. (2017), Generalised Dice overlap; "
                  "segmentation_models_pytorch DiceLoss (which defaults to smooth=0 with an eps clamp).",
    ),
)

JACCARD = Loss(
    name="jaccard", family="segmentation", summary="Soft Jaccard (IoU) loss over the whole set, mean over classes.",
    formula="mean_c 1 - (I + s) / (P + T - I + s), I = sum p t, P = sum p, T = sum t",
    inputs=(PRED, TARGET), value=jaccard_value, grad=jaccard_grad, stats=_stats, check=_check,
    per="set", sample_weights=False, params=(SMOOTH, FROM_LOGITS),
    explain=Explain(
        inputs=_INPUTS + _SET,
        gradient="(E' N - E N') / D^2 per pixel with N = I + s, E = FP + FN, D = N + E, divided by the number of "
                 "classes (times p (1 - p) with from_logits).",
        use="When the evaluation metric is IoU (mIoU benchmarks): the soft version of the metric you report.",
        avoid="Same limits as dice: no per-row values, unstable on very small sets.",
        relations="Punishes errors more than dice for the same overlap (IoU <= Dice); tversky with alpha=beta=1 "
                  "is exactly jaccard.",
        reference="Rahman and Wang (2016), Optimizing IoU in deep neural networks; "
                  "segmentation_models_pytorch JaccardLoss.",
    ),
)

TVERSKY = Loss(
    name="tversky", family="segmentation", summary="Tversky loss: Jaccard/Dice with separate weights on FP and FN.",
    formula="mean_c 1 - (I + s) / (I + alpha sum p(1-t) + beta sum (1-p)t + s)",
    inputs=(PRED, TARGET), value=tversky_value, grad=tversky_grad, stats=_stats, check=_check,
    per="set", sample_weights=False, params=(ALPHA, BETA, SMOOTH, FROM_LOGITS),
    explain=Explain(
        inputs=_INPUTS + _SET,
        gradient="(E' N - E N') / D^2 per pixel with N = I + s, E = alpha FP + beta FN, D = N + E; "
                 "E' = alpha (1 - t) - beta t.",
        use="Imbalanced segmentation where missing foreground costs more than extra foreground: raise beta "
            "(e.g. alpha=0.3, beta=0.7) to favour recall.",
        avoid="When false positives and negatives cost the same: plain dice is simpler to explain.",
        relations="alpha=beta=1 is jaccard; alpha=beta=0.5 is a dice variant (1 - (I + s)/((P + T)/2 + s)); "
                  "focal_tversky raises it to a power.",
        reference="Salehi et al. (2017), Tversky loss function for image segmentation; "
                  "segmentation_models_pytorch soft_tversky_score (alpha on FP, beta on FN).",
    ),
)

FOCAL_TVERSKY = Loss(
    name="focal_tversky", family="segmentation", summary="Focal Tversky loss: each class's Tversky loss to the power gamma.",
    formula="mean_c (1 - TI_c)^gamma, TI = (I + s) / (I + alpha FP + beta FN + s)",
    inputs=(PRED, TARGET), value=focal_tversky_value, grad=focal_tversky_grad, stats=_stats, check=_check,
    per="set", sample_weights=False, params=(ALPHA, BETA, GAMMA, SMOOTH, FROM_LOGITS),
    explain=Explain(
        inputs=_INPUTS + _SET,
        gradient="gamma (1 - TI_c)^(gamma - 1) times the tversky gradient of the class. For gamma < 1 that factor is "
                 "infinite at a perfect class (1 - TI = 0, the minimum); we report 0 there (torch autograd gives inf).",
        use="Small structures (lesions) where the plain Tversky gradient fades as the score improves; with gamma < 1 "
            "the loss keeps pushing classes that are already fairly good.",
        avoid="When you need gradients that vanish smoothly at the optimum (gamma < 1 has an infinite slope there).",
        relations="gamma=1 is tversky. gamma here is the exponent itself, as in segmentation_models_pytorch "
                  "(TverskyLoss/FocalTverskyLoss gamma); Abraham and Khan write the exponent as 1/gamma with their "
                  "gamma = 4/3, so our default 0.75 is their recommended setting. We raise each class's loss to gamma "
                  "and then average (as the paper sums per class); smp's TverskyLoss instead raises the class mean to "
                  "gamma, which is the same for one class.",
        reference="Abraham and Khan (2019), A novel focal Tversky loss function with improved attention U-Net for "
                  "lesion segmentation; segmentation_models_pytorch losses/tversky.py and focal_tversky.py.",
    ),
)

LOSSES = (DICE, JACCARD, TVERSKY, FOCAL_TVERSKY)
