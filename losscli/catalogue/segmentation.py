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

import weakref

import numpy as np

from .base import (BINARY, PROBABILITY, Explain, Loss, Param, Problem, descending_order, pred_role, row_sums, sigmoid,
                   softmax, target_role, whole_array_blocks)

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
    return _class_losses(totals, 2.0, 1.0, 1.0, smooth)[2].mean(axis=-1)


def dice_grad(pred, target, *, totals, smooth=1.0, from_logits=False):
    return _grad(pred, target, totals, 2.0, 1.0, 1.0, smooth, from_logits)


def jaccard_value(*, totals, smooth=1.0, from_logits=False):
    """1 - (I + s) / (P + T - I + s), mean over classes."""
    return _class_losses(totals, 1.0, 1.0, 1.0, smooth)[2].mean(axis=-1)


def jaccard_grad(pred, target, *, totals, smooth=1.0, from_logits=False):
    return _grad(pred, target, totals, 1.0, 1.0, 1.0, smooth, from_logits)


def tversky_value(*, totals, alpha=0.5, beta=0.5, smooth=1.0, from_logits=False):
    """1 - (I + s) / (I + alpha FP + beta FN + s), mean over classes."""
    return _class_losses(totals, 1.0, alpha, beta, smooth)[2].mean(axis=-1)


def tversky_grad(pred, target, *, totals, alpha=0.5, beta=0.5, smooth=1.0, from_logits=False):
    return _grad(pred, target, totals, 1.0, alpha, beta, smooth, from_logits)


def focal_tversky_value(*, totals, alpha=0.5, beta=0.5, gamma=0.75, smooth=1.0, from_logits=False):
    """mean over classes of (1 - TI_c)^gamma; the exponent is gamma itself (smp's convention)."""
    loss = _class_losses(totals, 1.0, alpha, beta, smooth)[2]
    return (loss ** gamma).mean(axis=-1)


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

# ----------------------------------------------------------------------------- generalized dice (optax)


def _class_probabilities(pred, from_logits):
    """p over the class columns: softmax across a row's columns for logits (optax's apply_softmax), else pred."""
    return softmax(pred) if from_logits else pred


def _generalized_dice_stats(pred, target, *, smooth=1.0, from_logits=False):
    # p t, p (1 - t) and (1 - p) t, as for dice, of the class probabilities
    return _stats(_class_probabilities(pred, from_logits), target)


def _inverse_frequency_weights(totals):
    """optax's weights 1 / (T_c^2 + 1e-7), rescaled to sum to the number of classes; T_c = I_c + FN_c."""
    inter, _, fn = _split(np.asarray(totals, dtype=np.float64))
    w = 1.0 / ((inter + fn) ** 2 + 1e-7)
    return w / w.sum(axis=-1, keepdims=True) * w.shape[-1]


def generalized_dice_value(*, totals, smooth=1.0, from_logits=False):
    """mean_c w_c (1 - (I_c + s) / ((P_c + T_c)/2 + s)), w = inverse squared class frequency (optax)."""
    loss = _class_losses(totals, 1.0, 0.5, 0.5, smooth)[2]
    return (_inverse_frequency_weights(totals) * loss).mean(axis=-1)


def generalized_dice_grad(pred, target, *, totals, smooth=1.0, from_logits=False):
    # the weights depend on the targets only, so they are constants for the gradient
    weights = _inverse_frequency_weights(totals)
    p = _class_probabilities(pred, from_logits)
    g = _grad(p, target, totals, 1.0, 0.5, 0.5, smooth, False, outer=lambda loss: weights)
    return _through_softmax(p, g) if from_logits else g


def _through_softmax(p, g):
    """p (g - sum_k p_k g_k): a gradient g with respect to p = softmax(x), taken to x."""
    inner = row_sums(p * g)
    out = np.empty_like(p)
    for k in range(p.shape[1]):  # column by column: an (n, 1) column against a narrow (n, K) array is slow
        np.multiply(p[:, k], g[:, k] - inner, out=out[:, k])
    return out


def _generalized_dice_check(pred, target, *, from_logits=False, **_):
    if pred.shape[1] < 2 and from_logits:
        from ..errors import InputDataError

        raise InputDataError("generalized_dice with from_logits=true applies a softmax across the class columns, "
                             "so pred needs K >= 2 columns (one per class).")
    return _check(pred, target, from_logits=from_logits)


# ----------------------------------------------------------------------------- Matthews correlation (smp)

_MCC_EPS = 1e-5  # smp MCCLoss's default eps, added to each of the four counts


def _mcc_stats(pred, target, *, eps=_MCC_EPS, from_logits=False):
    """Per row, summed over its columns: soft TP, TN, FP and FN (smp flattens every channel into one mask)."""
    p, q = _probs(pred, from_logits)
    miss = 1.0 - target
    stats = np.empty((pred.shape[0], 4), order="F")  # a count at a time, as _stats does
    for k, (a, b) in enumerate(((p, target), (q, miss), (p, miss), (q, target))):
        stats[:, k] = row_sums(a * b)
    return stats


def _mcc_parts(totals, eps):
    t = np.asarray(totals, dtype=np.float64) + eps
    tp, tn, fp, fn = t[..., 0], t[..., 1], t[..., 2], t[..., 3]
    numerator = tp * tn - fp * fn
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return tp, tn, fp, fn, numerator, denominator


def mcc_value(*, totals, eps=_MCC_EPS, from_logits=False):
    """1 - (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)), each count + eps; smp MCCLoss."""
    *_, numerator, denominator = _mcc_parts(totals, eps)
    return 1.0 - numerator / denominator


def mcc_grad(pred, target, *, totals, eps=_MCC_EPS, from_logits=False):
    tp, tn, fp, fn, numerator, denominator = _mcc_parts(totals, eps)
    col = (lambda a: a[:, None]) if np.ndim(tp) else (lambda a: a)
    # d/dp of TP, TN, FP, FN: t, -(1 - t), 1 - t, -t. So TP+FP grows by 1, TN+FN falls by 1, the other two stay.
    d_num = col(tn) * target - col(tp) * (1.0 - target) - col(fn) * (1.0 - target) + col(fp) * target
    d_log_den = 0.5 * (1.0 / col(tp + fp) - 1.0 / col(tn + fn))
    g = -(d_num - col(numerator) * d_log_den) / col(denominator)
    if from_logits:
        p, q = _probs(pred, True)
        g = g * p * q
    return g


# ----------------------------------------------------------------------------- definitions

GENERALIZED_DICE = Loss(
    name="generalized_dice", family="segmentation",
    summary="Generalized Dice loss: per-class Dice weighted by inverse squared class frequency (optax).",
    formula="mean_c w_c (1 - (I_c + s) / ((P_c + T_c)/2 + s)), w_c = C (1/(T_c^2 + 1e-7)) / sum_k 1/(T_k^2 + 1e-7)",
    inputs=(pred_role("one column per class: probabilities, or logits with from_logits=true (softmax across the "
                      "columns)"), TARGET),
    value=generalized_dice_value, grad=generalized_dice_grad, stats=_generalized_dice_stats,
    check=_generalized_dice_check, per="set", sample_weights=False,
    params=(SMOOTH, Param("from_logits", False, "apply a softmax across the class columns first (optax's "
                          "apply_softmax, which optax turns on by default)", kind=bool)),
    explain=Explain(
        inputs=_INPUTS.replace("or logits with from_logits=true", "or logits with from_logits=true, turned into "
                               "probabilities by a softmax across the class columns (optax's apply_softmax)") + _SET,
        gradient="Per pixel, w_c times the class's Dice gradient (E' N - E N') / D^2 with N = I + s, E = (FP + FN)/2, "
                 "divided by the number of classes; the weights depend on the targets only and are constants. With "
                 "from_logits the result goes through the softmax: p (g - sum_k p_k g_k).",
        use="Multi-class segmentation with very unequal class sizes: rare classes get large weights, so a missed "
            "small organ costs as much as a missed large one.",
        avoid="Classes absent from the set: T_c = 0 gives the weight 1/1e-7, which swamps every other class (as in "
              "optax). Group so that each group holds every class, or use dice.",
        relations="This is optax's multiclass_generalized_dice_loss: a weighted MEAN of per-class Dice losses. Sudre "
                  "et al. define the generalized Dice as one ratio, 1 - 2 sum_c w_c I_c / sum_c w_c (P_c + T_c); the two "
                  "agree for one class and differ otherwise. With equal class sizes it is dice with the (P+T)/2 "
                  "denominator (tversky alpha=beta=0.5). optax's default is logits (apply_softmax=True); ours is "
                  "probabilities, like every overlap loss here: pass from_logits=true for optax's default.",
        reference="optax.losses.multiclass_generalized_dice_loss and dice_loss (optax/losses/_segmentation.py); "
                  "Sudre et al. (2017), Generalised Dice overlap as a deep learning loss function for highly "
                  "unbalanced segmentations.",
    ),
)

MCC = Loss(
    name="mcc", family="segmentation",
    summary="Soft Matthews correlation coefficient loss, 1 - MCC over the whole set (smp).",
    formula="1 - (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)), soft counts + eps each",
    inputs=(PRED, TARGET), value=mcc_value, grad=mcc_grad, stats=_mcc_stats, check=_check,
    per="set", sample_weights=False,
    params=(Param("eps", _MCC_EPS, "added to each of TP, TN, FP, FN (smp's default 1e-5) so an empty class stays "
                  "finite", low=0.0, low_open=True), FROM_LOGITS),
    explain=Explain(
        inputs=_INPUTS.replace(" then averaged over the classes", " with every column's pixels pooled into one "
                               "binary mask (smp flattens the channels)") + _SET,
        gradient="-(dN - N (1/(TP+FP) - 1/(TN+FN)) / 2) / D per pixel, with dN = TN t - TP (1 - t) - FN (1 - t) + FP t, "
                 "N = TP TN - FP FN and D the square root (times p (1 - p) with from_logits).",
        use="Binary segmentation or detection masks with strong imbalance: MCC uses all four cells of the confusion "
            "matrix, so predicting all background does not look good.",
        avoid="Several classes that should count separately: the columns are pooled into one mask here, as smp does; "
              "compute one column at a time (or use dice) for per-class scores.",
        relations="MCC is the Pearson correlation of prediction and target on 0/1 data; the loss lies in [0, 2]. "
                  "dice and jaccard ignore true negatives, mcc does not.",
        reference="segmentation_models_pytorch losses/mcc.py MCCLoss (eps=1e-5 added to each count; y_pred taken as "
                  "probabilities); Abhishek and Hamarneh (2021), Matthews Correlation Coefficient Loss for Deep "
                  "Convolutional Networks.",
    ),
)

# ----------------------------------------------------------------------------- Lovász (needs the sorted set)


def _lovasz(errors, labels, with_grad):
    """The Lovász extension of the Jaccard loss at ``errors`` and, if asked, its gradient (Berman et al., Algorithm 1).

    The errors are sorted decreasingly and weighted by the increments of the Jaccard loss
    1 - (G - cumsum(y)) / (G + cumsum(1 - y)) as the sorted elements join the error set one by one;
    G counts every positive label. Only positive errors are sorted: the others come last, where they
    add nothing (an error <= 0 is cut by the hinge's relu, and |fg - p| = 0 is 0) and take no
    gradient, and the weights of the ones before them depend on no later element. The sort is stable
    (ties keep row order, as torch.sort on CPU): the value does not depend on it, the split of the
    gradient among tied elements does. After the sort the sorted elements are taken block by block,
    the running sums carried from one block to the next (each block's first element adds them, so
    the sums are the whole array's, in the same order).
    """
    positive = errors > 0.0
    counted = None if positive.all() else np.flatnonzero(positive)  # None: every element
    kept, kept_labels = (errors, labels) if counted is None else (errors[counted], labels[counted])
    del positive
    order = descending_order(kept)
    positives = labels.sum()
    value, hits, misses, jaccard_before = 0.0, 0.0, 0.0, 0.0
    d_errors = np.zeros(errors.size) if with_grad else None
    for start, stop in whole_array_blocks(order.size):
        rows = order[start:stop]
        sorted_labels = kept_labels[rows]
        missed = 1.0 - sorted_labels
        sorted_labels[0] += hits
        missed[0] += misses
        np.cumsum(sorted_labels, out=sorted_labels)
        np.cumsum(missed, out=missed)
        hits, misses = sorted_labels[-1], missed[-1]
        intersection, union = positives - sorted_labels, positives + missed
        jaccard = 1.0 - intersection / union
        weights = np.empty_like(jaccard)
        np.subtract(jaccard[1:], jaccard[:-1], out=weights[1:])
        weights[0] = jaccard[0] - jaccard_before
        jaccard_before = jaccard[-1]
        value += float(np.dot(kept[rows], weights))
        if with_grad:
            d_errors[rows if counted is None else counted[rows]] = weights
    return value, d_errors


# value and stats_grad are asked of the same held statistics (engine/held.py hands both the same array), and
# the sort is nearly all their cost: stats_grad, which needs the value's sort anyway, leaves the value here
_VALUES: dict[int, tuple[weakref.ref, float]] = {}


def _remember_value(stats, value: float) -> None:
    if not isinstance(stats, np.ndarray):
        return
    key = id(stats)
    _VALUES[key] = (weakref.ref(stats, lambda _: _VALUES.pop(key, None)), value)


def _remembered_value(stats) -> float | None:
    entry = _VALUES.get(id(stats))
    return entry[1] if entry is not None and entry[0]() is stats else None


def _hinge_stats(pred, target):
    """Per element the hinge error 1 - x s (s = 2y - 1) and the label, laid out [errors..., labels...]."""
    c = pred.shape[1]
    s = np.empty((pred.shape[0], 2 * c))
    s[:, :c] = 1.0 - pred * (2.0 * target - 1.0)
    s[:, c:] = target
    return s


def _hinge_errors(totals):
    s = np.asarray(totals, dtype=np.float64)
    c = s.shape[1] // 2
    return s, s[:, :c].ravel(), s[:, c:].ravel()


def lovasz_hinge_value(*, totals):
    """sum_k relu(e_(k)) w_k over every element, errors sorted decreasingly; smp LovaszLoss(mode='binary')."""
    known = _remembered_value(totals)
    if known is not None:
        return known
    _, errors, labels = _hinge_errors(totals)
    return _lovasz(errors, labels, with_grad=False)[0]


def lovasz_hinge_stats_grad(*, totals):
    s, errors, labels = _hinge_errors(totals)
    c = s.shape[1] // 2
    d = np.zeros_like(s)
    value, d_errors = _lovasz(errors, labels, with_grad=True)  # relu passes nothing at 0, as torch
    d[:, :c] = d_errors.reshape(s.shape[0], c)
    _remember_value(totals, value)
    return d


def lovasz_hinge_grad(pred, target, *, totals):
    c = pred.shape[1]
    return totals[:, :c] * -(2.0 * target - 1.0)  # d(1 - x s)/dx = -s


def _softmax_stats(pred, target, *, from_logits=True):
    k = pred.shape[1]
    s = np.empty((pred.shape[0], k + 1))
    s[:, :k] = softmax(pred) if from_logits else pred
    s[:, k] = target[:, 0]
    return s


def _lovasz_softmax_classes(totals, with_grad):
    """The mean over present classes of each class's Lovász value, and its gradient with respect to the stats."""
    s = np.asarray(totals, dtype=np.float64)
    c = s.shape[1] - 1
    labels = s[:, c]
    present = [k for k in range(c) if (labels == k).any()]
    d = np.zeros_like(s) if with_grad else None
    losses = []
    for k in present:
        fg = (labels == k).astype(np.float64)
        gap = s[:, k] - fg
        value, d_errors = _lovasz(np.abs(gap), fg, with_grad)
        losses.append(value)
        if with_grad:
            d[:, k] = d_errors * np.sign(gap) / len(present)
    return (float(np.mean(losses)) if losses else 0.0), d


def lovasz_softmax_value(*, totals, from_logits=True):
    """mean over classes present of sum_k |fg - p|_(k) w_k; smp LovaszLoss(mode='multiclass'), classes='present'."""
    known = _remembered_value(totals)
    return known if known is not None else _lovasz_softmax_classes(totals, with_grad=False)[0]


def lovasz_softmax_stats_grad(*, totals, from_logits=True):
    value, d = _lovasz_softmax_classes(totals, with_grad=True)
    _remember_value(totals, value)
    return d


def lovasz_softmax_grad(pred, target, *, totals, from_logits=True):
    g = totals[:, :pred.shape[1]]
    if not from_logits:
        return g
    return _through_softmax(softmax(pred), g)


def _lovasz_softmax_check(pred, target, *, from_logits=True):
    from ..errors import InputDataError

    k = pred.shape[1]
    if k < 2:
        raise InputDataError(f"lovasz_softmax needs K >= 2 class columns in pred, got {k}.")
    raw = target[:, 0]
    bad = (raw != np.round(raw)) | (raw < 0) | (raw >= k)
    problems = [Problem("target", bad, f"target must be a class index 0..{k - 1} (one column)")]
    if not from_logits:
        problems.append(Problem("pred", (pred < 0) | (pred > 1), "with from_logits=false pred must be class "
                                "probabilities in [0, 1]"))
    return problems


_LOVASZ_MEMORY = (" The Lovász extension sorts the errors of the whole set, so it cannot be built from sums: every "
                  "row's errors and labels are kept in memory (refused beyond 2^27 numbers, with a message), and the "
                  "gradient takes a second pass. Set-level: no per-row value, --weight and --reduction do not apply, "
                  "a group's value is the loss on that group's rows alone (use --group-by image for smp's "
                  "per_image=True values).")

LOVASZ_HINGE = Loss(
    name="lovasz_hinge", family="segmentation", per="set", sample_weights=False, holds_rows=True,
    summary="Lovász hinge loss: the convex surrogate of the Jaccard (IoU) loss for binary masks (smp).",
    formula="sum_k relu(e_(k)) w_k, e = 1 - x (2y - 1) sorted decreasingly, w_k the Jaccard loss increments",
    inputs=(pred_role("logits, one column per mask (every column's pixels are pooled, as smp's binary mode)",
                      warn_if_probabilities="these look like probabilities, but the Lovász hinge takes logits."),
            target_role("0/1 mask values, one column per pred column", BINARY,
                        hint="Lovász hinge targets are binary masks (0 or 1).")),
    value=lovasz_hinge_value, stats=_hinge_stats, stats_grad=lovasz_hinge_stats_grad, grad=lovasz_hinge_grad,
    explain=Explain(
        inputs="pred holds logits (any real number), target 0/1 masks, one column per pred column; every element of "
               "every column is one pixel of one flattened mask (smp's mode='binary', per_image=False)."
               + _LOVASZ_MEMORY,
        gradient="-(2y - 1) w_k for each pixel with a positive hinge error, w_k the weight of its place in the "
                 "decreasing order of errors; 0 where the error is <= 0 (relu, as torch). Tied errors keep row "
                 "order, as torch.sort: the value does not depend on it, the split of the gradient among tied "
                 "pixels does.",
        use="Optimising IoU directly for binary segmentation, typically fine-tuning after bce or dice.",
        avoid="Sets too large to hold in memory, and training from scratch (it is piecewise linear; papers start "
              "with cross-entropy).",
        relations="The tight convex extension of the Jaccard loss (jaccard is a smooth surrogate of the same "
                  "metric). lovasz_softmax is its multi-class form on probabilities.",
        reference="Berman, Rannen Triki and Blaschko (2018), The Lovász-Softmax loss, CVPR; "
                  "segmentation_models_pytorch losses/lovasz.py (_lovasz_hinge_flat, _lovasz_grad).",
    ),
)

LOVASZ_SOFTMAX = Loss(
    name="lovasz_softmax", family="segmentation", per="set", sample_weights=False, holds_rows=True,
    summary="Lovász-softmax loss: the convex surrogate of the mean IoU over the classes present (smp).",
    formula="mean_{c present} sum_k |fg_c - p_c|_(k) w_k, errors sorted decreasingly per class, p = softmax(x)",
    inputs=(pred_role("K >= 2 class logits per pixel (probabilities with from_logits=false)"),
            target_role("one column: the pixel's class index 0..K-1", width=1)),
    value=lovasz_softmax_value, stats=_softmax_stats, stats_grad=lovasz_softmax_stats_grad, grad=lovasz_softmax_grad,
    check=_lovasz_softmax_check,
    params=(Param("from_logits", True, "apply a softmax across the class columns first (smp's LovaszLoss always "
                  "does in multiclass mode)", kind=bool),),
    explain=Explain(
        inputs="pred holds K class logits per pixel (one row per pixel), target one column of class indices. "
               "Only classes present in the target count (smp's classes='present'); no class present gives 0."
               + _LOVASZ_MEMORY,
        gradient="Per pixel and present class: sign(p_c - fg_c) w_k / (number of present classes), w_k the Jaccard "
                 "increment at the pixel's place in the class's sorted errors; then through the softmax, "
                 "p (g - sum p g). Tied errors keep row order (see lovasz_hinge).",
        use="Multi-class semantic segmentation judged by mean IoU, usually as a fine-tuning loss.",
        avoid="Huge sets (it holds every pixel) and classes absent from the set, which it simply skips.",
        relations="lovasz_hinge is the binary form on logits. jaccard averages a smooth soft IoU instead.",
        reference="Berman, Rannen Triki and Blaschko (2018), The Lovász-Softmax loss, CVPR; "
                  "segmentation_models_pytorch losses/lovasz.py (_lovasz_softmax_flat, classes='present', softmax "
                  "over dim 1 in LovaszLoss).",
    ),
)

LOSSES = (DICE, JACCARD, TVERSKY, FOCAL_TVERSKY, GENERALIZED_DICE, MCC, LOVASZ_HINGE, LOVASZ_SOFTMAX)
