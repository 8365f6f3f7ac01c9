"""Multi-class losses: K >= 2 prediction columns per row, one value per row, mean over rows.

The target is either ONE column of class indices (0 .. K-1, or ``ignore_index``)
or K columns of class probabilities (soft labels, one-hot rows included); the
width of the target column group says which. Index targets are validated in
``check`` (whole numbers, in range), so the value functions can index safely.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputDataError
from .base import (LOG_PROBABILITY, PROBABILITY, Explain, Loss, Param, Problem, log_softmax, pred_role,
                   target_role, times_log)

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
    keep = np.ones(raw.shape[0], dtype=bool) if ignore_index is None else raw != ignore_index
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
        c += (label_smoothing / k) * w[None, :]
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
        return -times_log(c, log_softmax(pred)).sum(axis=1)
    if compat == "keras":
        return -(c * np.log(_keras_probs(pred)[2])).sum(axis=1)
    # p = 0 only meets c = 0 here (check refuses p = 0 where c > 0): 0 log 0 = 0.
    return -_xlogy(c, pred).sum(axis=1)


def cross_entropy_grad(pred, target, *, label_smoothing=0.0, from_logits=True, weight=None, ignore_index=-100,
                       compat="torch"):
    c, _ = _ce_coefficients(pred, target, label_smoothing=label_smoothing, weight=weight, ignore_index=ignore_index)
    if from_logits:
        # d(-sum c log softmax)/dx_j = -c_j + (sum_k c_k) p_j
        return -c + c.sum(axis=1, keepdims=True) * np.exp(log_softmax(pred))
    if compat == "keras":
        q, s, r = _keras_probs(pred)
        inside = (q >= _KERAS_EPS) & (q <= 1.0 - _KERAS_EPS)  # the clip passes gradient only inside
        a = np.where(inside, -c / r, 0.0)
        # through q = p / sum(p): dq_k/dp_j = (delta_kj - q_k) / s
        return (a - (a * q).sum(axis=1, keepdims=True)) / s
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c == 0, 0.0, -c / pred)


def cross_entropy_norm(pred, target, *, label_smoothing=0.0, from_logits=True, weight=None, ignore_index=-100,
                       compat="torch"):
    return _ce_coefficients(pred, target, label_smoothing=label_smoothing, weight=weight, ignore_index=ignore_index)[1]


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
    return -wy * pred[np.arange(pred.shape[0]), idx]


def nll_grad(pred, target, *, weight=None, ignore_index=-100):
    idx, wy = _nll_parts(pred, target, weight, ignore_index)
    g = np.zeros_like(pred)
    g[np.arange(pred.shape[0]), idx] = -wy
    return g


def nll_norm(pred, target, *, weight=None, ignore_index=-100):
    return _nll_parts(pred, target, weight, ignore_index)[1]


def nll_check(pred, target, *, weight=None, ignore_index=-100):
    return _check_classes(pred, target, ignore_index=ignore_index, weight=weight, columns="log-probability",
                          need_two=False)


# ----------------------------------------------------------------------------- kl_div


def kl_div(pred, target):
    """sum_k t_k (log t_k - log p_k), 0 log 0 = 0; torch KLDivLoss(log p, t, reduction='batchmean')."""
    # check refuses p = 0 where t > 0, so every log below is of a positive number.
    return (_xlogy(target, target) - _xlogy(target, pred)).sum(axis=1)


def kl_div_grad(pred, target):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(target == 0, 0.0, -target / pred)


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
    return _class_weights(weight, k)[idx] * (h**p).sum(axis=1) / k


def multi_margin_grad(pred, target, *, p=1, margin=1.0, weight=None):
    n, k = pred.shape
    idx, h = _margins(pred, target, margin)
    # d h_j^p / dx_j = p h_j^(p-1) where h_j > 0 (0 at and below the hinge, torch's choice)
    d = np.where(h > 0, 1.0 if p == 1 else 2.0 * h, 0.0)
    g = d.copy()
    g[np.arange(n), idx] = -d.sum(axis=1)
    return g * (_class_weights(weight, k)[idx] / k)[:, None]


def multi_margin_check(pred, target, *, p=1, margin=1.0, weight=None):
    return _check_classes(pred, target, weight=weight, columns="score")


# ----------------------------------------------------------------------------- poly1


def poly1(pred, target, *, epsilon=1.0):
    """CE + epsilon (1 - p_t), p_t = sum_k t_k p_k; Leng et al. 2022, PolyLoss."""
    t = _soft_target(pred, target)
    logp = log_softmax(pred)
    return -times_log(t, logp).sum(axis=1) + epsilon * (1.0 - (t * np.exp(logp)).sum(axis=1))


def poly1_grad(pred, target, *, epsilon=1.0):
    t = _soft_target(pred, target)
    p = np.exp(log_softmax(pred))
    pt = (t * p).sum(axis=1, keepdims=True)
    # CE part: -t_j + (sum t) p_j; poly part: d(-p_t)/dx_j = -p_j (t_j - p_t)
    return -t + t.sum(axis=1, keepdims=True) * p - epsilon * p * (t - pt)


def poly1_check(pred, target, *, epsilon=1.0):
    return _check_classes(pred, target, columns="logit")


# ----------------------------------------------------------------------------- focal_ce


def _focal_parts(pred, target, alpha):
    t = _soft_target(pred, target) * _class_weights(alpha, pred.shape[1])[None, :]
    logp = log_softmax(pred)
    q = -np.expm1(logp)  # 1 - p without cancellation when p is close to 1
    return t, logp, q


def focal_ce(pred, target, *, gamma=2.0, alpha=None):
    """-sum_k alpha_k (1 - p_k)^gamma t_k log p_k (softmax focal loss, Lin et al. 2017)."""
    t, logp, q = _focal_parts(pred, target, alpha)
    return -times_log(t * q**gamma, logp).sum(axis=1)


def focal_ce_grad(pred, target, *, gamma=2.0, alpha=None):
    t, logp, q = _focal_parts(pred, target, alpha)
    p = np.exp(logp)
    # d/dlogp_k of -(1 - p_k)^gamma logp_k = gamma (1 - p_k)^(gamma - 1) p_k logp_k - (1 - p_k)^gamma.
    # At q = 0 the first term tends to 0 (logp ~ -q), but q^(gamma - 1) is inf for gamma < 1: take the limit.
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(q > 0, gamma * q ** (gamma - 1.0) * times_log(p, logp), 0.0) if gamma != 0 else 0.0
    g = t * (first - q**gamma)
    # through log-softmax: d logp_k / dx_j = delta_kj - p_j
    return g - p * g.sum(axis=1, keepdims=True)


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
    return scale * (r * r).sum(axis=1)


def brier_grad(pred, target, *, scale_by_half="auto"):
    r, scale = _brier_parts(pred, target, scale_by_half)
    return 2.0 * scale * r


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
    return 0.5 * (_xlogy(pred, pred) - _xlogy(pred, m) + _xlogy(target, target) - _xlogy(target, m)).sum(axis=1)


def js_div_grad(pred, target):
    m = 0.5 * (pred + target)
    # d/dp_k = 1/2 log(p_k / m_k); at p_k = q_k = 0 the limit is 1/2 log 2 (p / m -> 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m > 0, 0.5 * np.log(np.where(m > 0, pred / m, 1.0)), 0.5 * np.log(2.0))


def js_div_check(pred, target):
    return _zero_where_target(pred, target, "Jensen-Shannon")


def hellinger(pred, target):
    """sqrt(1/2 sum_k (sqrt p_k - sqrt q_k)^2), in [0, 1]."""
    d = np.sqrt(pred) - np.sqrt(target)
    return np.sqrt(0.5 * (d * d).sum(axis=1))


def hellinger_grad(pred, target):
    h = hellinger(pred, target)
    # dH/dp_k = (1 - sqrt(q_k / p_k)) / (4 H); check refuses p_k = 0 < q_k, and p_k = q_k = 0 gives 1/(4H).
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(pred > 0, np.sqrt(target / np.where(pred > 0, pred, 1.0)), 0.0)
        # at H = 0 (p = q) the square root has no derivative; report the zero subgradient as rmse does
        return np.where(h[:, None] > 0, (1.0 - ratio) / (4.0 * h[:, None]), 0.0)


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
    params=(_WEIGHT, _IGNORE),
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
    params=(
        Param("p", 1, "power of the hinge: 1 or 2", kind=int, low=1, high=2),
        Param("margin", 1.0, "how far the target score must lead every other score"),
        _WEIGHT,
    ),
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
    params=(Param("epsilon", 1.0, "weight of the first polynomial term (1 - p_t); >= -1 keeps the loss >= 0",
                  low=-1.0),),
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
    params=(
        Param("gamma", 2.0, "focusing exponent; 0 gives cross-entropy", low=0.0),
        Param("alpha", None, "per-class weights, one per pred column (e.g. alpha=0.25;0.75), default none",
              kind="floats", low=0.0, allow_none=True),
    ),
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

LOSSES = (CROSS_ENTROPY, NLL, KL_DIV, MULTI_MARGIN, POLY1, FOCAL_CE, BRIER, JS_DIV, HELLINGER)
