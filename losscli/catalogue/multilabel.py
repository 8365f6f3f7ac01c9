"""Multi-label losses: C label columns per row (multi-hot 0/1 targets, one column per label), one value per row.

Unlike the per-column binary losses (bce, focal), these look at a row's labels together: a margin between
every relevant and irrelevant label, or where the relevant labels fall in the row's ranking of scores.
The ranking metrics (label_ranking, coverage_error) and hamming count mistakes, so they are piecewise
constant: their gradient is 0 wherever it exists, and --grad says so.
"""

from __future__ import annotations

import numpy as np

from .base import (BINARY, PROBABILITY, Explain, Loss, Param, log_sigmoid, piecewise_linear_hess, pred_role, sigmoid,
                   target_role, zero_gradient)
from .classification import threshold_check, wrong_decisions
from .multiclass import _class_weights

SCORES = pred_role("C label scores (logits or decision values) per row, one column per label")
MULTI_HOT = target_role("C columns, 1 where the label applies to the row and 0 where it does not", BINARY,
                        hint="Multi-label targets are multi-hot columns of 0 and 1, one column per pred column.")
SOFT_MULTI_HOT = target_role("C columns of label values in [0, 1] (multi-hot 0/1, or soft labels)", PROBABILITY)

_MULTI_HOT_INPUTS = ("pred holds C label scores per row; target holds C multi-hot columns (1 = the label applies), "
                     "one per pred column. torch takes the target of MultiLabelMarginLoss as class indices padded "
                     "with -1; here it is the multi-hot form of the same set.")


# ----------------------------------------------------------------------------- soft margin


def multilabel_soft_margin(pred, target, *, weight=None):
    """-1/C sum_c w_c (y log sigmoid(x) + (1 - y) log sigmoid(-x)); torch MultiLabelSoftMarginLoss."""
    w = _class_weights(weight, pred.shape[1])
    terms = target * log_sigmoid(pred) + (1.0 - target) * log_sigmoid(-pred)
    return -(w * terms).sum(axis=1) / pred.shape[1]


def multilabel_soft_margin_grad(pred, target, *, weight=None):
    w = _class_weights(weight, pred.shape[1])
    return w * (sigmoid(pred) - target) / pred.shape[1]


def multilabel_soft_margin_hess(pred, target, *, weight=None):
    """w_c sigmoid(x_c) sigmoid(-x_c) / C: each label's logistic curvature, whatever its (soft) target.

    Both sigmoids are taken without overflow, so a logit of +-1e4 gives exactly 0 (a saturated label has no
    curvature left) rather than nan.
    """
    w = _class_weights(weight, pred.shape[1])
    return w * sigmoid(pred) * sigmoid(-pred) / pred.shape[1]


def _weight_check(pred, target, *, weight=None):
    from ..errors import InputDataError

    if weight is not None and len(weight) != pred.shape[1]:
        raise InputDataError(f"the weight parameter has {len(weight)} values but pred has {pred.shape[1]} label "
                             f"columns; give one value per label, e.g. weight={';'.join(['1'] * pred.shape[1])}.")
    return []


# ----------------------------------------------------------------------------- margin


def _pair_hinges(pred, target, with_grad):
    """sum over pairs (j relevant, k irrelevant) of max(0, 1 - (x_j - x_k)) per row, and its gradient or None.

    Each unordered pair of columns j < k is visited once: s = y_j - y_k is 1 when j is the relevant one,
    -1 when k is, 0 when the pair does not count, and the hinge is |s| max(0, 1 - s (x_j - x_k)) (the
    same bits as the ordered pair's, since x_k - x_j = -(x_j - x_k) exactly). Columns are laid out as
    rows of a (C, n) array first, so each step works on contiguous memory and sums over the pairs
    without NumPy's slow axis-1 reductions; nothing of size C x C per row is built.
    """
    n, c = pred.shape
    x = np.ascontiguousarray(pred.T)
    relevant = (target.T == 1.0).astype(np.float64)
    total = np.zeros(n)
    grad = np.zeros((c, n)) if with_grad else None
    for j in range(c - 1):
        s = relevant[j] - relevant[j + 1:]
        margin = 1.0 - s * (x[j] - x[j + 1:])
        hinge = np.maximum(margin, 0.0)
        hinge *= np.abs(s)
        total += hinge.sum(axis=0)
        if with_grad:
            # a violated pair pulls its relevant score up and its irrelevant one down; at a hinge of
            # exactly 0 the subgradient 0 is taken, as torch does
            pull = s * (margin > 0.0)
            grad[j] -= pull.sum(axis=0)
            grad[j + 1:] += pull
    return total, grad


def multilabel_margin(pred, target):
    """sum_{j relevant} sum_{k irrelevant} max(0, 1 - (x_j - x_k)) / C; torch MultiLabelMarginLoss."""
    return _pair_hinges(pred, target, with_grad=False)[0] / pred.shape[1]


def multilabel_margin_grad(pred, target):
    return multilabel_margin_value_and_grad(pred, target)[1]


def multilabel_margin_value_and_grad(pred, target):
    total, grad = _pair_hinges(pred, target, with_grad=True)
    c = pred.shape[1]
    return total / c, (grad / c).T


# ----------------------------------------------------------------------------- counts of mistakes


def hamming(pred, target, *, threshold=None, from_logits=False):
    """[pred > threshold] != y per label; sklearn hamming_loss is the mean over all labels and rows."""
    return wrong_decisions(pred, target, threshold, from_logits).astype(np.float64)


def _counts(target):
    positives = (target == 1.0).sum(axis=1)
    return positives, target.shape[1] - positives


def label_ranking(pred, target):
    """#{(relevant j, irrelevant k): x_k >= x_j} / (n_relevant n_irrelevant); 0 for rows with no such pair."""
    relevant = target == 1.0
    misordered = relevant[:, :, None] & ~relevant[:, None, :] & (pred[:, None, :] >= pred[:, :, None])
    positives, negatives = _counts(target)
    pairs = positives * negatives
    return np.where(pairs > 0, misordered.sum(axis=(1, 2)) / np.maximum(pairs, 1), 0.0)


def coverage_error(pred, target):
    """How many of the highest scores it takes to cover every relevant label: #{j: x_j >= min relevant x}."""
    relevant = target == 1.0
    lowest = np.where(relevant, pred, np.inf).min(axis=1, keepdims=True)
    # a row without relevant labels has lowest = inf and covers nothing: 0, as sklearn
    return (pred >= lowest).sum(axis=1).astype(np.float64)


_STEP = "{name} is piecewise constant: its gradient is 0 wherever it exists (the value only jumps, {where}), so --grad reports zeros."
_SWAP = "where two scores of a row swap order"

MULTILABEL_SOFT_MARGIN = Loss(
    name="multilabel_soft_margin", family="multilabel", per="row",
    summary="Multi-label one-versus-all logistic loss, averaged over the labels of a row (torch).",
    formula="-1/C sum_c w_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c))",
    inputs=(pred_role("C label logits per row, one column per label",
                      warn_if_probabilities="these look like probabilities, but this loss applies a sigmoid to them; "
                      "pass logits."), SOFT_MULTI_HOT),
    value=multilabel_soft_margin, grad=multilabel_soft_margin_grad, check=_weight_check,
    hess=multilabel_soft_margin_hess,
    params=(Param("weight", None, "per-label weights, one per pred column (torch's weight), e.g. weight=1;2;0.5",
                  kind="floats", low=0.0, allow_none=True),),
    explain=Explain(
        inputs="pred holds C logits per row; target C multi-hot (or soft) label columns. One value per row (the mean "
               "over its labels), mean over rows, exactly torch's reduction.",
        gradient="w_c (sigmoid(x_c) - y_c) / C: bounded and finite for logits of any size.",
        use="Multi-label classification (tags, attributes): every label is its own binary problem.",
        avoid="Labels that exclude each other (one true class per row): use cross_entropy.",
        relations="Without weights it equals bce_logits on the same columns (both average over rows and labels). "
                  "multilabel_margin is the ranking-style alternative.",
        reference="torch.nn.MultiLabelSoftMarginLoss (weight per class, mean over classes then over rows).",
    ),
)

MULTILABEL_MARGIN = Loss(
    name="multilabel_margin", family="multilabel", per="row",
    summary="Multi-label hinge loss: every relevant label must outscore every irrelevant one by 1 (torch).",
    formula="sum_{j relevant} sum_{k irrelevant} max(0, 1 - (x_j - x_k)) / C",
    inputs=(SCORES, MULTI_HOT), value=multilabel_margin, grad=multilabel_margin_grad,
    hess=piecewise_linear_hess,
    value_and_grad=multilabel_margin_value_and_grad,
    explain=Explain(
        inputs=_MULTI_HOT_INPUTS + " A row with no relevant (or no irrelevant) label costs 0.",
        gradient="For each violated pair (j relevant, k irrelevant): -1/C on x_j and +1/C on x_k; 0 at a hinge of "
                 "exactly 0 (as torch). Uses C x C pairs per row: fine for tens or hundreds of labels.",
        use="Multi-label ranking: all true labels should rank above all false ones, with a margin.",
        avoid="Many labels (thousands): the cost is C^2 per row; and calibrated probabilities (use bce_logits).",
        relations="label_ranking counts the same misordered pairs without margin or gradient; multi_margin is the "
                  "single-label form.",
        reference="torch.nn.MultiLabelMarginLoss (targets as class indices padded with -1; here multi-hot).",
    ),
)

HAMMING = Loss(
    name="hamming", family="multilabel",
    summary="Hamming loss: the fraction of labels predicted wrongly after a threshold.",
    formula="mean_{i,c} [(p_ic > threshold) != y_ic]",
    inputs=(pred_role("probabilities (or logits with from_logits=true), one column per label"), MULTI_HOT),
    value=hamming, grad=zero_gradient, check=threshold_check,
    params=(Param("threshold", None, "a prediction above it is the positive label; default 0.5 for probabilities, "
                  "0 for logits (given in the units of pred)", allow_none=True),
            Param("from_logits", False, "pred are logits (raw scores) rather than probabilities", kind=bool)),
    grad_warning=_STEP.format(name="hamming", where="where a prediction crosses the threshold"),
    explain=Explain(
        inputs="pred holds C probabilities per row (or logits with from_logits=true); target C multi-hot columns. "
               "The decision is pred > threshold, strictly. The mean runs over every label of every row.",
        gradient="0 everywhere it exists: each term is a step function. --grad says so on stderr.",
        use="Reporting multi-label accuracy label by label (1 - hamming is the per-label accuracy).",
        avoid="Training (no gradient), and sparse label sets, where predicting nothing already scores well.",
        relations="zero_one is the row-level (subset) version. sklearn hamming_loss; with sample weights both "
                  "weight rows and divide by sum(w) times C, as sklearn does.",
        reference="sklearn.metrics.hamming_loss.",
    ),
)

LABEL_RANKING = Loss(
    name="label_ranking", family="multilabel", per="row",
    summary="Label ranking loss: the fraction of (relevant, irrelevant) label pairs ordered wrongly (sklearn).",
    formula="#{(j relevant, k irrelevant): x_k >= x_j} / (|relevant| |irrelevant|)",
    inputs=(SCORES, MULTI_HOT), value=label_ranking, grad=zero_gradient,
    grad_warning=_STEP.format(name="label_ranking", where=_SWAP),
    explain=Explain(
        inputs=_MULTI_HOT_INPUTS + " Rows whose labels are all relevant or all irrelevant count as 0, as sklearn.",
        gradient="0 everywhere it exists: the loss changes only where two scores swap. --grad says so on stderr.",
        use="Evaluating a multi-label ranker: how often a wrong label is ranked at or above a right one.",
        avoid="Training: no gradient. multilabel_margin is a trainable surrogate of it.",
        relations="Ties count as misordered (x_k >= x_j), as in sklearn's implementation. 0 is a perfect ranking.",
        reference="sklearn.metrics.label_ranking_loss; Tsoumakas et al. (2010), Mining multi-label data.",
    ),
)

COVERAGE_ERROR = Loss(
    name="coverage_error", family="multilabel", per="row",
    summary="Coverage error: how far down the ranked labels one must go to cover every relevant label (sklearn).",
    formula="#{j: x_j >= min_{relevant k} x_k}; 0 for a row with no relevant label",
    inputs=(SCORES, MULTI_HOT), value=coverage_error, grad=zero_gradient,
    grad_warning=_STEP.format(name="coverage_error", where=_SWAP),
    explain=Explain(
        inputs=_MULTI_HOT_INPUTS + " Ties with the lowest relevant score count as covered too (the worst case), "
               "as sklearn; a row with no relevant label counts 0.",
        gradient="0 everywhere it exists: a count. --grad says so on stderr.",
        use="Evaluating a multi-label ranker when every relevant label must be found: the number of labels to "
            "inspect on average. The best value is the average number of relevant labels.",
        avoid="Training: no gradient. It is a count in [0, C], not a fraction.",
        relations="label_ranking measures pairwise order; coverage_error the depth of the worst relevant label.",
        reference="sklearn.metrics.coverage_error; Tsoumakas et al. (2010), Mining multi-label data.",
    ),
)

LOSSES = (MULTILABEL_SOFT_MARGIN, MULTILABEL_MARGIN, HAMMING, LABEL_RANKING, COVERAGE_ERROR)
