"""Binary and multi-label losses: elementwise over every prediction column, target in [0, 1]."""

from __future__ import annotations

import numpy as np

from .base import (BINARY, PROBABILITY, Explain, Loss, Param, Problem, log_sigmoid, pred_role, target_role,
                   zero_gradient)

PROBS = pred_role(
    "probabilities of the positive class, one column per label", PROBABILITY,
    hint="If these are logits (raw scores), use bce_logits or focal, which apply the sigmoid themselves.",
)
LOGITS = pred_role(
    "logits (raw scores before the sigmoid), one column per label",
    warn_if_probabilities="these look like probabilities, but this loss applies a sigmoid to them; "
    "pass logits, or use bce for probabilities.",
)
LABELS = target_role("labels in [0, 1] (0/1, or soft labels), one column per prediction column", PROBABILITY,
                     hint="Labels of -1 and 1 (as hinge and soft_margin take) map to 0 and 1 with (y + 1) / 2; "
                          "or use soft_margin, which is this loss on -1/1 labels.")
SCORES = target_role("IoU-aware target score q in [0, 1]: q > 0 marks a positive", PROBABILITY)

# The clipping bounds of the libraries whose number `bce:compat=...` reproduces.
KERAS_EPSILON = 1e-7  # keras.backend.epsilon(): p is clipped to [eps, 1 - eps]
SKLEARN_EPSILON = float(np.finfo(np.float64).eps)  # sklearn log_loss clips to the dtype's eps
TORCH_LOG_FLOOR = -100.0  # torch BCELoss clamps each log term at -100
# torch BCELoss's backward divides by max(p (1 - p), EPSILON) with EPSILON = 1e-12 written as a C++
# float, so the double it becomes is float32(1e-12) = 9.99999996e-13 (found by probing torch 2.13)
TORCH_GRAD_EPSILON = float(np.float32(1e-12))


def _bce_terms(pred, compat):
    """log p and log(1 - p) as the library named by ``compat`` computes them."""
    with np.errstate(divide="ignore"):
        if compat == "torch":
            return np.maximum(np.log(pred), TORCH_LOG_FLOOR), np.maximum(np.log1p(-pred), TORCH_LOG_FLOOR)
        eps = KERAS_EPSILON if compat == "keras" else SKLEARN_EPSILON
        p = np.clip(pred, eps, 1.0 - eps)
        return np.log(p), np.log1p(-p)


def bce(pred, target, *, compat="torch"):
    """-(y log p + (1 - y) log(1 - p)); torch BCELoss (logs floored at -100), or Keras/sklearn clipping."""
    log_p, log_q = _bce_terms(pred, compat)
    # 0 * (-100) must stay 0 where the label is exactly 0 or 1, so no term is skipped
    return -(target * log_p + (1.0 - target) * log_q)


def bce_grad(pred, target, *, compat="torch"):
    if compat == "torch":
        # torch's backward formula, not the derivative of the floored value: it keeps
        # pulling at p = 0 or 1 (where the floor makes the value flat) with a 1e-12 guard.
        return (pred - target) / np.maximum(pred * (1.0 - pred), TORCH_GRAD_EPSILON)
    eps = KERAS_EPSILON if compat == "keras" else SKLEARN_EPSILON
    inside = (pred >= eps) & (pred <= 1.0 - eps)
    p = np.clip(pred, eps, 1.0 - eps)
    # clipping has zero slope outside [eps, 1 - eps], so the gradient is 0 there
    return np.where(inside, (p - target) / (p * (1.0 - p)), 0.0)


def _bce_curvature(p, y):
    # y/p^2 + (1 - y)/(1 - p)^2 over the common denominator, as a sum of two non-negative terms
    return (y * (1.0 - p) ** 2 + (1.0 - y) * p * p) / (p * (1.0 - p)) ** 2


def bce_hess(pred, target, *, compat="torch"):
    if compat == "torch":
        # the slope of torch's backward formula (the gradient above): where its guard holds p (1 - p) at
        # 1e-12 the formula is (p - y) / 1e-12, whose slope is 1 / 1e-12. (torch's own double backward
        # divides by (p (1 - p) + 1e-12)^2 instead; the two agree wherever p (1 - p) >> 1e-12.)
        guarded = pred * (1.0 - pred) < TORCH_GRAD_EPSILON
        p = np.where(guarded, 0.5, pred)
        return np.where(guarded, 1.0 / TORCH_GRAD_EPSILON, _bce_curvature(p, target))
    eps = KERAS_EPSILON if compat == "keras" else SKLEARN_EPSILON
    inside = (pred >= eps) & (pred <= 1.0 - eps)
    return np.where(inside, _bce_curvature(np.clip(pred, eps, 1.0 - eps), target), 0.0)


def _logit_parts(x):
    """softplus(-|x|) = log1p(exp(-|x|)), sigmoid(x) and sigmoid(-x), all from one exp.

    What every logit loss's value and gradient share. Each sigmoid keeps full precision
    (1 - sigmoid(x) would be 0 for x > 37).
    """
    e = np.exp(-np.abs(x))
    near = 1.0 / (1.0 + e)
    # sigmoid(x) is near for x >= 0 and e * near below: max(e, [x >= 0]) is that factor without
    # np.where (e <= 1), and max(e, [x < 0]) the one of sigmoid(-x)
    return np.log1p(e), np.maximum(e, x >= 0) * near, np.maximum(e, x < 0) * near


def _bce_of_logits(pred, target, softplus, pos_weight, not_target=None):
    # -log sigmoid(x) = softplus - min(x, 0) and -log sigmoid(-x) = softplus + max(x, 0) with softplus =
    # log1p(exp(-|x|)): both share one exp and log1p, and each adds two terms >= 0, where a difference
    # would cancel for confident logits
    positive = softplus - np.minimum(pred, 0.0)
    if pos_weight != 1.0:
        positive *= pos_weight
    positive *= target
    negative = softplus + np.maximum(pred, 0.0)
    negative *= 1.0 - target if not_target is None else not_target
    positive += negative
    return positive


def bce_logits(pred, target, *, pos_weight=1.0):
    """-(w y log sigmoid(x) + (1 - y) log sigmoid(-x)); torch BCEWithLogitsLoss."""
    return _bce_of_logits(pred, target, np.log1p(np.exp(-np.abs(pred))), pos_weight)


def bce_logits_value_and_grad(pred, target, *, pos_weight=1.0):
    softplus, p, p_neg = _logit_parts(pred)
    not_target = 1.0 - target
    value = _bce_of_logits(pred, target, softplus, pos_weight, not_target)
    # (1 - y) sigmoid(x) - w y sigmoid(-x), each sigmoid to full precision (so not sigmoid(x) - y)
    p *= not_target
    p_neg *= target if pos_weight == 1.0 else pos_weight * target
    p -= p_neg
    return value, p


def bce_logits_grad(pred, target, *, pos_weight=1.0):
    return bce_logits_value_and_grad(pred, target, pos_weight=pos_weight)[1]


def bce_logits_hess(pred, target, *, pos_weight=1.0):
    # d/dx of (1 - y) s(x) - w y s(-x) = s(x) s(-x) ((1 - y) + w y)
    _, p, p_neg = _logit_parts(pred)
    return p * p_neg * ((1.0 - target) + pos_weight * target)


def _alpha_t(target, alpha, compat="torch"):
    """alpha y + (1 - alpha)(1 - y), or 1 where the library named by compat leaves it out.

    torchvision applies it for alpha >= 0, Ultralytics only for alpha > 0, and Keras'
    BinaryFocalCrossentropy not at all unless apply_class_balancing=True (off by default).
    """
    off = alpha < 0 or (compat == "ultralytics" and alpha == 0) or compat == "keras"
    return 1.0 if off else alpha * target + (1.0 - alpha) * (1.0 - target)


def focal(pred, target, *, gamma=2.0, alpha=0.25, compat="torch"):
    """alpha_t (1 - p_t)^gamma BCE(x, y); the sigmoid focal loss of Lin et al., as torchvision.

    p = sigmoid(x), p_t = p y + (1 - p)(1 - y), alpha_t = alpha y + (1 - alpha)(1 - y),
    and alpha < 0 switches alpha_t off (torchvision.ops.sigmoid_focal_loss).
    """
    # q = 1 - p_t = p (1 - y) + (1 - p) y with 1 - p taken as sigmoid(-x), so it never cancels
    softplus, p, p_neg = _logit_parts(pred)
    q = p * (1.0 - target) + p_neg * target
    return _alpha_t(target, alpha, compat) * q**gamma * _bce_of_logits(pred, target, softplus, 1.0)


def focal_value_and_grad(pred, target, *, gamma=2.0, alpha=0.25, compat="torch"):
    softplus, p, p_neg = _logit_parts(pred)
    q = p * (1.0 - target) + p_neg * target
    ce = _bce_of_logits(pred, target, softplus, 1.0)
    weight = _alpha_t(target, alpha, compat)
    modulator = q**gamma
    # d q / dx = (1 - 2y) p (1 - p); d q^gamma / dx = gamma q^(gamma-1) (1 - 2y) p (1 - p).
    # Where q = 0 (a saturated, correct prediction) the product's limit is 0 for every gamma > 0,
    # while q^(gamma-1) alone is infinite for gamma < 1; so that point is set to 0 explicitly.
    with np.errstate(divide="ignore", invalid="ignore"):
        modulator_slope = np.where(q > 0, gamma * q ** (gamma - 1.0) * (1.0 - 2.0 * target) * p * p_neg, 0.0)
    return weight * modulator * ce, weight * ((p - target) * modulator + ce * modulator_slope)


def focal_grad(pred, target, *, gamma=2.0, alpha=0.25, compat="torch"):
    return focal_value_and_grad(pred, target, gamma=gamma, alpha=alpha, compat=compat)[1]


def focal_hess(pred, target, *, gamma=2.0, alpha=0.25, compat="torch"):
    """alpha_t q^gamma [gamma (gamma-1) r^2 ce + gamma r (1 - 2p) ce + 2 gamma r (p - y) + p (1 - p)].

    The second derivative of alpha_t q^gamma ce, with q = 1 - p_t, written through r = q'/q =
    (1 - 2y) p (1 - p) / q, which lies in [-1, 1] because q >= min(p, 1 - p). So no negative power
    of q is formed: where q -> 0 (a saturated correct prediction) the terms go to 0 for every
    gamma > 0 instead of becoming inf * 0. For gamma < 1 near q = 0 and for confident mistakes the
    Hessian can be negative: the focal loss is not convex in the logit.
    """
    softplus, p, p_neg = _logit_parts(pred)
    q = p * (1.0 - target) + p_neg * target
    ce = _bce_of_logits(pred, target, softplus, 1.0)
    curvature = p * p_neg
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(q > 0, (1.0 - 2.0 * target) * curvature / np.where(q > 0, q, 1.0), 0.0)
    inner = gamma * r * ((gamma - 1.0) * r * ce + (p_neg - p) * ce + 2.0 * (p - target)) + curvature
    return _alpha_t(target, alpha, compat) * q**gamma * inner


def varifocal(pred, target, *, alpha=0.75, gamma=2.0):
    """w BCE(x, q) with w = alpha sigmoid(x)^gamma where q = 0, and w = q where q > 0.

    Zhang et al. (2021), VarifocalNet; Ultralytics VarifocalLoss, which does not detach
    the weight from the graph, so the gradient flows through it too.
    """
    return _varifocal_weight(pred, target, alpha, gamma) * bce_logits(pred, target)


def _varifocal_weight(pred, target, alpha, gamma, log_p=None):
    """The weight q, or alpha sigmoid(x)^gamma where q = 0; ``log_p`` is log sigmoid(x) if known."""
    log_p = log_sigmoid(pred) if log_p is None else log_p
    # sigmoid(x)^gamma as exp(gamma log sigmoid(x)): no 0^gamma trouble for very negative logits.
    # q is 0 exactly on the negatives (q >= 0), so adding their weight there picks the branch
    # without np.where.
    return target + (target <= 0) * (alpha * np.exp(gamma * log_p))


def varifocal_grad(pred, target, *, alpha=0.75, gamma=2.0):
    return varifocal_value_and_grad(pred, target, alpha=alpha, gamma=gamma)[1]


def varifocal_value_and_grad(pred, target, *, alpha=0.75, gamma=2.0):
    softplus, p, p_neg = _logit_parts(pred)  # one exp and one log1p for everything below
    weight = _varifocal_weight(pred, target, alpha, gamma, log_p=-(np.maximum(-pred, 0.0) + softplus))
    ce = _bce_of_logits(pred, target, softplus, 1.0)
    # d/dx alpha sigmoid(x)^gamma = gamma alpha sigmoid(x)^gamma sigmoid(-x), on the negatives only
    weight_slope = (target <= 0) * (gamma * weight * p_neg)
    return weight * ce, weight_slope * ce + weight * (p - target)


def varifocal_hess(pred, target, *, alpha=0.75, gamma=2.0):
    # (w ce)'' = w'' ce + 2 w' ce' + w ce''; for negatives w = alpha s(x)^gamma, w' = gamma w s(-x),
    # w'' = gamma w s(-x) (gamma s(-x) - s(x)); for positives w = q is constant
    positive = target > 0
    _, p, p_neg = _logit_parts(pred)
    weight = _varifocal_weight(pred, target, alpha, gamma)
    weight_slope = np.where(positive, 0.0, gamma * weight * p_neg)
    weight_curvature = np.where(positive, 0.0, weight_slope * (gamma * p_neg - p))
    return weight_curvature * bce_logits(pred, target) + 2.0 * weight_slope * (p - target) + weight * p * p_neg


BCE = Loss(
    name="bce", family="classification", summary="Binary cross-entropy on probabilities.",
    formula="-(y log p + (1 - y) log(1 - p))",
    inputs=(PROBS, LABELS), value=bce, grad=bce_grad,
    hess=bce_hess,
    params=(Param("compat", "torch", "whose guard against log(0) to reproduce: torch floors each log at -100, "
                  "keras clips p to [1e-7, 1 - 1e-7], sklearn clips p to [eps, 1 - eps] with float64 eps",
                  kind=str, choices=("torch", "keras", "sklearn")),),
    explain=Explain(
        inputs="pred holds probabilities in [0, 1] (after a sigmoid); target holds labels in [0, 1], one column per "
               "pred column (several columns are a multi-label problem).",
        gradient="(p - y) / (p (1 - p)) per element. With compat=torch the denominator is guarded by 1e-12 exactly "
                 "as torch's backward does; with keras or sklearn it is 0 where p was clipped.",
        use="Judging calibrated probabilities from a model that outputs them, such as predict_proba.",
        avoid="Scores that are logits: it refuses values outside [0, 1]. Use bce_logits, which is also more "
              "accurate for confident predictions because it never forms p = 1 - 1e-17.",
        relations="bce(sigmoid(x)) = bce_logits(x) away from the guards. Exact 0 and 1 predictions give 100 (torch), "
                  "16.1 (keras) or 36.0 (sklearn) per wrong element: the libraries disagree, hence compat.",
        reference="torch.nn.BCELoss; keras.losses.binary_crossentropy; sklearn.metrics.log_loss.",
    ),
)

BCE_LOGITS = Loss(
    name="bce_logits", family="classification", summary="Binary cross-entropy on logits (sigmoid built in).",
    formula="-(w y log s(x) + (1 - y) log(1 - s(x))), s = sigmoid",
    inputs=(LOGITS, LABELS), value=bce_logits, grad=bce_logits_grad, value_and_grad=bce_logits_value_and_grad,
    hess=bce_logits_hess,
    params=(Param("pos_weight", 1.0, "weight of the positive term, for imbalanced labels (negatives/positives is a "
                  "common choice)", low=0.0),),
    explain=Explain(
        inputs="pred holds logits (any real number); target holds labels in [0, 1], one column per pred column.",
        gradient="(1 - y) s(x) - w y s(-x) per element; with w = 1 that is s(x) - y.",
        use="The standard loss for binary and multi-label classifiers that output raw scores.",
        avoid="Heavily imbalanced detection-style problems where easy negatives dominate; focal down-weights them.",
        relations="focal with gamma=0 and alpha<0 equals it; bce on sigmoid(x) equals it where p stays away from 0 and 1.",
        reference="torch.nn.BCEWithLogitsLoss (pos_weight as one number for every column).",
    ),
)

FOCAL = Loss(
    name="focal", family="classification", summary="Sigmoid focal loss: BCE down-weighted on easy examples.",
    formula="alpha_t (1 - p_t)^gamma BCE(x, y), p = sigmoid(x)",
    inputs=(LOGITS, LABELS), value=focal, grad=focal_grad, value_and_grad=focal_value_and_grad,
    hess=focal_hess,
    params=(
        Param("gamma", 2.0, "focusing strength: how fast easy examples (p_t near 1) are down-weighted", low=0.0),
        Param("alpha", 0.25, "weight of positives (1 - alpha for negatives); a negative value turns the weighting off",
              high=1.0),
        Param("compat", "torch", "whose alpha convention to follow: torch (torchvision: applied when alpha >= 0), "
              "ultralytics (applied only when alpha > 0), keras (BinaryFocalCrossentropy's default: no alpha weighting)",
              kind=str, choices=("torch", "ultralytics", "keras")),
    ),
    explain=Explain(
        inputs="pred holds logits; target holds labels in [0, 1] (soft labels use p_t = p y + (1 - p)(1 - y)).",
        gradient="alpha_t [(p - y)(1 - p_t)^gamma + BCE gamma (1 - p_t)^(gamma-1) (1 - 2y) p (1 - p)]; at a saturated "
                 "correct prediction the second term is taken at its limit 0 (torch's autograd gives NaN there for gamma < 1).",
        use="Class imbalance with many easy negatives: dense object detection (RetinaNet, YOLO), rare-event classifiers.",
        avoid="Balanced problems where you want calibrated probabilities: the modulation biases p towards 0.5.",
        relations="gamma=0 with alpha<0 is bce_logits. With --reduction sum on one column it equals Ultralytics' "
                  "FocalLoss (compat=ultralytics differs only at alpha=0, which Ultralytics treats as off). "
                  "compat=keras matches keras.losses.BinaryFocalCrossentropy(from_logits=True) with its default "
                  "apply_class_balancing=False. Its soft-label cousin is varifocal. Focal and online hard example "
                  "mining (--reduction hard:FRACTION, e.g. bce_logits --reduction hard:0.25) both make training "
                  "dwell on hard examples: focal down-weights every easy example smoothly by (1 - p_t)^gamma and "
                  "keeps them all, OHEM keeps only the hardest fraction with weight 1 and drops the rest (a 0/1 "
                  "weight with a gradient of 0 on the dropped rows). Both at once is possible: focal with hard:F.",
        reference="Lin et al. (2017), Focal Loss for Dense Object Detection; torchvision.ops.sigmoid_focal_loss; "
                  "ultralytics.utils.loss.FocalLoss; keras.losses.BinaryFocalCrossentropy.",
    ),
)

VARIFOCAL = Loss(
    name="varifocal", family="classification", summary="Varifocal loss: IoU-aware BCE for dense detectors.",
    formula="w BCE(x, q), w = q if q > 0 else alpha sigmoid(x)^gamma",
    inputs=(LOGITS, SCORES), value=varifocal, grad=varifocal_grad,
    hess=varifocal_hess,
    params=(
        Param("alpha", 0.75, "weight of the negatives' focal term", low=0.0),
        Param("gamma", 2.0, "focusing strength on negatives", low=0.0),
    ),
    value_and_grad=varifocal_value_and_grad,
    explain=Explain(
        inputs="pred holds logits; target holds the IoU-aware classification score q in [0, 1] (q is the IoU of the "
               "predicted box with its ground truth for positives, 0 for negatives).",
        gradient="w (sigmoid(x) - q) plus, for negatives, BCE times d w / dx = gamma w sigmoid(-x): the weight is not "
                 "detached, as in Ultralytics.",
        use="Training or evaluating dense detectors whose class score should also rank localisation quality "
            "(VarifocalNet, YOLO heads).",
        avoid="Plain 0/1 classification; use bce_logits or focal.",
        relations="Positives are weighted by q alone (no down-weighting), negatives like focal with alpha. "
                  "With --reduction sum on one column it equals Ultralytics' VarifocalLoss.",
        reference="Zhang et al. (2021), VarifocalNet: An IoU-aware Dense Object Detector; ultralytics.utils.loss.VarifocalLoss.",
    ),
)

# ----------------------------------------------------------------------------- exponential, zero_one, sparsemax

BINARY_LABELS = target_role("labels 0 or 1, one column per prediction column", BINARY,
                            hint="Use 0 for the negative and 1 for the positive class.")
RAW_SCORES = pred_role("raw scores (the boosting model's raw prediction f), one column per label")
# exp overflows float64 beyond this exponent; the loss itself is larger than any float64 there
_LOG_FLOAT_MAX = float(np.log(np.finfo(np.float64).max))


def _exponential_terms(pred, target):
    """y exp(-f) and (1 - y) exp(f) as exp(log y - f), exp(log(1 - y) + f): a zero label gives exactly 0."""
    with np.errstate(divide="ignore", over="ignore"):
        return np.exp(np.log(target) - pred), np.exp(np.log1p(-target) + pred)


def exponential(pred, target):
    """y exp(-f) + (1 - y) exp(f); sklearn's ExponentialLoss (AdaBoost), y in [0, 1]."""
    positive, negative = _exponential_terms(pred, target)
    return positive + negative


def exponential_grad(pred, target):
    return exponential_value_and_grad(pred, target)[1]


def exponential_value_and_grad(pred, target):
    positive, negative = _exponential_terms(pred, target)  # the two logs and two exps once for both
    return positive + negative, negative - positive


def exponential_hess(pred, target):
    """y exp(-f) + (1 - y) exp(f): the exponential is its own second derivative, so the Hessian equals the value.

    Positive everywhere (the loss is convex) and exactly 0 only where a 0/1 label meets a saturated score on its
    right side (f = +-1e4 gives exp(-1e4) = 0); scores that would overflow are refused by the check.
    """
    positive, negative = _exponential_terms(pred, target)
    return positive + negative


def exponential_check(pred, target):
    # log y and log(1 - y) are <= 0, so only a score beyond +-709 can overflow: the logs are taken only then
    if not (np.abs(pred) > _LOG_FLOAT_MAX).any():
        return []
    with np.errstate(divide="ignore"):
        overflow = (np.log(target) - pred > _LOG_FLOAT_MAX) | (np.log1p(-target) + pred > _LOG_FLOAT_MAX)
    return [Problem("pred", overflow, "the exponential loss of these rows is larger than the largest float64 "
                    "(exp(|f|) with |f| > 709 on the wrong side of the label); such scores saturate every exponential "
                    "loss, use bce_logits to compare them")]


def wrong_decisions(pred, target, threshold, from_logits):
    """Where the decision pred > threshold (0.5 for probabilities, 0 for logits unless given) misses the 0/1 label."""
    cut = (0.0 if from_logits else 0.5) if threshold is None else threshold
    return (pred > cut) != (target == 1.0)


def zero_one(pred, target, *, threshold=None, from_logits=False):
    """1 where any column's decision (pred > threshold) differs from its label; sklearn zero_one_loss."""
    return wrong_decisions(pred, target, threshold, from_logits).any(axis=1).astype(np.float64)


def threshold_check(pred, target, *, threshold=None, from_logits=False):
    if from_logits:
        return []
    return [Problem("pred", (pred < 0.0) | (pred > 1.0), "with from_logits=false pred must be probabilities in "
                    "[0, 1]; for raw scores set from_logits=true")]


def _sparsemax_argument(pred, target):
    """-x for positives, x for negatives: the margin the sparse_plus function is applied to (optax)."""
    return np.where(target == 1.0, -pred, pred)


def sparsemax_binary(pred, target):
    """sparse_plus(z), z = -x if y = 1 else x; sparse_plus = 0 (z <= -1), (z + 1)^2 / 4 (|z| < 1), z (z >= 1)."""
    z = _sparsemax_argument(pred, target)
    return np.where(z <= -1.0, 0.0, np.where(z < 1.0, 0.25 * (z + 1.0) ** 2, z))


def sparsemax_binary_grad(pred, target):
    # d sparse_plus / dz is sparse_sigmoid(z) = clip((z + 1)/2, 0, 1); dz/dx = -1 for positives
    z = _sparsemax_argument(pred, target)
    return np.where(target == 1.0, -1.0, 1.0) * np.clip(0.5 * (z + 1.0), 0.0, 1.0)


def sparsemax_binary_hess(pred, target):
    """1/2 where |z| < 1 (the quadratic piece of sparse_plus), 0 on the flat and linear pieces (|z| > 1).

    At z = +-1 the second derivative jumps: 0 is given there, the piece the value takes (z <= -1 flat, z >= 1
    linear). Finite for logits of any size.
    """
    return np.where(np.abs(_sparsemax_argument(pred, target)) < 1.0, 0.5, 0.0)


EXPONENTIAL = Loss(
    name="exponential", family="classification", summary="Exponential (AdaBoost) loss on raw scores.",
    formula="y exp(-f) + (1 - y) exp(f)",
    inputs=(RAW_SCORES, LABELS), value=exponential, grad=exponential_grad, check=exponential_check,
    hess=exponential_hess,
    value_and_grad=exponential_value_and_grad,
    explain=Explain(
        inputs="pred holds raw scores f (any real number; the probability is sigmoid(2 f)); target holds labels in "
               "[0, 1], one column per pred column. Rows whose loss exceeds float64 (|f| > 709 on the wrong side) "
               "are refused by name rather than reported as infinite.",
        gradient="(1 - y) exp(f) - y exp(-f): unbounded, it grows exponentially with the size of a mistake.",
        use="Reproducing AdaBoost or GradientBoostingClassifier(loss='exponential') objectives; a proper scoring rule "
            "for probabilities sigmoid(2 f).",
        avoid="Noisy labels: one confidently wrong example costs exp(|f|) and dominates everything. bce_logits grows "
              "only linearly.",
        relations="With p = sigmoid(2 f) it equals y sqrt((1 - p)/p) + (1 - y) sqrt(p/(1 - p)). The logistic loss "
                  "(bce_logits) and this one have the same minimiser, 2 f = logit(y).",
        reference="Friedman, Hastie and Tibshirani (2000), Additive logistic regression; scikit-learn "
                  "sklearn._loss.loss.ExponentialLoss (half-logit link).",
    ),
)

ZERO_ONE = Loss(
    name="zero_one", family="classification", per="row",
    summary="Zero-one loss: the fraction of rows classified wrongly after a threshold (1 - accuracy).",
    formula="mean_i [any_j (p_ij > threshold) != y_ij]",
    inputs=(pred_role("probabilities (or logits with from_logits=true), one column per label"), BINARY_LABELS),
    value=zero_one, grad=zero_gradient, check=threshold_check,
    params=(Param("threshold", None, "a prediction above it is the positive class; default 0.5 for probabilities, "
                  "0 for logits (given in the units of pred)", allow_none=True),
            Param("from_logits", False, "pred are logits (raw scores) rather than probabilities", kind=bool)),
    grad_warning="zero_one is piecewise constant: its gradient is 0 wherever it exists (the loss only jumps where a "
                 "prediction crosses the threshold), so --grad reports zeros. Train with bce or bce_logits.",
    explain=Explain(
        inputs="pred holds probabilities in [0, 1] (or logits with from_logits=true), target 0/1 labels, one column "
               "per pred column. The decision is pred > threshold (strictly, as scikit-learn's own binary "
               "decisions). With several columns a row counts as wrong when any of its labels is wrong (the subset "
               "zero-one loss sklearn uses for multilabel data); hamming counts the wrong labels instead.",
        gradient="0 everywhere it exists: the loss is a step function of each prediction. --grad says so on stderr.",
        use="Reporting the error rate (1 - accuracy) of thresholded predictions next to the training loss.",
        avoid="Training: it has no useful gradient. Also when the threshold is not 0.5: pass threshold= explicitly.",
        relations="1 - sklearn accuracy_score; mean of (1 - exact match) over rows. hamming is its per-label "
                  "version; top_k_error generalises it to K classes with argmax (k=1).",
        reference="sklearn.metrics.zero_one_loss (normalize=True; multilabel: subset loss).",
    ),
)

SPARSEMAX = Loss(
    name="sparsemax", family="classification", summary="Binary sparsemax loss (Fenchel-Young loss of the sparse sigmoid).",
    formula="sparse_plus(z), z = -x if y = 1 else x; sparse_plus(z) = 0, (z+1)^2/4, z for z <= -1, |z| < 1, z >= 1",
    inputs=(LOGITS, BINARY_LABELS), value=sparsemax_binary, grad=sparsemax_binary_grad,
    hess=sparsemax_binary_hess,
    explain=Explain(
        inputs="pred holds logits x (any real number); target holds labels 0 or 1, one column per pred column.",
        gradient="sparse_sigmoid(x) - y, where sparse_sigmoid(x) = clip((x + 1)/2, 0, 1): exactly 0 once the logit is "
                 "past 1 on the right side, and bounded by 1.",
        use="Binary or multi-label classifiers whose probabilities should be exactly 0 or 1 when confident (sparse "
            "outputs); a smooth, convex, Huber-like alternative to bce_logits.",
        avoid="When calibrated probabilities strictly inside (0, 1) are wanted: the sparse sigmoid saturates at "
              "|x| >= 1.",
        relations="The loss is 0 exactly when sparse_sigmoid(x) equals the label. multiclass_sparsemax is its K-class "
                  "form; bce_logits is the Fenchel-Young loss of the ordinary sigmoid.",
        reference="Blondel, Martins and Niculae (2020), Learning with Fenchel-Young Losses, JMLR (sec. 4.4); "
                  "optax.losses.sparsemax_loss (jax.nn.sparse_plus).",
    ),
)

LOSSES = (BCE, BCE_LOGITS, FOCAL, VARIFOCAL, EXPONENTIAL, ZERO_ONE, SPARSEMAX)
