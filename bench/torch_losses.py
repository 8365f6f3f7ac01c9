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


# ----------------------------------------------------------------------------- losses of issues 11 and 12 (main)
# The expressions below cover losses that later branches add to the catalogue; the bench uses an
# expression only for a loss its catalogue has. Counting metrics (zero_one, hamming, top_k_error,
# label_ranking, coverage_error) have no autograd graph: torch computes the value and the gradient
# is zero, as losscli reports.


@loss
def wing(pred, target, *, w, epsilon):
    # Feng et al. (2018): w ln(1 + |r|/epsilon) inside |r| < w, |r| - C beyond
    a = (pred - target).abs()
    c = w - w * math.log1p(w / epsilon)
    return torch.where(a < w, w * torch.log1p(a / epsilon), a - c).mean()


@loss
def student_t_nll(pred, target, *, df, scale):
    # -log of Student's t density (Barron's robust_loss util.students_t_nll)
    u = (pred - target) / scale
    constant = 0.5 * math.log(df) + math.log(scale) + math.lgamma(0.5 * df) - math.lgamma(0.5 * df + 0.5) + 0.5 * math.log(math.pi)
    return (0.5 * (df + 1) * torch.log1p(u * u / df) + constant).mean()


@loss
def max_error(pred, target):
    return (pred - target).abs().max()


@loss
def median_absolute_error(pred, target):
    # sklearn: the median of each column (the middle two averaged), then the mean over columns
    a = (pred - target).abs()
    return torch.quantile(a, 0.5, dim=0).mean()


@loss
def exponential(pred, target):
    return (target * torch.exp(-pred) + (1 - target) * torch.exp(pred)).mean()


def _decision(pred, threshold, from_logits):
    cut = (0.0 if from_logits else 0.5) if threshold is None else threshold
    return pred > cut


@loss
def zero_one(pred, target, *, threshold, from_logits):
    return (_decision(pred, threshold, from_logits) != (target == 1)).any(dim=1).double().mean()


@loss
def sparsemax(pred, target):
    # optax sparsemax_loss: sparse_plus of -x for positives and x for negatives
    z = torch.where(target == 1, -pred, pred)
    return torch.where(z <= -1, 0.0, torch.where(z < 1, 0.25 * (z + 1) ** 2, z)).mean()


@loss
def perceptron(pred, target):
    return F.relu(-_signed(target) * pred).mean()


@loss
def multiclass_hinge(pred, target):
    # Crammer and Singer: max_j (x_j + 1 - [j = y]) - x_y
    y = _index(target)
    margins = pred + 1 - F.one_hot(y, pred.shape[1]).to(pred.dtype)
    return (margins.max(dim=1).values - pred.gather(1, y[:, None])[:, 0]).mean()


@loss
def categorical_hinge(pred, target):
    # Keras categorical_hinge
    t = _class_target(pred, target)
    return F.relu(((1 - t) * pred).max(dim=1).values - (t * pred).sum(dim=1) + 1).mean()


@loss
def multiclass_perceptron(pred, target):
    y = _index(target)
    return (pred.max(dim=1).values - pred.gather(1, y[:, None])[:, 0]).mean()


def _sparsemax(z):
    """Sparsemax of each row (Martins and Astudillo 2016) in torch ops."""
    z = z - z.max(dim=1, keepdim=True).values
    ordered = torch.sort(z, dim=1, descending=True).values
    running = ordered.cumsum(dim=1)
    k = torch.arange(1, z.shape[1] + 1, dtype=z.dtype)
    support = (1 + k * ordered > running).sum(dim=1, keepdim=True)
    tau = (running.gather(1, support - 1) - 1) / support
    return F.relu(z - tau)


@loss
def multiclass_sparsemax(pred, target):
    # optax multiclass_sparsemax_loss: sum_j p_j (x_j - x_y) + (1 - |p|^2) / 2, its gradient sparsemax(x) - e_y
    y = _index(target)
    with torch.no_grad():
        p = _sparsemax(pred)
    gap = pred - pred.gather(1, y[:, None])
    return ((p * gap).sum(dim=1) + 0.5 * (1 - (p * p).sum(dim=1))).mean()


@loss
def generalized_ce(pred, target, *, q):
    # Zhang and Sabuncu (2018): (1 - p_y^q) / q on probabilities
    py = pred.gather(1, _index(target)[:, None])[:, 0]
    return ((1 - py**q) / q).mean()


@loss
def top_k_error(pred, target, *, k):
    y = _index(target)
    own = pred.gather(1, y[:, None])
    later = torch.arange(pred.shape[1])[None, :] > y[:, None]
    rank = (pred > own).sum(dim=1) + ((pred == own) & later).sum(dim=1)
    return (rank >= k).double().mean()


@loss
def generalized_kl(pred, target):
    # optax generalized_kl_divergence with log-predictions
    return (torch.xlogy(target, target) - target * pred + pred.exp() - target).sum(dim=1).mean()


@loss
def total_variation(pred, target):
    return 0.5 * (pred - _class_target(pred, target)).abs().sum(dim=1).mean()


@loss
def wasserstein_1d(pred, target):
    gaps = (pred - _class_target(pred, target)).cumsum(dim=1)[:, :-1]
    return gaps.abs().sum(dim=1).mean()


@loss
def weighted_kappa(pred, target, *, weightage, epsilon):
    # TF Addons WeightedKappaLoss: log(sum W(y, c) p / (label_dist W pred_dist / N) + epsilon)
    k = pred.shape[1]
    t = _class_target(pred, target)
    bins = torch.arange(k, dtype=pred.dtype)
    gap = bins[:, None] - bins[None, :]
    weights = gap**2 / (k - 1) ** 2 if weightage == "quadratic" else gap.abs() / (k - 1)
    label = (t * bins).sum(dim=1, keepdim=True)
    row_gap = label - bins[None, :]
    row_weights = row_gap**2 / (k - 1) ** 2 if weightage == "quadratic" else row_gap.abs() / (k - 1)
    numerator = (row_weights * pred).sum()
    denominator = (t.sum(0) @ weights * pred.sum(0)).sum() / pred.shape[0]
    return torch.log(numerator / denominator + epsilon)


@loss
def multilabel_soft_margin(pred, target, *, weight):
    w = None if weight is None else torch.tensor(weight, dtype=pred.dtype)
    return F.multilabel_soft_margin_loss(pred, target, weight=w)


@loss
def multilabel_margin(pred, target):
    # torch's MultiLabelMarginLoss takes the relevant classes as indices padded with -1
    relevant = target == 1
    order = torch.argsort((~relevant).to(torch.int8), dim=1, stable=True)
    indices = torch.where(torch.gather(relevant, 1, order), order, -1)
    return F.multilabel_margin_loss(pred, indices)


@loss
def hamming(pred, target, *, threshold, from_logits):
    return (_decision(pred, threshold, from_logits) != (target == 1)).double().mean()


@loss
def label_ranking(pred, target):
    relevant = target == 1
    misordered = relevant[:, :, None] & ~relevant[:, None, :] & (pred[:, None, :] >= pred[:, :, None])
    pairs = relevant.sum(dim=1) * (~relevant).sum(dim=1)
    return torch.where(pairs > 0, misordered.sum(dim=(1, 2)) / pairs.clamp_min(1), 0.0).double().mean()


@loss
def coverage_error(pred, target):
    lowest = torch.where(target == 1, pred, math.inf).min(dim=1, keepdim=True).values
    return (pred >= lowest).sum(dim=1).double().mean()


@loss
def generalized_dice(pred, target, *, smooth, from_logits):
    # optax generalized dice: per class weights 1 / (T^2 + 1e-7), rescaled to sum to the classes
    p = torch.softmax(pred, dim=1) if from_logits else pred
    inter, total_p, total_t = (p * target).sum(0), p.sum(0), target.sum(0)
    with torch.no_grad():
        w = 1 / (total_t**2 + 1e-7)
        w = w / w.sum() * w.shape[0]
    return (w * (1 - (inter + smooth) / ((total_p + total_t) / 2 + smooth))).mean()


@loss
def mcc(pred, target, *, eps, from_logits):
    # segmentation_models_pytorch MCCLoss
    p = torch.sigmoid(pred) if from_logits else pred
    tp = (p * target).sum() + eps
    tn = ((1 - p) * (1 - target)).sum() + eps
    fp = (p * (1 - target)).sum() + eps
    fn = ((1 - p) * target).sum() + eps
    return 1 - (tp * tn - fp * fn) / torch.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))


def _lovasz_grad(labels_sorted):
    positives = labels_sorted.sum()
    intersection = positives - labels_sorted.cumsum(0)
    union = positives + (1 - labels_sorted).cumsum(0)
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


@loss
def lovasz_hinge(pred, target):
    # segmentation_models_pytorch LovaszLoss(mode="binary", per_image=False) over every element
    signs = 2 * target.reshape(-1) - 1
    errors = 1 - pred.reshape(-1) * signs
    errors_sorted, order = torch.sort(errors, descending=True, stable=True)
    return torch.dot(F.relu(errors_sorted), _lovasz_grad(target.reshape(-1)[order]))


@loss
def lovasz_softmax(pred, target, *, from_logits):
    # segmentation_models_pytorch LovaszLoss(mode="multiclass"), classes present only
    p = torch.softmax(pred, dim=1) if from_logits else pred
    labels = _index(target)
    losses = []
    for k in range(pred.shape[1]):
        fg = (labels == k).to(pred.dtype)
        if fg.sum() == 0:
            continue
        errors = (fg - p[:, k]).abs()
        errors_sorted, order = torch.sort(errors, descending=True, stable=True)
        losses.append(torch.dot(errors_sorted, _lovasz_grad(fg[order])))
    return torch.stack(losses).mean()


@loss
def hinge_embedding(pred, target, *, margin):
    return F.hinge_embedding_loss(pred, target, margin=margin)


@loss
def margin_ranking(pred, second, target, *, margin):
    return F.margin_ranking_loss(pred, second, target, margin=margin)


@loss
def oks(pred, target, visibility, area, *, sigmas):
    # Ultralytics KeypointLoss: (1 - exp(-e)) on labelled keypoints, scaled by K / (labelled + 1e-9), mean
    k = visibility.shape[1]
    coco = torch.tensor([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87,
                         0.87, 0.89, 0.89], dtype=pred.dtype) / 10
    s = torch.tensor(sigmas, dtype=pred.dtype) if sigmas is not None else (coco if k == 17 else torch.full((k,), 1 / k,
                                                                                                       dtype=pred.dtype))
    d = (pred[:, 0::2] - target[:, 0::2]) ** 2 + (pred[:, 1::2] - target[:, 1::2]) ** 2
    mask = (visibility != 0).to(pred.dtype)
    factor = k / (mask.sum(dim=1, keepdim=True) + 1e-9)
    e = d / ((2 * s) ** 2 * (area.reshape(-1, 1) + 1e-9) * 2)
    return (factor * ((1 - torch.exp(-e)) * mask)).mean()


# ----------------------------------------------------------------------------- losses over queries
# Query losses take every role stacked by query: (queries, rows, width) tensors, every query of the
# same size (bench_losses.py makes queries of equal size, each a run of consecutive rows), and return
# one loss per query, (queries,); the bench averages them and runs the queries in chunks, as a torch
# user would to bound the (rows x rows) pair tensors. Written from the references each catalogue
# entry names (optax, rax, LightGBM, scikit-learn, TensorFlow Addons, Keras).


def _flat_query(x):
    return x[..., 0]


@loss
def ranking_softmax(pred, target):
    # optax.losses.ranking_softmax_loss: -sum_i y_i log softmax(s)_i per list
    s, y = _flat_query(pred), _flat_query(target)
    return -(y * torch.log_softmax(s, dim=1)).sum(dim=1)


def _pair_logistic(s, weight, sigma):
    # sum over pairs of weight_ij log(1 + exp(-sigma (s_i - s_j)))
    return (weight * F.softplus(-sigma * (s[:, :, None] - s[:, None, :]))).sum(dim=(1, 2))


@loss
def pairwise_logistic(pred, target, *, sigma):
    # RankNet (rax.pairwise_logistic_loss, reduce_fn=sum): every pair whose relevance differs
    s, y = _flat_query(pred), _flat_query(target)
    return _pair_logistic(s, (y[:, :, None] > y[:, None, :]).to(s.dtype), sigma)


@loss
def lambdarank(pred, target, *, k, sigma):
    # LightGBM lambdarank (lambdarank_norm=false): pairs y_i > y_j with the better-ranked row in the top k,
    # weighted by |delta NDCG@k|, which depends on the ranks only (no gradient flows through it)
    s, y = _flat_query(pred), _flat_query(target)
    with torch.no_grad():
        m = s.shape[1]
        ranks = torch.argsort(torch.argsort(-s, dim=1, stable=True), dim=1)
        gain = 2.0**y - 1.0
        discount = 1.0 / torch.log2(2.0 + ranks.to(s.dtype))
        ideal = torch.sort(y, dim=1, descending=True).values[:, :k]
        best = ((2.0**ideal - 1.0) / torch.log2(2.0 + torch.arange(min(k, m), dtype=s.dtype))).sum(dim=1)
        inverse_best = torch.where(best > 0, 1.0 / best.clamp_min(1e-300), 0.0)
        counted = (y[:, :, None] > y[:, None, :]) & (torch.minimum(ranks[:, :, None], ranks[:, None, :]) < k)
        delta = ((gain[:, :, None] - gain[:, None, :]) * (discount[:, :, None] - discount[:, None, :]).abs()
                 * inverse_best[:, None, None])
        weight = torch.where(counted, delta, 0.0)
    return _pair_logistic(s, weight, sigma)


@loss
def ndcg_loss(pred, target, *, k):
    # 1 - sklearn.metrics.ndcg_score per query; the bench's scores have no ties, so no tie averaging is needed
    s, y = _flat_query(pred), _flat_query(target)
    m = s.shape[1]
    discount = 1.0 / torch.log2(torch.arange(m, dtype=s.dtype) + 2.0)
    if k is not None:
        discount[k:] = 0.0
    dcg = (torch.gather(y, 1, torch.argsort(-s, dim=1)) * discount).sum(dim=1)
    best = (torch.sort(y, dim=1, descending=True).values * discount).sum(dim=1)
    return 1.0 - torch.where(best > 0, dcg / best.clamp_min(1e-300), 0.0)


def _same_class(label):
    y = label[..., 0]
    same = y[:, :, None] == y[:, None, :]
    eye = torch.eye(y.shape[1], dtype=torch.bool)[None]
    return same & ~eye, ~same


def _pairwise_distances(x, distance):
    if distance == "angular":
        u = x / torch.sqrt((x * x).sum(dim=2, keepdim=True).clamp_min(1e-12))
        return (1.0 - u @ u.transpose(1, 2)).clamp_min(1e-16)
    diff = x[:, :, None, :] - x[:, None, :, :]
    squared = (diff * diff).sum(dim=3)
    return squared if distance == "squared_euclidean" else torch.sqrt(squared)


def _masked_max(d, mask):
    # TFA _masked_maximum; with no entry in the mask, the row's minimum over everything
    picked = torch.where(mask, d, -math.inf).max(dim=2).values
    return torch.where(mask.any(dim=2), picked, d.min(dim=2).values)


def _masked_min(d, mask):
    picked = torch.where(mask, d, math.inf).min(dim=2).values
    return torch.where(mask.any(dim=2), picked, d.max(dim=2).values)


@loss
def triplet_hard(pred, label, *, margin, soft, distance):
    # tfa.losses.triplet_hard_loss: each anchor's farthest positive against its nearest negative
    d = _pairwise_distances(pred, distance)
    positive, negative = _same_class(label)
    gap = _masked_max(d, positive) - _masked_min(d, negative)
    per_anchor = F.softplus(gap) if soft else F.relu(gap + margin)
    return per_anchor.mean(dim=1)


@loss
def triplet_semihard(pred, label, *, margin, distance):
    # tfa.losses.triplet_semihard_loss: for each positive pair (a, p) the nearest negative farther than p,
    # else the farthest negative; the (anchor, positive, negative) cube as TFA tiles it
    d = _pairwise_distances(pred, distance)
    positive, negative = _same_class(label)
    beyond = negative[:, :, None, :] & (d[:, :, None, :] > d[:, :, :, None])  # [q, a, p, n]
    outside = torch.where(beyond, d[:, :, None, :], math.inf).min(dim=3).values
    inside = _masked_max(d, negative)[:, :, None]
    negative_d = torch.where(beyond.any(dim=3), outside, inside)
    hinge = F.relu(margin + d - negative_d) * positive
    return hinge.sum(dim=(1, 2)) / positive.sum(dim=(1, 2)).clamp_min(1)


_MASKED = -1e300  # a finite "minus infinity": a query with no entry of a kind gets no NaN gradient


def _masked_logsumexp(a, mask):
    return torch.logsumexp(torch.where(mask, a, _MASKED), dim=2)


@loss
def ntxent(pred, label, *, temperature):
    # optax.losses.ntxent: cosine similarities over a temperature; each positive pair against the anchor's negatives
    u = pred / torch.sqrt((pred * pred).sum(dim=2, keepdim=True).clamp_min(torch.finfo(pred.dtype).eps))
    s = u @ u.transpose(1, 2) / temperature
    positive, negative = _same_class(label)
    negatives = _masked_logsumexp(s, negative)
    per_pair = F.softplus(negatives[:, :, None] - s) * positive  # -log(e^s_ij / (e^s_ij + sum_neg e^s_ik))
    return per_pair.sum(dim=(1, 2)) / positive.sum(dim=(1, 2)).clamp_min(1)


@loss
def npairs(anchor, positive, label):
    # tfa.losses.npairs_loss(label, anchor @ positive^T): softmax cross-entropy against the same-label positives
    s = anchor @ positive.transpose(1, 2)
    y = label[..., 0]
    same = (y[:, :, None] == y[:, None, :]).to(s.dtype)
    target = same / same.sum(dim=2, keepdim=True)
    return -(target * torch.log_softmax(s, dim=2)).sum(dim=(1, 2)) / s.shape[1]


@loss
def circle(pred, label, *, gamma, margin, remove_diagonal):
    # keras.losses.Circle on the plain dot product, D = max(1 - x.y, 0), weights a_p, a_n kept in the graph
    d = F.relu(1.0 - pred @ pred.transpose(1, 2))
    y = label[..., 0]
    same = y[:, :, None] == y[:, None, :]
    positive = same & ~torch.eye(y.shape[1], dtype=torch.bool)[None] if remove_diagonal else same
    negative = ~same
    a_pos = F.relu(torch.where(positive, margin + d, 0.0))
    a_neg = F.relu(torch.where(negative, 1.0 + margin - d, 0.0))
    lse_pos = _masked_logsumexp(-gamma * a_pos * (margin - d), positive)
    lse_neg = _masked_logsumexp(gamma * a_neg * (1.0 - margin - d), negative)
    valid = positive.any(dim=2) & negative.any(dim=2)
    per_anchor = torch.where(valid, F.softplus(torch.where(valid, lse_pos + lse_neg, 0.0)), 0.0)
    return per_anchor.sum(dim=1) / valid.sum(dim=1).clamp_min(1)
