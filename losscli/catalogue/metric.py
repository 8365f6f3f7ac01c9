"""In-batch metric learning: losses over the embeddings of a batch (the rows sharing a ``--query`` key).

Each query is a mini-batch of embeddings with class labels; rows with the same label are
positives of each other, rows with different labels negatives. Inputs arrive stacked by query
size: embeddings (queries, rows, d), labels (queries, rows, 1). Every value is one number per
batch; the gradient is with respect to every embedding of the batch (for npairs, the anchors).

- triplet_hard, triplet_semihard: TensorFlow Addons' batch-hard and semi-hard triplet mining.
- ntxent: optax.losses.ntxent (NT-Xent of SimCLR with labels).
- npairs: tfa.losses.npairs_loss on the similarities of anchors and positives.
- circle: keras.losses.Circle (Sun et al. 2020).

Distances are computed from coordinate differences (TensorFlow Addons expands ||a||^2 + ||b||^2 -
2 a.b, which loses digits for embeddings far from the origin); the values are the same otherwise.
"""

from __future__ import annotations

import numpy as np

from .base import PRED_DEFAULTS, Explain, Loss, Param, Role, log_sigmoid, sigmoid
from .ranking import HOW_IT_STREAMS

EMBEDDING = Role("pred", "the embedding of each row: d columns, or one list column",
                 defaults=("embedding", "emb_*") + PRED_DEFAULTS)
CLASS = Role("label", "one column: each row's class; rows of a batch with the same class are positives of each other",
             width=1, defaults=("label", "class", "y", "target"))
ANCHOR = Role("anchor", "the anchor embedding of each pair (d columns); the gradient is taken with respect to it",
              defaults=("anchor", "anchor_*"))
POSITIVE = Role("positive", "the positive embedding paired with the row's anchor, as many columns as anchor",
                width="pred", defaults=("positive", "positive_*"))

DISTANCES = ("squared_euclidean", "euclidean", "angular")
DISTANCE = Param("distance", "squared_euclidean",
                 "pairwise distance: squared_euclidean (TFA's default 'L_2'), euclidean (TFA's 'L_1', which is the "
                 "Euclidean norm), angular (1 - cosine)", kind=str, choices=DISTANCES)
ANGULAR_FLOOR = 1e-16  # tfa metric_learning.angular_distance: max(1 - cos, 1e-16)
NORM_FLOOR = 1e-12  # tf.math.l2_normalize: x / sqrt(max(sum x^2, 1e-12))


def _labels(label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Same-class (without the diagonal) and other-class masks, (q, m, m)."""
    y = label[..., 0]
    same = y[:, :, None] == y[:, None, :]
    eye = np.eye(y.shape[1], dtype=bool)[None]
    return same & ~eye, ~same


# ----------------------------------------------------------------------------- distances and their backward pass


def _distances(x: np.ndarray, kind: str):
    """Pairwise distances (q, m, m), zero (angular: 1e-16) on the diagonal, and what the backward pass needs."""
    if kind == "angular":
        sq = (x * x).sum(axis=2)
        norm = np.sqrt(np.maximum(sq, NORM_FLOOR))
        u = x / norm[..., None]
        raw = 1.0 - u @ u.transpose(0, 2, 1)
        d = np.maximum(raw, ANGULAR_FLOOR)
        return d, (u, norm, sq, raw)
    # coordinate by coordinate (each a contiguous (q, m) array): the (q, m, m, d) differences summed over their
    # short last axis went a pair at a time
    coordinates = np.ascontiguousarray(x.transpose(2, 0, 1))
    sq = np.zeros(x.shape[:2] + x.shape[1:2])
    for c in coordinates:
        diff = c[:, :, None] - c[:, None, :]
        diff *= diff
        sq += diff
    if kind == "squared_euclidean":
        return sq, None
    return np.sqrt(sq), None


def _distance_backward(x: np.ndarray, kind: str, d: np.ndarray, extra, g: np.ndarray) -> np.ndarray:
    """dL/dx from dL/dD (q, m, m); the diagonal is constant (zeroed or floored in TFA) and gets no gradient."""
    m = x.shape[1]
    g = g * ~np.eye(m, dtype=bool)[None]
    if kind == "angular":
        u, norm, sq, raw = extra
        g = np.where(raw > ANGULAR_FLOOR, g, 0.0)  # the floor max(., 1e-16) passes no gradient below it
        du = -(g + g.transpose(0, 2, 1)) @ u
        radial = (du * u).sum(axis=2, keepdims=True)
        inside = (sq > NORM_FLOOR)[..., None]
        return np.where(inside, (du - radial * u) / norm[..., None], du / norm[..., None])
    h = g + g.transpose(0, 2, 1)
    if kind == "euclidean":  # d|x_i - x_j| / dx_i = (x_i - x_j) / |x_i - x_j|, 0 at 0 (TFA masks it)
        h = np.where(d > 0, h / np.where(d > 0, d, 1.0), 0.0)
    else:
        h = 2.0 * h
    return h.sum(axis=2)[..., None] * x - h @ x


def _masked_pick(d: np.ndarray, mask: np.ndarray, largest: bool):
    """TFA's _masked_maximum / _masked_minimum per row, with the index whose distance it returns.

    With an empty mask TFA returns the row's minimum (for the maximum) or maximum (for the minimum)
    over all entries, the diagonal included; the index is that entry's (None-like -1 never occurs).
    """
    if largest:
        picked = np.argmax(np.where(mask, d, -np.inf), axis=2)
        fallback = np.argmin(d, axis=2)
    else:
        picked = np.argmin(np.where(mask, d, np.inf), axis=2)
        fallback = np.argmax(d, axis=2)
    index = np.where(mask.any(axis=2), picked, fallback)
    return np.take_along_axis(d, index[..., None], axis=2)[..., 0], index


def _entry(index: np.ndarray) -> np.ndarray:
    """The flat positions in a (q, m, m) array of [q, a, index[q, a]] (index (q, m)) or [q, a, index[q, a, p]]
    (index (q, m, m), one per (q, a, p))."""
    m = index.shape[1]
    anchor_rows = np.arange(index.shape[0] * m).reshape(index.shape[:2]) * m  # flat start of row (q, a)
    return (anchor_rows.reshape(anchor_rows.shape + (1,) * (index.ndim - 2)) + index).ravel()


# ----------------------------------------------------------------------------- triplet, batch hard


def triplet_hard_value_and_grad(pred, label, *, margin=1.0, soft=False, distance="squared_euclidean"):
    x = pred
    q, m, _ = x.shape
    d, extra = _distances(x, distance)
    positive, negative = _labels(label)
    hardest_pos, pos_index = _masked_pick(d, positive, largest=True)
    hardest_neg, neg_index = _masked_pick(d, negative, largest=False)
    gap = hardest_pos - hardest_neg
    if soft:  # TFA's soft margin: log1p(exp(gap)), without the margin
        per_anchor = -log_sigmoid(-gap)
        slope = sigmoid(gap)
    else:
        per_anchor = np.maximum(gap + margin, 0.0)
        slope = (gap + margin >= 0.0).astype(np.float64)  # tf.maximum passes the gradient at the tie
    # +slope/m on d(a, p*) and -slope/m on d(a, n*): one entry of each per anchor, so plain assignments add them
    g = np.zeros((q, m, m))
    flat = g.reshape(-1)
    flat[_entry(pos_index)] = (slope / m).ravel()
    flat[_entry(neg_index)] -= (slope / m).ravel()
    return per_anchor.mean(axis=1), _distance_backward(x, distance, d, extra, g)


def triplet_hard(pred, label, *, margin=1.0, soft=False, distance="squared_euclidean"):
    """mean over anchors of max(max_pos d(a, p) - min_neg d(a, n) + margin, 0) in each batch."""
    return triplet_hard_value_and_grad(pred, label, margin=margin, soft=soft, distance=distance)[0]


def triplet_hard_grad(pred, label, *, margin=1.0, soft=False, distance="squared_euclidean"):
    return triplet_hard_value_and_grad(pred, label, margin=margin, soft=soft, distance=distance)[1]


# ----------------------------------------------------------------------------- triplet, semi-hard


def _semihard_negatives(d: np.ndarray, negative: np.ndarray):
    """For each (anchor a, positive p): the negative n with the smallest d(a, n) > d(a, p), or else the farthest
    negative (TFA's negatives_outside / negatives_inside), as distance and index.

    Each anchor's row is sorted once; the first negative after the run of distances equal to d(a, p) is
    found with a reverse running minimum, so nothing of size rows^3 is built.
    """
    q, m, _ = d.shape
    order = np.argsort(d, axis=2, kind="stable")
    d_sorted = np.take_along_axis(d, order, axis=2)
    neg_sorted = np.take_along_axis(negative, order, axis=2)
    position = np.arange(m)
    # next negative at or after each sorted position (m if none)
    candidate = np.where(neg_sorted, position, m)
    next_neg = np.minimum.accumulate(candidate[..., ::-1], axis=2)[..., ::-1]
    next_neg = np.concatenate([next_neg, np.full((q, m, 1), m)], axis=2)
    # first sorted position whose distance is strictly greater than each entry's
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(position, (q, m, m)), axis=2)
    change = np.ones((q, m, m), dtype=bool)
    change[..., :-1] = d_sorted[..., 1:] != d_sorted[..., :-1]  # position i ends a run of equal values
    ends = np.where(change, position, m)
    run_last = np.minimum.accumulate(ends[..., ::-1], axis=2)[..., ::-1]  # last index of each position's run
    greater = np.take_along_axis(run_last, rank, axis=2) + 1  # first sorted position past d(a, p)'s run
    found = np.take_along_axis(next_neg, greater, axis=2)  # sorted position of the semi-hard negative, or m
    outside = found < m
    outside_index = np.take_along_axis(order, np.minimum(found, m - 1), axis=2)
    inside, inside_index = _masked_pick(d, negative, largest=True)
    index = np.where(outside, outside_index, inside_index[..., None])
    value = np.take_along_axis(d, index, axis=2)
    return value, index


def triplet_semihard_value_and_grad(pred, label, *, margin=1.0, distance="squared_euclidean"):
    x = pred
    q, m, _ = x.shape
    d, extra = _distances(x, distance)
    positive, negative = _labels(label)
    neg_d, neg_index = _semihard_negatives(d, negative)
    z = margin + d - neg_d
    count = positive.sum(axis=(1, 2)).astype(np.float64)
    safe = np.maximum(count, 1.0)
    value = np.where(positive, np.maximum(z, 0.0), 0.0).sum(axis=(1, 2)) / safe
    slope = np.where(positive & (z >= 0.0), 1.0, 0.0) / safe[:, None, None]
    # + d(a, p), - d(a, n*): several positives may share their negative, so those are added by bincount
    g = slope - np.bincount(_entry(neg_index), weights=slope.ravel(), minlength=slope.size).reshape(slope.shape)
    return value, _distance_backward(x, distance, d, extra, g)


def triplet_semihard(pred, label, *, margin=1.0, distance="squared_euclidean"):
    """sum over positive pairs (a, p) of max(margin + d(a, p) - d(a, n*), 0) / number of positive pairs."""
    return triplet_semihard_value_and_grad(pred, label, margin=margin, distance=distance)[0]


def triplet_semihard_grad(pred, label, *, margin=1.0, distance="squared_euclidean"):
    return triplet_semihard_value_and_grad(pred, label, margin=margin, distance=distance)[1]


# ----------------------------------------------------------------------------- NT-Xent (optax)

_EPS = float(np.finfo(np.float64).eps)  # optax ntxent: cosine_similarity(epsilon=finfo(dtype).eps)


def _unit(x: np.ndarray):
    """x / sqrt(max(|x|^2, eps)): optax.losses.cosine_similarity clips the squared norm at epsilon."""
    sq = (x * x).sum(axis=2)
    norm = np.sqrt(np.maximum(sq, _EPS))
    return x / norm[..., None], norm, sq > _EPS


def _unit_backward(u, norm, inside, du):
    radial = (du * u).sum(axis=2, keepdims=True)
    return np.where(inside[..., None], (du - radial * u) / norm[..., None], du / norm[..., None])


def _masked_softmax(a: np.ndarray, mask: np.ndarray):
    """log sum exp over the masked entries of the last axis (-inf where none), and the softmax over those
    entries (0 elsewhere): one exp serves both."""
    masked = np.where(mask, a, -np.inf)
    top = masked.max(axis=-1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    e = np.exp(masked - top)  # 0 off the mask
    total = np.einsum("...j->...", e)
    with np.errstate(divide="ignore"):
        lse = np.log(total) + top[..., 0]
    total[total == 0.0] = 1.0  # no entry: the softmax is 0 there
    return lse, e / total[..., None]


def _softplus_and_sigmoid(z: np.ndarray):
    """log(1 + exp(z)) and sigmoid(z) from one exp(-|z|), as base.log_sigmoid and base.sigmoid take them."""
    e = np.exp(-np.abs(z))
    return np.maximum(z, 0.0) + np.log1p(e), np.maximum(e, z >= 0) / (1.0 + e)


def ntxent_value_and_grad(pred, label, *, temperature=0.07):
    u, norm, inside = _unit(pred)
    s = u @ u.transpose(0, 2, 1) / temperature
    q, m, _ = s.shape
    positive, negative = _labels(label)
    # per anchor: log sum over its negatives, and their softmax (d lse / d s_ik)
    lse_neg, soft_neg = _masked_softmax(s, negative)
    # the positive pairs (anchor i, j) alone, a fraction of the grid: log(1 + exp(N_i - s_ij)) =
    # -log(exp(s_ij) / (exp(s_ij) + sum exp(s_ik))), and its slope in N_i
    pairs = np.flatnonzero(positive)
    batch = pairs // (m * m)
    per_pair, slope = _softplus_and_sigmoid(lse_neg.reshape(-1)[pairs // m] - s.reshape(-1)[pairs])
    safe = np.maximum(np.bincount(batch, minlength=q), 1.0)
    value = np.bincount(batch, weights=per_pair, minlength=q) / safe
    weight = np.zeros((q, m, m))  # d loss / d N_i per pair
    weight.reshape(-1)[pairs] = slope / safe[batch]
    gs = np.einsum("qij->qi", weight)[..., None] * soft_neg - weight  # d / d s
    du = (gs + gs.transpose(0, 2, 1)) @ u / temperature
    return value, _unit_backward(u, norm, inside, du)


def ntxent(pred, label, *, temperature=0.07):
    """mean over positive pairs (i, j) of -log(exp(s_ij) / (exp(s_ij) + sum over negatives k of i of exp(s_ik)))."""
    return ntxent_value_and_grad(pred, label, temperature=temperature)[0]


def ntxent_grad(pred, label, *, temperature=0.07):
    return ntxent_value_and_grad(pred, label, temperature=temperature)[1]


# ----------------------------------------------------------------------------- N-pairs (TFA)


def npairs_value_and_grad(anchor, positive, label):
    s = anchor @ positive.transpose(0, 2, 1)  # similarity of anchor i and positive j
    y = label[..., 0]
    same = (y[:, :, None] == y[:, None, :]).astype(np.float64)
    count = np.einsum("qij->qi", same)  # each anchor's positives (itself included): the target is uniform on them
    # in place from here on: every (q, m, m) temporary is megabytes, and a fresh one is fresh pages to fault in
    shifted = s
    shifted -= s.max(axis=2, keepdims=True)
    e = np.exp(shifted)  # once, for log p and p
    total = np.einsum("qij->qi", e)
    m = s.shape[1]
    # sum_j t_ij log p_ij with t_i uniform on the same-label j: mean of their shifted scores minus log total
    cross_entropy = np.log(total) - np.einsum("qij,qij->qi", same, shifted) / count
    e /= total[..., None]  # p
    same /= count[..., None]  # t
    e -= same
    grad = e @ positive
    grad /= m
    return np.einsum("qi->q", cross_entropy) / m, grad


def npairs(anchor, positive, label):
    """mean over anchors of the softmax cross-entropy of (a_i . p_j)_j against the uniform over same-label j."""
    return npairs_value_and_grad(anchor, positive, label)[0]


def npairs_grad(anchor, positive, label):
    return npairs_value_and_grad(anchor, positive, label)[1]


# ----------------------------------------------------------------------------- circle (Keras)


def _circle_masks(label, remove_diagonal):
    y = label[..., 0]
    same = y[:, :, None] == y[:, None, :]
    if remove_diagonal:
        same = same & ~np.eye(y.shape[1], dtype=bool)[None]
    return same, y[:, :, None] != y[:, None, :]


def circle_value_and_grad(pred, label, *, gamma=80.0, margin=0.4, remove_diagonal=True):
    x = pred
    raw = 1.0 - x @ x.transpose(0, 2, 1)
    d = np.maximum(raw, 0.0)
    positive, negative = _circle_masks(label, remove_diagonal)
    a_pos_raw = (margin + d) * positive  # 0 off the mask (every term is finite)
    a_neg_raw = (1.0 + margin - d) * negative
    a_pos, a_neg = np.maximum(a_pos_raw, 0.0), np.maximum(a_neg_raw, 0.0)
    lse_pos, p_soft = _masked_softmax(-gamma * a_pos * (margin - d), positive)
    lse_neg, n_soft = _masked_softmax(gamma * a_neg * (1.0 - margin - d), negative)
    valid = positive.any(axis=2) & negative.any(axis=2)  # Keras masks anchors whose loss is 0: no pair of a kind
    z = np.where(valid, lse_pos + lse_neg, 0.0)
    softplus, sig = _softplus_and_sigmoid(z)
    per_anchor = softplus * valid
    safe = np.maximum(valid.sum(axis=1).astype(np.float64), 1.0)
    value = per_anchor.sum(axis=1) / safe
    slope = sig * valid / safe[:, None]  # 0 for the anchors left out, so their softmaxes count nothing
    # d logit / d D: the weights a depend on D too (Keras keeps them in the graph)
    active_pos = ((a_pos_raw >= 0.0) & positive).astype(np.float64)
    active_neg = ((a_neg_raw >= 0.0) & negative).astype(np.float64)
    d_pos = -gamma * (active_pos * (margin - d) - a_pos)
    d_neg = -gamma * (active_neg * (1.0 - margin - d) + a_neg)
    g = slope[..., None] * (p_soft * d_pos + n_soft * d_neg)
    g *= raw >= 0.0  # D = max(1 - x.y, 0)
    grad = -(g + g.transpose(0, 2, 1)) @ x
    return value, grad


def circle(pred, label, *, gamma=80.0, margin=0.4, remove_diagonal=True):
    """mean over anchors of softplus(logsumexp_p(-gamma a_p (margin - D)) + logsumexp_n(gamma a_n (1 - margin - D)))."""
    return circle_value_and_grad(pred, label, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)[0]


def circle_grad(pred, label, *, gamma=80.0, margin=0.4, remove_diagonal=True):
    return circle_value_and_grad(pred, label, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)[1]


# ----------------------------------------------------------------------------- definitions

BATCH = ("pred holds each row's embedding (d columns or one list column), label its class, and --query the batch "
         "each row belongs to (the rows of one mini-batch). One value per batch, mean over batches. ")

TRIPLET_HARD = Loss(
    name="triplet_hard", family="metric", summary="Batch-hard triplet loss: each anchor's farthest positive against its nearest negative.",
    formula="mean_a max(max_p d(a, p) - min_n d(a, n) + margin, 0) per batch",
    inputs=(EMBEDDING, CLASS), value=triplet_hard, grad=triplet_hard_grad, value_and_grad=triplet_hard_value_and_grad,
    per="query",
    params=(Param("margin", 1.0, "required gap between the hardest negative and the hardest positive distance"),
            Param("soft", False, "use log(1 + exp(gap)) instead of the hinge (no margin), as TFA", kind=bool),
            DISTANCE),
    explain=Explain(
        inputs=BATCH + HOW_IT_STREAMS,
        gradient="Through the two mined distances of each active anchor: +d(a, p*) - d(a, n*) / batch size, then the "
                 "distance's own gradient (2 (x_a - x_b) squared, (x_a - x_b) / d Euclidean, through the normalised "
                 "vectors for angular) on both ends of each pair.",
        use="Metric learning (person re-identification, face verification) with P classes x K samples per batch.",
        avoid="Batches without several samples per class: an anchor with no positive uses distance 0 (TFA's fallback), "
              "one with no negative its farthest point.",
        relations="triplet takes given triplets; triplet_semihard mines softer negatives; contrastive uses pairs.",
        reference="Hermans, Beyer and Leibe (2017), In Defense of the Triplet Loss; tfa.losses.triplet_hard_loss "
                  "(default distance 'L_2' = squared Euclidean, _masked_maximum/_masked_minimum fallbacks).",
    ),
)

TRIPLET_SEMIHARD = Loss(
    name="triplet_semihard", family="metric", summary="Semi-hard triplet loss (FaceNet): for each positive pair, the nearest negative beyond it.",
    formula="sum over positive pairs max(margin + d(a, p) - d(a, n*), 0) / #pairs, n* the nearest negative with d(a, n) > d(a, p)",
    inputs=(EMBEDDING, CLASS), value=triplet_semihard, grad=triplet_semihard_grad,
    value_and_grad=triplet_semihard_value_and_grad, per="query",
    params=(Param("margin", 1.0, "margin between the positive and the mined negative distance"), DISTANCE),
    explain=Explain(
        inputs=BATCH + HOW_IT_STREAMS,
        gradient="For each active positive pair: +d(a, p) - d(a, n*) divided by the number of positive pairs, then "
                 "each distance's own gradient on both of its rows.",
        use="FaceNet-style training when batch-hard mining is too aggressive.",
        avoid="Batches with no two rows of one class: they have no positive pair and score 0 (as optax's safe "
              "reduction and Keras's divide_no_nan do; TFA returns NaN for them).",
        relations="triplet_hard takes the hardest positive and negative per anchor instead.",
        reference="Schroff, Kalenichenko and Philbin (2015), FaceNet; tfa.losses.triplet_semihard_loss "
                  "(negatives_outside / negatives_inside).",
    ),
)

NTXENT = Loss(
    name="ntxent", family="metric", summary="NT-Xent (SimCLR): each positive pair against the anchor's negatives, cosine similarity over a temperature.",
    formula="mean over positive pairs of -log(exp(s_ij) / (exp(s_ij) + sum_{k neg of i} exp(s_ik))), s = cos / temperature",
    inputs=(EMBEDDING, CLASS), value=ntxent, grad=ntxent_grad, value_and_grad=ntxent_value_and_grad,
    per="query",
    params=(Param("temperature", 0.07, "divides the cosine similarities", low=0.0, low_open=True),),
    explain=Explain(
        inputs=BATCH + "Rows with the same label are views of the same example. " + HOW_IT_STREAMS,
        gradient="Through the cosine similarities: for each positive pair -(1 - p_ij) on s_ij and p_ij times the "
                 "softmax over the negatives on s_ik, then through x / sqrt(max(|x|^2, eps)).",
        use="Contrastive self-supervised or supervised learning (SimCLR and its variants).",
        avoid="Batches without positive pairs: they score 0 and still count in the mean over batches (optax's ntxent "
              "returns NaN for them).",
        relations="npairs uses plain dot products of separate anchor and positive columns; circle reweights pairs.",
        reference="Chen et al. (2020), A Simple Framework for Contrastive Learning (SimCLR); optax.losses.ntxent "
                  "(epsilon = machine epsilon in the cosine).",
    ),
)

NPAIRS = Loss(
    name="npairs", family="metric", summary="N-pairs loss: softmax cross-entropy of each anchor against all positives of the batch.",
    formula="mean_i -sum_j t_ij log softmax_j(a_i . p_j), t_ij uniform over the j with label_j = label_i",
    inputs=(ANCHOR, POSITIVE, CLASS), value=npairs, grad=npairs_grad, value_and_grad=npairs_value_and_grad, per="query",
    explain=Explain(
        inputs="anchor and positive are each row's pair of embeddings (d columns each), label its class, --query the "
               "batch. The gradient is with respect to the anchors. " + HOW_IT_STREAMS,
        gradient="sum_j (softmax_ij - t_ij) p_j / batch size for anchor i.",
        use="N-pair metric learning with one pair per class per batch.",
        avoid="Unnormalised embeddings of very different scales: the dot products become extreme logits.",
        relations="tfa.losses.npairs_loss(label, anchor @ positive^T); without the L2 penalty of Sohn's paper.",
        reference="Sohn (2016), Improved Deep Metric Learning with Multi-class N-pair Loss Objective; tfa.losses.npairs_loss.",
    ),
)

CIRCLE = Loss(
    name="circle", family="metric", summary="Circle loss (Keras): self-paced weights on positive and negative cosine distances.",
    formula="mean_a softplus(lse_p(-gamma a_p (m - D)) + lse_n(gamma a_n (1 - m - D))), D = max(1 - x.y, 0)",
    inputs=(EMBEDDING, CLASS), value=circle, grad=circle_grad, value_and_grad=circle_value_and_grad,
    per="query",
    params=(Param("gamma", 80.0, "scale of the logits", low=0.0, low_open=True),
            Param("margin", 0.4, "relaxation m: optima 1 - m (positives) and m (negatives) in similarity", low=0.0),
            Param("remove_diagonal", True, "leave each row out of its own positives", kind=bool)),
    explain=Explain(
        inputs=BATCH + "Embeddings should be L2-normalised (Keras uses the plain dot product). " + HOW_IT_STREAMS,
        gradient="Through D, with the weights a_p = max(m + D, 0) and a_n = max(1 + m - D, 0) differentiated too, as "
                 "Keras's graph does, then through D = max(1 - x.y, 0).",
        use="Metric learning where pairs far from their optimum should weigh more (face recognition, retrieval).",
        avoid="Unnormalised embeddings. Anchors without a positive or a negative are left out of their batch's mean, "
              "as Keras masks their zero loss; a batch with no such anchor scores 0 (Keras's divide_no_nan).",
        relations="With gamma large it approaches a hard margin on similarities; ntxent is the softmax counterpart.",
        reference="Sun et al. (2020), Circle Loss: A Unified Perspective of Pair Similarity Optimization; "
                  "keras.losses.Circle (gamma=80, margin=0.4, remove_diagonal=True).",
    ),
)

LOSSES = (TRIPLET_HARD, TRIPLET_SEMIHARD, NTXENT, NPAIRS, CIRCLE)
