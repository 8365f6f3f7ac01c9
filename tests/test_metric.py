"""In-batch metric-learning losses against transcriptions of their libraries, in torch (values and autograd).

Each oracle below follows the library's own steps on one batch (one --query value), written with torch:
- tfa.losses.triplet_hard_loss / triplet_semihard_loss (tensorflow_addons/losses/triplet.py): distance_metric
  "L_2" is metric_learning.pairwise_distance(squared=True), "L_1" is pairwise_distance(squared=False) (the
  Euclidean norm), "angular" is max(1 - l2_normalize(x) l2_normalize(x)^T, 1e-16); _masked_maximum(d, mask) =
  max((d - rowmin) * mask) + rowmin and _masked_minimum(d, mask) = min((d - rowmax) * mask) + rowmax; semihard
  builds its (batch^2, batch) tiled mask, mask_final, negatives_outside / negatives_inside, and divides the
  summed hinge by the number of positive pairs. The distances here come from coordinate differences (TFA
  expands |a|^2 + |b|^2 - 2ab, equal up to rounding for these inputs).
- optax.losses.ntxent (optax/losses/_self_supervised.py): cosine_similarity with epsilon = machine epsilon
  (squared norms clipped at it), divided by the temperature; matches without the diagonal, diffs; shifted
  by the row max; loss = -sum(log_softm over matches) / number of matches.
- tfa.losses.npairs_loss (tensorflow_addons/losses/npairs.py): labels equal -> rows normalised to sum 1,
  softmax_cross_entropy_with_logits on anchor @ positive^T, reduce_mean.
- keras.losses.circle (keras/src/losses/losses.py): D = max(1 - x x^T, 0); weights max((m + D) pos, 0) and
  max((1 + m - D) neg, 0) (kept in the graph); logsumexp of masked logits; softplus; Keras masks anchors
  whose loss is 0 and divides by the valid count (keras/src/losses/loss.py apply_mask).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from .harness import assert_matches_torch, ours

rng = np.random.default_rng(21)


def batch_data(batches: int = 4, size=(3, 10), d: int = 3, classes: int = 3, unit: bool = False, scale: float = 1.0):
    sizes = rng.integers(size[0], size[1] + 1, size=batches)
    query = np.repeat(np.arange(batches), sizes)
    n = query.size
    x = rng.normal(size=(n, d)) * scale
    if unit:
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    order = rng.permutation(n)
    return {"pred": x, "label": rng.integers(0, classes, size=n).astype(float), "query": query[order]}


def per_batch_mean(fn, first="pred"):
    def oracle(query, **tensors):
        values = [fn(**{k: v[query == q] for k, v in tensors.items()}) for q in np.unique(query)]
        return torch.stack(values).mean()

    return oracle


# ----------------------------------------------------------------------------- TFA's distances and masked reductions


def tfa_distances(x, metric):
    if metric == "angular":
        unit = x / torch.sqrt(torch.clamp((x * x).sum(1, keepdim=True), min=1e-12))
        return torch.clamp(1.0 - unit @ unit.T, min=1e-16)
    diff = x[:, None, :] - x[None, :, :]
    sq = (diff * diff).sum(2)
    if metric == "L_2":
        return sq
    error_mask = sq <= 0.0
    dist = torch.sqrt(sq + error_mask.double() * 1e-16) * (~error_mask).double()
    return dist * (1.0 - torch.eye(len(x), dtype=torch.float64))


def masked_maximum(data, mask):
    axis_minimums = data.min(1, keepdim=True).values
    return ((data - axis_minimums) * mask).max(1, keepdim=True).values + axis_minimums


def masked_minimum(data, mask):
    axis_maximums = data.max(1, keepdim=True).values
    return ((data - axis_maximums) * mask).min(1, keepdim=True).values + axis_maximums


METRICS = {"squared_euclidean": "L_2", "euclidean": "L_1", "angular": "angular"}


def tfa_triplet_hard(margin, soft, metric):
    def loss(pred, label):
        d = tfa_distances(pred, metric)
        labels = label[:, 0]
        adjacency = (labels[:, None] == labels[None, :]).double()
        hard_negatives = masked_minimum(d, 1.0 - adjacency)
        mask_positives = adjacency - torch.eye(len(labels), dtype=torch.float64)
        hard_positives = masked_maximum(d, mask_positives)
        if soft:
            per = torch.log1p(torch.exp(hard_positives - hard_negatives))
        else:
            per = torch.clamp(hard_positives - hard_negatives + margin, min=0.0)
        return per.mean()

    return loss


def tfa_triplet_semihard(margin, metric):
    def loss(pred, label):
        d = tfa_distances(pred, metric)
        labels = label[:, 0]
        b = len(labels)
        adjacency = labels[:, None] == labels[None, :]
        adjacency_not = ~adjacency
        d_tile = d.repeat(b, 1)
        mask = adjacency_not.repeat(b, 1) & (d_tile > d.T.reshape(-1, 1))
        mask_final = (mask.double().sum(1, keepdim=True) > 0.0).reshape(b, b).T
        negatives_outside = masked_minimum(d_tile, mask.double()).reshape(b, b).T
        negatives_inside = masked_maximum(d, adjacency_not.double()).repeat(1, b)
        semi_hard = torch.where(mask_final, negatives_outside, negatives_inside)
        loss_mat = margin + d - semi_hard
        mask_positives = adjacency.double() - torch.eye(b, dtype=torch.float64)
        num_positives = mask_positives.sum()
        total = torch.clamp(loss_mat * mask_positives, min=0.0).sum()
        # TFA divides 0 by 0 for a batch without positive pairs; losscli scores such a batch 0
        return total / num_positives if num_positives > 0 else total * 0.0

    return loss


@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean", "angular"])
@pytest.mark.parametrize("margin,soft", [(1.0, False), (0.2, False), (1.0, True)])
def test_triplet_hard_matches_tfa(distance, margin, soft):
    data = batch_data()
    params = {"distance": distance, "margin": margin, "soft": soft}
    assert_matches_torch("triplet_hard", params, data, per_batch_mean(tfa_triplet_hard(margin, soft, METRICS[distance])))


@pytest.mark.parametrize("distance", ["squared_euclidean", "euclidean", "angular"])
@pytest.mark.parametrize("margin", [1.0, 0.1])
def test_triplet_semihard_matches_tfa(distance, margin):
    data = batch_data(size=(4, 12))
    params = {"distance": distance, "margin": margin}
    assert_matches_torch("triplet_semihard", params, data, per_batch_mean(tfa_triplet_semihard(margin, METRICS[distance])))


def test_triplet_losses_of_batches_without_positives_or_negatives():
    lone = {"pred": rng.normal(size=(3, 2)), "label": [1.0, 2.0, 3.0], "query": [0, 0, 0]}
    value, grad = ours("triplet_semihard", {}, lone)
    assert value == 0.0 and not grad.any()  # no positive pair: 0 (TFA: 0 / 0)
    same = {"pred": rng.normal(size=(3, 2)), "label": [1.0, 1.0, 1.0], "query": [0, 0, 0]}
    hard = tfa_triplet_hard(1.0, False, "L_2")(torch.tensor(same["pred"]), torch.tensor([[1.0], [1.0], [1.0]]))
    assert ours("triplet_hard", {}, same)[0] == pytest.approx(hard.item(), rel=1e-12)  # no negative: TFA's row max


# ----------------------------------------------------------------------------- NT-Xent (optax)


def optax_ntxent(temperature):
    eps = float(np.finfo(np.float64).eps)

    def loss(pred, label):
        labels = label[:, 0]
        norm = torch.sqrt(torch.clamp((pred * pred).sum(1, keepdim=True), min=eps))
        unit = pred / norm
        xcs = (unit @ unit.T) / temperature
        matches = labels[:, None] == labels[None, :]
        diffs = ~matches
        matches = matches & ~torch.eye(len(labels), dtype=torch.bool)
        xcs_diffs = torch.where(diffs, xcs, torch.tensor(-np.inf, dtype=torch.float64))
        xcs_matches = torch.where(matches, xcs, torch.tensor(-np.inf, dtype=torch.float64))
        xcs_max = torch.cat([xcs_diffs, xcs_matches], dim=1).max(1, keepdim=True).values.detach()
        shift_diffs, shift_matches = xcs_diffs - xcs_max, xcs_matches - xcs_max
        denom = torch.exp(shift_diffs).sum(1, keepdim=True) + torch.exp(shift_matches)
        log_softm = shift_matches - torch.log(denom)
        total = -torch.where(matches, log_softm, torch.zeros_like(log_softm)).sum()
        return total / matches.sum() if matches.any() else total * 0.0

    return loss


@pytest.mark.parametrize("temperature", [0.07, 0.5, 2.0])
def test_ntxent_matches_optax(temperature):
    data = batch_data(size=(4, 12))
    params = {} if temperature == 0.07 else {"temperature": temperature}
    assert_matches_torch("ntxent", params, data, per_batch_mean(optax_ntxent(temperature)), rtol_grad=1e-6)


def test_ntxent_of_zero_and_huge_embeddings_is_finite():
    x = rng.normal(size=(6, 3))
    x[0] = 0.0  # clipped norm: sqrt(eps)
    x[1] *= 1e6
    data = {"pred": x, "label": [0.0, 0.0, 1.0, 1.0, 2.0, 2.0], "query": np.zeros(6)}
    value, grad = ours("ntxent", {}, data)
    ref = optax_ntxent(0.07)(torch.tensor(x), torch.tensor(data["label"])[:, None])
    assert value == pytest.approx(ref.item(), rel=1e-10) and np.all(np.isfinite(grad))


# ----------------------------------------------------------------------------- N-pairs (TFA)


def tfa_npairs(anchor, positive, label):
    logits = anchor @ positive.T
    labels = label[:, 0]
    y = (labels[:, None] == labels[None, :]).double()
    y = y / y.sum(1, keepdim=True)
    return (-(y * torch.log_softmax(logits, dim=1)).sum(1)).mean()


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_npairs_matches_tfa(scale):
    data = batch_data(d=4)
    pairs = {"anchor": data["pred"] * scale, "positive": (data["pred"] + 0.2 * rng.normal(size=data["pred"].shape)) * scale,
             "label": data["label"], "query": data["query"]}
    assert_matches_torch("npairs", {}, pairs, per_batch_mean(tfa_npairs))


# ----------------------------------------------------------------------------- circle (Keras)


def keras_circle(gamma, margin, remove_diagonal):
    def loss(pred, label):
        labels = label[:, 0]
        d = torch.clamp(1.0 - pred @ pred.T, min=0.0)
        positive = labels[:, None] == labels[None, :]
        if remove_diagonal:
            positive = positive & ~torch.eye(len(labels), dtype=torch.bool)
        negative = labels[:, None] != labels[None, :]
        pos_w = torch.clamp((margin + d) * positive.double(), min=0.0)
        neg_w = torch.clamp((1.0 + margin - d) * negative.double(), min=0.0)
        pos_logits = -gamma * pos_w * (margin - d)
        neg_logits = gamma * neg_w * (1.0 - margin - d)
        minus_inf = torch.tensor(-np.inf, dtype=torch.float64)
        p = torch.logsumexp(torch.where(positive, pos_logits, minus_inf), dim=1)
        n = torch.logsumexp(torch.where(negative, neg_logits, minus_inf), dim=1)
        per_anchor = torch.nn.functional.softplus(p + n)
        valid = per_anchor > 0
        total = torch.where(valid, per_anchor, torch.zeros_like(per_anchor)).sum()
        return total / valid.sum() if valid.any() else total * 0.0

    return loss


@pytest.mark.parametrize("gamma,margin,remove_diagonal", [(80.0, 0.4, True), (4.0, 0.25, True), (16.0, 0.1, False)])
def test_circle_matches_keras(gamma, margin, remove_diagonal):
    data = batch_data(unit=True, d=4)
    if not remove_diagonal:
        data["pred"] = data["pred"] * 0.9  # keep self-pairs off the kink of max(1 - x.x, 0)
    params = {"gamma": gamma, "margin": margin, "remove_diagonal": remove_diagonal}
    assert_matches_torch("circle", params, data, per_batch_mean(keras_circle(gamma, margin, remove_diagonal)),
                         rtol_grad=1e-6)


@pytest.mark.parametrize("name", ["triplet_hard", "triplet_semihard", "ntxent", "circle"])
def test_metric_losses_of_extreme_embeddings_are_finite(name):
    x = rng.normal(size=(8, 3)) * np.where(rng.uniform(size=(8, 1)) < 0.5, 1e4, 1e-6)
    data = {"pred": x, "label": np.repeat([0.0, 1.0], 4), "query": np.zeros(8)}
    value, grad = ours(name, {}, data)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_batch_losses_are_the_same_whether_a_batchs_rows_are_together_or_scattered(tmp_path):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    import losscli

    batches = 30
    sizes = rng.integers(2, 12, size=batches)
    batch = np.repeat(np.arange(batches), sizes)
    n = batch.size
    x = rng.normal(size=(n, 3))
    frame = pd.DataFrame({"batch": batch, "label": rng.integers(0, 3, size=n).astype(float),
                          "emb_0": x[:, 0], "emb_1": x[:, 1], "emb_2": x[:, 2],
                          "anchor_0": x[:, 0], "anchor_1": x[:, 1], "positive_0": x[:, 1], "positive_1": x[:, 2]})
    together = tmp_path / "together.parquet"
    frame.to_parquet(together)
    folder = tmp_path / "scattered"
    folder.mkdir()
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    for i, part in enumerate(np.array_split(np.arange(n), 4)):
        pq.write_table(pa.Table.from_pandas(shuffled.iloc[part], preserve_index=False), folder / f"p{i}.parquet",
                       row_group_size=9)
    losses = ["triplet_hard", "triplet_semihard:distance=euclidean", "ntxent", "circle:gamma=8", "npairs"]
    a = losscli.compute(str(together), losses, query="batch", grad=True)
    b = losscli.compute(str(folder), losses, query="batch", grad=True, batch_rows=11)  # spills to partition files
    for x_, y_ in zip(a.results, b.results):
        assert (x_.label, x_.n) == (y_.label, y_.n) and x_.n == batches
        assert y_.value == pytest.approx(x_.value, rel=1e-12)
        assert y_.grad["l2"] == pytest.approx(x_.grad["l2"], rel=1e-12)
