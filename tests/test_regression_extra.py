"""wing, student_t_nll (and the order-statistic losses median_absolute_error, max_error) against references.

References relied on:
- wing: Feng et al. (2018), CVPR, equation 5, written here in torch ops (torch autograd for the gradient).
- student_t_nll: torch.distributions.StudentT(df, loc=target, scale).log_prob(pred), negated: an independent
  implementation of the density Barron's robust_loss util.students_t_nll writes out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from .harness import assert_close, assert_gradient_matches_fd, assert_matches_torch, ours


def T(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def residual_data(kind: str, n: int = 50):
    rng = np.random.default_rng(3)
    target = rng.normal(size=(n, 2))
    if kind == "random":
        r = rng.normal(size=(n, 2)) * 8
    elif kind == "huge":  # residuals of 1e6 and beyond
        r = rng.choice([-1e6, 1e6, 3e8, -0.5], size=(n, 2))
    elif kind == "single":
        return {"pred": np.array([[2.5, -30.0]]), "target": np.array([[0.0, 1.0]])}
    elif kind == "exact":  # perfect predictions: r = 0 exactly
        r = np.zeros((n, 2))
    else:
        raise ValueError(kind)
    return {"pred": target + r, "target": target}


def wing_torch(w, epsilon):
    def fn(pred, target):
        a = (pred - target).abs()
        c = w - w * math.log(1 + w / epsilon)
        return torch.where(a < w, w * torch.log1p(a / epsilon), a - c).mean()

    return fn


@pytest.mark.parametrize("kind", ["random", "huge", "single", "exact"])
@pytest.mark.parametrize("params", [{}, {"w": 5.0, "epsilon": 0.5}, {"w": 0.1, "epsilon": 3.0}], ids=str)
def test_wing_matches_the_papers_formula_in_torch(params, kind):
    full = {"w": 10.0, "epsilon": 2.0, **params}
    assert_matches_torch("wing", params, residual_data(kind), wing_torch(**full))


def test_wing_is_continuous_at_w():
    # C makes both pieces meet: just below and at |r| = w the values agree to rounding
    below, _ = ours("wing", {}, {"pred": [10.0 - 1e-9], "target": [0.0]})
    at, _ = ours("wing", {}, {"pred": [10.0], "target": [0.0]})
    assert_close(below, at, 1e-9, "wing at w")
    assert_close(at, 10 * math.log(6.0), 1e-12, "wing(w) = w ln(1 + w/epsilon)")


def student_t_torch(df, scale):
    def fn(pred, target):
        dist = torch.distributions.StudentT(torch.tensor(df, dtype=torch.float64), target,
                                            torch.tensor(scale, dtype=torch.float64))
        return -dist.log_prob(pred).mean()

    return fn


@pytest.mark.parametrize("kind", ["random", "single", "exact"])
@pytest.mark.parametrize("params", [{}, {"df": 4.0, "scale": 0.5}, {"df": 0.3, "scale": 20.0}, {"df": 1e4}], ids=str)
def test_student_t_nll_matches_torch_distributions(params, kind):
    full = {"df": 1.0, "scale": 1.0, **params}
    assert_matches_torch("student_t_nll", params, residual_data(kind), student_t_torch(**full))


def test_student_t_nll_large_residuals_stay_exact():
    # residuals of 1e6 .. 1e200: torch squares them (inf beyond 1e154); the exact form is
    # 0.5 (df + 1) (2 log|u| - log df + log1p(df/u^2)) + constant, and the gradient ~ (df + 1)/r
    r = np.array([1e6, -3e8, 1e200])
    value, grad = ours("student_t_nll", {"df": 2.0}, {"pred": r, "target": np.zeros(3)}, reduction="sum")
    const = 0.5 * math.log(2.0) + math.lgamma(1.0) - math.lgamma(1.5) + 0.5 * math.log(math.pi)
    expected = sum(1.5 * (2 * math.log(abs(x)) - math.log(2.0) + math.log1p(2.0 / x / x)) + const for x in r)
    assert_close(value, expected, 1e-13, "huge residuals")
    assert_close(grad[:, 0], 3.0 / (r + 2.0 / r), 1e-13, "gradient ~ (df+1)/r")
    # the moderate ones agree with torch as well
    assert_matches_torch("student_t_nll", {"df": 2.0}, {"pred": r[:2], "target": np.zeros(2)},
                         student_t_torch(2.0, 1.0))


def test_student_t_nll_with_df_1_is_the_cauchy_nll():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=30) * 5, rng.normal(size=30)
    value, _ = ours("student_t_nll", {"scale": 2.0}, {"pred": pred, "target": target})
    expected = np.mean(np.log(np.pi * 2.0) + np.log1p(((pred - target) / 2.0) ** 2))
    assert_close(value, expected, 1e-13, "Cauchy")


def test_student_t_nll_gradient_near_the_switch_between_forms():
    # |u| = sqrt(df) is where the value changes form; finite differences straddle it smoothly
    df = 3.0
    r = np.array([math.sqrt(df) - 1e-3, math.sqrt(df) + 1e-3, -math.sqrt(df) + 2e-3, 1.0 - 1e-4, 1.0 + 1e-4])
    assert_gradient_matches_fd("student_t_nll", {"df": df}, {"pred": r, "target": np.zeros(5)})
