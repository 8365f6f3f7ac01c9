"""Multi-class losses: K >= 2 prediction columns per row, one value per row, mean over rows
(weighted_kappa alone is defined on the whole set of rows, per="set").

The target is either ONE column of class indices (0 .. K-1, or ``ignore_index``)
or K columns of class probabilities (soft labels, one-hot rows included); the
width of the target column group says which. Index targets are validated in
``check`` (whole numbers, in range), so the value functions can index safely.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputDataError
from .base import (LOG_PROBABILITY, NON_NEGATIVE, PROBABILITY, Explain, Loss, Param, Problem, log_softmax,
                   log_softmax_and_softmax, piecewise_linear_hess, pred_role, row_argmax, row_max, row_sums,
                   softmax_at, target_role, times_log, zero_gradient)

# ----------------------------------------------------------------------------- roles

LOGITS = pred_role(
    "K >= 2 class scores (logits) per row",
    warn_if_probabilities="these look like probabilities, but this loss applies a softmax to them; pass logits.",
)
# cross_entropy takes logits or, with from_logits=false, probabilities, so its pred role
# cannot carry a static probability warning (it would fire on the valid probability form).
CE_PRED = pred_role(
    "K >= 2 class logits per row (class probabilities with from_logits=false)",
    warn_if_probabilities=lambda params: "" if not params.get("from_logits", True) else
    "these look like probabilities, but from_logits=true applies a softmax to them; "
    "pass logits, or set cross_entropy:from_logits=false.",
)
LOGPROB = pred_role("K >= 2 class log-probabilities per row (log_softmax output)", LOG_PROBABILITY,
                    hint="nll wants log-probabilities; for raw logits use cross_entropy.")
SCORES = pred_role("K >= 2 class scores per row (any real numbers)")
PROBS = pred_role(
    "K class probabilities per row", PROBABILITY,
    hint="This loss wants probabilities: apply softmax to logits first (or exp of log_softmax). "
         "Logits given to a probability loss are a common mistake; cross_entropy takes logits directly.",
)
CLASS_TARGET = target_role("one column of class indices 0..K-1, or K columns of class probabilities", width="1|pred",
                           sums_to_one=True)
INDEX_TARGET = target_role("one column of class indices 0..K-1", width=1)
DIST_TARGET = target_role("K columns of target probabilities (a distribution per row)", PROBABILITY, sums_to_one=True)

# ----------------------------------------------------------------------------- shared numerics


def _is_index(pred: np.ndarray, target: np.ndarray) -> bool:
    return target.shape[1] == 1 and pred.shape[1] >= 2


def _index_parts(target: np.ndarray, k: int, ignore_index: int | None = None):
    """Class indices as ints (ignored rows get 0) and the mask of rows that count."""
    raw = target[:, 0]
    if ignore_index is None:
        return np.clip(raw, 0, k - 1).astype(np.intp), np.ones(raw.shape[0], dtype=bool)
    keep = raw != ignore_index
    idx = np.clip(np.where(keep, raw, 0.0), 0, k - 1).astype(np.intp)
    return idx, keep


def _soft_target(pred: np.ndarray, target: np.ndarray, ignore_index: int | None = None):
    """(n, K) target distribution: one-hot for index targets (zero rows where ignored), else target itself."""
    n, k = pred.shape
    if _is_index(pred, target):
        idx, keep = _index_parts(target, k, ignore_index)
        t = np.zeros((n, k))
        t[np.arange(n), idx] = keep.astype(np.float64)
        return t
    return target


def _class_weights(weight, k: int) -> np.ndarray:
    return np.ones(k) if weight is None else np.asarray(weight, dtype=np.float64)


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x log y with 0 log y = 0 (also for y = 0), the convention torch.xlogy uses."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def _check_classes(pred, target, *, ignore_index=None, weight=None, alpha=None, columns="pred", need_two=True):
    """Problems shared by every class loss: K >= 2, index targets whole and in range, weight lengths."""
    n, k = pred.shape
    if need_two and k < 2:
        raise InputDataError(f"pred has {k} column{'s' if k != 1 else ''}; a multi-class loss needs K >= 2 class columns (one per class).")
    for name, vec in (("weight", weight), ("alpha", alpha)):
        if vec is not None and len(vec) != k:
            raise InputDataError(f"the {name} parameter has {len(vec)} values but pred has {k} class columns; "
                                 f"give one value per class, e.g. {name}={';'.join(['1'] * k)}.")
    problems = []
    if _is_index(pred, target) or target.shape[1] == 1 and k == 1:
        raw = target[:, 0]
        ignored = np.zeros(n, dtype=bool) if ignore_index is None else raw == ignore_index
        fractional = (raw != np.round(raw)) & ~ignored
        if fractional.any():
            v = raw[np.argmax(fractional)]
            problems.append(Problem("target", fractional, f"class index {v:g} is not a whole number; "
                                    f"index targets must be integers 0..{k - 1}"))
        outside = ~fractional & ~ignored & ((raw < 0) | (raw >= k))
        if outside.any():
            v = raw[np.argmax(outside)]
            extra = "" if ignore_index is None else f" (or ignore_index={ignore_index})"
            problems.append(Problem("target", outside, f"class index {v:g} but there are {k} {columns} columns; "
                                    f"valid indices are 0..{k - 1}{extra}"))
    else:
        bad = (target < 0) | (target > 1)
        if bad.any():
            problems.append(Problem("target", bad, "probability targets must lie in [0, 1]"))
    return problems


# ----------------------------------------------------------------------------- cross-entropy


_KERAS_EPS = 1e-7  # keras.config.epsilon(), the clip Keras applies to probabilities


def _ce_coefficients(pred, target, *, label_smoothing, weight, ignore_index):
    """c (n, K) with loss_i = -sum_k c_ik log p_ik, and the row denominators, as torch.

    Index targets: c = (1 - eps) w_y e_y + (eps / K) w, denominator w_y (0 for ignored rows).
    Probability targets: c = w (t (1 - eps) + eps / K), denominator 1 (torch divides by N
    there, not by any sum of weights).
    """
    n, k = pred.shape
    w = _class_weights(weight, k)
    if _is_index(pred, target):
        idx, keep = _index_parts(target, k, ignore_index)
        c = np.zeros((n, k))
        c[np.arange(n), idx] = (1.0 - label_smoothing) * w[idx]
        if label_smoothing:
            c += (label_smoothing / k) * w[None, :]
        if not keep.all():
            c[~keep] = 0.0
        return c, w[idx] * keep
    t = target * (1.0 - label_smoothing) + label_smoothing / k
    return t * w[None, :], np.ones(n)


def _keras_probs(pred):
    """Keras' from_logits=False handling: rows rescaled to sum 1, then clipped to [1e-7, 1 - 1e-7]."""
    s = pred.sum(axis=1, keepdims=True)
    q = pred / s
    return q, s, np.clip(q, _KERAS_EPS, 1.0 - _KERAS_EPS)


def cross_entropy(pred, target, *, label_smoothing=0.0, from_logits=True, weight=None, ignore_index=-100,
                  compat="torch"):
    """-sum_k c_k log p_k per row (see _ce_coefficients); torch.nn.CrossEntropyLoss."""
    c, _ = _ce_coefficients(pred, target, label_smoothing=label_smoothing, weight=weight, ignore_index=ignore_index)
    if from_logits:
        return -row_sums(times_log(c, log_softmax(pred)))
    if compat == "keras":
        return -(c * np.log(_keras_probs(pred)[2])).sum(axis=1)
    # p = 0 only meets c = 0 here (check refuses p = 0 where c > 0): 0 log 0 = 0.
    return -_xlogy(c, pred).sum(axis=1)


def cross_entropy_grad(pred, target, *, label_smoothing=0.0, from_logits=True, weight=None, ignore_index=-100,
                       compat="torch"):
    c, _ = _ce_coefficients(pred, target, label_smoothing=label_smoothing, weight=weight, ignore_index=ignore_index)
    if from_logits:
        # d(-sum c log softmax)/dx_j = -c_j + (sum_k c_k) p_j
        return -c + row_sums(c)[:, None] * log_softmax_and_softmax(pred)[1]
    if compat == "keras":
        q, s, r = _keras_probs(pred)
        inside = (q >= _KERAS_EPS) & (q <= 1.0 - _KERAS_EPS)  # the clip passes gradient only inside
        a = np.where(inside, -c / r, 0.0)
        # through q = p / sum(p): dq_k/dp_j = (delta_kj - q_k) / s
        return (a - (a * q).sum(axis=1, keepdims=True)) / s
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c == 0, 0.0, -c / pred)


def cross_entropy_value_and_grad(pred, target, *, label_smoothing=0.0, from_logits=True, weight=None,
                                 ignore_index=-100, compat="torch"):
    params = dict(label_smoothing=label_smoothing, weight=weight, ignore_index=ignore_index)
    if not from_logits:
        return (cross_entropy(pred, target, from_logits=False, compat=compat, **params),
                cross_entropy_grad(pred, target, from_logits=False, compat=compat, **params))
    if _is_index(pred, target) and not label_smoothing:
        # c is w_y on the row's class and 0 elsewhere: the row's own log-probability and w_y p less w_y
        # on the row's class are what the (n, K) products below give
        idx, wy = _nll_parts(pred, target, weight, ignore_index)
        log_p_y, grad = softmax_at(pred, idx, wy)
        grad.reshape(-1)[np.arange(pred.shape[0]) * pred.shape[1] + idx] -= wy
        return -times_log(wy, log_p_y), grad
    log_p, p = log_softmax_and_softmax(pred)  # from one exp
    c, _ = _ce_coefficients(pred, target, **params)
    return -row_sums(times_log(c, log_p)), -c + row_sums(c)[:, None] * p


def _softmax_curvature(logp: np.ndarray) -> np.ndarray:
    """p (1 - p) from log-probabilities, with 1 - p as -expm1(log p) so it keeps its digits when p ~ 1."""
    return np.exp(logp) * -np.expm1(logp)


def cross_entropy_hess(pred, target, *, label_smoothing=0.0, from_logits=True, weight=None, ignore_index=-100,
                       compat="torch"):
    c, _ = _ce_coefficients(pred, target, label_smoothing=label_smoothing, weight=weight, ignore_index=ignore_index)
    if from_logits:
        # the row's Hessian is (sum c)(diag p - p p^T); its diagonal is (sum c) p_j (1 - p_j)
        return c.sum(axis=1, keepdims=True) * _softmax_curvature(log_softmax(pred))
    if compat == "keras":
        # with a = d loss/d q (0 where clipped) the gradient is (a_j - A)/s, A = sum_k a_k q_k = -sum c over
        # unclipped classes (constant between clip points); its slope in p_j is
        # (c_j (1 - q_j) / q_j^2 [unclipped] - a_j + A) / s^2
        q, s, r = _keras_probs(pred)
        inside = (q >= _KERAS_EPS) & (q <= 1.0 - _KERAS_EPS)
        a = np.where(inside, -c / r, 0.0)
        total = (a * q).sum(axis=1, keepdims=True)
        return (np.where(inside, c * (1.0 - q) / (r * r), 0.0) - a + total) / (s * s)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c == 0, 0.0, c / (pred * pred))


def cross_entropy_norm(pred, target, *, label_smoothing=0.0, from_logits=True, weight=None, ignore_index=-100,
                       compat="torch"):
    # _ce_coefficients' denominators without building its (n, K) coefficients
    if _is_index(pred, target):
        return _nll_parts(pred, target, weight, ignore_index)[1]
    return np.ones(pred.shape[0])


def cross_entropy_check(pred, target, *, label_smoothing=0.0, from_logits=True, weight=None, ignore_index=-100,
                        compat="torch"):
    problems = _check_classes(pred, target, ignore_index=ignore_index, weight=weight,
                              columns="logit" if from_logits else "probability")
    if problems or from_logits:
        return problems
    outside = (pred < 0) | (pred > 1)
    if outside.any():
        return [Problem("pred", outside, "with from_logits=false pred must be probabilities in [0, 1]; "
                        "for logits leave from_logits=true")]
    if compat == "keras":
        zero = pred.sum(axis=1) == 0
        return [Problem("pred", zero, "Keras rescales each probability row to sum 1, and these rows sum to 0")]
    c, _ = _ce_coefficients(pred, target, label_smoothing=label_smoothing, weight=weight, ignore_index=ignore_index)
    infinite = (pred == 0) & (c > 0)
    return [Problem("pred", infinite, "a probability of exactly 0 on a class the target gives weight makes "
                    "-log p infinite; pass logits, or clip as Keras does with compat=keras")]


# ----------------------------------------------------------------------------- nll


def _nll_parts(pred, target, weight, ignore_index):
    k = pred.shape[1]
    idx, keep = _index_parts(target, k, ignore_index)
    wy = _class_weights(weight, k)[idx] * keep
    return idx, wy


def nll(pred, target, *, weight=None, ignore_index=-100):
    """-w_y logp_y per row; torch.nn.NLLLoss."""
    idx, wy = _nll_parts(pred, target, weight, ignore_index)
    return -wy * _picked(pred, idx)


def nll_grad(pred, target, *, weight=None, ignore_index=-100):
    return nll_value_and_grad(pred, target, weight=weight, ignore_index=ignore_index)[1]


def nll_value_and_grad(pred, target, *, weight=None, ignore_index=-100):
    idx, wy = _nll_parts(pred, target, weight, ignore_index)  # once for both
    g = np.zeros(pred.shape)
    g.reshape(-1)[_flat_index(pred, idx)] = -wy
    return -wy * _picked(pred, idx), g


def nll_norm(pred, target, *, weight=None, ignore_index=-100):
    return _nll_parts(pred, target, weight, ignore_index)[1]


def linear_hess(pred, target, **_):
    """0: the loss is linear in pred (nll in the log-probabilities, multi_margin with p=1 between its kinks)."""
    return np.zeros_like(pred)


def nll_check(pred, target, *, weight=None, ignore_index=-100):
    return _check_classes(pred, target, ignore_index=ignore_index, weight=weight, columns="log-probability",
                          need_two=False)


# ----------------------------------------------------------------------------- kl_div


def kl_div(pred, target):
    """sum_k t_k (log t_k - log p_k), 0 log 0 = 0; torch KLDivLoss(log p, t, reduction='batchmean')."""
    # check refuses p = 0 where t > 0, so every log below is of a positive number.
    return row_sums(_xlogy(target, target) - _xlogy(target, pred))


def kl_div_grad(pred, target):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(target == 0, 0.0, -target / pred)


def kl_div_hess(pred, target):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(target == 0, 0.0, target / (pred * pred))


def kl_div_check(pred, target):
    infinite = (pred == 0) & (target > 0)
    return [Problem("pred", infinite, "pred is 0 where the target is positive, so t log(t/p) is infinite "
                    "(torch returns inf); smooth the prediction or use js_div, which stays finite")]


# ----------------------------------------------------------------------------- multi_margin


def _margins(pred, target, margin):
    n, k = pred.shape
    idx, _ = _index_parts(target, k)
    rows = np.arange(n)
    z = margin - pred[rows, idx][:, None] + pred
    z[rows, idx] = 0.0  # the target class itself is not a rival
    return idx, np.maximum(z, 0.0)


def multi_margin(pred, target, *, p=1, margin=1.0, weight=None):
    """sum_{j != y} w_y max(0, margin - x_y + x_j)^p / K; torch.nn.MultiMarginLoss."""
    k = pred.shape[1]
    idx, h = _margins(pred, target, margin)
    return _class_weights(weight, k)[idx] * row_sums(h**p) / k


def multi_margin_grad(pred, target, *, p=1, margin=1.0, weight=None):
    return multi_margin_value_and_grad(pred, target, p=p, margin=margin, weight=weight)[1]


def multi_margin_value_and_grad(pred, target, *, p=1, margin=1.0, weight=None):
    n, k = pred.shape
    idx, h = _margins(pred, target, margin)  # once for both
    w = _class_weights(weight, k)[idx]
    # d h_j^p / dx_j = p h_j^(p-1) where h_j > 0 (0 at and below the hinge, torch's choice): for p = 2
    # that is 2 h, already 0 there, so no np.where is needed
    d = (h > 0).astype(np.float64) if p == 1 else 2.0 * h
    d[np.arange(n), idx] = -row_sums(d)  # the target's own entry is 0 (not a rival) until here
    return w * row_sums(h**p) / k, d * (w / k)[:, None]


def multi_margin_hess(pred, target, *, p=1, margin=1.0, weight=None):
    if p == 1:
        return linear_hess(pred, target)
    # p = 2: each active hinge h_j^2 adds 2 to x_j's and to x_y's second derivative (0 at the hinge, as the gradient)
    n, k = pred.shape
    idx, h = _margins(pred, target, margin)
    curvature = np.where(h > 0, 2.0, 0.0)
    curvature[np.arange(n), idx] = curvature.sum(axis=1)
    return curvature * (_class_weights(weight, k)[idx] / k)[:, None]


def multi_margin_check(pred, target, *, p=1, margin=1.0, weight=None):
    return _check_classes(pred, target, weight=weight, columns="score")


# ----------------------------------------------------------------------------- poly1


def poly1(pred, target, *, epsilon=1.0):
    """CE + epsilon (1 - p_t), p_t = sum_k t_k p_k; Leng et al. 2022, PolyLoss."""
    t = _soft_target(pred, target)
    logp, p = log_softmax_and_softmax(pred)
    return -row_sums(times_log(t, logp)) + epsilon * (1.0 - row_sums(t * p))


def poly1_grad(pred, target, *, epsilon=1.0):
    return poly1_value_and_grad(pred, target, epsilon=epsilon)[1]


def poly1_value_and_grad(pred, target, *, epsilon=1.0):
    t = _soft_target(pred, target)
    logp, p = log_softmax_and_softmax(pred)  # one softmax for both
    pt = row_sums(t * p)
    # CE part: -t_j + (sum t) p_j; poly part: d(-p_t)/dx_j = -p_j (t_j - p_t)
    grad = -t + row_sums(t)[:, None] * p - epsilon * p * (t - pt[:, None])
    return -row_sums(times_log(t, logp)) + epsilon * (1.0 - pt), grad


def poly1_hess(pred, target, *, epsilon=1.0):
    # CE part (sum t) p_j (1 - p_j); d^2 p_t/dx_j^2 = p_j (t_j - p_t)(1 - 2 p_j)
    t = _soft_target(pred, target)
    logp = log_softmax(pred)
    p = np.exp(logp)
    pt = (t * p).sum(axis=1, keepdims=True)
    return t.sum(axis=1, keepdims=True) * _softmax_curvature(logp) - epsilon * p * (t - pt) * (1.0 - 2.0 * p)


def poly1_check(pred, target, *, epsilon=1.0):
    return _check_classes(pred, target, columns="logit")


# ----------------------------------------------------------------------------- focal_ce


def _focal_parts(pred, target, alpha):
    t = _soft_target(pred, target)
    if alpha is not None:
        t = t * _class_weights(alpha, pred.shape[1])[None, :]
    logp, p = log_softmax_and_softmax(pred)
    # 1 - p without cancellation when p is close to 1: only a row's largest p can exceed 1/2, and
    # there 1 - p is taken as -expm1(log p); below 1/2 the subtraction is exact to an ulp
    q = 1.0 - p
    high = p > 0.5
    q[high] = -np.expm1(logp[high])
    return t, logp, q, p


def focal_ce(pred, target, *, gamma=2.0, alpha=None):
    """-sum_k alpha_k (1 - p_k)^gamma t_k log p_k (softmax focal loss, Lin et al. 2017)."""
    t, logp, q, _ = _focal_parts(pred, target, alpha)
    return -row_sums(times_log(t * q**gamma, logp))


def _focal_logp_slope(t, logp, q, p, gamma):
    """d loss / d logp_k = t_k phi'(logp_k), phi(l) = -(1 - e^l)^gamma l."""
    # phi' = gamma (1 - p)^(gamma - 1) p logp - (1 - p)^gamma. At q = 0 the first term tends to 0
    # (logp ~ -q), but q^(gamma - 1) is inf for gamma < 1: take the limit.
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(q > 0, gamma * q ** (gamma - 1.0) * times_log(p, logp), 0.0) if gamma != 0 else 0.0
    return t * (first - q**gamma)


def focal_ce_grad(pred, target, *, gamma=2.0, alpha=None):
    return focal_ce_value_and_grad(pred, target, gamma=gamma, alpha=alpha)[1]


def focal_ce_value_and_grad(pred, target, *, gamma=2.0, alpha=None):
    t, logp, q, p = _focal_parts(pred, target, alpha)  # one softmax for both
    g = _focal_logp_slope(t, logp, q, p, gamma)
    # through log-softmax: d logp_k / dx_j = delta_kj - p_j
    return -row_sums(times_log(t * q**gamma, logp)), g - p * row_sums(g)[:, None]


def focal_ce_hess(pred, target, *, gamma=2.0, alpha=None):
    """sum_k t_k phi''(logp_k) (delta_kj - p_j)^2 - p_j (1 - p_j) sum_k t_k phi'(logp_k).

    phi'' = gamma q^(gamma-2) p (q logp + 2q - (gamma-1) p logp) with q = 1 - p has a negative power
    of q, infinite as p_k -> 1. Only the most probable class can have q < 1/2, and for it every
    factor (delta_kj - p_j)^2 is at most q^2 (p_j <= 1 - p_k = q), so its term is taken as
    psi_k ((delta_kj - p_j)/q_k)^2 with psi = phi'' q^2 and a ratio in [-1, 1]: finite for logits
    of any size. The other classes have q >= 1/2, where phi'' itself is safe.
    """
    t, logp, q, p = _focal_parts(pred, target, alpha)
    n = pred.shape[0]
    rows = np.arange(n)
    top = np.argmax(logp, axis=1)
    psi = gamma * q**gamma * p * (q * logp + 2.0 * q - (gamma - 1.0) * p * logp)
    dominant = np.zeros(pred.shape, dtype=bool)
    dominant[rows, top] = True
    # the other classes: sum_k c_k (delta_kj - p_j)^2 = c_j (1 - 2 p_j) + p_j^2 sum_k c_k
    c = np.where(dominant, 0.0, t * psi / np.where(dominant, 1.0, q * q))
    curvature = c * (1.0 - 2.0 * p) + p * p * c.sum(axis=1, keepdims=True)
    q_top = q[rows, top][:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(q_top > 0, p / np.where(q_top > 0, q_top, 1.0), 0.0)
    ratio[rows, top] = 1.0  # (1 - p_top) / q_top
    curvature += (t[rows, top] * psi[rows, top])[:, None] * ratio * ratio
    slope = _focal_logp_slope(t, logp, q, p, gamma).sum(axis=1, keepdims=True)
    return curvature - p * q * slope


def focal_ce_check(pred, target, *, gamma=2.0, alpha=None):
    return _check_classes(pred, target, alpha=alpha, columns="logit")


# ----------------------------------------------------------------------------- brier


def _brier_parts(pred, target, scale_by_half):
    if pred.shape[1] == 1:  # binary: probability of the positive class, 0/1 target
        y, p = target, pred
        k = 2
        # sklearn sums over both classes; (1-p) - (1-y) = -(p - y) doubles the one-column term
        scale = 1.0 if scale_by_half in ("auto", "true") else 2.0
    else:
        y, p = _soft_target(pred, target), pred
        k = pred.shape[1]
        half = scale_by_half == "true" or (scale_by_half == "auto" and k == 2)
        scale = 0.5 if half else 1.0
    return p - y, scale


def brier(pred, target, *, scale_by_half="auto"):
    """sum_k (p_k - y_k)^2, halved for binary data by default; sklearn brier_score_loss."""
    r, scale = _brier_parts(pred, target, scale_by_half)
    return scale * row_sums(r * r)


def brier_grad(pred, target, *, scale_by_half="auto"):
    r, scale = _brier_parts(pred, target, scale_by_half)
    return 2.0 * scale * r


def brier_hess(pred, target, *, scale_by_half="auto"):
    r, scale = _brier_parts(pred, target, scale_by_half)
    return np.full(r.shape, 2.0 * scale)


def brier_check(pred, target, *, scale_by_half="auto"):
    if pred.shape[1] == 1:
        bad = (target != 0) & (target != 1)
        return [Problem("target", bad, "with one pred column (the positive-class probability) the target must be 0 or 1")]
    return _check_classes(pred, target, columns="probability")


# ----------------------------------------------------------------------------- js_div and hellinger


def _zero_where_target(pred, target, name):
    return [Problem("pred", (pred == 0) & (target > 0),
                    f"pred is exactly 0 where the target is positive: the {name} value is finite there but its "
                    "gradient is infinite, so losscli refuses these rows; smooth the prediction (e.g. p + 1e-12, "
                    "renormalised)")]


def js_div(pred, target):
    """1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q)/2, natural log, 0 log 0 = 0."""
    m = 0.5 * (pred + target)
    return 0.5 * row_sums(_xlogy(pred, pred) - _xlogy(pred, m) + _xlogy(target, target) - _xlogy(target, m))


def js_div_grad(pred, target):
    m = 0.5 * (pred + target)
    # d/dp_k = 1/2 log(p_k / m_k); at p_k = q_k = 0 the limit is 1/2 log 2 (p / m -> 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m > 0, 0.5 * np.log(np.where(m > 0, pred / m, 1.0)), 0.5 * np.log(2.0))


def js_div_hess(pred, target):
    # d/dp of 1/2 log(p / m) = 1/2 (1/p - 1/(p + q)) = q / (2 p (p + q)); 0 where p = q = 0 (the limit along q = 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = pred > 0
        p = np.where(positive, pred, 1.0)
        return np.where(positive, target / (2.0 * p * (p + target)), 0.0)


def js_div_check(pred, target):
    return _zero_where_target(pred, target, "Jensen-Shannon")


def hellinger(pred, target):
    """sqrt(1/2 sum_k (sqrt p_k - sqrt q_k)^2), in [0, 1]."""
    d = np.sqrt(pred) - np.sqrt(target)
    return np.sqrt(0.5 * row_sums(d * d))


def hellinger_grad(pred, target):
    h = hellinger(pred, target)
    # dH/dp_k = (1 - sqrt(q_k / p_k)) / (4 H); check refuses p_k = 0 < q_k, and p_k = q_k = 0 gives 1/(4H).
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pred > 0, np.sqrt(target / np.where(pred > 0, pred, 1.0)), 0.0)
        # at H = 0 (p = q) the square root has no derivative; report the zero subgradient as rmse does
        return np.where(h[:, None] > 0, (1.0 - ratio) / (4.0 * h[:, None]), 0.0)


def hellinger_hess(pred, target):
    # H = sqrt(D), D = 1/2 sum (sqrt p - sqrt q)^2: H'' = D''/(2H) - D'^2/(4H^3) with D' = (1 - sqrt(q/p))/2 and
    # D'' = sqrt(q) / (4 p^(3/2)); at H = 0 the root has no second derivative and 0 is reported, as for its gradient
    h = hellinger(pred, target)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = pred > 0
        p = np.where(positive, pred, 1.0)
        ratio = np.where(positive, np.sqrt(target / p), 0.0)
        d2 = np.where(positive, ratio / (4.0 * p), 0.0)
        safe = np.where(h > 0, h, 1.0)
        return np.where(h > 0, d2 / (2.0 * safe) - (1.0 - ratio) ** 2 / (16.0 * safe**3), 0.0)


def hellinger_check(pred, target):
    return _zero_where_target(pred, target, "Hellinger")


# ----------------------------------------------------------------------------- definitions

_WEIGHT = Param("weight", None, "per-class weights, one per pred column, e.g. weight=1;2;0.5 (torch's weight)",
                kind="floats", low=0.0, allow_none=True)
_IGNORE = Param("ignore_index", -100, "index-target rows with this class count in neither the sum nor the mean",
                kind=int)
_CLASS_INPUTS = ("pred holds K >= 2 columns, one per class. target is ONE column of class indices 0..K-1 "
                 "or K columns of class probabilities (one-hot rows included).")

CROSS_ENTROPY = Loss(
    name="cross_entropy", family="multiclass", per="row",
    summary="Softmax cross-entropy on logits (or on probabilities), as torch CrossEntropyLoss.",
    formula="-sum_k c_k log softmax(x)_k, c = (1-eps) w_y e_y + eps w / K; mean divides by sum w_y",
    inputs=(CE_PRED, CLASS_TARGET), value=cross_entropy, grad=cross_entropy_grad, norm=cross_entropy_norm,
    hess=cross_entropy_hess,
    check=cross_entropy_check,
    params=(
        Param("label_smoothing", 0.0, "mix the target with the uniform distribution: t (1 - eps) + eps / K",
              low=0.0, high=1.0),
        Param("from_logits", True, "pred are logits (true) or class probabilities (false)", kind=bool),
        _WEIGHT, _IGNORE,
        Param("compat", "torch", "whose rules for probabilities (from_logits=false): torch (exact -log p, "
              "p = 0 refused) or keras (rows rescaled to sum 1, clipped to [1e-7, 1 - 1e-7])",
              kind=str, choices=("torch", "keras")),
    ),
    value_and_grad=cross_entropy_value_and_grad,
    explain=Explain(
        inputs=_CLASS_INPUTS + " With from_logits=false pred must be probabilities in [0, 1]; with compat=torch "
               "they are used as given (no rescaling), a 0 where the target has mass is refused (the loss would be "
               "infinite) and a 0 where it has none contributes 0 (0 log 0 = 0).",
        gradient="On logits: (sum_k c_k) softmax(x) - c, bounded, finite for logits of any size. On probabilities: "
                 "-c_k / p_k (0 where c_k = 0); with compat=keras the rescaling and clipping are differentiated too "
                 "(0 for clipped entries).",
        use="Single-label classification with K classes; probability targets for distillation, mixup or soft labels.",
        avoid="Multi-label problems (several true classes per row): use per-column binary cross-entropy. Heavy class "
              "imbalance where easy examples swamp the gradient: consider focal_ce.",
        relations="Equals nll on log_softmax(x). With probability targets it is kl_div plus the target's entropy. "
                  "Weighted mean (index targets): sum_i c-terms / sum_i w_{y_i}; torch divides by N instead for "
                  "probability targets, and so do we. Label smoothing with weights follows torch: the smoothing term "
                  "is -eps/K sum_k w_k log p_k, and the denominator stays sum w_{y_i}. compat=keras matters only "
                  "with from_logits=false; Keras' categorical label smoothing t (1 - eps) + eps / K is the same as "
                  "torch's. poly1 and focal_ce build on it.",
        reference="torch.nn.CrossEntropyLoss (weight, ignore_index, label_smoothing, probability targets); "
                  "keras.losses.CategoricalCrossentropy (keras/losses/losses.py smoothing, backend rescale and clip "
                  "by epsilon 1e-7).",
    ),
)

NLL = Loss(
    name="nll", family="multiclass", per="row",
    summary="Negative log-likelihood of log-probabilities, as torch NLLLoss.",
    formula="-w_y logp_y; mean divides by sum w_y over rows not ignored",
    inputs=(LOGPROB, INDEX_TARGET), value=nll, grad=nll_grad, norm=nll_norm, check=nll_check,
    hess=linear_hess,
    params=(_WEIGHT, _IGNORE),
    value_and_grad=nll_value_and_grad,
    explain=Explain(
        inputs="pred holds K columns of log-probabilities (<= 0, e.g. log_softmax output); target is one column "
               "of class indices 0..K-1 (or ignore_index).",
        gradient="-w_y on the target column, 0 elsewhere; log-probabilities are taken as free inputs (no softmax).",
        use="When the model already ends in log_softmax, or to score log-probabilities from any source.",
        avoid="Raw logits or probabilities: the domain check refuses positive values; use cross_entropy.",
        relations="cross_entropy = nll(log_softmax(x)). Weights and ignore_index behave as in cross_entropy.",
        reference="torch.nn.NLLLoss.",
    ),
)

KL_DIV = Loss(
    name="kl_div", family="multiclass", per="row",
    summary="Kullback-Leibler divergence KL(target || pred) per row, torch KLDivLoss batchmean.",
    formula="sum_k t_k (log t_k - log p_k), 0 log 0 = 0",
    inputs=(PROBS, DIST_TARGET), value=kl_div, grad=kl_div_grad, check=kl_div_check,
    hess=kl_div_hess,
    explain=Explain(
        inputs="pred and target are K columns of probabilities each (rows should sum to 1; not enforced). "
               "torch's F.kl_div takes log p; give us p itself.",
        gradient="-t_k / p_k; 0 where t_k = 0. Rows with p_k = 0 < t_k are refused (value and gradient infinite; "
                 "torch returns inf there).",
        use="Distillation and matching a predicted distribution to a reference one.",
        avoid="Predictions that can be exactly 0 where the target is not: the divergence is infinite. js_div or "
              "hellinger are bounded alternatives. Logits: apply softmax first.",
        relations="cross_entropy with probability targets minus the target entropy (same gradient on logits). "
                  "The mean over rows is torch's reduction='batchmean', the mathematically correct KL mean.",
        reference="torch.nn.KLDivLoss(reduction='batchmean', log_target=False) with input = log p.",
    ),
)

MULTI_MARGIN = Loss(
    name="multi_margin", family="multiclass", per="row",
    summary="Multi-class hinge loss, as torch MultiMarginLoss.",
    formula="sum_{j != y} w_y max(0, margin - x_y + x_j)^p / K",
    inputs=(SCORES, INDEX_TARGET), value=multi_margin, grad=multi_margin_grad, check=multi_margin_check,
    hess=multi_margin_hess,
    params=(
        Param("p", 1, "power of the hinge: 1 or 2", kind=int, low=1, high=2),
        Param("margin", 1.0, "how far the target score must lead every other score"),
        _WEIGHT,
    ),
    value_and_grad=multi_margin_value_and_grad,
    explain=Explain(
        inputs="pred holds K class scores per row (any reals); target one column of class indices.",
        gradient="For each rival j with a positive hinge: +p h_j^(p-1)/K on x_j and the same with minus sign on x_y "
                 "(times w_y). Zero at and below the hinge, as torch.",
        use="SVM-style multi-class training, where only the ranking of the true class against rivals matters.",
        avoid="When calibrated probabilities are wanted; the loss is zero once the margin holds.",
        relations="The Weston-Watkins/Crammer-Singer family; torch divides by K (the number of columns), and its "
                  "mean over rows divides by N even with weights, as we do.",
        reference="torch.nn.MultiMarginLoss.",
    ),
)

POLY1 = Loss(
    name="poly1", family="multiclass", per="row",
    summary="Poly-1 loss: cross-entropy plus epsilon (1 - p_t).",
    formula="-sum_k t_k log p_k + epsilon (1 - sum_k t_k p_k), p = softmax(x)",
    inputs=(LOGITS, CLASS_TARGET), value=poly1, grad=poly1_grad, check=poly1_check,
    hess=poly1_hess,
    params=(Param("epsilon", 1.0, "weight of the first polynomial term (1 - p_t); >= -1 keeps the loss >= 0",
                  low=-1.0),),
    value_and_grad=poly1_value_and_grad,
    explain=Explain(
        inputs=_CLASS_INPUTS + " pred are logits.",
        gradient="cross_entropy's (sum t) p - t, minus epsilon p_j (t_j - p_t).",
        use="A one-parameter tweak of cross-entropy; positive epsilon pushes harder on examples already fairly right.",
        avoid="Without tuning epsilon it is just cross-entropy with a different weighting; no calibration guarantee.",
        relations="epsilon=0 is cross_entropy. p_t is the predicted probability of the target (sum_k t_k p_k for "
                  "soft targets, as the paper's code does with one-hot labels).",
        reference="Leng et al. (2022), PolyLoss: A Polynomial Expansion Perspective of Classification Loss "
                  "Functions, ICLR.",
    ),
)

FOCAL_CE = Loss(
    name="focal_ce", family="multiclass", per="row",
    summary="Softmax focal loss: cross-entropy down-weighted on well-classified classes.",
    formula="-sum_k alpha_k (1 - p_k)^gamma t_k log p_k, p = softmax(x)",
    inputs=(LOGITS, CLASS_TARGET), value=focal_ce, grad=focal_ce_grad, check=focal_ce_check,
    hess=focal_ce_hess,
    params=(
        Param("gamma", 2.0, "focusing exponent; 0 gives cross-entropy", low=0.0),
        Param("alpha", None, "per-class weights, one per pred column (e.g. alpha=0.25;0.75), default none",
              kind="floats", low=0.0, allow_none=True),
    ),
    value_and_grad=focal_ce_value_and_grad,
    explain=Explain(
        inputs=_CLASS_INPUTS + " pred are logits.",
        gradient="Through log-softmax: g_k = alpha_k t_k (gamma (1-p_k)^(gamma-1) p_k log p_k - (1-p_k)^gamma), "
                 "grad = g - p sum g. 1 - p_k is taken as -expm1(log p_k) so it keeps its digits when p_k ~ 1.",
        use="Many easy examples (dense detection, heavy imbalance): they stop dominating the loss.",
        avoid="Balanced data with hard labels where calibration matters; focal losses bias probabilities.",
        relations="gamma=0 and no alpha is cross_entropy; the binary sigmoid focal loss is a different (per-column) "
                  "loss. The mean is the plain mean over rows (alpha does not enter the denominator).",
        reference="Lin et al. (2017), Focal Loss for Dense Object Detection; its softmax form as in "
                  "keras.losses.CategoricalFocalCrossentropy (without Keras' clipping).",
    ),
)

BRIER = Loss(
    name="brier", family="multiclass", per="row",
    summary="Brier score: squared error of predicted class probabilities, as sklearn brier_score_loss.",
    formula="scale * sum_k (p_k - y_k)^2; binary data scale 1/2 of the two-class sum by default",
    inputs=(pred_role("probabilities: one column (positive class) or K columns", PROBABILITY,
                      hint="The Brier score wants probabilities; apply sigmoid/softmax to logits first."),
            target_role("0/1 labels (one pred column), or class indices / K probability columns", width="1|pred",
                        sums_to_one=True)),
    value=brier, grad=brier_grad, check=brier_check,
    hess=brier_hess,
    params=(Param("scale_by_half", "auto", "auto (halve for binary data, as sklearn), true or false", kind=str,
                  choices=("auto", "true", "false")),),
    explain=Explain(
        inputs="One pred column is the probability of class 1 with 0/1 targets. K >= 2 pred columns are class "
               "probabilities with one index column or K probability columns as target.",
        gradient="2 scale (p_k - y_k).",
        use="Scoring probabilistic classifiers: a proper scoring rule, bounded, insensitive to p = 0 unlike log loss.",
        avoid="As the only training signal for rare classes: its gradient is weak for confident mistakes.",
        relations="sklearn's default scale_by_half='auto' reports the binary score in [0, 1] (one-column mean "
                  "(p - y)^2, which is also half the two-class sum, so 2 pred columns are halved too) and the "
                  "multi-class score in [0, 2]. On one column it equals mse on probabilities.",
        reference="Brier (1950); sklearn.metrics.brier_score_loss (1.9, scale_by_half='auto', multi-class support).",
    ),
)

JS_DIV = Loss(
    name="js_div", family="multiclass", per="row",
    summary="Jensen-Shannon divergence between the pred and target distributions (natural log).",
    formula="1/2 sum p log(p/m) + 1/2 sum q log(q/m), m = (p + q)/2",
    inputs=(PROBS, DIST_TARGET), value=js_div, grad=js_div_grad, check=js_div_check,
    hess=js_div_hess,
    explain=Explain(
        inputs="pred and target are K columns of probabilities each; 0 log 0 = 0.",
        gradient="1/2 log(p_k / m_k); 1/2 log 2 where p_k = q_k = 0. Where p_k = 0 < q_k the derivative is -inf: "
                 "losscli refuses those rows (exit 3, rows named) rather than report an infinite gradient.",
        use="A symmetric, bounded (<= log 2) divergence between distributions.",
        avoid="When the target is a one-hot label: cross_entropy has far stronger gradients for wrong answers.",
        relations="Symmetric and finite where kl_div is infinite; its square root is a metric. Natural log, so the "
                  "maximum is log 2 (use base 2 for a maximum of 1: divide by log 2).",
        reference="Lin (1991), Divergence measures based on the Shannon entropy; scipy.spatial.distance.jensenshannon "
                  "is its square root.",
    ),
)

HELLINGER = Loss(
    name="hellinger", family="multiclass", per="row",
    summary="Hellinger distance between the pred and target distributions, in [0, 1].",
    formula="sqrt(1/2 sum_k (sqrt p_k - sqrt q_k)^2)",
    inputs=(PROBS, DIST_TARGET), value=hellinger, grad=hellinger_grad, check=hellinger_check,
    hess=hellinger_hess,
    explain=Explain(
        inputs="pred and target are K columns of probabilities each. Normalised with the 1/2 inside the root, so "
               "the distance is 1 for distributions with disjoint support.",
        gradient="(1 - sqrt(q_k / p_k)) / (4 H). Infinite at p_k = 0 < q_k: those rows are refused (exit 3, rows "
                 "named). At H = 0 (p = q) the root has no derivative and the zero subgradient is reported.",
        use="A bounded, symmetric distance between distributions; robust to small probabilities.",
        avoid="Predictions with exact zeros where the target has mass (refused, see gradient).",
        relations="H^2 = 1 - sum_k sqrt(p_k q_k) (one minus the Bhattacharyya coefficient). Bounded like js_div.",
        reference="Hellinger (1909); the 1/sqrt(2)-normalised form of scipy/stats texts.",
    ),
)

# ----------------------------------------------------------------------------- margin and perceptron losses


def _rows(pred):
    return np.arange(pred.shape[0])


def _flat_index(pred, idx):
    """The positions of (i, idx_i) in the flattened C-ordered (n, K) array: one index array instead of a pair
    of them, which NumPy's fancy indexing takes in half the time."""
    return _rows(pred) * pred.shape[1] + idx


def _picked(pred, idx):
    """pred[i, idx_i] for every row."""
    if pred.flags.c_contiguous:
        return pred.ravel()[_flat_index(pred, idx)]
    return pred[_rows(pred), idx]


def _leader_minus_target(pred, idx, leader):
    """e_leader - e_y per row: the (sub)gradient of max_j a_j - x_y when a_j = x_j + const_j."""
    g = np.zeros(pred.shape)
    flat = g.reshape(-1)
    flat[_flat_index(pred, leader)] += 1.0
    flat[_flat_index(pred, idx)] -= 1.0
    return g


def _crammer_singer_parts(pred, target):
    idx, _ = _index_parts(target, pred.shape[1])
    shifted = pred + 1.0
    shifted[_rows(pred), idx] -= 1.0  # the target class competes without the margin
    leader = np.argmax(shifted, axis=1)
    return idx, leader, shifted[_rows(pred), leader] - pred[_rows(pred), idx]


def multiclass_hinge(pred, target):
    """max_j (x_j + 1 - [j = y]) - x_y = max(0, 1 + max_{j != y} x_j - x_y); Crammer and Singer (2001)."""
    return _crammer_singer_parts(pred, target)[2]


def multiclass_hinge_grad(pred, target):
    idx, leader, _ = _crammer_singer_parts(pred, target)
    # the leader is the first maximiser (numpy's argmax); at a tie any maximiser is a subgradient
    return _leader_minus_target(pred, idx, leader)


def multiclass_perceptron(pred, target):
    """max_j x_j - x_y (optax multiclass_perceptron_loss)."""
    idx, _ = _index_parts(target, pred.shape[1])
    return row_max(pred) - _picked(pred, idx)


def multiclass_perceptron_grad(pred, target):
    return multiclass_perceptron_value_and_grad(pred, target)[1]


def multiclass_perceptron_value_and_grad(pred, target):
    idx, _ = _index_parts(target, pred.shape[1])
    leader = row_argmax(pred)
    # the leader's score is the row maximum: taking it by index saves a second pass over the row
    return _picked(pred, leader) - _picked(pred, idx), _leader_minus_target(pred, idx, leader)


def _index_check(pred, target, **_):
    return _check_classes(pred, target, columns="score")


def _categorical_hinge_parts(pred, target):
    t = _soft_target(pred, target)
    rivals = (1.0 - t) * pred
    leader = np.argmax(rivals, axis=1)
    z = rivals[_rows(pred), leader] - (t * pred).sum(axis=1) + 1.0
    return t, leader, z


def categorical_hinge(pred, target):
    """max(0, max_j (1 - t_j) x_j - sum_j t_j x_j + 1); Keras categorical_hinge."""
    return np.maximum(_categorical_hinge_parts(pred, target)[2], 0.0)


def categorical_hinge_grad(pred, target):
    t, leader, z = _categorical_hinge_parts(pred, target)
    g = -t.copy()
    g[_rows(pred), leader] += 1.0 - t[_rows(pred), leader]
    # at the kink z = 0 the subgradient 0 is taken, as for hinge
    return np.where((z > 0.0)[:, None], g, 0.0)


# ----------------------------------------------------------------------------- sparsemax


def sparsemax_probabilities(scores):
    """The Euclidean projection of each row onto the probability simplex (Martins and Astudillo 2016).

    Sorted descending, the support is the k largest entries with 1 + k z_(k) > sum_{i <= k} z_(i), the
    threshold tau = (sum of the support - 1) / k, and p = max(z - tau, 0). Rows are shifted by their
    maximum first (the projection does not change), so scores of +-1e4 keep their digits. Up to 16
    classes the running sums, the support and the support's sum are taken a sorted column at a time:
    NumPy's axis-1 reductions and the fancy index of the support's sum cost more than that on narrow rows.
    """
    n, c = scores.shape
    z = scores - row_max(scores)[:, None]
    ordered = -np.sort(-z, axis=1)
    if c > 16:
        running = np.cumsum(ordered, axis=1)
        k = np.arange(1, c + 1)
        support = (1.0 + k * ordered > running).sum(axis=1)
        support_sum = running[np.arange(n), support - 1]
    else:
        columns = [ordered[:, j] for j in range(c)]
        running = columns[0].copy()
        support = np.ones(n)  # 1 + z_(1) > z_(1) always: the largest entry is in the support
        sums = [running.copy()]  # the running sums, sequential as np.cumsum's
        for j in range(1, c):
            running += columns[j]
            support += 1.0 + (j + 1) * columns[j] > running
            sums.append(running.copy())
        support_sum = sums[0] * (support == 1.0)
        for j in range(1, c):  # the running sum at the support's size; exactly one term is not 0
            support_sum += sums[j] * (support == j + 1.0)
    tau = (support_sum - 1.0) / support
    return np.maximum(z - tau[:, None], 0.0)


def _sparsemax_loss(pred, idx, p):
    # p_j (x_j - x_y) is 0 where p_j is (the gaps are finite), so no mask is needed
    return row_sums(p * (pred - pred[_rows(pred), idx][:, None])) + 0.5 * (1.0 - row_sums(p * p))


def multiclass_sparsemax(pred, target):
    """sum_j p_j (x_j - x_y) + (1 - |p|^2) / 2 with p = sparsemax(x); optax multiclass_sparsemax_loss."""
    idx, _ = _index_parts(target, pred.shape[1])
    return _sparsemax_loss(pred, idx, sparsemax_probabilities(pred))


def multiclass_sparsemax_grad(pred, target):
    return multiclass_sparsemax_value_and_grad(pred, target)[1]


def multiclass_sparsemax_value_and_grad(pred, target):
    idx, _ = _index_parts(target, pred.shape[1])
    p = sparsemax_probabilities(pred)  # once for both
    value = _sparsemax_loss(pred, idx, p)
    # a Fenchel-Young loss: its gradient is the prediction minus the target, sparsemax(x) - e_y
    p[_rows(pred), idx] -= 1.0
    return value, p


def multiclass_sparsemax_hess(pred, target):
    """s_j (1 - 1/|S|), s_j = [sparsemax(x)_j > 0], |S| the size of the row's support.

    The row's Hessian is the Jacobian of sparsemax, diag(s) - s s^T / |S| (Martins and Astudillo 2016):
    this is its diagonal. Piecewise constant in x: 0 for a row whose support is one class (the loss is linear
    there), and at a support change (a score exactly at the threshold) the class is counted out, as p_j = 0.
    """
    s = (sparsemax_probabilities(pred) > 0.0).astype(np.float64)
    return s * (1.0 - 1.0 / s.sum(axis=1, keepdims=True))


# ----------------------------------------------------------------------------- generalized cross-entropy


def _true_class_probability(pred, target):
    idx, _ = _index_parts(target, pred.shape[1])
    return idx, _picked(pred, idx)


def _generalized_ce_of(py, q, log_py=None):
    if q >= 1.0:
        return 1.0 - py
    if q == 0.5:
        # the default: 1 - sqrt(p) = (1 - p) / (1 + sqrt(p)), where 1 - p is exact for p >= 1/2 and nothing
        # cancels; a square root and a division cost a third of a log and an expm1
        return (1.0 - py) / (1.0 + np.sqrt(py)) / q
    return -np.expm1(q * (np.log(py) if log_py is None else log_py)) / q


def generalized_ce(pred, target, *, q=0.5):
    """(1 - p_y^q) / q; Zhang and Sabuncu (2018), Keras categorical_generalized_cross_entropy."""
    return _generalized_ce_of(_true_class_probability(pred, target)[1], q)


def generalized_ce_grad(pred, target, *, q=0.5):
    return generalized_ce_value_and_grad(pred, target, q=q)[1]


def generalized_ce_value_and_grad(pred, target, *, q=0.5):
    idx, py = _true_class_probability(pred, target)  # once for both
    g = np.zeros(pred.shape)
    if q == 0.5:  # -p^(-1/2): a square root, as in _generalized_ce_of
        g.reshape(-1)[_flat_index(pred, idx)] = -1.0 / np.sqrt(py)
        return _generalized_ce_of(py, q), g
    if q < 1.0:
        # one log for both: the value -expm1(q log p) / q and the gradient -p^(q-1) = -exp((q - 1) log p), an exp
        # where a power cost three times as much (check refuses p_y = 0, where the gradient is infinite)
        log_py = np.log(py)
        g.reshape(-1)[_flat_index(pred, idx)] = -np.exp((q - 1.0) * log_py)
        return _generalized_ce_of(py, q, log_py), g
    g.reshape(-1)[_flat_index(pred, idx)] = -1.0
    return _generalized_ce_of(py, q), g


def generalized_ce_hess(pred, target, *, q=0.5):
    """(1 - q) p_y^(q - 2) on the target column, 0 elsewhere (with respect to the probabilities).

    0 everywhere at q = 1, where the loss 1 - p_y is linear; rows with p_y = 0 are refused for q < 1 (check).
    """
    h = np.zeros_like(pred)
    if q >= 1.0:
        return h
    idx, py = _true_class_probability(pred, target)
    h[_rows(pred), idx] = (1.0 - q) * py ** (q - 2.0)
    return h


def generalized_ce_check(pred, target, *, q=0.5):
    problems = _check_classes(pred, target, columns="probability")
    if problems or q >= 1.0:
        return problems
    _, py = _true_class_probability(pred, target)
    return [Problem("pred", py == 0.0, f"the true class has probability exactly 0: the loss is finite (1/q) but its "
                    f"gradient -p^(q-1) is infinite for q={q:g} < 1, so losscli refuses these rows; clip the "
                    "probabilities away from 0 or use q=1")]


# ----------------------------------------------------------------------------- top-k error


def top_k_error(pred, target, *, k=2):
    """1 - [y among the k highest scores]; ties ranked as sklearn top_k_accuracy_score's stable sort does."""
    idx, _ = _index_parts(target, pred.shape[1])
    own = pred[_rows(pred), idx][:, None]
    later = np.arange(pred.shape[1])[None, :] > idx[:, None]
    # sklearn sorts ascending with a stable sort and reverses: among equal scores the higher class index ranks first
    rank = (pred > own).sum(axis=1) + ((pred == own) & later).sum(axis=1)
    return (rank >= k).astype(np.float64)


# ----------------------------------------------------------------------------- generalized KL

_LOG_FLOAT_MAX = float(np.log(np.finfo(np.float64).max))  # exp overflows float64 beyond this


def generalized_kl(pred, target):
    """sum_k t_k (log t_k - x_k) + exp(x_k) - t_k, x = log-predictions; optax generalized_kl_divergence."""
    return (_xlogy(target, target) - target * pred + np.exp(pred) - target).sum(axis=1)


def generalized_kl_grad(pred, target):
    return np.exp(pred) - target


def generalized_kl_hess(pred, target):
    """exp(x): each component's exp(x_k) - t_k x_k has this second derivative (the rest does not depend on x).

    Positive (the loss is convex); 0 for log-predictions of -1e4, and x > 709 is refused by the check.
    """
    return np.exp(pred)


def generalized_kl_check(pred, target):
    return [Problem("pred", pred > _LOG_FLOAT_MAX, "log-predictions above 709 make exp(x) larger than any float64 "
                    "(the predicted measure overflows); pred must be the log of the predicted value")]


# ----------------------------------------------------------------------------- distances between distributions


def total_variation(pred, target):
    """1/2 sum_k |p_k - q_k|, in [0, 1] for distributions."""
    return 0.5 * np.abs(pred - _soft_target(pred, target)).sum(axis=1)


def total_variation_grad(pred, target):
    return 0.5 * np.sign(pred - _soft_target(pred, target))


def _cdf_gaps(pred, target):
    """C_k = sum_{i <= k} (p_i - q_i) for k = 0 .. K-2 (the last is 0 for equal masses and is left out)."""
    return np.cumsum(pred - _soft_target(pred, target), axis=1)[:, :-1]


def wasserstein_1d(pred, target):
    """sum_{k < K-1} |P_k - Q_k|: the earth mover's distance between distributions on bins 0, 1, ..., K-1."""
    return np.abs(_cdf_gaps(pred, target)).sum(axis=1)


def wasserstein_1d_grad(pred, target):
    # p_j enters every C_k with k >= j: d/dp_j = sum_{k = j}^{K-2} sign(C_k), a reversed cumulative sum
    s = np.sign(_cdf_gaps(pred, target))
    g = np.zeros_like(pred)
    g[:, :-1] = np.cumsum(s[:, ::-1], axis=1)[:, ::-1]
    return g


def _distribution_check(pred, target, **_):
    return _check_classes(pred, target, columns="probability")


def wasserstein_check(pred, target):
    problems = _distribution_check(pred, target)
    if problems:
        return problems
    mass_p, mass_q = pred.sum(axis=1), _soft_target(pred, target).sum(axis=1)
    unequal = np.abs(mass_p - mass_q) > 1e-4 * np.maximum(1.0, mass_q)
    return [Problem("pred", unequal, "pred and target rows carry different total mass (they should both sum to 1); "
                    "the earth mover's distance moves mass, it cannot create it: normalise the rows first")]


_ORDERED = ("pred holds K >= 2 class probabilities per row, the classes being ordered bins 0 < 1 < ... < K-1; "
            "target is one column of class indices or K columns of probabilities.")

MULTICLASS_HINGE = Loss(
    name="multiclass_hinge", family="multiclass", per="row",
    summary="Crammer-Singer multi-class hinge loss: the true score must lead every rival by 1.",
    formula="max(0, 1 + max_{j != y} x_j - x_y)",
    inputs=(SCORES, INDEX_TARGET), value=multiclass_hinge, grad=multiclass_hinge_grad, check=_index_check,
    hess=piecewise_linear_hess,
    explain=Explain(
        inputs="pred holds K class scores per row (any reals); target one column of class indices 0..K-1.",
        gradient="e_j* - e_y where the margin is violated (j* the strongest rival), 0 once x_y leads by 1 or more. "
                 "At ties between rivals the first one (lowest index) takes the gradient.",
        use="Multi-class SVM scoring where only the strongest rival matters.",
        avoid="When probabilities are wanted. Also compare with multi_margin, which sums over every rival instead "
              "of taking the worst one.",
        relations="multi_margin (torch, Weston-Watkins) sums the hinges of all rivals and divides by K; this is the "
                  "max over rivals. It equals sklearn's multi-class hinge_loss and optax's multiclass_hinge_loss.",
        reference="Crammer and Singer (2001), On the algorithmic implementation of multiclass kernel-based vector "
                  "machines; optax.losses.multiclass_hinge_loss; sklearn.metrics.hinge_loss (multi-class).",
    ),
)

CATEGORICAL_HINGE = Loss(
    name="categorical_hinge", family="multiclass", per="row",
    summary="Keras' categorical hinge: the target's score against the largest score of the other classes.",
    formula="max(0, max_j (1 - t_j) x_j - sum_j t_j x_j + 1)",
    inputs=(SCORES, CLASS_TARGET), value=categorical_hinge, grad=categorical_hinge_grad, check=_index_check,
    hess=piecewise_linear_hess,
    explain=Explain(
        inputs="pred holds K scores per row; target is K one-hot columns as Keras wants (soft rows allowed), or one "
               "column of class indices (turned into one-hot).",
        gradient="e_j* (1 - t_j*) - t where the hinge is active (j* the largest (1 - t_j) x_j), else 0.",
        use="Reproducing a Keras model trained with loss='categorical_hinge'.",
        avoid="Scores that are all negative: Keras multiplies rather than excludes, so the target column contributes "
              "(1 - 1) x_y = 0 to the max and the rivals' largest score is never below 0. With negative scores the "
              "loss is therefore max(0, 1 - x_y) rather than the Crammer-Singer value; use multiclass_hinge for that.",
        relations="Equals multiclass_hinge whenever the largest rival score is >= 0 (with one-hot targets).",
        reference="keras.losses.categorical_hinge (keras/src/losses/losses.py: pos = sum(y_true * y_pred), "
                  "neg = max((1 - y_true) * y_pred)).",
    ),
)

MULTICLASS_PERCEPTRON = Loss(
    name="multiclass_perceptron", family="multiclass", per="row",
    summary="Multi-class perceptron loss: how far the best score lies above the target's.",
    formula="max_j x_j - x_y",
    inputs=(SCORES, INDEX_TARGET), value=multiclass_perceptron, grad=multiclass_perceptron_grad, check=_index_check,
    hess=piecewise_linear_hess, value_and_grad=multiclass_perceptron_value_and_grad,
    explain=Explain(
        inputs="pred holds K class scores per row; target one column of class indices.",
        gradient="e_argmax - e_y: 0 when the target already has the highest score (the first maximiser at ties).",
        use="Structured/perceptron-style training and scoring: only mistakes cost, by their score gap.",
        avoid="When a margin is wanted: a tie-breaking win already costs 0. multiclass_hinge adds a margin of 1.",
        relations="multiclass_hinge without the margin; the binary perceptron is its two-class form.",
        reference="Collins (2002), Discriminative training methods for hidden Markov models; "
                  "optax.losses.multiclass_perceptron_loss.",
    ),
)

MULTICLASS_SPARSEMAX = Loss(
    name="multiclass_sparsemax", family="multiclass", per="row",
    summary="Sparsemax loss: the Fenchel-Young loss of the sparsemax projection.",
    formula="sum_j p_j (x_j - x_y) + (1 - |p|^2)/2, p = sparsemax(x)",
    inputs=(SCORES, INDEX_TARGET), value=multiclass_sparsemax, grad=multiclass_sparsemax_grad, check=_index_check,
    hess=multiclass_sparsemax_hess, value_and_grad=multiclass_sparsemax_value_and_grad,
    explain=Explain(
        inputs="pred holds K class scores per row; target one column of class indices.",
        gradient="sparsemax(x) - e_y: the sparse probabilities minus the one-hot target, continuous in x.",
        use="Classifiers with sparse probability outputs (many classes exactly 0), e.g. attention or large label sets.",
        avoid="When every class needs a positive probability (calibration, log-likelihoods): use cross_entropy.",
        relations="The loss is 0 exactly when sparsemax puts all mass on the target. cross_entropy is the same "
                  "construction with softmax; the binary sparsemax loss is its two-class form.",
        reference="Martins and Astudillo (2016), From Softmax to Sparsemax, ICML; "
                  "optax.losses.multiclass_sparsemax_loss.",
    ),
)

GENERALIZED_CE = Loss(
    name="generalized_ce", family="multiclass", per="row",
    summary="Generalized cross-entropy (Lq loss): robust to noisy labels, between cross-entropy and MAE.",
    formula="(1 - p_y^q) / q",
    inputs=(PROBS, INDEX_TARGET), value=generalized_ce, grad=generalized_ce_grad, check=generalized_ce_check,
    hess=generalized_ce_hess, value_and_grad=generalized_ce_value_and_grad,
    params=(Param("q", 0.5, "0 < q <= 1: towards 0 it behaves like cross-entropy, at 1 it is 1 - p_y (MAE on "
                  "the one-hot target, halved)", low=0.0, high=1.0, low_open=True),),
    explain=Explain(
        inputs="pred holds K class probabilities per row (softmax output; not renormalised); target one column of "
               "class indices, as Keras takes them.",
        gradient="-p_y^(q-1) on the target column, 0 elsewhere (with respect to the probabilities). Rows with "
                 "p_y = 0 are refused for q < 1: the value 1/q is finite but the slope is infinite.",
        use="Training with noisy labels (Zhang and Sabuncu): confidently wrong examples pull less than under "
            "cross-entropy.",
        avoid="Clean labels where cross-entropy's stronger gradient on hard examples is what you want.",
        relations="q -> 0 gives -log p_y (cross-entropy on probabilities); q = 1 gives 1 - p_y. Keras' default q is "
                  "0.5, ours too. (1 - p^q)/q is computed as -expm1(q log p)/q so tiny q keeps its digits.",
        reference="Zhang and Sabuncu (2018), Generalized Cross Entropy Loss for Training Deep Neural Networks with "
                  "Noisy Labels, NeurIPS; keras.losses.CategoricalGeneralizedCrossEntropy (no clipping).",
    ),
)

TOP_K_ERROR = Loss(
    name="top_k_error", family="multiclass", per="row",
    summary="Top-k error: the fraction of rows whose class is not among the k highest scores.",
    formula="mean_i [rank of x_iy >= k], ties: the higher class index ranks first",
    inputs=(SCORES, INDEX_TARGET), value=top_k_error, grad=zero_gradient, check=_index_check,
    params=(Param("k", 2, "how many of the highest scores count as a hit (sklearn's default is 2)", kind=int, low=1),),
    grad_warning="top_k_error is piecewise constant: its gradient is 0 wherever it exists (it only jumps where two "
                 "scores swap places), so --grad reports zeros. Train with cross_entropy.",
    explain=Explain(
        inputs="pred holds K >= 2 class scores or probabilities per row; target one column of class indices.",
        gradient="0 everywhere it exists: the loss is a step function of the scores. --grad says so on stderr.",
        use="Reporting top-1 / top-5 error of a classifier next to its training loss.",
        avoid="Training. And k >= K, where every row is a hit and the error is 0 (sklearn warns; we return 0).",
        relations="1 - sklearn top_k_accuracy_score(k). k=1 is the plain error rate (zero_one on argmax). Ties follow "
                  "sklearn's stable sort reversed: among equal scores the class with the higher index ranks first.",
        reference="sklearn.metrics.top_k_accuracy_score (default k=2, mergesort ranking).",
    ),
)

GENERALIZED_KL = Loss(
    name="generalized_kl", family="multiclass", per="row",
    summary="Generalized KL divergence between non-negative measures, on log-predictions (optax).",
    formula="sum_k t_k (log t_k - x_k) + exp(x_k) - t_k, x = log-prediction, 0 log 0 = 0",
    inputs=(pred_role("log of the predicted non-negative values, one column per component (any reals)"),
            target_role("target values >= 0 (a measure, not necessarily summing to 1), one column per pred column",
                        NON_NEGATIVE)),
    value=generalized_kl, grad=generalized_kl_grad, check=generalized_kl_check,
    hess=generalized_kl_hess,
    explain=Explain(
        inputs="pred holds log-predictions x (optax takes log_predictions too); target non-negative values t, one "
               "column per pred column. Neither needs to sum to 1. One value per row (sum over columns).",
        gradient="exp(x) - t: the predicted value minus the target.",
        use="Unnormalised targets: non-negative matrix factorisation, counts or intensities per component.",
        avoid="Normalised distributions, where exp(x) and t both sum to 1 and the extra terms cancel: kl_div says "
              "the same with probabilities.",
        relations="The Bregman divergence of x log x - x. For distributions it equals kl_div(exp(x), t). Per "
                  "component it is the Poisson deviance / 2 (poisson with log_input=true up to terms in t only).",
        reference="optax.losses.generalized_kl_divergence (kl_divergence plus sum(exp(log_predictions) - targets)); "
                  "Boyd and Vandenberghe, Convex Optimization, p. 90.",
    ),
)

TOTAL_VARIATION = Loss(
    name="total_variation", family="multiclass", per="row",
    summary="Total variation distance between the pred and target distributions, in [0, 1].",
    formula="1/2 sum_k |p_k - q_k|",
    inputs=(PROBS, CLASS_TARGET), value=total_variation, grad=total_variation_grad, check=_distribution_check,
    hess=piecewise_linear_hess,
    explain=Explain(
        inputs="pred holds K class probabilities per row; target is K probability columns or one column of class "
               "indices (one-hot). Classes are unordered here: moving mass to a neighbour costs as much as moving "
               "it far away.",
        gradient="1/2 sign(p_k - q_k); 0 where p_k = q_k (the subgradient in the middle of the kink).",
        use="The largest difference in probability that the two distributions give any event; a bounded, symmetric "
            "distance.",
        avoid="Ordered classes (ratings, age bins), where a near miss should cost less: use wasserstein_1d.",
        relations="Half the L1 distance. For a one-hot target it is 1 - p_y. Bounds: hellinger^2 <= TV <= "
                  "sqrt(2) hellinger.",
        reference="The total variation distance of probability measures (e.g. Tsybakov, Introduction to "
                  "Nonparametric Estimation, 2009, def. 2.4).",
    ),
)

WASSERSTEIN_1D = Loss(
    name="wasserstein_1d", family="multiclass", per="row",
    summary="Earth mover's distance between distributions on ordered classes (bins 0, 1, ..., K-1).",
    formula="sum_{k < K-1} |P_k - Q_k|, P and Q the cumulative sums of p and q",
    inputs=(PROBS, CLASS_TARGET), value=wasserstein_1d, grad=wasserstein_1d_grad, check=wasserstein_check,
    hess=piecewise_linear_hess,
    explain=Explain(
        inputs=_ORDERED + " Bins are one unit apart. pred and target rows must carry the same total mass (both sum to "
               "1, to within 1e-4); rows that do not are refused rather than normalised silently (scipy normalises).",
        gradient="d/dp_j = sum_{k >= j, k < K-1} sign(P_k - Q_k): mass put too early is pushed later and vice versa. "
                 "sign(0) = 0 where a cumulative sum matches exactly.",
        use="Ordinal classification (ratings, severity grades, age bins): predicting class 3 for a true 4 costs less "
            "than predicting 0.",
        avoid="Unordered classes: the order of the columns changes the value. Use total_variation or cross_entropy.",
        relations="For a one-hot target y it is sum_k |P_k - [k >= y]|, the expected distance |Y_hat - y| when "
                  "p is a point mass. Equals scipy.stats.wasserstein_distance with values 0..K-1 and weights p, q. "
                  "weighted_kappa is the set-level ordinal alternative.",
        reference="Vallender (1974), Calculation of the Wasserstein distance between probability distributions on "
                  "the line; scipy.stats.wasserstein_distance; Hou et al. (2016), Squared earth mover's distance-based "
                  "loss for training deep neural networks.",
    ),
)

# ----------------------------------------------------------------------------- weighted kappa (set-level)


def _kappa_weights(k, weightage):
    """TFA's disagreement weights (i - j)^2 / (K - 1)^2 or |i - j| / (K - 1) between class indices."""
    gap = np.arange(k)[:, None] - np.arange(k)[None, :]
    return gap * gap / (k - 1) ** 2 if weightage == "quadratic" else np.abs(gap) / (k - 1)


def _kappa_row_weights(target, k, weightage):
    """Each row's weights against every predicted class, from its (expected) label y . (0..K-1), as TFA."""
    label = (target * np.arange(k)).sum(axis=1, keepdims=True)
    gap = label - np.arange(k)[None, :]
    return gap * gap / (k - 1) ** 2 if weightage == "quadratic" else np.abs(gap) / (k - 1)


def _kappa_stats(pred, target, *, weightage="quadratic", epsilon=1e-6):
    """Per row: the weighted disagreement sum_c W(y, c) p_c, the target row, the prediction row and a count."""
    k = pred.shape[1]
    t = _soft_target(pred, target)
    disagreement = (_kappa_row_weights(t, k, weightage) * pred).sum(axis=1, keepdims=True)
    return np.hstack([disagreement, t, pred, np.ones((pred.shape[0], 1))])


def _kappa_parts(totals, k, weightage):
    totals = np.asarray(totals, dtype=np.float64)
    numerator, labels, preds, count = (totals[..., 0], totals[..., 1:1 + k], totals[..., 1 + k:1 + 2 * k],
                                       totals[..., -1])
    expected = labels @ _kappa_weights(k, weightage)  # (..., K): what each predicted class costs by chance
    denominator = (expected * preds).sum(axis=-1) / count
    return numerator, denominator, expected, count


def weighted_kappa_value(*, totals, weightage="quadratic", epsilon=1e-6):
    """log(sum W(y, c) p / (label_dist W pred_dist / N) + epsilon), 0/0 read as 0; tfa WeightedKappaLoss."""
    k = (np.asarray(totals).shape[-1] - 2) // 2
    numerator, denominator, *_ = _kappa_parts(totals, k, weightage)
    ratio = np.divide(numerator, denominator, out=np.zeros(np.shape(numerator)), where=denominator != 0)  # divide_no_nan
    return np.log(ratio + epsilon)


def weighted_kappa_grad(pred, target, *, totals, weightage="quadratic", epsilon=1e-6):
    k = pred.shape[1]
    numerator, denominator, expected, count = _kappa_parts(totals, k, weightage)
    col = (lambda a: a[:, None]) if np.ndim(numerator) else (lambda a: a)
    safe = np.where(denominator != 0, denominator, 1.0)
    ratio = np.where(denominator != 0, numerator / safe, 0.0)
    d_num = _kappa_row_weights(_soft_target(pred, target), k, weightage)
    d_den = expected / col(count)
    g = (d_num * col(safe) - col(numerator) * d_den) / col(safe * safe) / col(ratio + epsilon)
    # where TFA's divide_no_nan returns 0 (no disagreement expected by chance) the loss is flat: gradient 0
    return np.where(col(denominator) != 0, g, 0.0)


def weighted_kappa_check(pred, target, *, weightage="quadratic", epsilon=1e-6):
    return _check_classes(pred, target, columns="probability")


WEIGHTED_KAPPA = Loss(
    name="weighted_kappa", family="multiclass", per="set", sample_weights=False,
    summary="Weighted kappa loss for ordinal classes: log of observed over chance disagreement (TF Addons).",
    formula="log(sum_i sum_c W(y_i, c) p_ic / (sum_ab n_a W_ab P_b / N) + epsilon), W = (a-b)^2/(K-1)^2 or |a-b|/(K-1)",
    inputs=(PROBS, CLASS_TARGET), value=weighted_kappa_value, grad=weighted_kappa_grad, stats=_kappa_stats,
    check=weighted_kappa_check,
    params=(Param("weightage", "quadratic", "disagreement weights between classes a and b: quadratic (a-b)^2 or "
                  "linear |a-b|", kind=str, choices=("quadratic", "linear")),
            Param("epsilon", 1e-6, "added inside the log so a perfect prediction stays finite", low=0.0,
                  low_open=True)),
    explain=Explain(
        inputs=_ORDERED + " One-hot (or soft) target rows give the label y . (0, 1, ..., K-1), as TFA computes it. "
               "The loss is computed over the whole set of rows (sums of the weighted disagreement, of the target "
               "rows and of the prediction rows), so there is no per-row value; sample weights and --reduction are "
               "ignored, and a group's value is the loss on that group's rows alone.",
        gradient="With O the observed and E the chance disagreement: d/dp_ic = (W(y_i, c) E - O (n W)_c / N) / E^2 / "
                 "(O/E + epsilon), n the class counts of the target. It needs the set's totals, so a gradient takes a "
                 "second pass over the input. 0 where E = 0 (TFA's divide_no_nan gives the flat value log epsilon).",
        use="Ordinal classification judged by quadratic weighted kappa (grading, severity scores): it trains the "
            "metric directly. The value lies in [-inf, log 2]; log(1 - kappa + epsilon), lower is better.",
        avoid="Unordered classes, and tiny sets where the chance term is noisy. Keep K >= 2.",
        relations="O/E = 1 - kappa, so exp(loss) - epsilon is 1 - Cohen's weighted kappa of the soft predictions. "
                  "wasserstein_1d is a per-row ordinal alternative.",
        reference="de la Torre et al. (2018), Weighted kappa loss function for multi-class classification of ordinal "
                  "data in deep learning; tfa.losses.WeightedKappaLoss (tensorflow_addons/losses/kappa_loss.py, "
                  "weightage='quadratic', epsilon=1e-6).",
    ),
)

LOSSES = (CROSS_ENTROPY, NLL, KL_DIV, MULTI_MARGIN, POLY1, FOCAL_CE, BRIER, JS_DIV, HELLINGER,
          MULTICLASS_HINGE, CATEGORICAL_HINGE, MULTICLASS_PERCEPTRON, MULTICLASS_SPARSEMAX, GENERALIZED_CE,
          TOP_K_ERROR, GENERALIZED_KL, TOTAL_VARIATION, WASSERSTEIN_1D, WEIGHTED_KAPPA)
