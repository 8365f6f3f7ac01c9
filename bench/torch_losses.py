"""Every loss of the catalogue as a PyTorch expression with autograd: the opponent of bench_losses.py.

``TORCH[name](**tensors, **params)`` returns the reduced loss (losscli's default reduction, the mean)
as a 0-d tensor; the bench calls ``.backward()`` on it. ``tensors`` are the loss's roles (pred, target,
var, label, anchor, ...) shaped as losscli takes them, and ``params`` the loss's parameters. Where
torch has the loss, it is used (F.mse_loss, F.cross_entropy, F.triplet_margin_loss, ...); elsewhere
the formula is written in torch ops from its reference (torchvision for focal and the box losses,
Ultralytics for varifocal and dfl, sklearn for tweedie, Barron's paper for the robust family), not
from losscli's code. The expressions are written for the parameters bench_losses.py uses (each
loss's defaults); the bench checks every one against losscli on small inputs before timing it.

``UNEXPRESSED`` names catalogue losses that have no expression here, with the reason.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

TORCH = {}
UNEXPRESSED: dict[str, str] = {}


def loss(fn):
    TORCH[fn.__name__] = fn
    return fn


def _index(target: torch.Tensor) -> torch.Tensor:
    """A class-index target column as the int64 vector torch's class losses want."""
    return target.reshape(-1).long()


def _is_index(pred: torch.Tensor, target: torch.Tensor) -> bool:
    return target.ndim == 1 or (target.shape[1] == 1 and pred.shape[1] >= 2)


def _class_target(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(n, K) target distribution: one-hot rows for an index column, the probabilities otherwise."""
    if _is_index(pred, target):
        return F.one_hot(_index(target), pred.shape[1]).to(pred.dtype)
    return target


# ----------------------------------------------------------------------------- regression


@loss
def mse(pred, target):
    return F.mse_loss(pred, target)


@loss
def rmse(pred, target):
    return torch.sqrt(F.mse_loss(pred, target))


@loss
def mae(pred, target):
    return F.l1_loss(pred, target)


@loss
def huber(pred, target, *, delta):
    return F.huber_loss(pred, target, delta=delta)


@loss
def smooth_l1(pred, target, *, beta):
    return F.smooth_l1_loss(pred, target, beta=beta)


@loss
def log_cosh(pred, target):
    # log cosh r = |r| + softplus(-2|r|) - log 2 (no overflow of cosh for large residuals)
    a = (pred - target).abs()
    return (a + F.softplus(-2.0 * a) - math.log(2.0)).mean()


@loss
def quantile(pred, target, *, q):
    levels = torch.tensor(q, dtype=pred.dtype)
    r = target - pred
    return torch.maximum(levels * r, (levels - 1.0) * r).mean()


@loss
def msle(pred, target):
    return ((torch.log1p(pred) - torch.log1p(target)) ** 2).mean()


@loss
def mape(pred, target):
    return ((target - pred).abs() / target.abs().clamp_min(torch.finfo(torch.float64).eps)).mean()


@loss
def smape(pred, target):
    d = target.abs() + pred.abs()
    both_zero = d == 0
    return torch.where(both_zero, 0.0, 2.0 * (pred - target).abs() / torch.where(both_zero, 1.0, d)).mean()


@loss
def poisson(pred, target, *, log_input, full, eps):
    return F.poisson_nll_loss(pred, target, log_input=log_input, full=full, eps=eps)


@loss
def gaussian_nll(pred, target, var, *, full, eps):
    return F.gaussian_nll_loss(pred, target, var, full=full, eps=eps)


@loss
def tweedie(pred, target, *, power):
    # sklearn's mean_tweedie_deviance, mu = pred
    mu, y, p = pred, target, power
    if p == 0:
        dev = (y - mu) ** 2
    elif p == 1:
        dev = 2.0 * (torch.xlogy(y, y / mu) - y + mu)
    elif p == 2:
        dev = 2.0 * (torch.log(mu / y) + y / mu - 1.0)
    else:
        dev = 2.0 * (y.clamp_min(0.0) ** (2 - p) / ((1 - p) * (2 - p)) - y * mu ** (1 - p) / (1 - p)
                     + mu ** (2 - p) / (2 - p))
    return dev.mean()


# ----------------------------------------------------------------------------- robust (Barron 2019, eq. 1-3)


def _barron(x, alpha, scale):
    z = (x / scale) ** 2
    if alpha == 2:
        return 0.5 * z
    if alpha == 0:
        return torch.log1p(0.5 * z)
    if alpha == -math.inf:
        return -torch.expm1(-0.5 * z)
    b = abs(alpha - 2.0)
    return b / alpha * ((z / b + 1.0) ** (alpha / 2.0) - 1.0)


@loss
def robust(pred, target, *, alpha, scale):
    return _barron(pred - target, alpha, scale).mean()


@loss
def charbonnier(pred, target, *, scale):
    return _barron(pred - target, 1.0, scale).mean()


@loss
def cauchy(pred, target, *, scale):
    return _barron(pred - target, 0.0, scale).mean()


@loss
def geman_mcclure(pred, target, *, scale):
    return _barron(pred - target, -2.0, scale).mean()


@loss
def welsch(pred, target, *, scale):
    return _barron(pred - target, -math.inf, scale).mean()


# ----------------------------------------------------------------------------- binary classification


@loss
def bce(pred, target, *, compat):
    assert compat == "torch", "torch's own guards (logs floored at -100)"
    return F.binary_cross_entropy(pred, target)


@loss
def bce_logits(pred, target, *, pos_weight):
    return F.binary_cross_entropy_with_logits(pred, target, pos_weight=torch.tensor(pos_weight, dtype=pred.dtype))


@loss
def focal(pred, target, *, gamma, alpha, compat):
    assert compat == "torch", "torchvision's alpha convention"
    # torchvision.ops.sigmoid_focal_loss, reduction="mean"
    p = torch.sigmoid(pred)
    ce = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
    p_t = p * target + (1 - p) * (1 - target)
    out = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        out = (alpha * target + (1 - alpha) * (1 - target)) * out
    return out.mean()


@loss
def varifocal(pred, target, *, alpha, gamma):
    # Ultralytics VarifocalLoss (weight not detached), mean instead of its sum
    label = (target > 0).to(pred.dtype)
    weight = alpha * torch.sigmoid(pred) ** gamma * (1 - label) + target * label
    return (F.binary_cross_entropy_with_logits(pred, target, reduction="none") * weight).mean()


# ----------------------------------------------------------------------------- margin


def _signed(target):
    return torch.where(target == 0, -1.0, target)


@loss
def hinge(pred, target, *, margin):
    return F.relu(margin - _signed(target) * pred).mean()


@loss
def squared_hinge(pred, target, *, margin):
    return (F.relu(margin - _signed(target) * pred) ** 2).mean()


@loss
def soft_margin(pred, target):
    return F.soft_margin_loss(pred, _signed(target))


# ----------------------------------------------------------------------------- multi-class


@loss
def cross_entropy(pred, target, *, label_smoothing, from_logits, weight, ignore_index, compat):
    assert from_logits, "the torch expression takes logits"
    w = None if weight is None else torch.tensor(weight, dtype=pred.dtype)
    t = _index(target) if _is_index(pred, target) else target
    return F.cross_entropy(pred, t, weight=w, ignore_index=ignore_index, label_smoothing=label_smoothing)


@loss
def nll(pred, target, *, weight, ignore_index):
    w = None if weight is None else torch.tensor(weight, dtype=pred.dtype)
    return F.nll_loss(pred, _index(target), weight=w, ignore_index=ignore_index)


@loss
def kl_div(pred, target):
    return F.kl_div(torch.log(pred), target, reduction="batchmean")


@loss
def multi_margin(pred, target, *, p, margin, weight):
    w = None if weight is None else torch.tensor(weight, dtype=pred.dtype)
    return F.multi_margin_loss(pred, _index(target), p=p, margin=margin, weight=w)


@loss
def poly1(pred, target, *, epsilon):
    # Leng et al. (2022): CE + epsilon (1 - p_t)
    t = _class_target(pred, target)
    ce = F.cross_entropy(pred, t, reduction="none")
    p_t = (t * torch.softmax(pred, dim=1)).sum(dim=1)
    return (ce + epsilon * (1 - p_t)).mean()


@loss
def focal_ce(pred, target, *, gamma, alpha):
    t = _class_target(pred, target)
    if alpha is not None:
        t = t * torch.tensor(alpha, dtype=pred.dtype)
    logp = F.log_softmax(pred, dim=1)
    return -(t * (1 - logp.exp()) ** gamma * logp).sum(dim=1).mean()


@loss
def brier(pred, target, *, scale_by_half):
    # sklearn brier_score_loss: one column is the positive class's probability (and already the binary score)
    if pred.shape[1] == 1:
        return ((pred - target.reshape(pred.shape)) ** 2).mean() * (1.0 if scale_by_half != "false" else 2.0)
    k = pred.shape[1]
    half = scale_by_half == "true" or (scale_by_half == "auto" and k == 2)
    return (0.5 if half else 1.0) * ((pred - _class_target(pred, target)) ** 2).sum(dim=1).mean()


@loss
def js_div(pred, target):
    log_m = torch.log(0.5 * (pred + target))
    return 0.5 * (F.kl_div(log_m, pred, reduction="batchmean") + F.kl_div(log_m, target, reduction="batchmean"))


@loss
def hellinger(pred, target):
    return torch.sqrt(0.5 * ((pred.sqrt() - target.sqrt()) ** 2).sum(dim=1)).mean()


# ----------------------------------------------------------------------------- segmentation (whole-set scores)


def _overlap(pred, target, from_logits):
    p = torch.sigmoid(pred) if from_logits else pred
    return (p * target).sum(0), (p * (1 - target)).sum(0), ((1 - p) * target).sum(0), p.sum(0), target.sum(0)


@loss
def dice(pred, target, *, smooth, from_logits):
    inter, _, _, p, t = _overlap(pred, target, from_logits)
    return (1 - (2 * inter + smooth) / (p + t + smooth)).mean()


@loss
def jaccard(pred, target, *, smooth, from_logits):
    inter, _, _, p, t = _overlap(pred, target, from_logits)
    return (1 - (inter + smooth) / (p + t - inter + smooth)).mean()


def _tversky_index(pred, target, alpha, beta, smooth, from_logits):
    inter, fp, fn, _, _ = _overlap(pred, target, from_logits)
    return (inter + smooth) / (inter + alpha * fp + beta * fn + smooth)


@loss
def tversky(pred, target, *, alpha, beta, smooth, from_logits):
    return (1 - _tversky_index(pred, target, alpha, beta, smooth, from_logits)).mean()


@loss
def focal_tversky(pred, target, *, alpha, beta, gamma, smooth, from_logits):
    return ((1 - _tversky_index(pred, target, alpha, beta, smooth, from_logits)) ** gamma).mean()


# ----------------------------------------------------------------------------- embedding


@loss
def cosine(pred, target, *, eps):
    return (1 - F.cosine_similarity(pred, target, dim=1, eps=eps)).mean()


@loss
def cosine_embedding(pred, target, label, *, margin):
    return F.cosine_embedding_loss(pred, target, label.reshape(-1), margin=margin)


@loss
def triplet(anchor, positive, negative, *, margin, p, eps, swap):
    return F.triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap)


@loss
def contrastive(pred, target, *, margin):
    # tfa.losses.contrastive_loss: y d^2 + (1 - y) max(margin - d, 0)^2
    return (target * pred**2 + (1 - target) * F.relu(margin - pred) ** 2).mean()


# ----------------------------------------------------------------------------- boxes (torchvision.ops conventions)


def _box_terms(pred, target, fmt, eps):
    """Corners, intersection, union and IoU as torchvision's _loss_inter_union computes them."""
    if fmt == "xywh":
        pred = torch.cat([pred[:, :2] - pred[:, 2:] / 2, pred[:, :2] + pred[:, 2:] / 2], dim=1)
        target = torch.cat([target[:, :2] - target[:, 2:] / 2, target[:, :2] + target[:, 2:] / 2], dim=1)
    x1, y1, x2, y2 = pred.unbind(1)
    gx1, gy1, gx2, gy2 = target.unbind(1)
    iw = torch.minimum(x2, gx2) - torch.maximum(x1, gx1)
    ih = torch.minimum(y2, gy2) - torch.maximum(y1, gy1)
    inter = torch.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = (x2 - x1) * (y2 - y1) + (gx2 - gx1) * (gy2 - gy1) - inter
    return (x1, y1, x2, y2), (gx1, gy1, gx2, gy2), union, inter / (union + eps)


def _enclosing(a, b):
    (x1, y1, x2, y2), (gx1, gy1, gx2, gy2) = a, b
    return torch.maximum(x2, gx2) - torch.minimum(x1, gx1), torch.maximum(y2, gy2) - torch.minimum(y1, gy1)


def _diou(pred, target, fmt, eps):
    a, b, _, iou = _box_terms(pred, target, fmt, eps)
    cw, ch = _enclosing(a, b)
    dx = (a[0] + a[2]) / 2 - (b[0] + b[2]) / 2
    dy = (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2
    return 1 - iou + (dx**2 + dy**2) / (cw**2 + ch**2 + eps), a, b, iou


@loss
def iou(pred, target, *, fmt, eps):
    return (1 - _box_terms(pred, target, fmt, eps)[3]).mean()


@loss
def giou(pred, target, *, fmt, eps):
    a, b, union, iou_ = _box_terms(pred, target, fmt, eps)
    cw, ch = _enclosing(a, b)
    area = cw * ch
    return (1 - iou_ + (area - union) / (area + eps)).mean()


@loss
def diou(pred, target, *, fmt, eps):
    return _diou(pred, target, fmt, eps)[0].mean()


@loss
def ciou(pred, target, *, fmt, eps):
    # torchvision.ops.complete_box_iou_loss: alpha is computed under no_grad
    d, a, b, iou_ = _diou(pred, target, fmt, eps)
    v = (4 / math.pi**2) * (torch.atan((b[2] - b[0]) / (b[3] - b[1])) - torch.atan((a[2] - a[0]) / (a[3] - a[1]))) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou_ + v + eps)
    return (d + alpha * v).mean()


# ----------------------------------------------------------------------------- distribution


@loss
def dfl(pred, target):
    # Ultralytics DFLoss: the target clamped to [0, reg_max - 1.01], two neighbouring bins
    t = target.reshape(-1).clamp(0, pred.shape[1] - 1 - 0.01)
    left = t.long()
    right = left + 1
    w_left = right - t
    return (F.cross_entropy(pred, left, reduction="none") * w_left
            + F.cross_entropy(pred, right, reduction="none") * (1 - w_left)).mean()
