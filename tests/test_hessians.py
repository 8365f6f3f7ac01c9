"""Hessian diagonals against torch autograd's second derivatives, and on adversarial inputs.

Finite differences of the gradient check every loss with a Hessian (test_catalogue_properties.py);
here the losses torch has (torch.nn.functional, torch.distributions, and torchvision's sigmoid focal
loss, Ultralytics' keypoint loss and the paper or library formulas of the others, written out in
torch ops) are differentiated twice by autograd, with the same reduction and weights, and the
extremes the project's standards ask for are checked against closed forms computed independently.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import expit

import losscli

from .harness import as_arrays, assert_close, assert_hessian_matches_torch
from .test_pairs_keypoints import keypoints, ultralytics

rng = np.random.default_rng(11)


def reduce(per_element, reduction, weight=None):
    """torch's mean/sum of an (n, c) loss, or losscli's weighted mean sum w_i sum_j l_ij / (sum w_i * c)."""
    if weight is None:
        return per_element.mean() if reduction == "mean" else per_element.sum()
    w = torch.tensor(weight, dtype=torch.float64)[:, None]
    total = (w * per_element).sum()
    return total / (w.sum() * per_element.shape[1]) if reduction == "mean" else total


def residuals(n=7, c=2, scale=2.0):
    target = rng.normal(size=(n, c))
    r = rng.normal(size=(n, c)) * scale
    r[np.abs(r) < 1e-2] += 0.05  # away from the kink at 0
    return {"pred": target + r, "target": target}


def logits(n=7, c=2, soft=False):
    target = rng.uniform(size=(n, c)) if soft else (rng.random((n, c)) < 0.4).astype(float)
    return {"pred": rng.normal(size=(n, c)) * 3.0, "target": target}


def classes(n=6, k=4, soft=False, ignore=False):
    target = rng.dirichlet(np.ones(k), size=n) if soft else rng.integers(0, k, size=n).astype(float)
    if ignore:
        target[1::3] = -100.0
    return {"pred": rng.normal(size=(n, k)) * 2.0, "target": target}


ELEMENTWISE = [
    ("mse", {}, residuals, lambda pred, target: (pred - target) ** 2),
    ("mae", {}, residuals, lambda pred, target: (pred - target).abs()),
    ("huber", {"delta": 0.7}, residuals, lambda pred, target: F.huber_loss(pred, target, reduction="none", delta=0.7)),
    ("smooth_l1", {"beta": 0.5}, residuals,
     lambda pred, target: F.smooth_l1_loss(pred, target, reduction="none", beta=0.5)),
    ("log_cosh", {}, residuals, lambda pred, target: torch.log(torch.cosh(pred - target))),
    ("poisson", {"full": True}, lambda: {"pred": rng.normal(size=(7, 2)), "target": rng.poisson(2.0, (7, 2)) * 1.0},
     lambda pred, target: F.poisson_nll_loss(pred, target, full=True, reduction="none")),
    ("poisson", {"log_input": False}, lambda: {"pred": rng.uniform(0.5, 3, (7, 2)), "target": rng.poisson(2.0, (7, 2)) * 1.0},
     lambda pred, target: F.poisson_nll_loss(pred, target, log_input=False, reduction="none")),
    ("bce", {}, lambda: {"pred": rng.uniform(0.02, 0.98, (7, 2)), "target": rng.uniform(size=(7, 2))},
     lambda pred, target: F.binary_cross_entropy(pred, target, reduction="none")),
    ("bce_logits", {"pos_weight": 2.5}, logits,
     lambda pred, target: F.binary_cross_entropy_with_logits(pred, target, reduction="none",
                                                              pos_weight=torch.tensor(2.5, dtype=torch.float64))),
    ("soft_margin", {}, lambda: {"pred": rng.normal(size=(7, 2)) * 3, "target": rng.choice([-1.0, 1.0], (7, 2))},
     lambda pred, target: F.soft_margin_loss(pred, target, reduction="none")),
]


def sigmoid_focal(gamma, alpha):
    """torchvision.ops.sigmoid_focal_loss, written out (torchvision is not installed here)."""
    def loss(pred, target):
        p = torch.sigmoid(pred)
        ce = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
        p_t = p * target + (1 - p) * (1 - target)
        out = ce * (1 - p_t) ** gamma
        if alpha >= 0:
            out = (alpha * target + (1 - alpha) * (1 - target)) * out
        return out

    return loss


for gamma, alpha in ((2.0, 0.25), (1.5, -1.0), (0.0, 0.25), (3.0, 0.6)):
    ELEMENTWISE.append(("focal", {"gamma": gamma, "alpha": alpha}, logits, sigmoid_focal(gamma, alpha)))
ELEMENTWISE.append(("focal", {"gamma": 2.0}, lambda: logits(soft=True), sigmoid_focal(2.0, 0.25)))


def student_t(df, scale):
    """-log of torch.distributions.StudentT(df, loc=target, scale) at pred, per element."""
    def loss(pred, target):
        return -torch.distributions.StudentT(torch.tensor(df, dtype=torch.float64), target,
                                             torch.tensor(scale, dtype=torch.float64)).log_prob(pred)

    return loss


def wing(w, epsilon):
    """Feng et al. (2018), eq. 5: w ln(1 + |r|/epsilon) for |r| < w, else |r| - C."""
    def loss(pred, target):
        a = (pred - target).abs()
        return torch.where(a < w, w * torch.log1p(a / epsilon), a - (w - w * np.log1p(w / epsilon)))

    return loss


def sparse_plus(z):
    """optax (jax.nn.sparse_plus): 0 for z <= -1, (z + 1)^2 / 4 for |z| < 1, z for z >= 1."""
    return torch.where(z <= -1, torch.zeros_like(z), torch.where(z < 1, (z + 1) ** 2 / 4, z))


def signed_pairs(n=7, c=2, margin=1.0):
    """hinge_embedding inputs: +-1 labels, values kept 0.05 off the hinge at x = margin."""
    x = rng.uniform(-1.0, 3.0, size=(n, c))
    x[np.abs(x - margin) < 0.05] += 0.1
    return {"pred": x, "target": rng.choice([-1.0, 1.0], size=(n, c))}


def ranked_pairs(n=7, c=2, margin=0.5):
    """margin_ranking inputs with -y (x1 - x2) + margin kept 0.05 off 0 (the hinge)."""
    y = rng.choice([-1.0, 1.0], size=(n, c))
    second = rng.normal(size=(n, c))
    z = rng.normal(size=(n, c))
    z[np.abs(z) < 0.05] += 0.1
    return {"pred": second + y * (margin - z), "second": second, "target": y}


ELEMENTWISE += [
    ("student_t_nll", {}, residuals, student_t(1.0, 1.0)),
    ("student_t_nll", {"df": 4.0, "scale": 0.5}, residuals, student_t(4.0, 0.5)),
    # residuals of ~1e3 scales: the far form in 1/u
    ("student_t_nll", {"df": 2.5, "scale": 3.0}, lambda: residuals(scale=3e3), student_t(2.5, 3.0)),
    ("student_t_nll", {"df": 0.3, "scale": 2.0}, lambda: residuals(n=1, c=1), student_t(0.3, 2.0)),  # a single row
    ("wing", {}, lambda: residuals(scale=8.0), wing(10.0, 2.0)),
    ("wing", {"w": 1.0, "epsilon": 0.5}, residuals, wing(1.0, 0.5)),
    # sklearn's ExponentialLoss (half-logit link) and optax's sparse_plus of the signed logit, in torch ops
    ("exponential", {}, lambda: logits(soft=True), lambda pred, target: target * torch.exp(-pred)
     + (1 - target) * torch.exp(pred)),
    ("sparsemax", {}, logits, lambda pred, target: sparse_plus(torch.where(target == 1, -pred, pred))),
    # piecewise linear: torch's first derivative carries no graph in x, so autograd's second derivative is 0
    ("hinge_embedding", {}, signed_pairs,
     lambda pred, target: F.hinge_embedding_loss(pred, target, margin=1.0, reduction="none")),
    ("margin_ranking", {"margin": 0.5}, ranked_pairs,
     lambda pred, second, target: F.margin_ranking_loss(pred, second, target, margin=0.5, reduction="none")),
]


@pytest.mark.parametrize("name,params,make,per_element", ELEMENTWISE,
                         ids=[f"{e[0]}-{e[1]}" for e in ELEMENTWISE])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_elementwise_hessians_match_torch_autograd(name, params, make, per_element, reduction):
    arrays = make()
    assert_hessian_matches_torch(name, params, arrays, lambda **t: reduce(per_element(**t), reduction),
                                 reduction=reduction)
    weight = rng.uniform(0.2, 3.0, size=len(arrays["pred"]))
    assert_hessian_matches_torch(name, params, arrays, lambda **t: reduce(per_element(**t), reduction, weight),
                                 reduction=reduction, weight=weight)


def test_gaussian_nll_hessian_matches_torch():
    data = {**residuals(), "var": rng.uniform(0.1, 2.0, size=(7, 1))}
    assert_hessian_matches_torch("gaussian_nll", {"eps": 0.3}, data,
                                 lambda pred, target, var: F.gaussian_nll_loss(pred, target, var, eps=0.3))


def test_rmse_hessian_has_the_roots_curvature():
    # rows are coupled through the root: d^2 sqrt(mean r^2)/dp^2 = 1/(N rmse) - r^2/(N^2 rmse^3)
    data = residuals()
    assert_hessian_matches_torch("rmse", {}, data, lambda pred, target: torch.sqrt(F.mse_loss(pred, target)))
    assert_hessian_matches_torch("rmse", {}, data, lambda pred, target: torch.sqrt(F.mse_loss(pred, target, reduction="sum")),
                                 reduction="sum")
    zero = {"pred": np.ones((3, 1)), "target": np.ones((3, 1))}
    assert np.all(losscli.get("rmse").hess(**zero) == 0.0)  # no derivative at the root's tip: 0, as the gradient


def multi_margin(pred, target, p, margin):
    """torch.nn.MultiMarginLoss(reduction="sum"): sum_i sum_{j != y_i} max(0, margin - x_iy + x_ij)^p / K."""
    y = target[:, 0].long()
    hinge = torch.clamp(margin - pred.gather(1, y[:, None]) + pred, min=0) ** p
    return (hinge * (1 - F.one_hot(y, pred.shape[1]))).sum() / pred.shape[1]


CLASS_CASES = [
    ("cross_entropy", {}, classes, lambda pred, target: F.cross_entropy(pred, target[:, 0].long(), reduction="sum")),
    ("cross_entropy", {"label_smoothing": 0.2, "weight": (1.0, 2.0, 0.5, 3.0), "ignore_index": -100},
     lambda: classes(ignore=True),
     lambda pred, target: F.cross_entropy(pred, target[:, 0].long(), reduction="sum", label_smoothing=0.2,
                                          weight=torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64))),
    ("cross_entropy", {}, lambda: classes(soft=True), lambda pred, target: F.cross_entropy(pred, target, reduction="sum")),
    ("cross_entropy", {"from_logits": False},
     lambda: {"pred": rng.dirichlet(np.ones(4) * 2, size=6) * 0.9 + 0.025, "target": rng.integers(0, 4, 6) * 1.0},
     lambda pred, target: F.nll_loss(pred.log(), target[:, 0].long(), reduction="sum")),
    ("nll", {"weight": (1.0, 2.0, 0.5, 3.0)},
     lambda: {"pred": np.log(rng.dirichlet(np.ones(4), size=6)), "target": rng.integers(0, 4, 6) * 1.0},
     lambda pred, target: F.nll_loss(pred, target[:, 0].long(), reduction="sum",
                                     weight=torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64))),
    ("kl_div", {}, lambda: {"pred": rng.dirichlet(np.ones(4) * 2, size=6), "target": rng.dirichlet(np.ones(4), size=6)},
     lambda pred, target: F.kl_div(pred.log(), target, reduction="sum")),
    # torch has no double backward for multi_margin_loss: its formula, written out
    ("multi_margin", {"p": 2, "margin": 0.8}, classes, lambda pred, target: multi_margin(pred, target, 2, 0.8)),
    ("multi_margin", {}, classes, lambda pred, target: multi_margin(pred, target, 1, 1.0)),
    ("focal_ce", {"gamma": 2.0, "alpha": (0.25, 0.5, 0.75, 1.0)}, lambda: classes(soft=True),
     lambda pred, target: -(torch.tensor([0.25, 0.5, 0.75, 1.0], dtype=torch.float64) * target
                            * (1 - F.softmax(pred, 1)) ** 2 * F.log_softmax(pred, 1)).sum()),
    ("poly1", {"epsilon": 1.5}, classes,
     lambda pred, target: (F.cross_entropy(pred, target[:, 0].long(), reduction="none") + 1.5 * (
         1 - F.softmax(pred, 1).gather(1, target.long()))[:, 0]).sum()),
]


def one_hot_of(pred, target):
    return F.one_hot(target[:, 0].long(), pred.shape[1]).double()


CLASS_CASES += [
    # Keras CategoricalGeneralizedCrossEntropy: (1 - p_y^q) / q on probabilities
    ("generalized_ce", {"q": 0.5}, lambda: {"pred": rng.dirichlet(np.ones(4) * 2, size=6) * 0.9 + 0.025,
                                            "target": rng.integers(0, 4, 6) * 1.0},
     lambda pred, target: ((1 - (one_hot_of(pred, target) * pred).sum(1) ** 0.5) / 0.5).sum()),
    ("generalized_ce", {"q": 0.1}, lambda: {"pred": rng.dirichlet(np.ones(4) * 2, size=1) * 0.9 + 0.025,
                                            "target": np.array([2.0])},  # a single row
     lambda pred, target: ((1 - (one_hot_of(pred, target) * pred).sum(1) ** 0.1) / 0.1).sum()),
    # optax generalized_kl_divergence: sum t (log t - x) + exp(x) - t, x the log-predictions
    ("generalized_kl", {}, lambda: {"pred": rng.normal(size=(6, 4)) * 3,
                                    "target": rng.gamma(2.0, size=(6, 4)) * (rng.random((6, 4)) > 0.2)},
     lambda pred, target: (torch.xlogy(target, target) - target * pred + torch.exp(pred) - target).sum()),
    ("multilabel_soft_margin", {"weight": (1.0, 2.0, 0.5, 0.0)}, lambda: logits(n=6, c=4, soft=True),
     lambda pred, target: F.multilabel_soft_margin_loss(
         pred, target, weight=torch.tensor([1.0, 2.0, 0.5, 0.0], dtype=torch.float64), reduction="sum")),
]


@pytest.mark.parametrize("name,params,make,torch_sum", CLASS_CASES, ids=[f"{c[0]}-{c[1]}" for c in CLASS_CASES])
def test_multiclass_hessian_diagonals_match_torch_autograd(name, params, make, torch_sum):
    # the reduction="sum" values of torch, so no denominator convention enters the comparison
    assert_hessian_matches_torch(name, params, make(), torch_sum, reduction="sum")


def test_cross_entropy_hessian_is_the_softmax_curvature():
    data = classes()
    p = expit(0.0) * 0 + np.exp(data["pred"]) / np.exp(data["pred"]).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(losscli.get("cross_entropy").hess(**data, reduction="sum"), p * (1 - p), rtol=1e-13)


def barron(alpha, scale):
    def loss(pred, target):
        x = (pred - target) / scale
        if alpha == 2.0:
            return 0.5 * x * x
        if alpha == 0.0:
            return torch.log(0.5 * x * x + 1)
        if alpha == -np.inf:
            return 1 - torch.exp(-0.5 * x * x)
        b = abs(alpha - 2.0)
        return b / alpha * ((x * x / b + 1) ** (alpha / 2) - 1)

    return loss


@pytest.mark.parametrize("alpha,scale", [(1.0, 1.0), (2.0, 0.5), (0.0, 1.3), (-2.0, 0.7), (-np.inf, 2.0), (0.5, 3.0),
                                         (3.5, 1.0), (-7.0, 1.0)])
def test_robust_hessian_matches_torch_autograd_of_barrons_formula(alpha, scale):
    assert_hessian_matches_torch("robust", {"alpha": alpha, "scale": scale}, residuals(),
                                 lambda **t: barron(alpha, scale)(**t).sum(), reduction="sum")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_multilabel_soft_margin_hessian_matches_torch_with_sample_weights(reduction):
    data = logits(n=6, c=4)
    assert_hessian_matches_torch("multilabel_soft_margin", {}, data,
                                 lambda pred, target: F.multilabel_soft_margin_loss(pred, target, reduction=reduction),
                                 reduction=reduction)
    # one value per row (torch's reduction="none"): the weighted mean is sum w_i l_i / sum w_i
    weight = rng.uniform(0.2, 3.0, size=6)
    w = torch.tensor(weight, dtype=torch.float64)

    def weighted(pred, target):
        rows = F.multilabel_soft_margin_loss(pred, target, reduction="none")
        return (w * rows).sum() / (w.sum() if reduction == "mean" else 1.0)

    assert_hessian_matches_torch("multilabel_soft_margin", {}, data, weighted, reduction=reduction, weight=weight)


def multilabel_margin_written_out(pred, target):
    """torch.nn.MultiLabelMarginLoss(reduction="sum") on multi-hot targets: sum over (relevant j, irrelevant k) of
    max(0, 1 - (x_j - x_k)) / C. torch has no double backward for multilabel_margin_loss, so its formula is written
    out, and checked here against torch's own value and gradient first."""
    pairs = (target[:, :, None] == 1) & (target[:, None, :] == 0)
    hinge = torch.clamp(1 - (pred[:, :, None] - pred[:, None, :]), min=0)
    return (hinge * pairs).sum() / pred.shape[1]


def test_multilabel_margin_hessian_is_autograds_zero():
    # each row's scores are a shuffle of 0, 0.37, ..., 1.48 (shifted): gaps of 0.37, 0.74, 1.11, 1.48, no pair on its
    # hinge (a gap of 1) or tied
    scores = rng.permuted(np.tile(np.arange(5) * 0.37, (6, 1)), axis=1) + rng.normal(size=(6, 1))
    data = {"pred": scores, "target": (rng.random((6, 5)) < 0.4) * 1.0}
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=(k == "pred")) for k, v in data.items()}
    indices = torch.tensor([list(np.flatnonzero(row == 1)) + [-1] * (5 - int(row.sum())) for row in data["target"]])
    reference = F.multilabel_margin_loss(tensors["pred"], indices, reduction="sum")
    (reference_grad,) = torch.autograd.grad(reference, tensors["pred"])
    ours = multilabel_margin_written_out(**tensors)
    (our_grad,) = torch.autograd.grad(ours, tensors["pred"])
    assert_close(ours.item(), reference.item(), 1e-14, "written-out multilabel margin vs torch")
    assert_close(our_grad.numpy(), reference_grad.numpy(), 1e-14, "its gradient vs torch")
    assert_hessian_matches_torch("multilabel_margin", {}, data, multilabel_margin_written_out, reduction="sum")


@pytest.mark.parametrize("kind,k,n", [("random", 4, 6), ("random", 17, 2), ("huge", 4, 5), ("tiny area", 4, 4),
                                      ("random", 3, 1)])
def test_oks_hessian_matches_ultralytics_keypoint_loss(kind, k, n):
    data = keypoints(kind, k, n=n)
    assert_hessian_matches_torch("oks", {}, data, ultralytics(k))
    assert np.all(np.isfinite(losscli.get("oks").hess(**as_arrays(data))))


# ----------------------------------------------------------------------------- adversarial inputs


def test_saturated_logits_give_finite_exact_hessians():
    x = np.array([[-1e4], [1e4], [40.0], [-40.0], [0.0]])
    for y in (0.0, 1.0):
        target = np.full_like(x, y)
        sigma = expit(x) * expit(-x)  # independent closed form of s(x) s(-x)
        for name in ("bce_logits", "soft_margin"):
            h = losscli.get(name).hess(pred=x, target=target if name == "bce_logits" else 2 * target - 1,
                                       reduction="sum")
            np.testing.assert_allclose(h, sigma, rtol=1e-12, atol=0)
        for gamma in (0.5, 2.0):
            h = losscli.get("focal", gamma=gamma).hess(pred=x, target=target, reduction="sum")
            assert np.all(np.isfinite(h))
            assert h[0, 0] == pytest.approx(0.0, abs=1e-300) and h[1, 0] == pytest.approx(0.0, abs=1e-300)
    big = {"pred": np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]]), "target": np.array([0.0, 2.0])}
    for name, params in (("cross_entropy", {}), ("focal_ce", {"gamma": 0.5}), ("focal_ce", {}), ("poly1", {}),
                         ("dfl", {})):
        h = losscli.get(name, **params).hess(**big, reduction="sum")
        assert np.all(np.isfinite(h)), name
        np.testing.assert_allclose(h[0], 0.0, atol=1e-300, err_msg=name)  # a saturated row has no curvature
    # uniform row: cross-entropy curvature p (1 - p) = 2/9 per class
    np.testing.assert_allclose(losscli.get("cross_entropy").hess(**big, reduction="sum")[1], 2 / 9, rtol=1e-14)


def test_focal_ce_hessian_near_saturation_matches_torch_where_torch_is_exact():
    # moderately confident rows (p_top ~ 1 - 1e-8): the q^(gamma - 2) factor must not lose the term
    data = {"pred": np.array([[18.0, 0.0, -1.0], [0.3, 20.0, 0.1]]), "target": np.array([0.0, 2.0])}
    torch_sum = lambda pred, target: -(F.one_hot(target[:, 0].long(), 3) * (1 - F.softmax(pred, 1)) ** 1.5  # noqa: E731
                                       * F.log_softmax(pred, 1)).sum()
    assert_hessian_matches_torch("focal_ce", {"gamma": 1.5}, data, torch_sum, reduction="sum", rtol=1e-6)


def test_probabilities_of_exactly_zero_and_one():
    p = np.array([[0.0], [1.0], [0.5], [1e-300]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    torch_h = losscli.get("bce").hess(pred=p, target=y, reduction="sum")
    # torch's guard: p (1 - p) < 1e-12 gives the slope of (p - y) / 1e-12; p = 0.5, y = 1: 1/p^2 = 4
    guard = 1.0 / float(np.float32(1e-12))
    np.testing.assert_allclose(torch_h[:, 0], [guard, guard, 4.0, guard], rtol=1e-15)
    for compat in ("keras", "sklearn"):  # clipped: flat, no curvature
        h = losscli.get("bce", compat=compat).hess(pred=p, target=y, reduction="sum")
        np.testing.assert_allclose(h[:, 0], [0.0, 0.0, 4.0, 0.0], rtol=1e-15)


def test_residuals_of_a_million():
    r = np.array([[1e6], [-1e6], [1e-9]])
    zeros = np.zeros_like(r)
    sech2 = (1 / np.cosh(np.minimum(np.abs(r), 700.0))) ** 2
    np.testing.assert_allclose(losscli.get("log_cosh").hess(pred=r, target=zeros, reduction="sum"), sech2, rtol=1e-14)
    np.testing.assert_array_equal(losscli.get("huber").hess(pred=r, target=zeros, reduction="sum")[:, 0], [0, 0, 1])
    # cauchy: (1 - s) / (1 + s)^2 with s = x^2 / 2; charbonnier: (1 + x^2)^(-3/2)
    s = r * r / 2
    np.testing.assert_allclose(losscli.get("cauchy").hess(pred=r, target=zeros, reduction="sum"), (1 - s) / (1 + s) ** 2,
                               rtol=1e-12)
    np.testing.assert_allclose(losscli.get("charbonnier").hess(pred=r, target=zeros, reduction="sum"),
                               (1 + r * r) ** -1.5, rtol=1e-12)
    for alpha in (-np.inf, -2.0, 0.0, 1e-7, 1.0, 2.0 - 1e-7, 2.0, 3.5):
        h = losscli.get("robust", alpha=alpha).hess(pred=r * 1e150, target=zeros, reduction="sum")
        assert np.all(np.isfinite(h)), alpha


def test_a_million_rows():
    x = np.random.default_rng(0).normal(size=1_000_000) * 5
    y = (np.random.default_rng(1).random(1_000_000) < 0.3).astype(float)
    g, h = losscli.get("bce_logits").grad_hess(pred=x, target=y, reduction="sum")
    np.testing.assert_allclose(h, expit(x) * expit(-x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(g, np.where(y == 1, -expit(-x), expit(x)), rtol=1e-12, atol=0)
    mean_h = losscli.get("bce_logits").hess(pred=x, target=y)
    assert_close(mean_h, h / x.size, 1e-14, "mean = sum / N")


def test_hessians_keep_the_shape_of_the_first_input():
    assert losscli.get("mse").hess(pred=[1.0, 2.0], target=[0.0, 0.0]).shape == (2,)
    data = as_arrays(classes(n=3))
    assert losscli.get("cross_entropy").hess(**data).shape == (3, 4)


def test_issue_12_losses_at_saturated_logits():
    x = np.array([[-1e4, 1e4, 40.0, -40.0, 0.0]])
    y = np.array([[1.0, 0.0, 1.0, 0.0, 1.0]])
    # multilabel_soft_margin: sigmoid(x) sigmoid(-x) / C, exactly 0 at +-1e4
    h = losscli.get("multilabel_soft_margin").hess(pred=x, target=y, reduction="sum")
    np.testing.assert_allclose(h, expit(x) * expit(-x) / 5, rtol=1e-12, atol=0)
    assert h[0, 0] == h[0, 1] == 0.0
    # exponential: the value itself; a saturated score on the right side of its label costs and curves 0
    h = losscli.get("exponential").hess(pred=[1e4, -1e4, 3.0, -2.0], target=[1.0, 0.0, 1.0, 0.0], reduction="sum")
    np.testing.assert_allclose(h, [0.0, 0.0, np.exp(-3.0), np.exp(-2.0)], rtol=1e-15, atol=0)
    with pytest.raises(losscli.InputDataError, match="larger than the largest float64"):
        losscli.get("exponential").hess(pred=[1e4], target=[0.0])  # the wrong side: refused, not inf
    # sparsemax (binary): 1/2 on the quadratic piece |z| < 1 only
    h = losscli.get("sparsemax").hess(pred=[1e4, -1e4, 1e4, 0.3, -0.9], target=[1.0, 1.0, 0.0, 0.0, 1.0],
                                      reduction="sum")
    np.testing.assert_array_equal(h, [0.0, 0.0, 0.0, 0.5, 0.5])
    # multiclass_sparsemax: s_j (1 - 1/|S|); a saturated row has a support of one class, so no curvature
    scores = np.array([[1e4, 0.0, -1e4], [1e4, 1e4 - 0.5, 0.0], [0.0, 0.0, 0.0], [-1e4, -1e4, -1e4]])
    h = losscli.get("multiclass_sparsemax").hess(pred=scores, target=[0.0, 1.0, 2.0, 0.0], reduction="sum")
    np.testing.assert_allclose(h, [[0, 0, 0], [0.5, 0.5, 0], [2 / 3] * 3, [2 / 3] * 3], rtol=1e-15, atol=0)
    # generalized_kl: exp(x), 0 at -1e4, finite at the largest log-prediction allowed
    h = losscli.get("generalized_kl").hess(pred=[[-1e4, 700.0]], target=[[1.0, 2.0]], reduction="sum")
    np.testing.assert_allclose(h, [[0.0, np.exp(700.0)]], rtol=1e-15, atol=0)


def exact_student_t_hess(r, df, scale):
    """(df + 1)(df - u^2) / (scale^2 (df + u^2)^2) in exact rational arithmetic, u = r / scale."""
    from fractions import Fraction

    u, d, s = Fraction(r) / Fraction(scale), Fraction(df), Fraction(scale)
    return float((d + 1) * (d - u * u) / (s * s * (d + u * u) ** 2))


def test_issue_12_losses_at_residuals_of_a_million():
    r = np.array([1e6, -1e6, 3e8, 1e200, -1e-9, 0.5])
    for df, scale in ((1.0, 1.0), (4.0, 0.5), (0.3, 20.0)):
        f = losscli.get("student_t_nll", df=df, scale=scale)
        h = f.hess(pred=r, target=np.zeros_like(r), reduction="sum")
        np.testing.assert_allclose(h, [exact_student_t_hess(v, df, scale) for v in r], rtol=1e-13, atol=1e-300)
        # around |u| = 1, where the near and far forms meet (df - u^2 cancels near u^2 = df, so the check is absolute,
        # against the curvature's scale (df + 1) / (scale^2 df) at r = 0)
        switch = scale * np.array([1 - 1e-9, 1.0, 1 + 1e-9, -1 - 1e-9])
        h = f.hess(pred=switch, target=np.zeros_like(switch), reduction="sum")
        np.testing.assert_allclose(h, [exact_student_t_hess(v, df, scale) for v in switch], rtol=0,
                                   atol=1e-15 * (df + 1) / (scale * scale * df))
    # wing: 0 on the linear part and at r = 0 (the kink), -w / (epsilon + |r|)^2 inside
    h = losscli.get("wing").hess(pred=[1e6, -1e6, 1e-9, 0.0, -3.0], target=[0.0] * 5, reduction="sum")
    np.testing.assert_allclose(h, [0.0, 0.0, -10 / (2 + 1e-9) ** 2, 0.0, -10 / 25], rtol=1e-15, atol=0)
    # oks: a keypoint 1e6 (or 1e160, where d^2 overflows) away has saturated: 0, not nan
    data = {"pred": [[1e6, 0.0, 1e160, -1e160]], "target": [[0.0, 0.0, 0.0, 0.0]], "visibility": [[2.0, 1.0]],
            "area": [100.0]}
    with np.errstate(over="ignore"):
        h = losscli.get("oks").hess(**data, reduction="sum")
    np.testing.assert_array_equal(h, [[0.0, 0.0, 0.0, 0.0]])


def test_generalized_ce_at_probabilities_of_zero_and_one():
    p = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1e-6, 0.5, 0.5 - 1e-6]])
    y = np.array([0.0, 1.0, 0.0])
    for q in (0.5, 0.1):
        h = losscli.get("generalized_ce", q=q).hess(pred=p, target=y, reduction="sum")
        np.testing.assert_allclose(h[[0, 1, 2], [0, 1, 0]], (1 - q) * np.array([1.0, 0.5, 1e-6]) ** (q - 2), rtol=1e-14)
        assert np.count_nonzero(h) == 3
        with pytest.raises(losscli.InputDataError, match="probability exactly 0"):
            losscli.get("generalized_ce", q=q).hess(pred=p, target=[1.0, 2.0, 0.0])
    # q = 1: 1 - p_y is linear, even where p_y = 0
    np.testing.assert_array_equal(losscli.get("generalized_ce", q=1.0).hess(pred=p, target=[1.0, 2.0, 0.0]), 0.0)


def test_a_million_rows_of_the_new_losses():
    r = np.random.default_rng(3).standard_cauchy(1_000_000) * 5
    g, h = losscli.get("student_t_nll", df=1.0, scale=2.0).grad_hess(pred=r, target=np.zeros_like(r), reduction="sum")
    u = r / 2.0
    # the closed form's 1 - u^2 cancels near |u| = 1: checked against the curvature's scale there (1/2 at r = 0)
    np.testing.assert_allclose(h, 2.0 * (1 - u * u) / (4.0 * (1 + u * u) ** 2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, 2.0 * u / (2.0 * (1 + u * u)), rtol=1e-12, atol=1e-300)
    x = np.random.default_rng(4).normal(size=(250_000, 4)) * 4
    labels = (np.random.default_rng(5).random((250_000, 4)) < 0.3).astype(float)
    h = losscli.get("multilabel_soft_margin").hess(pred=x, target=labels, reduction="sum")
    np.testing.assert_allclose(h, expit(x) * expit(-x) / 4, rtol=1e-12, atol=0)
