"""Pair losses of torch: a score or distance per element with a +-1 label saying which way it should go.

Both are elementwise over every pred column (mean over all elements, as torch's mean reduction).
"""

from __future__ import annotations

import numpy as np

from .base import Domain, Explain, Loss, Param, Role, piecewise_linear_hess, pred_role, target_role

SIGN = Domain("1 or -1", lambda a: (a != 1.0) & (a != -1.0))
SIGN_HINT = "Pair labels are 1 and -1; map 0/1 labels with 2y - 1."


def hinge_embedding(pred, target, *, margin=1.0):
    """x where y = 1, max(0, margin - x) where y = -1; torch HingeEmbeddingLoss."""
    return np.where(target == 1.0, pred, np.maximum(0.0, margin - pred))


def hinge_embedding_grad(pred, target, *, margin=1.0):
    # torch's clamp_min passes the gradient where margin - x >= 0, the kink included
    return np.where(target == 1.0, 1.0, np.where(margin - pred >= 0.0, -1.0, 0.0))


def margin_ranking(pred, second, target, *, margin=0.0):
    """max(0, -y (x1 - x2) + margin); torch MarginRankingLoss."""
    return np.maximum(0.0, -target * (pred - second) + margin)


def margin_ranking_grad(pred, second, target, *, margin=0.0):
    # d/dx1 = -y where the hinge's argument is >= 0 (torch's clamp_min, the kink included)
    return np.where(-target * (pred - second) + margin >= 0.0, -target, 0.0)


HINGE_EMBEDDING = Loss(
    name="hinge_embedding", family="pairs",
    summary="Hinge embedding loss: small distances for similar pairs, at least margin for dissimilar ones (torch).",
    formula="x if y = 1; max(0, margin - x) if y = -1",
    inputs=(pred_role("a distance (or any score) per pair, one or more columns"),
            target_role("1 for a similar pair, -1 for a dissimilar one, one column per pred column", SIGN,
                        hint=SIGN_HINT)),
    value=hinge_embedding, grad=hinge_embedding_grad,
    hess=piecewise_linear_hess,
    params=(Param("margin", 1.0, "distance beyond which dissimilar pairs cost nothing"),),
    explain=Explain(
        inputs="pred holds a value x per pair (usually a distance such as an L1 norm of a difference); target is 1 "
               "(similar) or -1 (dissimilar), one column per pred column. Elementwise, mean over all elements.",
        gradient="1 for similar pairs; -1 for dissimilar pairs with x <= margin (the kink included, as torch's "
                 "clamp_min), 0 beyond.",
        use="Learning embeddings or semi-supervised similarity from labelled pairs when you have the pair distance.",
        avoid="0/1 labels (map them to -1/1: torch silently treats a 0 as both similar and dissimilar, we refuse it).",
        relations="contrastive squares both parts; cosine_embedding uses angles instead of distances.",
        reference="torch.nn.HingeEmbeddingLoss (ATen Loss.cpp hinge_embedding_loss).",
    ),
)

MARGIN_RANKING = Loss(
    name="margin_ranking", family="pairs",
    summary="Margin ranking loss: x1 should rank above x2 (y = 1) or below it (y = -1) by a margin (torch).",
    formula="max(0, -y (x1 - x2) + margin)",
    inputs=(pred_role("the first score x1 of each pair; the gradient is taken with respect to it"),
            Role("second", "the second score x2 of each pair, as many columns as pred", width="pred",
                 defaults=("second", "pred2", "x2", "second_*", "pred2_*")),
            target_role("1 where x1 should rank higher, -1 where x2 should, one column per pred column", SIGN,
                        hint=SIGN_HINT)),
    value=margin_ranking, grad=margin_ranking_grad,
    hess=piecewise_linear_hess,
    params=(Param("margin", 0.0, "how far the preferred score must lead"),),
    explain=Explain(
        inputs="pred is x1, second is x2 (columns second, pred2 or x2 unless named with --input second=COLS), target "
               "y is 1 or -1, all with the same number of columns. Elementwise, mean over all elements.",
        gradient="With respect to x1: -y where -y (x1 - x2) + margin >= 0 (the kink included, as torch), else 0. "
                 "The gradient with respect to x2 is its negative.",
        use="Pairwise ranking: search results, preference pairs, siamese scoring.",
        avoid="Whole lists per query: a listwise loss fits better.",
        relations="With margin 0 and y = 1 it is the perceptron loss of x1 - x2; hinge with the score difference.",
        reference="torch.nn.MarginRankingLoss.",
    ),
)

LOSSES = (HINGE_EMBEDDING, MARGIN_RANKING)
