"""Barron's robust loss against his formula written independently in torch (autograd gives the gradient).

Reference: Barron (2019), A General and Adaptive Robust Loss Function, CVPR, eq. (1) and the limits in eq. (2)-(3)
(a = 2: 0.5 z, a = 0: log(0.5 z + 1), a = -inf: 1 - exp(-0.5 z), z = (x/c)^2).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from .harness import assert_matches_torch, ours

rng = np.random.default_rng(7)

ALPHAS = [-math.inf, -10.0, -2.0, -1e-6, 0.0, 1e-6, 0.5, 1.0, 1.999999, 2.0, 2.000001, 3.0, 10.0]


def barron_torch(alpha, scale):
    """Eq. (1) literally, in float64 torch, with the limits as separate branches (the paper's definition)."""

    def fn(pred, target):
        z = ((pred - target) / scale) ** 2
        if alpha == 2:
            rho = 0.5 * z
        elif alpha == 0:
            rho = torch.log(0.5 * z + 1)
        elif alpha == -math.inf:
            rho = 1 - torch.exp(-0.5 * z)
        else:
            b = abs(alpha - 2)
            rho = b / alpha * ((z / b + 1) ** (alpha / 2) - 1)
        return rho.mean()

    return fn


def data(kind, n=40, width=2):
    if kind == "random":
        target = rng.normal(size=(n, width))
        return {"pred": target + 2 * rng.normal(size=(n, width)), "target": target}
    if kind == "huge":
        target = rng.normal(size=(n, width))
        return {"pred": target + rng.choice([-1.0, 1.0], size=(n, width)) * 1e6, "target": target}
    if kind == "single":
        return {"pred": [[3.5]], "target": [[-1.25]]}
    raise ValueError(kind)


@pytest.mark.parametrize("scale", [1.0, 0.3, 4.0])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_robust_matches_barron_formula(alpha, scale):
    # The literal formula loses digits only near a = 0 and a = 2 (power minus one, |a-2| -> 0); there the
    # distance to the limit is itself ~1e-6, so compare at the accuracy the literal formula has.
    near = alpha != 0 and alpha != 2 and (abs(alpha) < 1e-3 or abs(alpha - 2) < 1e-3)
    rtol = 1e-7 if near else 1e-9
    for kind in ("random", "single"):
        assert_matches_torch("robust", {"alpha": alpha, "scale": scale}, data(kind), barron_torch(alpha, scale),
                             rtol_value=rtol, rtol_grad=max(rtol, 1e-7))


@pytest.mark.parametrize("alpha", [a for a in ALPHAS if abs(a) > 1e-3 and abs(a - 2) > 1e-3])
def test_robust_huge_residuals_match_formula(alpha):
    arrays = data("huge")
    assert_matches_torch("robust", {"alpha": alpha}, arrays, barron_torch(alpha, 1.0), rtol_value=1e-9, rtol_grad=1e-7)
    value, grad = ours("robust", {"alpha": alpha}, arrays)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("alpha", [-1e-9, 1e-9, 2 - 1e-9, 2 + 1e-9, 1e-300, 2 + 4.5e-16])
def test_continuity_at_the_limits(alpha):
    # a -> 0 tends to log(0.5 z + 1), a -> 2 to 0.5 z; the true change is ~|a - a0| * log-size, so 1e-7 relative.
    limit = 0.0 if abs(alpha) < 1 else 2.0
    for kind in ("random", "huge", "single"):
        arrays = data(kind)
        v, g = ours("robust", {"alpha": alpha}, arrays)
        v0, g0 = ours("robust", {"alpha": limit}, arrays)
        assert np.isfinite(v) and np.all(np.isfinite(g))
        assert v == pytest.approx(v0, rel=1e-7)
        np.testing.assert_allclose(g, g0, rtol=1e-6, atol=0)


@pytest.mark.parametrize("name,alpha,ref", [
    ("charbonnier", 1.0, lambda u: torch.sqrt(u**2 + 1) - 1),
    ("cauchy", 0.0, lambda u: torch.log(0.5 * u**2 + 1)),
    ("geman_mcclure", -2.0, lambda u: 2 * u**2 / (u**2 + 4)),
    ("welsch", -math.inf, lambda u: 1 - torch.exp(-0.5 * u**2)),
])
@pytest.mark.parametrize("scale", [1.0, 0.25, 3.0])
def test_named_cases_are_the_identities(name, alpha, ref, scale):
    # Barron (2019) section 1: the closed forms of the special cases.
    for kind in ("random", "huge", "single"):
        arrays = data(kind)
        # At residuals of 1e6 autograd through the quotient forms cancels (it returns digits of noise for
        # geman_mcclure), so there the gradient is checked against the hand derivative below instead.
        assert_matches_torch(name, {"scale": scale}, arrays, lambda pred, target: ref((pred - target) / scale).mean(),
                             grad=kind != "huge")
        if kind == "huge":
            u = (np.asarray(arrays["pred"]) - np.asarray(arrays["target"])) / scale
            hand = {"charbonnier": u / np.sqrt(u * u + 1), "cauchy": 2 * u / (u * u + 2),
                    "geman_mcclure": 16 * u / (u * u + 4) ** 2, "welsch": u * np.exp(-0.5 * u * u)}[name]
            np.testing.assert_allclose(ours(name, {"scale": scale}, arrays)[1], hand / scale / u.size, rtol=1e-12)
        v_named, g_named = ours(name, {"scale": scale}, arrays)
        v_gen, g_gen = ours("robust", {"alpha": alpha, "scale": scale}, arrays)
        assert v_named == v_gen and np.array_equal(g_named, g_gen)


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_alpha_two_is_half_mse_on_scaled_residual(scale):
    arrays = data("random")
    ref = lambda pred, target: 0.5 * torch.nn.functional.mse_loss(pred / scale, target / scale)  # noqa: E731
    assert_matches_torch("robust", {"alpha": 2.0, "scale": scale}, arrays, ref)


def test_worked_numbers():
    # x = 1, c = 1: a=1 gives sqrt(2) - 1; a=0 log(1.5); a=-2 2/5; a=-inf 1 - exp(-1/2)  (from eq. (1)-(3) by hand)
    one = {"pred": [[1.0]], "target": [[0.0]]}
    assert ours("robust", {"alpha": 1.0}, one)[0] == pytest.approx(math.sqrt(2) - 1, rel=1e-15)
    assert ours("robust", {"alpha": 0.0}, one)[0] == pytest.approx(math.log(1.5), rel=1e-15)
    assert ours("robust", {"alpha": -2.0}, one)[0] == pytest.approx(0.4, rel=1e-15)
    assert ours("robust", {"alpha": -math.inf}, one)[0] == pytest.approx(1 - math.exp(-0.5), rel=1e-15)


def test_alpha_parses_minus_inf_and_rejects_nan_and_bad_scale(tmp_path):
    from click.testing import CliRunner

    from losscli.cli import main

    runner = CliRunner()
    path = tmp_path / "t.csv"
    path.write_text("pred,target\n1.0,0.0\n3.0,1.0\n")
    ok = runner.invoke(main, ["compute", "-l", "robust:alpha=-inf", str(path)])
    assert ok.exit_code == 0, ok.output
    for spec in ("robust:alpha=nan", "robust:alpha=inf", "welsch:scale=0", "robust:scale=-1"):
        bad = runner.invoke(main, ["compute", "-l", spec, str(path)])
        assert bad.exit_code == 2, (spec, bad.output)


def test_million_rows_match_formula():
    n = 1_000_000
    arrays = {"pred": rng.normal(size=(n, 1)) * 3, "target": rng.normal(size=(n, 1))}
    t = {k: torch.tensor(v) for k, v in arrays.items()}
    for alpha in (1.0, 0.5, -math.inf):
        value, _ = ours("robust", {"alpha": alpha}, arrays)
        assert value == pytest.approx(barron_torch(alpha, 1.0)(**t).item(), rel=1e-9)


# ----------------------------------------------------------------------------- exact reference at the hard points

def barron_exact(u, alpha):
    """Eq. (1) and its limits literally, in 800-digit mpmath, so "power minus one" keeps its digits even at a = 1e-300.

    Returns rho and d rho / du = u (u^2/|a-2| + 1)^(a/2 - 1) (the derivative of eq. (1)), as floats.
    """
    import mpmath

    with mpmath.workdps(800):
        u = mpmath.mpf(u)
        z = u * u
        if alpha == 2:
            return float(z / 2), float(u)
        if alpha == -math.inf:
            return float(1 - mpmath.exp(-z / 2)), float(u * mpmath.exp(-z / 2))
        a = mpmath.mpf(alpha)
        if alpha == 0:
            return float(mpmath.log(z / 2 + 1)), float(u / (z / 2 + 1))
        b = abs(a - 2)
        return float(b / a * ((z / b + 1) ** (a / 2) - 1)), float(u * (z / b + 1) ** (a / 2 - 1))


HARD_ALPHAS = ALPHAS + [1e-300, -1e-300, 1e-9, -1e-9, 2 - 1e-9, 2 + 1e-9, 2 - 2.2e-16, 2 + 4.4e-16, -1e4, 40.0]


@pytest.mark.parametrize("alpha", HARD_ALPHAS)
def test_robust_against_high_precision_formula(alpha):
    # Far stricter than the float64 torch formula allows: 1e-12 relative at every shape, including a = 1e-300
    # with residuals of 1e-160 (where t = a/2 log1p(z/b) is subnormal) and, for a <= 1, residuals of 1e200
    # (z overflows float64 but rho and its gradient do not).
    from losscli.catalogue import get

    loss = get("robust")
    u = np.array([1e-160, -1e-10, 3e-3, 0.7, -1.0, 2.5, 1e6] + ([1e200, -1e300] if alpha <= 1 else []))
    if alpha > 10:
        u = u[np.abs(u) < 1e6]  # (u^2/b)^(a/2) overflows float64 itself there
    for scale in (1.0, 0.25):
        pred, target = (u * scale)[:, None] + 1.0, np.ones((u.size, 1))
        value = loss.value(pred=pred, target=target, alpha=alpha, scale=scale)[:, 0]
        grad = loss.grad(pred=pred, target=target, alpha=alpha, scale=scale)[:, 0]
        # pred - target of (u * scale + 1) - 1 is not exactly u * scale; use the residual float64 actually holds
        exact = [barron_exact(x / scale, alpha) for x in (pred - target)[:, 0]]
        np.testing.assert_allclose(value, [e[0] for e in exact], rtol=1e-12, atol=0, err_msg=f"alpha={alpha}")
        np.testing.assert_allclose(grad, [e[1] / scale for e in exact], rtol=1e-12, atol=0, err_msg=f"alpha={alpha}")


@pytest.mark.parametrize("name,closed", [
    ("cauchy", lambda u: 2 * math.log(abs(u)) - math.log(2.0)),  # log(u^2/2 + 1) for |u| >> 1
    ("geman_mcclure", lambda u: 2.0),
    ("welsch", lambda u: 1.0),
])
def test_bounded_and_log_cases_stay_finite_at_residuals_of_1e200(name, closed):
    value, grad = ours(name, {}, {"pred": [[1e200], [-3e250]], "target": [[0.0], [0.0]]})
    assert value == pytest.approx((closed(1e200) + closed(3e250)) / 2, rel=1e-14)
    assert np.all(np.isfinite(grad)) and np.all(np.abs(grad) < 1e-199)


def test_alpha_inf_is_refused_with_the_domain_in_the_message(tmp_path):
    from click.testing import CliRunner

    from losscli.cli import main

    path = tmp_path / "t.csv"
    path.write_text("pred,target\n1.0,0.0\n")
    result = CliRunner().invoke(main, ["compute", "-l", "robust:alpha=inf", str(path)])
    assert result.exit_code == 2 and "a float or -inf" in result.stderr, result.output
