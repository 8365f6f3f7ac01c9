"""Binary and multi-label losses: elementwise over every prediction column, target in [0, 1]."""

from __future__ import annotations

import numpy as np

from .base import PROBABILITY, Explain, Loss, Param, log_sigmoid, pred_role, target_role

PROBS = pred_role(
    "probabilities of the positive class, one column per label", PROBABILITY,
    hint="If these are logits (raw scores), use bce_logits or focal, which apply the sigmoid themselves.",
)
LOGITS = pred_role(
    "logits (raw scores before the sigmoid), one column per label",
    warn_if_probabilities="these look like probabilities, but this loss applies a sigmoid to them; "
    "pass logits, or use bce for probabilities.",
)
LABELS = target_role("labels in [0, 1] (0/1, or soft labels), one column per prediction column", PROBABILITY)
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


def _bce_of_logits(pred, target, softplus, pos_weight):
    # -log sigmoid(+-x) = max(-+x, 0) + log1p(exp(-|x|)): both terms share one exp and log1p,
    # and neither is formed by subtraction, which would cancel for confident logits
    return pos_weight * target * (np.maximum(-pred, 0.0) + softplus) + (1.0 - target) * (np.maximum(pred, 0.0) + softplus)


def bce_logits(pred, target, *, pos_weight=1.0):
    """-(w y log sigmoid(x) + (1 - y) log sigmoid(-x)); torch BCEWithLogitsLoss."""
    return _bce_of_logits(pred, target, np.log1p(np.exp(-np.abs(pred))), pos_weight)


def bce_logits_value_and_grad(pred, target, *, pos_weight=1.0):
    softplus, p, p_neg = _logit_parts(pred)
    return _bce_of_logits(pred, target, softplus, pos_weight), (1.0 - target) * p - pos_weight * target * p_neg


def bce_logits_grad(pred, target, *, pos_weight=1.0):
    return bce_logits_value_and_grad(pred, target, pos_weight=pos_weight)[1]


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


BCE = Loss(
    name="bce", family="classification", summary="Binary cross-entropy on probabilities.",
    formula="-(y log p + (1 - y) log(1 - p))",
    inputs=(PROBS, LABELS), value=bce, grad=bce_grad,
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
                  "apply_class_balancing=False. Its soft-label cousin is varifocal.",
        reference="Lin et al. (2017), Focal Loss for Dense Object Detection; torchvision.ops.sigmoid_focal_loss; "
                  "ultralytics.utils.loss.FocalLoss; keras.losses.BinaryFocalCrossentropy.",
    ),
)

VARIFOCAL = Loss(
    name="varifocal", family="classification", summary="Varifocal loss: IoU-aware BCE for dense detectors.",
    formula="w BCE(x, q), w = q if q > 0 else alpha sigmoid(x)^gamma",
    inputs=(LOGITS, SCORES), value=varifocal, grad=varifocal_grad,
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

LOSSES = (BCE, BCE_LOGITS, FOCAL, VARIFOCAL)
