"""Hessian diagonals against torch autograd's second derivatives, and on adversarial inputs.

Finite differences of the gradient check every loss with a Hessian (test_catalogue_properties.py);
here the losses torch has (torch.nn.functional, and torchvision's sigmoid focal loss, written out)
are differentiated twice by autograd, with the same reduction and weights, and the extremes the
project's standards ask for are checked against closed forms computed independently.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import expit

import losscli

from .harness import as_arrays, assert_close, assert_hessian_matches_torch

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
