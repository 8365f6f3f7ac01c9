"""Embedding losses: each row holds vectors (groups of d columns, or one Parquet list column
that the column reader expands), and the loss is one number per row, mean over rows.

- cosine: 1 - cos(pred, target), cos exactly as torch.nn.functional.cosine_similarity.
- cosine_embedding: torch.nn.CosineEmbeddingLoss with a +-1 label column.
- triplet: torch.nn.TripletMarginLoss, gradient with respect to the anchor.
- contrastive: Hadsell et al. on a given distance column, as tfa.losses.contrastive_loss.
"""

from __future__ import annotations

import numpy as np

from .base import NON_NEGATIVE, PROBABILITY, Domain, Explain, Loss, Param, Role, pred_role, row_max, row_sums

# The generic target defaults try "label" and "y" before "target_*", which would pick a
# +-1 label column as the second vector; vectors here look only for vector-like names.
_VECTOR_TARGET = ("target", "target_*", "y_true", "y_true_*")

PRED_VEC = pred_role("the predicted (first) vector: d columns, or one list column")
TARGET_VEC = Role("target", "the second vector, as many columns as pred", width="pred", defaults=_VECTOR_TARGET)
SIGN = Domain("1 or -1", lambda a: (a != 1.0) & (a != -1.0))
LABEL = Role("label", "one column: 1 for pairs that should be similar, -1 for pairs that should not",
             SIGN, width=1, defaults=("label", "y", "sign"),
             hint="cosine_embedding wants labels 1 (similar) and -1 (dissimilar); map 0/1 labels with 2y - 1.")
ANCHOR = Role("anchor", "the anchor vector (d columns); the gradient is taken with respect to it",
              defaults=("anchor", "anchor_*"))
POSITIVE = Role("positive", "a vector of the anchor's class, as many columns as anchor", width="pred",
                defaults=("positive", "positive_*"))
NEGATIVE = Role("negative", "a vector of another class, as many columns as anchor", width="pred",
                defaults=("negative", "negative_*"))
DISTANCE = Role("pred", "one column: the distance between the two embeddings of the pair (>= 0)",
                NON_NEGATIVE, width=1, defaults=("pred", "distance", "dist", "d"),
                hint="contrastive takes a distance (for example the Euclidean norm of the difference), never negative.")
PAIR_TARGET = Role("target", "one column: 1 for a similar pair, 0 for a dissimilar one (soft values in [0, 1] allowed)",
                   PROBABILITY, width=1, defaults=("target", "label", "y", "similar"),
                   hint="contrastive wants 1 for similar and 0 for dissimilar pairs; map -1/1 labels with (y + 1) / 2.")


# ----------------------------------------------------------------------------- norms


def _norm2(x: np.ndarray) -> np.ndarray:
    """Row Euclidean norms, scaled by the row's largest |x| so squares neither overflow nor underflow."""
    m = row_max(np.abs(x))
    safe = np.where(m > 0, m, 1.0)
    return m * np.sqrt(row_sums((x / safe[:, None]) ** 2))


def _norm_p(v: np.ndarray, p: float):
    """Row p-norms and their gradient sign(v) (|v| / ||v||)^(p - 1), both scaled as in _norm2.

    A zero row has norm 0 and gradient 0 (torch's norm backward masks it the same way).
    """
    a = np.abs(v)
    m = row_max(a)
    safe = np.where(m > 0, m, 1.0)
    r = a / safe[:, None]
    if p == 1.0:
        norm = row_sums(a)
        return norm, np.sign(v)
    if p == 2.0:
        norm = m * np.sqrt(row_sums(r * r))
    else:
        norm = m * row_sums(r ** p) ** (1.0 / p)
    scaled = r * (safe / np.where(norm > 0, norm, 1.0))[:, None]  # 0 on a zero row, where r is 0
    return norm, np.sign(v) * scaled ** (p - 1.0)


# ----------------------------------------------------------------------------- cosine


def _cosine_parts(pred, target, eps):
    """torch.nn.functional.cosine_similarity: x / max(||x||, eps) dotted with y / max(||y||, eps).

    torch (since 1.12) clamps each norm separately and normalises before the dot
    product, so |cos| <= 1 and no product of norms can overflow. The clamp is done
    in place under no_grad, so autograd sees the unclamped norm's derivative x/||x||
    scaled by the clamped value: we return what the gradient needs to match it.
    """
    n1 = _norm2(pred)
    n2 = _norm2(target)
    c1 = np.maximum(n1, eps)
    c2 = np.maximum(n2, eps)
    yn = target / c2[:, None]
    cos = row_sums((pred / c1[:, None]) * yn)
    return cos, n1, c1, yn


def cosine(pred, target, *, eps=1e-8):
    """1 - cosine_similarity(pred, target) per row."""
    return 1.0 - _cosine_parts(pred, target, eps)[0]


def cosine_grad(pred, target, *, eps=1e-8):
    return cosine_value_and_grad(pred, target, eps=eps)[1]


def cosine_value_and_grad(pred, target, *, eps=1e-8):
    # d cos / dx = y_n / c1 - (x . y_n) / c1^2 * x / ||x||, with c1 = max(||x||, eps); the last
    # factor is torch's norm derivative, 0 for a zero vector.
    cos, n1, c1, yn = _cosine_parts(pred, target, eps)  # the norms once for both
    dot = row_sums(pred * yn)
    unit = pred / np.where(n1 > 0, n1, 1.0)[:, None]
    return 1.0 - cos, -(yn / c1[:, None] - (dot / (c1 * c1))[:, None] * unit)


# ----------------------------------------------------------------------------- cosine embedding

# torch's cosine_embedding_loss adds EPSILON = 1e-12 to each squared norm (ATen Loss.cpp); the
# constant is a C++ float, so the double it becomes is float32(1e-12) = 9.99999996e-13. Matching
# it bit for bit matters for near-zero vectors, whose cosine is decided by this term.
_CE_EPS = float(np.float32(1e-12))


def _ce_parts(pred, target):
    m1 = row_sums(pred * pred) + _CE_EPS
    m2 = row_sums(target * target) + _CE_EPS
    den = np.sqrt(m1 * m2)
    cos = row_sums(pred * target) / den
    return cos, m1, den


def cosine_embedding(pred, target, label, *, margin=0.0):
    """1 - cos where label = 1, max(0, cos - margin) where label = -1 (torch CosineEmbeddingLoss)."""
    cos, _, _ = _ce_parts(pred, target)
    y = label[:, 0]
    return np.where(y == 1.0, 1.0 - cos, np.maximum(cos - margin, 0.0))


def cosine_embedding_grad(pred, target, label, *, margin=0.0):
    return cosine_embedding_value_and_grad(pred, target, label, margin=margin)[1]


def cosine_embedding_value_and_grad(pred, target, label, *, margin=0.0):
    cos, m1, den = _ce_parts(pred, target)  # once for both
    dcos = target / den[:, None] - (cos / m1)[:, None] * pred
    y = label[:, 0]
    # torch's clamp_min passes the gradient where cos - margin >= 0 (ties included).
    scale = np.where(y == 1.0, -1.0, np.where(cos - margin >= 0.0, 1.0, 0.0))
    return np.where(y == 1.0, 1.0 - cos, np.maximum(cos - margin, 0.0)), scale[:, None] * dcos


# ----------------------------------------------------------------------------- triplet


def _triplet_parts(anchor, positive, negative, margin, p, eps, swap):
    # torch's pairwise_distance is ||x1 - x2 + eps||_p: eps is added to the difference.
    d_pos, g_pos = _norm_p(anchor - positive + eps, p)
    d_neg, g_neg = _norm_p(anchor - negative + eps, p)
    w_neg = np.ones_like(d_neg)
    if swap:
        d_swap, _ = _norm_p(positive - negative + eps, p)
        # torch.min of two tensors splits the gradient in half at a tie.
        w_neg = np.where(d_neg < d_swap, 1.0, np.where(d_neg == d_swap, 0.5, 0.0))
        d_neg = np.minimum(d_neg, d_swap)
    return margin + d_pos - d_neg, g_pos, g_neg, w_neg


def triplet(anchor, positive, negative, *, margin=1.0, p=2.0, eps=1e-6, swap=False):
    """max(d(a, p) - d(a, n) + margin, 0), torch TripletMarginLoss."""
    z = _triplet_parts(anchor, positive, negative, margin, p, eps, swap)[0]
    return np.maximum(z, 0.0)


def triplet_grad(anchor, positive, negative, *, margin=1.0, p=2.0, eps=1e-6, swap=False):
    return triplet_value_and_grad(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap)[1]


def triplet_value_and_grad(anchor, positive, negative, *, margin=1.0, p=2.0, eps=1e-6, swap=False):
    z, g_pos, g_neg, w_neg = _triplet_parts(anchor, positive, negative, margin, p, eps, swap)  # once for both
    active = (z >= 0.0).astype(np.float64)  # torch clamp_min lets the gradient through at 0
    return np.maximum(z, 0.0), active[:, None] * (g_pos - w_neg[:, None] * g_neg)


# ----------------------------------------------------------------------------- contrastive


def contrastive(pred, target, *, margin=1.0):
    """y d^2 + (1 - y) max(margin - d, 0)^2 (tfa.losses.contrastive_loss, no 1/2 factor)."""
    d, y = pred, target
    return (y * d * d + (1.0 - y) * np.maximum(margin - d, 0.0) ** 2)[:, 0]


def contrastive_grad(pred, target, *, margin=1.0):
    d, y = pred, target
    return 2.0 * y * d - 2.0 * (1.0 - y) * np.maximum(margin - d, 0.0)


def contrastive_hess(pred, target, *, margin=1.0):
    # 2 y + 2 (1 - y) where d < margin; at d = margin the flat side (0) is taken, as the gradient is 0 there
    d, y = pred, target
    return 2.0 * y + 2.0 * (1.0 - y) * (margin - d > 0.0)


# ----------------------------------------------------------------------------- definitions

COSINE = Loss(
    name="cosine", family="embedding", summary="Cosine distance 1 - cos(pred, target) per row.",
    formula="1 - (x / max(||x||, eps)) . (y / max(||y||, eps))",
    inputs=(PRED_VEC, TARGET_VEC), value=cosine, grad=cosine_grad, per="row",
    params=(Param("eps", 1e-8, "lower bound on each vector's norm, as torch cosine_similarity", low=0.0, low_open=True),),
    value_and_grad=cosine_value_and_grad,
    explain=Explain(
        inputs="pred and target are vectors of the same width d: d columns each (pred_0..pred_{d-1}, "
               "target_0..) or one Parquet list column each. One value per row, mean over rows.",
        gradient="-(y_n / c1 - (x . y_n) / c1^2 * x / ||x||) with c1 = max(||x||, eps), y_n = y / max(||y||, eps): "
                 "exactly torch's autograd, which treats the clamp as a constant but keeps the norm's derivative. "
                 "A zero pred vector gets -y_n / eps.",
        use="Matching embedding directions when their lengths carry no meaning (text or image embeddings, "
            "distillation of normalised features).",
        avoid="When magnitude matters (use mse), or with near-zero vectors, whose direction is noise and whose "
              "gradient is of size 1/eps.",
        relations="cosine_embedding with every label 1 is the same loss up to how the norms are protected "
                  "(it adds 1e-12 to the squared norms instead of clamping).",
        reference="torch.nn.functional.cosine_similarity (ATen Distance.cpp: each norm clamped to eps separately, "
                  "in place under no_grad) and torch.nn.CosineSimilarity.",
    ),
)

COSINE_EMBEDDING = Loss(
    name="cosine_embedding", family="embedding", summary="Cosine embedding loss on pairs labelled 1 (similar) or -1.",
    formula="1 - cos(x1, x2) if y = 1; max(0, cos(x1, x2) - margin) if y = -1",
    inputs=(PRED_VEC, TARGET_VEC, LABEL), value=cosine_embedding, grad=cosine_embedding_grad, per="row",
    params=(Param("margin", 0.0, "similarity above which a dissimilar pair is penalised (torch suggests 0 to 0.5)",
                  low=-1.0, high=1.0),),
    value_and_grad=cosine_embedding_value_and_grad,
    explain=Explain(
        inputs="pred (x1) and target (x2) are vectors of the same width; label is one column of 1 or -1 "
               "(default names label, y, sign). One value per row, mean over rows.",
        gradient="With cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)): -dcos/dx1 for y = 1, dcos/dx1 where "
                 "cos >= margin for y = -1, 0 otherwise; dcos/dx1 = x2 / den - cos x1 / (|x1|^2 + 1e-12).",
        use="Learning similarity from labelled pairs (siamese networks, duplicate detection) when only direction matters.",
        avoid="Labels in {0, 1}: they must be -1/1 (a 0 label gives zero loss in torch and is refused here).",
        relations="For y = 1 it is the cosine loss; contrastive is the same idea on Euclidean distances.",
        reference="torch.nn.CosineEmbeddingLoss (ATen Loss.cpp cosine_embedding_loss, EPSILON = 1e-12).",
    ),
)

TRIPLET = Loss(
    name="triplet", family="embedding", summary="Triplet margin loss: anchor closer to positive than to negative by a margin.",
    formula="max(d(a, pos) - d(a, neg) + margin, 0), d(x, y) = ||x - y + eps||_p",
    inputs=(ANCHOR, POSITIVE, NEGATIVE), value=triplet, grad=triplet_grad, per="row",
    params=(
        Param("margin", 1.0, "required gap between the negative and the positive distance (> 0, as torch requires)",
              low=0.0, low_open=True),
        Param("p", 2.0, "the norm degree of the distance (1 = Manhattan, 2 = Euclidean)", low=1.0),
        Param("eps", 1e-6, "added to every coordinate of the difference before the norm, as torch pairwise_distance", low=0.0),
        Param("swap", False, "use min(d(a, neg), d(pos, neg)) as the negative distance (Balntas et al. distance swap)",
              kind=bool),
    ),
    value_and_grad=triplet_value_and_grad,
    explain=Explain(
        inputs="anchor, positive and negative are vectors of the same width (default columns anchor_*, positive_*, "
               "negative_*, or list columns anchor, positive, negative). The gradient is taken with respect to the anchor.",
        gradient="Where the hinge is active (margin + d_pos - d_neg >= 0, as torch's clamp_min): "
                 "grad d(a, pos) - grad d(a, neg), with grad ||v||_p = sign(v) (|v| / ||v||_p)^(p - 1). With swap, "
                 "the negative term drops out when d(pos, neg) is the smaller (half of it at a tie).",
        use="Metric learning (face recognition, retrieval) with mined triplets.",
        avoid="Random triplets: most are already satisfied and give zero loss and gradient; mine hard ones.",
        relations="contrastive uses pairs instead of triplets; cosine_embedding uses angles.",
        reference="Schroff et al. (2015), FaceNet; Balntas et al. (2016) for swap; torch.nn.TripletMarginLoss and "
                  "torch.nn.functional.pairwise_distance (||x1 - x2 + eps||_p).",
    ),
)

CONTRASTIVE = Loss(
    name="contrastive", family="embedding", summary="Contrastive loss on a distance column: pull similar pairs, push dissimilar ones past a margin.",
    formula="y d^2 + (1 - y) max(0, margin - d)^2",
    inputs=(DISTANCE, PAIR_TARGET), value=contrastive, grad=contrastive_grad, per="row",
    hess=contrastive_hess,
    params=(Param("margin", 1.0, "distance beyond which dissimilar pairs cost nothing", low=0.0),),
    explain=Explain(
        inputs="pred is one column of distances d >= 0 between the two embeddings of a pair; target is 1 for similar "
               "pairs and 0 for dissimilar ones. One value per row, mean over rows.",
        gradient="2 y d - 2 (1 - y) max(0, margin - d) with respect to the distance.",
        use="Siamese networks trained on labelled pairs, when you already have the pair distance.",
        avoid="When the labels are -1/1 (map them to 0/1), or when you want the gradient with respect to the "
              "embeddings themselves (chain it through the distance yourself).",
        relations="There is NO 1/2 factor: we follow tfa.losses.contrastive_loss (y_true 1 = similar, y_pred the "
                  "distance). Hadsell et al. write (1/2) d^2 and (1/2) max(0, m - d)^2 with Y = 0 for similar pairs: "
                  "their loss is half of ours with the label flipped. triplet compares two distances at once.",
        reference="Hadsell, Chopra and LeCun (2006), Dimensionality Reduction by Learning an Invariant Mapping; "
                  "tfa.losses.contrastive_loss (TensorFlow Addons).",
    ),
)

LOSSES = (COSINE, COSINE_EMBEDDING, TRIPLET, CONTRASTIVE)
