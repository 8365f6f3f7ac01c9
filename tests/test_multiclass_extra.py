"""The multi-class losses of issue 12 against their libraries.

References relied on:
- multiclass_hinge: sklearn.metrics.hinge_loss (multi-class, Crammer-Singer), called directly; optax
  multiclass_hinge_loss = max(scores + 1 - onehot) - <scores, onehot>, written in torch ops for autograd.
- categorical_hinge: keras.losses.categorical_hinge, pos = sum(t x), neg = max((1 - t) x), max(neg - pos + 1, 0).
- multiclass_perceptron: optax multiclass_perceptron_loss = max(scores) - <scores, onehot>.
- multiclass_sparsemax: optax _multiclass_sparsemax_loss = <p, where(p, x - x_y, 0)> + (1 - <p, p>)/2 with p the
  simplex projection of x; the projection is written here in torch (sort, cumsum, threshold).
- generalized_ce: keras categorical_generalized_cross_entropy = (1 - p_y^q)/q (integer labels, no clipping).
- top_k_error: 1 - sklearn.metrics.top_k_accuracy_score, called directly (ties included).
- generalized_kl: optax generalized_kl_divergence = sum t (log t - x) + sum (exp(x) - t), x = log-predictions.
- total_variation: 1/2 sum |p - q|; wasserstein_1d: scipy.stats.wasserstein_distance on the values 0..K-1.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import wasserstein_distance
from sklearn.metrics import hinge_loss, top_k_accuracy_score

from losscli.errors import InputDataError

from .harness import assert_close, assert_matches_torch, ours

K = 4
rng = np.random.default_rng(21)


def T(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def scores(kind: str, n: int = 50, k: int = K) -> dict:
    y = rng.integers(0, k, size=n).astype(float)
    if kind == "random":
        x = rng.normal(size=(n, k)) * 3
    elif kind == "huge":  # +-1e4 logits, no ties within a row
        x = rng.permuted(np.tile([-1e4, 1e4, 0.5, -3.0], (n, 1)), axis=1)[:, :k]
    elif kind == "single":
        return {"pred": np.array([[0.3, 2.0, -1.0, 1.1]])[:, :k], "target": np.array([0.0])}
    else:
        raise ValueError(kind)
    return {"pred": x, "target": y}


def onehot(target, k=K):
    return F.one_hot(target[:, 0].long(), k).to(torch.float64)


# ----------------------------------------------------------------------------- multiclass_hinge


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
def test_multiclass_hinge_matches_optax_formula(kind):
    def fn(pred, target):
        h = onehot(target)
        return ((pred + 1 - h).max(dim=1).values - (pred * h).sum(dim=1)).mean()

    assert_matches_torch("multiclass_hinge", {}, scores(kind), fn)


def test_multiclass_hinge_matches_sklearn_with_weights():
    d = scores("random", n=300)
    w = rng.uniform(0, 2, size=300)
    value, _ = ours("multiclass_hinge", {}, d, weight=w)
    ref = hinge_loss(d["target"].astype(int), d["pred"], labels=np.arange(K), sample_weight=w)
    assert_close(value, ref, 1e-13, "sklearn multi-class hinge_loss")


# ----------------------------------------------------------------------------- categorical_hinge


def keras_categorical_hinge(pred, target):
    t = onehot(target) if target.shape[1] == 1 else target
    pos = (t * pred).sum(dim=1)
    neg = ((1 - t) * pred).max(dim=1).values
    return torch.clamp(neg - pos + 1, min=0).mean()


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
@pytest.mark.parametrize("form", ["index", "onehot"])
def test_categorical_hinge_matches_keras(kind, form):
    d = scores(kind)
    if form == "onehot":
        d["target"] = np.eye(K)[d["target"].astype(int)]
    assert_matches_torch("categorical_hinge", {}, d, keras_categorical_hinge)


def test_categorical_hinge_differs_from_crammer_singer_on_negative_scores_as_keras_does():
    d = {"pred": np.array([[-2.0, -3.0, -1.5]]), "target": np.array([[1.0, 0.0, 0.0]])}
    keras, _ = ours("categorical_hinge", {}, d)
    assert keras == 3.0  # max(0, 0 - (-2) + 1): the target's (1 - 1) x = 0 entry wins Keras' max
    cs, _ = ours("multiclass_hinge", {}, {"pred": d["pred"], "target": [0.0]})
    assert cs == 1.5  # 1 + (-1.5) - (-2)


# ----------------------------------------------------------------------------- multiclass_perceptron


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
def test_multiclass_perceptron_matches_optax_formula(kind):
    def fn(pred, target):
        return (pred.max(dim=1).values - (pred * onehot(target)).sum(dim=1)).mean()

    assert_matches_torch("multiclass_perceptron", {}, scores(kind), fn)


# ----------------------------------------------------------------------------- multiclass_sparsemax


def torch_sparsemax(x):
    z, _ = torch.sort(x, dim=1, descending=True)
    k = torch.arange(1, x.shape[1] + 1, dtype=x.dtype)
    cssv = z.cumsum(dim=1)
    support = ((1 + k * z) > cssv).sum(dim=1, keepdim=True)
    tau = (cssv.gather(1, support - 1) - 1) / support
    return torch.clamp(x - tau, min=0)


def optax_sparsemax_loss(pred, target):
    p = torch_sparsemax(pred)
    y = target[:, 0].long()
    gap = pred - pred.gather(1, y[:, None])
    return ((p * torch.where(p > 0, gap, torch.zeros_like(gap))).sum(dim=1) + 0.5 * (1 - (p * p).sum(dim=1))).mean()


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
def test_multiclass_sparsemax_matches_optax_formula(kind):
    assert_matches_torch("multiclass_sparsemax", {}, scores(kind), optax_sparsemax_loss)


def test_sparsemax_probabilities_are_the_simplex_projection():
    from losscli.catalogue.multiclass import sparsemax_probabilities

    x = rng.normal(size=(200, 6)) * 2
    p = sparsemax_probabilities(x)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0, atol=1e-14)
    # the projection's optimality: p = max(x - tau, 0) for one tau per row, and it is the closest point
    for trial in rng.dirichlet(np.ones(6), size=50):
        assert np.all(((x - p) ** 2).sum(axis=1) <= ((x - trial) ** 2).sum(axis=1) + 1e-12)


# ----------------------------------------------------------------------------- generalized_ce


def probs(n=50, k=K, floor=0.0):
    return rng.dirichlet(np.ones(k) * 1.5, size=n) * (1 - k * floor) + floor


@pytest.mark.parametrize("q", [0.5, 0.1, 1.0, 1e-6])
def test_generalized_ce_matches_keras(q):
    d = {"pred": probs(floor=1e-3), "target": rng.integers(0, K, size=50).astype(float)}

    def fn(pred, target):
        py = pred.gather(1, target.long())[:, 0]
        return ((1 - py ** q) / q).mean()

    assert_matches_torch("generalized_ce", {"q": q}, d, fn, rtol_value=1e-9 if q > 1e-3 else 1e-6)


def test_generalized_ce_exact_probabilities():
    # p_y = 1 costs 0; p_y = 0 is refused for q < 1 (infinite slope) but fine for q = 1
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    value, grad = ours("generalized_ce", {}, {"pred": p[:1], "target": [0.0]})
    assert value == 0.0 and grad[0, 0] == -1.0
    with pytest.raises(InputDataError, match="exactly 0"):
        ours("generalized_ce", {}, {"pred": p, "target": [0.0, 0.0]})
    value, _ = ours("generalized_ce", {"q": 1.0}, {"pred": p, "target": [0.0, 0.0]})
    assert value == 0.5
    # tiny q is cross-entropy on probabilities, kept exact by expm1
    pr = probs(floor=1e-3)
    y = rng.integers(0, K, size=50)
    value, _ = ours("generalized_ce", {"q": 1e-12}, {"pred": pr, "target": y.astype(float)})
    assert_close(value, -np.log(pr[np.arange(50), y]).mean(), 1e-9, "q -> 0 is cross-entropy")


@pytest.mark.parametrize("q", [0.5, 0.3])
def test_generalized_ce_of_a_nearly_certain_true_class_keeps_its_digits(q):
    # p_y = 1 - eps costs about eps, and 1 - p_y^q taken as written would cancel down to 1e-4 of it at eps 1e-12;
    # the reference takes -expm1(q log1p(-eps)) / q with eps = 1 - p_y, which is exact for p_y >= 1/2
    for eps in [1e-4, 1e-8, 1e-12, 1e-15]:
        p = np.array([[1.0 - eps, eps / 2, eps / 2]])
        exact_eps = 1.0 - p[0, 0]
        value, _ = ours("generalized_ce", {"q": q}, {"pred": p, "target": [0.0]})
        assert_close(value, -np.expm1(q * np.log1p(-exact_eps)) / q, 1e-13, f"generalized_ce q={q} at eps={eps}")


# ----------------------------------------------------------------------------- top_k_error


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_error_matches_sklearn_including_ties(k):
    n = 400
    x = rng.integers(0, 3, size=(n, K)).astype(float)  # many ties
    y = rng.integers(0, K, size=n)
    w = rng.uniform(0, 2, size=n)
    value, grad = ours("top_k_error", {"k": k}, {"pred": x, "target": y.astype(float)}, weight=w)
    ref = 1 - top_k_accuracy_score(y, x, k=k, labels=np.arange(K), sample_weight=w)
    assert_close(value, ref, 1e-13, f"top-{k} error")
    assert np.all(grad == 0.0)


def test_top_k_error_huge_scores_single_row_and_a_million_rows():
    d = scores("huge")
    y = d["target"].astype(int)
    assert_close(ours("top_k_error", {"k": 1}, d)[0], 1 - top_k_accuracy_score(y, d["pred"], k=1, labels=np.arange(K)),
                 1e-15, "huge")
    assert ours("top_k_error", {"k": 1}, scores("single"))[0] == 1.0
    n = 1_000_000
    x = rng.normal(size=(n, K))
    y = rng.integers(0, K, size=n)
    value, _ = ours("top_k_error", {}, {"pred": x, "target": y.astype(float)})
    assert_close(value, 1 - top_k_accuracy_score(y, x, k=2, labels=np.arange(K)), 1e-12, "a million rows")


# ----------------------------------------------------------------------------- generalized_kl


def test_generalized_kl_matches_optax_formula():
    x = np.vstack([rng.normal(size=(40, K)) * 3, [[-1e4, 700.0, 0.0, 2.0]]])
    t = rng.gamma(2.0, size=(41, K))
    t[rng.random((41, K)) < 0.2] = 0.0
    t[-1, 0] = 0.0  # exp(-1e4) = 0 against a 0 target: 0 log 0 = 0

    def fn(pred, target):
        kl = torch.where(target == 0, torch.zeros_like(target), target * torch.log(target)) - target * pred
        return (kl + torch.exp(pred) - target).sum(dim=1).mean()

    assert_matches_torch("generalized_kl", {}, {"pred": x, "target": t}, fn)


def test_generalized_kl_is_kl_div_for_distributions_and_refuses_overflow():
    p, q = probs(floor=0.01), probs()
    a, _ = ours("generalized_kl", {}, {"pred": np.log(p), "target": q})
    b, _ = ours("kl_div", {}, {"pred": p, "target": q})
    assert_close(a, b, 1e-12, "kl_div on normalised rows")
    with pytest.raises(InputDataError, match="709"):
        ours("generalized_kl", {}, {"pred": [[1e4, 0.0]], "target": [[1.0, 0.0]]})


# ----------------------------------------------------------------------------- total_variation, wasserstein_1d


@pytest.mark.parametrize("target_kind", ["soft", "index", "exact"])
def test_total_variation_and_wasserstein_match_references(target_kind):
    p = probs(floor=0.0)
    if target_kind == "soft":
        q = probs()
        tq = q
    elif target_kind == "index":
        q = rng.integers(0, K, size=50).astype(float)
        tq = np.eye(K)[q.astype(int)]
    else:  # exact 0/1 on both sides
        p = np.eye(K)[rng.integers(0, K, size=50)]
        q = tq = np.eye(K)[rng.integers(0, K, size=50)]
    assert_matches_torch("total_variation", {}, {"pred": p, "target": q},
                         lambda pred, target: 0.5 * (pred - T(tq)).abs().sum(dim=1).mean())
    value, _ = ours("wasserstein_1d", {}, {"pred": p, "target": q})
    bins = np.arange(K)
    ref = np.mean([wasserstein_distance(bins, bins, p[i], tq[i]) for i in range(50)])
    assert_close(value, ref, 1e-12, "scipy wasserstein_distance")
    assert_matches_torch("wasserstein_1d", {}, {"pred": p, "target": q},
                         lambda pred, target: (pred - T(tq)).cumsum(dim=1)[:, :-1].abs().sum(dim=1).mean())


def test_wasserstein_refuses_rows_of_different_mass():
    with pytest.raises(InputDataError, match="different total mass"):
        ours("wasserstein_1d", {}, {"pred": [[0.5, 0.2, 0.1]], "target": [[0.2, 0.3, 0.5]]})
    # near misses cost less than far ones: the point of an ordinal distance
    near, _ = ours("wasserstein_1d", {}, {"pred": [[0.0, 0.0, 1.0, 0.0]], "target": [3.0]})
    far, _ = ours("wasserstein_1d", {}, {"pred": [[1.0, 0.0, 0.0, 0.0]], "target": [3.0]})
    assert (near, far) == (1.0, 3.0)
