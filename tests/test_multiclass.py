"""Multi-class losses against torch (values and autograd), Keras' documented numbers and scikit-learn.

References relied on:
- torch.nn.functional.cross_entropy / nll_loss / kl_div / multi_margin_loss (torch 2.13, called directly here).
- keras/losses/losses.py categorical_crossentropy: label smoothing t (1 - eps) + eps / K; the Keras backend's
  from_logits=False path rescales rows to sum 1 and clips to [epsilon, 1 - epsilon], epsilon = 1e-7; worked
  numbers from the keras.metrics.CategoricalCrossentropy and keras.backend.categorical_crossentropy docstrings.
- sklearn.metrics.brier_score_loss (1.9, scale_by_half="auto").
- PolyLoss (Leng et al. 2022) and the softmax focal loss (Lin et al. 2017): formulas written here in torch ops.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from sklearn.metrics import brier_score_loss

from losscli import compute
from losscli.cli import main
from losscli.errors import InputDataError
from losscli.spec import parse_spec

from .harness import named, assert_close, assert_matches_torch, ours

K = 4
W = (1.0, 2.0, 0.5, 3.0)


def rng():
    return np.random.default_rng(7)


def logits(kind: str, n: int = 40, k: int = K) -> np.ndarray:
    r = rng()
    if kind == "random":
        return r.normal(size=(n, k)) * 2.0
    if kind == "huge":  # logits of +-1e4: softmax probabilities of exactly 0 and 1 in float64
        return r.choice([-1e4, 1e4, 0.0, 3.0], size=(n, k))
    if kind == "single":
        return np.array([[2.5, 0.1, -1.2, 0.7]])[:, :k]
    raise ValueError(kind)


def index_target(n: int, k: int = K, ignore=None) -> np.ndarray:
    y = rng().integers(0, k, size=n).astype(float)
    if ignore is not None:
        y[1::4] = ignore
    return y


def soft_target(n: int, k: int = K, onehot: bool = False) -> np.ndarray:
    r = np.random.default_rng(11)
    if onehot:  # exact 0 and 1
        return np.eye(k)[r.integers(0, k, size=n)]
    return r.dirichlet(np.ones(k), size=n)


def probs(n: int = 40, k: int = K, floor: float = 0.0) -> np.ndarray:
    p = np.random.default_rng(5).dirichlet(np.ones(k) * 1.5, size=n)
    return p * (1 - k * floor) + floor


def T(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def long(y):
    return torch.tensor(np.asarray(y)).long()


# ----------------------------------------------------------------------------- cross_entropy


def test_cross_entropy_worked_example():
    # torch CrossEntropyLoss on logits [2.5, 0.1, -1.2] with class 0 gives 0.10925 (worked example of the brief,
    # reproduced by torch itself below).
    pred = np.array([[2.5, 0.1, -1.2]])
    value, _ = ours("cross_entropy", {}, {"pred": pred, "target": [0.0]})
    assert round(value, 5) == 0.10925
    assert_close(value, F.cross_entropy(T(pred), long([0])).item(), 1e-12, "worked example vs torch")
    assert_close(value, -math.log(math.exp(2.5) / (math.exp(2.5) + math.exp(0.1) + math.exp(-1.2))), 1e-12, "by hand")


CE_INDEX_PARAMS = [
    {},
    {"label_smoothing": 0.1},
    {"weight": W},
    {"ignore_index": -100},
    {"ignore_index": 2},
    {"label_smoothing": 0.25, "weight": W},
    {"label_smoothing": 0.25, "weight": W, "ignore_index": -100},
    {"label_smoothing": 1.0, "weight": W},
]


def ce_torch(params):
    weight = None if params.get("weight") is None else T(params["weight"])

    def fn(pred, target):
        tgt = target[:, 0].long() if target.shape[1] == 1 else target
        return F.cross_entropy(pred, tgt, weight=weight, ignore_index=params.get("ignore_index", -100),
                               label_smoothing=params.get("label_smoothing", 0.0))

    return fn


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
@pytest.mark.parametrize("params", CE_INDEX_PARAMS, ids=str)
def test_cross_entropy_index_targets_match_torch(params, kind):
    pred = logits(kind)
    n = pred.shape[0]
    ignore = params.get("ignore_index") if "ignore_index" in params and n > 1 else None
    target = index_target(n, ignore=ignore if ignore == -100 else None)
    assert_matches_torch("cross_entropy", params, {"pred": pred, "target": target}, ce_torch(params))


CE_SOFT_PARAMS = [{}, {"label_smoothing": 0.2}, {"weight": W}, {"label_smoothing": 0.2, "weight": W}]


@pytest.mark.parametrize("onehot", [False, True])
@pytest.mark.parametrize("kind", ["random", "huge", "single"])
@pytest.mark.parametrize("params", CE_SOFT_PARAMS, ids=str)
def test_cross_entropy_probability_targets_match_torch(params, kind, onehot):
    # torch divides the weighted probability-target loss by N, not by a sum of weights.
    pred = logits(kind)
    target = soft_target(pred.shape[0], onehot=onehot)
    assert_matches_torch("cross_entropy", params, {"pred": pred, "target": target}, ce_torch(params))


def test_cross_entropy_sum_reduction_and_sample_weights_match_torch():
    pred, target = logits("random"), index_target(40)
    params = {"label_smoothing": 0.1, "weight": W}
    ref = lambda pred, target: F.cross_entropy(pred, target[:, 0].long(), weight=T(W), label_smoothing=0.1,  # noqa: E731
                                               reduction="sum")
    assert_matches_torch("cross_entropy", params, {"pred": pred, "target": target}, ref, reduction="sum")
    # integer sample weights are repeated rows for torch
    counts = np.random.default_rng(3).integers(1, 4, size=40)
    rep = {"pred": np.repeat(pred, counts, 0), "target": np.repeat(target, counts)}
    value, _ = ours("cross_entropy", params, {"pred": pred, "target": target}, weight=counts.astype(float))
    assert_close(value, ce_torch(params)(T(rep["pred"]), T(rep["target"])[:, None]).item(), 1e-10, "weighted")


def test_cross_entropy_all_rows_ignored_is_nan_like_torch():
    pred = logits("random", n=3)
    value, _ = ours("cross_entropy", {}, {"pred": pred, "target": [-100.0] * 3})
    assert math.isnan(value) and math.isnan(F.cross_entropy(T(pred), long([-100] * 3)).item())


def ce_probs_torch(params):
    """-sum_k c_k log p_k on probabilities, c as torch builds it; value also checked against F.cross_entropy(log p)."""
    eps = params.get("label_smoothing", 0.0)
    w = T(params["weight"]) if params.get("weight") is not None else None

    def fn(pred, target):
        k = pred.shape[1]
        if target.shape[1] == 1:
            y = target[:, 0].long()
            wv = torch.ones(k, dtype=torch.float64) if w is None else w
            nll = F.nll_loss(torch.log(pred), y, weight=w, reduction="sum")
            smooth = -(torch.xlogy(wv.expand_as(pred), pred)).sum()
            return ((1 - eps) * nll + eps / k * smooth) / wv[y].sum()
        t = target * (1 - eps) + eps / k
        if w is not None:
            t = t * w
        return -torch.xlogy(t, pred).sum() / pred.shape[0]

    return fn


@pytest.mark.parametrize("target_kind", ["index", "soft", "onehot"])
@pytest.mark.parametrize("params", [{}, {"label_smoothing": 0.1}, {"weight": W}, {"label_smoothing": 0.3, "weight": W}],
                         ids=str)
def test_cross_entropy_on_probabilities(params, target_kind):
    p = probs(floor=1e-3)
    target = {"index": index_target(40), "soft": soft_target(40), "onehot": soft_target(40, onehot=True)}[target_kind]
    full = {"from_logits": False, **params}
    assert_matches_torch("cross_entropy", full, {"pred": p, "target": target}, ce_probs_torch(params))
    # rows sum to 1, so log_softmax(log p) = log p and torch's own CrossEntropyLoss gives the same value
    value, _ = ours("cross_entropy", full, {"pred": p, "target": target})
    tgt = long(target) if target_kind == "index" else T(target)
    assert_close(value, ce_torch(params)(T(np.log(p)), tgt[:, None] if target_kind == "index" else tgt).item(),
                 1e-9, "probabilities vs torch on log p")


def test_cross_entropy_probability_zero_where_target_has_no_mass_counts_zero():
    # 0 log 0 = 0: a class with p = 0 and t = 0 adds nothing (and no gradient), as torch.xlogy.
    p = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]])
    t = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    value, grad = ours("cross_entropy", {"from_logits": False}, {"pred": p, "target": t})
    assert_close(value, -(math.log(0.7) + math.log(0.5)) / 2, 1e-12, "0 log 0")
    assert np.all(np.isfinite(grad)) and grad[0, 0] == 0 and grad[1, 2] == 0
    value_idx, _ = ours("cross_entropy", {"from_logits": False}, {"pred": p, "target": [2.0, 0.0]})
    assert_close(value_idx, value, 1e-12, "index targets")


def keras_ce(pred, target):
    # Keras from_logits=False: rescale rows to sum 1, clip to [1e-7, 1 - 1e-7], -sum t log
    q = pred / pred.sum(dim=1, keepdim=True)
    return -(target * torch.log(q.clamp(1e-7, 1 - 1e-7))).sum(dim=1).mean()


def test_cross_entropy_keras_compat_matches_keras_formula():
    p = probs(floor=1e-3) * np.random.default_rng(2).uniform(0.5, 2.0, size=(40, 1))  # rows not summing to 1
    p = np.clip(p, 0, 1)
    t = soft_target(40)
    assert_matches_torch("cross_entropy", {"from_logits": False, "compat": "keras"}, {"pred": p, "target": t}, keras_ce)
    # exact zeros and ones are clipped, not refused
    p2 = np.array([[0.0, 1.0, 0.0], [0.2, 0.8, 0.0]])
    t2 = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert_matches_torch("cross_entropy", {"from_logits": False, "compat": "keras"}, {"pred": p2, "target": t2}, keras_ce)


def test_cross_entropy_keras_worked_numbers():
    # keras.metrics.CategoricalCrossentropy docstring: result 1.1769392 (float32)
    value, _ = ours("cross_entropy", {"from_logits": False, "compat": "keras"},
                    {"pred": [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], "target": [[0, 1, 0], [0, 0, 1]]})
    assert_close(value, 1.1769392, 1e-6, "keras metric docstring")
    # keras.backend.categorical_crossentropy docstring: per-row [0.10536 0.11653 0.06188]; tf.keras loss doc: 0.0945
    pred = [[0.9, 0.05, 0.05], [0.05, 0.89, 0.06], [0.05, 0.01, 0.94]]
    value, _ = ours("cross_entropy", {"from_logits": False, "compat": "keras"}, {"pred": pred, "target": np.eye(3)})
    assert abs(value - 0.0945) < 1e-4  # the docstring prints 4 digits of 0.09459
    assert_close(value, (0.10536 + 0.11653 + 0.06188) / 3, 1e-4, "keras backend docstring")
    # label smoothing: Keras and torch agree on t (1 - eps) + eps / K, so compat only changes probability handling
    x = logits("random")
    t = soft_target(40)
    a, _ = ours("cross_entropy", {"label_smoothing": 0.2, "compat": "keras"}, {"pred": x, "target": t})
    b, _ = ours("cross_entropy", {"label_smoothing": 0.2}, {"pred": x, "target": t})
    assert a == b


def test_cross_entropy_million_rows():
    r = np.random.default_rng(0)
    pred = r.normal(size=(1_000_000, K)) * 3
    target = r.integers(0, K, size=1_000_000).astype(float)
    from .harness import reduced_value

    value = reduced_value("cross_entropy", {"label_smoothing": 0.1, "weight": W}, {"pred": pred, "target": target})
    ref = F.cross_entropy(T(pred), long(target), weight=T(W), label_smoothing=0.1).item()
    assert_close(value, ref, 1e-9, "million rows")


# ----------------------------------------------------------------------------- nll


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
@pytest.mark.parametrize("params", [{}, {"weight": W}, {"weight": W, "ignore_index": -100}, {"ignore_index": 1}], ids=str)
def test_nll_matches_torch(params, kind):
    logp = np.asarray(torch.log_softmax(T(logits(kind)), dim=1))
    n = logp.shape[0]
    target = index_target(n, ignore=-100 if params.get("ignore_index") == -100 and n > 1 else None)
    weight = T(params["weight"]) if "weight" in params else None

    def ref(pred, target):
        return F.nll_loss(pred, target[:, 0].long(), weight=weight, ignore_index=params.get("ignore_index", -100))

    assert_matches_torch("nll", params, {"pred": logp, "target": target}, ref)


# ----------------------------------------------------------------------------- kl_div


@pytest.mark.parametrize("onehot", [False, True])
@pytest.mark.parametrize("n", [40, 1])
def test_kl_div_matches_torch_batchmean(onehot, n):
    p = probs(n=n, floor=1e-4)
    t = soft_target(n, onehot=onehot)
    assert_matches_torch("kl_div", {}, {"pred": p, "target": t},
                         lambda pred, target: F.kl_div(torch.log(pred), target, reduction="batchmean"))


def test_kl_div_zero_prediction_where_target_zero_is_fine():
    p = np.array([[0.0, 0.4, 0.6]])
    t = np.array([[0.0, 0.5, 0.5]])
    value, grad = ours("kl_div", {}, {"pred": p, "target": t})
    assert_close(value, 0.5 * math.log(0.5 / 0.4) + 0.5 * math.log(0.5 / 0.6), 1e-12, "0 log 0")
    assert grad[0, 0] == 0.0


# ----------------------------------------------------------------------------- multi_margin


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
@pytest.mark.parametrize("params", [{}, {"p": 2}, {"margin": 0.5}, {"p": 2, "margin": 2.0}, {"weight": W},
                                    {"p": 2, "margin": 0.3, "weight": W}], ids=str)
def test_multi_margin_matches_torch(params, kind):
    pred = logits(kind) * (1.0 if kind != "random" else 0.5)
    target = index_target(pred.shape[0])
    weight = T(params["weight"]) if "weight" in params else None

    def ref(pred, target):
        return F.multi_margin_loss(pred, target[:, 0].long(), p=params.get("p", 1), margin=params.get("margin", 1.0),
                                   weight=weight)

    assert_matches_torch("multi_margin", params, {"pred": pred, "target": target}, ref)


# ----------------------------------------------------------------------------- poly1 and focal_ce


def onehot_t(target, k):
    return F.one_hot(target[:, 0].long(), k).double() if target.shape[1] == 1 else target


def poly1_torch(epsilon):
    # Leng et al. 2022: Poly-1 = CE + epsilon (1 - p_t), p_t = sum(labels * softmax(logits))
    def fn(pred, target):
        t = onehot_t(target, pred.shape[1])
        ce = -(t * F.log_softmax(pred, dim=1)).sum(dim=1)
        pt = (t * F.softmax(pred, dim=1)).sum(dim=1)
        return (ce + epsilon * (1 - pt)).mean()

    return fn


@pytest.mark.parametrize("target_kind", ["index", "soft", "onehot"])
@pytest.mark.parametrize("kind", ["random", "huge", "single"])
@pytest.mark.parametrize("epsilon", [1.0, -1.0, 2.5, 0.0])
def test_poly1_matches_formula(epsilon, kind, target_kind):
    pred = logits(kind)
    n = pred.shape[0]
    target = {"index": index_target(n), "soft": soft_target(n), "onehot": soft_target(n, onehot=True)}[target_kind]
    assert_matches_torch("poly1", {"epsilon": epsilon}, {"pred": pred, "target": target}, poly1_torch(epsilon))


def test_poly1_epsilon_zero_is_cross_entropy():
    pred, target = logits("random"), index_target(40)
    assert_matches_torch("poly1", {"epsilon": 0.0}, {"pred": pred, "target": target},
                         lambda pred, target: F.cross_entropy(pred, target[:, 0].long()))


def focal_torch(gamma, alpha):
    def fn(pred, target):
        t = onehot_t(target, pred.shape[1])
        logp = F.log_softmax(pred, dim=1)
        a = torch.ones(pred.shape[1], dtype=torch.float64) if alpha is None else T(alpha)
        return -(a * (1 - logp.exp()) ** gamma * t * logp).sum(dim=1).mean()

    return fn


@pytest.mark.parametrize("target_kind", ["index", "soft"])
@pytest.mark.parametrize("kind", ["random", "huge", "single"])
@pytest.mark.parametrize("params", [{}, {"gamma": 1.0}, {"gamma": 3.5, "alpha": (0.25, 0.5, 0.75, 1.0)},
                                    {"alpha": W}], ids=str)
def test_focal_ce_matches_formula(params, kind, target_kind):
    pred = logits(kind)
    n = pred.shape[0]
    target = index_target(n) if target_kind == "index" else soft_target(n)
    fn = focal_torch(params.get("gamma", 2.0), params.get("alpha"))
    assert_matches_torch("focal_ce", params, {"pred": pred, "target": target}, fn)


def test_focal_ce_fractional_gamma_and_gamma_zero():
    pred, target = logits("random"), soft_target(40)
    assert_matches_torch("focal_ce", {"gamma": 0.5}, {"pred": pred, "target": target}, focal_torch(0.5, None))
    assert_matches_torch("focal_ce", {"gamma": 0.0}, {"pred": pred, "target": target},
                         lambda pred, target: F.cross_entropy(pred, target))
    # gamma < 1 at p = 1 exactly: torch's autograd gives nan (inf * 0); we take the limit, 0
    value, grad = ours("focal_ce", {"gamma": 0.5}, {"pred": [[1e4, 0.0, -1e4]], "target": [0.0]})
    assert value == 0.0 and np.all(np.isfinite(grad))


# ----------------------------------------------------------------------------- brier


def test_brier_matches_sklearn():
    r = np.random.default_rng(9)
    p = probs()
    y = r.integers(0, K, size=40)
    value, _ = ours("brier", {}, {"pred": p, "target": y.astype(float)})
    assert_close(value, brier_score_loss(y, p, labels=list(range(K))), 1e-12, "multi-class")
    value, _ = ours("brier", {"scale_by_half": "true"}, {"pred": p, "target": y.astype(float)})
    assert_close(value, brier_score_loss(y, p, labels=list(range(K)), scale_by_half=True), 1e-12, "multi-class half")
    # binary, one column: the positive-class probability, exact 0 and 1 included
    pb = np.concatenate([r.uniform(size=38), [0.0, 1.0]])
    yb = r.integers(0, 2, size=40)
    for scale in ("auto", "false", "true"):
        sk = {"auto": "auto", "false": False, "true": True}[scale]
        value, _ = ours("brier", {"scale_by_half": scale}, {"pred": pb, "target": yb.astype(float)})
        assert_close(value, brier_score_loss(yb, pb, scale_by_half=sk), 1e-12, f"binary {scale}")
        # two columns, binary: sklearn treats it as binary and halves by default
        p2 = np.stack([1 - pb, pb], axis=1)
        value, _ = ours("brier", {"scale_by_half": scale}, {"pred": p2, "target": yb.astype(float)})
        assert_close(value, brier_score_loss(yb, p2, scale_by_half=sk), 1e-12, f"two columns {scale}")
    # one-hot probability targets give the index-target number
    value, _ = ours("brier", {}, {"pred": p, "target": np.eye(K)[y]})
    assert_close(value, brier_score_loss(y, p, labels=list(range(K))), 1e-12, "one-hot targets")


def test_brier_gradient_matches_torch():
    p, t = probs(), soft_target(40)
    assert_matches_torch("brier", {}, {"pred": p, "target": t}, lambda pred, target: ((pred - target) ** 2).sum(1).mean())
    pb, yb = probs(k=1 + 1)[:, :1], index_target(40, k=2)
    assert_matches_torch("brier", {}, {"pred": pb, "target": yb}, lambda pred, target: ((pred - target) ** 2).mean())


# ----------------------------------------------------------------------------- js_div and hellinger


def js_torch(pred, target):
    m = (pred + target) / 2
    # torch's own KL, input log m: KL(p || m) and KL(q || m), batchmean
    return 0.5 * (F.kl_div(torch.log(m), pred, reduction="batchmean") + F.kl_div(torch.log(m), target, reduction="batchmean"))


def hellinger_torch(pred, target):
    return torch.sqrt(0.5 * ((pred.sqrt() - target.sqrt()) ** 2).sum(dim=1)).mean()


@pytest.mark.parametrize("onehot", [False, True])
@pytest.mark.parametrize("n", [40, 1])
@pytest.mark.parametrize("name,fn", [("js_div", js_torch), ("hellinger", hellinger_torch)])
def test_divergences_match_formula(name, fn, n, onehot):
    p = probs(n=n, floor=1e-4)
    t = soft_target(n, onehot=onehot)
    assert_matches_torch(name, {}, {"pred": p, "target": t}, fn)


def test_divergence_edge_values():
    # disjoint supports: JS = log 2, Hellinger = 1 (the normalisation with 1/2 inside the root); p = q gives 0
    p, q = np.array([[0.5, 0.5, 0.0, 0.0]]), np.array([[0.0, 0.0, 0.5, 0.5]])
    # p is 0 where q > 0 here, so every entry point refuses it (the gradient is infinite); the value
    # itself is finite, as the definitions show
    from losscli.catalogue import get
    from losscli.errors import InputDataError

    assert_close(get("js_div").value(pred=p, target=q)[0], math.log(2), 1e-12, "js disjoint")
    assert_close(get("hellinger").value(pred=p, target=q)[0], 1.0, 1e-12, "hellinger disjoint")
    for name in ("js_div", "hellinger"):
        with pytest.raises(InputDataError, match="gradient is infinite"):
            ours(name, {}, {"pred": p, "target": q})
    same = probs(n=3)
    for name in ("js_div", "hellinger"):
        value, grad = ours(name, {}, {"pred": same, "target": same})
        assert value == 0.0 and np.all(np.isfinite(grad))
    # hellinger at p = q: the zero subgradient (sqrt has no derivative at 0)
    assert np.all(ours("hellinger", {}, {"pred": same, "target": same})[1] == 0.0)
    # p_k = q_k = 0: finite one-sided derivatives, js 1/2 log 2 and hellinger 1 / (4 H)
    p, q = np.array([[0.0, 0.3, 0.7]]), np.array([[0.0, 0.6, 0.4]])
    _, g = ours("js_div", {}, {"pred": p, "target": q})
    assert_close(g[0, 0], 0.5 * math.log(2), 1e-12, "js at 0/0")
    h, g = ours("hellinger", {}, {"pred": p, "target": q})
    assert_close(g[0, 0], 1 / (4 * h), 1e-12, "hellinger at 0/0")


def test_multiclass_million_rows_divergences():
    r = np.random.default_rng(1)
    p = r.dirichlet(np.ones(3), size=1_000_000) + 1e-9
    q = r.dirichlet(np.ones(3), size=1_000_000)
    from .harness import reduced_value

    for name, fn in (("kl_div", lambda a, b: F.kl_div(torch.log(a), b, reduction="batchmean")), ("js_div", js_torch)):
        assert_close(reduced_value(name, {}, {"pred": p, "target": q}), fn(T(p), T(q)).item(), 1e-9, name)


# ----------------------------------------------------------------------------- input checks (API and CLI)


def run(spec: str, data: dict, **columns):
    table = named(pa.table(data), "t.csv")
    return compute(table, [parse_spec(spec)], pred=columns.get("pred"), target=columns.get("target"))


def three_logits(target):
    n = len(target)
    return {"logit_0": [0.1] * n, "logit_1": [0.2] * n, "logit_2": [0.3] * n, "target": target}


def test_class_index_out_of_range_names_rows():
    with pytest.raises(InputDataError) as err:
        run("cross_entropy", three_logits([0, 1, 12, 2, 3]))
    msg = err.value.message
    assert "class index 12 but there are 3 logit columns" in msg and "target" in msg and "rows 3, 5" in msg


def test_non_integer_class_index_names_rows():
    with pytest.raises(InputDataError) as err:
        run("cross_entropy", three_logits([0.0, 1.5, 2.0]))
    assert "class index 1.5 is not a whole number" in err.value.message and "row 2" in err.value.message


def test_negative_index_refused_but_ignore_index_accepted():
    with pytest.raises(InputDataError, match="class index -1 but"):
        run("nll", {"logp_0": [-0.5, -0.1], "logp_1": [-1.0, -2.4], "target": [0, -1]}, pred="logp_*")
    report = run("cross_entropy:ignore_index=-1", three_logits([0, -1, 2]))
    assert report is not None


def test_weight_length_must_match_classes():
    with pytest.raises(InputDataError, match="weight parameter has 2 values but pred has 3"):
        run("cross_entropy:weight=1;2", three_logits([0, 1, 2]))


def test_cli_class_index_out_of_range_exit_3(tmp_path):
    path = tmp_path / "mc.csv"
    path.write_text("logit_0,logit_1,logit_2,target\n0.1,0.2,0.3,0\n0.1,0.2,0.3,7\n")
    result = CliRunner().invoke(main, ["compute", "-l", "cross_entropy", str(path)])
    assert result.exit_code == 3
    assert "class index 7 but there are 3 logit columns" in result.stderr and "row 2" in result.stderr


def test_cli_kl_div_given_logits_exit_3_with_hint(tmp_path):
    path = tmp_path / "kl.csv"
    path.write_text("logit_0,logit_1,target_0,target_1\n2.5,-1.0,0.9,0.1\n0.3,0.2,0.5,0.5\n")
    result = CliRunner().invoke(main, ["compute", "-l", "kl_div", str(path)])
    assert result.exit_code == 3
    assert "probabilities" in result.stderr and "softmax" in result.stderr and "row 1" in result.stderr


def test_zero_probability_refusals_name_rows():
    data = {"prob_0": [0.5, 0.0, 0.2], "prob_1": [0.5, 1.0, 0.8], "target_0": [0.5, 0.3, 0.0], "target_1": [0.5, 0.7, 1.0]}
    for spec, text in (("kl_div", "is infinite"), ("hellinger", "gradient is infinite"), ("js_div", "gradient is infinite"),
                       ("cross_entropy:from_logits=false", "-log p infinite")):
        with pytest.raises(InputDataError) as err:
            run(spec, data)
        assert text in err.value.message and "row 2" in err.value.message, spec
    # Keras compat clips instead of refusing
    assert run("cross_entropy:from_logits=false,compat=keras", data) is not None


def test_from_logits_false_refuses_values_outside_unit_interval():
    with pytest.raises(InputDataError, match="from_logits=false pred must be probabilities"):
        run("cross_entropy:from_logits=false", three_logits([0, 1, 2]) | {"logit_0": [1.5, 0.1, 0.1]})


def test_single_class_column_refused():
    with pytest.raises(InputDataError, match="K >= 2"):
        run("cross_entropy", {"logit_0": [0.1, 0.2], "target": [0, 0]})


def test_brier_binary_target_must_be_zero_or_one():
    with pytest.raises(InputDataError, match="must be 0 or 1"):
        run("brier", {"prob": [0.2, 0.7], "target": [0, 2]})
