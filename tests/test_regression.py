"""Regression losses against torch (values and autograd) and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from .harness import named, assert_matches_torch, ours

rng = np.random.default_rng(42)


def data(kind: str, n: int = 50, width: int = 2) -> dict:
    if kind == "random":
        target = rng.normal(size=(n, width))
        return {"pred": target + rng.normal(size=(n, width)), "target": target}
    if kind == "huge":  # residuals of 1e6 and more
        target = rng.normal(size=(n, width)) * 1e6
        return {"pred": target + rng.normal(size=(n, width)) * 1e6, "target": target}
    if kind == "tiny":
        target = rng.normal(size=(n, width))
        return {"pred": target + rng.normal(size=(n, width)) * 1e-9, "target": target}
    if kind == "single":
        return {"pred": np.array([[3.5]]), "target": np.array([[-1.25]])}
    raise ValueError(kind)


KINDS = ["random", "huge", "tiny", "single"]


def torch_log_cosh(pred, target):
    # log cosh r = logaddexp(r, -r) - log 2, exact for large r; its Taylor series
    # r^2/2 - r^4/12 + r^6/45 where that form would cancel (|r| < 1e-3).
    r = pred - target
    series = r**2 / 2 - r**4 / 12 + r**6 / 45
    return torch.where(r.abs() < 1e-3, series, torch.logaddexp(r, -r) - math.log(2.0)).mean()


def torch_pinball(q):
    def fn(pred, target):
        r = target - pred
        return torch.maximum(q * r, (q - 1) * r).mean()

    return fn


CASES = [
    ("mse", {}, lambda pred, target: F.mse_loss(pred, target)),
    ("rmse", {}, lambda pred, target: torch.sqrt(F.mse_loss(pred, target))),
    ("mae", {}, lambda pred, target: F.l1_loss(pred, target)),
    ("huber", {}, lambda pred, target: F.huber_loss(pred, target)),
    ("huber", {"delta": 0.3}, lambda pred, target: F.huber_loss(pred, target, delta=0.3)),
    ("huber", {"delta": 2.5}, lambda pred, target: F.huber_loss(pred, target, delta=2.5)),
    ("smooth_l1", {}, lambda pred, target: F.smooth_l1_loss(pred, target)),
    ("smooth_l1", {"beta": 0.2}, lambda pred, target: F.smooth_l1_loss(pred, target, beta=0.2)),
    ("smooth_l1", {"beta": 0.0}, lambda pred, target: F.smooth_l1_loss(pred, target, beta=0.0)),
    ("log_cosh", {}, torch_log_cosh),
    ("quantile", {}, torch_pinball(0.5)),
    ("quantile", {"q": 0.1}, torch_pinball(0.1)),
    ("quantile", {"q": 0.95}, torch_pinball(0.95)),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name,params,fn", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_matches_torch(name, params, fn, kind):
    assert_matches_torch(name, params, data(kind), fn)


@pytest.mark.parametrize("name,params,fn", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_sum_reduction_matches_torch(name, params, fn):
    arrays = data("random")
    if name == "rmse":  # the root of the summed squares
        ref = lambda pred, target: torch.sqrt(F.mse_loss(pred, target, reduction="sum"))  # noqa: E731
    else:
        n = arrays["pred"].size
        ref = lambda pred, target: fn(pred, target) * n  # noqa: E731  mean * count = sum
    assert_matches_torch(name, params, arrays, ref, reduction="sum")


def test_weighted_mean_is_sum_w_l_over_sum_w():
    arrays = data("random", n=30, width=1)
    w = rng.uniform(0, 2, size=30)

    def ref(pred, target):
        wt = torch.tensor(w)[:, None]
        return (wt * (pred - target) ** 2).sum() / wt.sum()

    assert_matches_torch("mse", {}, arrays, ref, weight=w)


def test_log_cosh_does_not_overflow_where_cosh_does():
    # cosh(1e4) is inf in float64; log cosh(1e4) = 1e4 - log 2
    value, grad = ours("log_cosh", {}, {"pred": [[1e4], [-1e6]], "target": [[0.0], [0.0]]})
    assert value == pytest.approx(((1e4 - math.log(2)) + (1e6 - math.log(2))) / 2, rel=1e-15)
    np.testing.assert_allclose(grad, [[0.5], [-0.5]])


def test_quantile_matches_sklearn_mean_pinball_loss():
    from sklearn.metrics import mean_pinball_loss

    arrays = data("random", width=1)
    for q in (0.05, 0.5, 0.8):
        ref = mean_pinball_loss(arrays["target"][:, 0], arrays["pred"][:, 0], alpha=q)
        value, _ = ours("quantile", {"q": q}, arrays)
        assert value == pytest.approx(ref, rel=1e-12)


def test_rmse_gradient_at_zero_error_is_zero():
    value, grad = ours("rmse", {}, {"pred": [[1.0], [2.0]], "target": [[1.0], [2.0]]})
    assert value == 0.0 and np.all(grad == 0.0)


def test_million_rows_match_torch_value():
    big = {"pred": rng.normal(size=(1_000_000, 1)), "target": rng.normal(size=(1_000_000, 1))}
    t = {k: torch.tensor(v) for k, v in big.items()}
    for name, fn in [("mse", F.mse_loss), ("huber", F.huber_loss), ("mae", F.l1_loss)]:
        value, _ = ours(name, {}, big)
        assert value == pytest.approx(fn(t["pred"], t["target"]).item(), rel=1e-9)


# ----------------------------------------------------------------------------- msle, mape, smape, poisson,
# gaussian_nll, tweedie, multi-level quantile

def positive_data(n=50, width=2, zeros=False):
    pred = rng.uniform(0.05, 5.0, size=(n, width))
    target = rng.uniform(0.05, 6.0, size=(n, width))
    if zeros:
        target[::4] = 0.0
    return {"pred": pred, "target": target}


@pytest.mark.parametrize("arrays", [positive_data(), {"pred": [[-0.999], [1e6], [0.0]], "target": [[5.0], [-0.5], [1e-12]]},
                                    {"pred": [[2.5]], "target": [[0.25]]}], ids=["random", "adversarial", "single"])
def test_msle_matches_sklearn_and_torch(arrays):
    from sklearn.metrics import mean_squared_log_error

    a = {k: np.asarray(v, dtype=float) for k, v in arrays.items()}
    value, _ = ours("msle", {}, a)
    assert value == pytest.approx(mean_squared_log_error(a["target"], a["pred"]), rel=1e-12)
    assert_matches_torch("msle", {}, a, lambda pred, target: F.mse_loss(torch.log1p(pred), torch.log1p(target)))


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
def test_mape_matches_sklearn_and_torch(kind):
    from sklearn.metrics import mean_absolute_percentage_error

    arrays = data(kind, width=1)
    arrays["target"][0, 0] = 0.0  # sklearn's eps denominator
    value, _ = ours("mape", {}, arrays)
    assert value == pytest.approx(mean_absolute_percentage_error(arrays["target"], arrays["pred"]), rel=1e-12)
    eps = np.finfo(np.float64).eps
    assert_matches_torch("mape", {}, arrays,
                         lambda pred, target: ((target - pred).abs() / target.abs().clamp(min=eps)).mean())


def test_mape_worked_example_from_sklearn_docs():
    # sklearn docstring: mean_absolute_percentage_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.3273...
    value, _ = ours("mape", {}, {"pred": [2.5, 0.0, 2, 8], "target": [3, -0.5, 2, 7]})
    assert value == pytest.approx(0.32738095238095233, rel=1e-12)


def torch_smape(pred, target):
    d = target.abs() + pred.abs()
    safe = torch.where(d == 0, torch.ones_like(d), d)
    return torch.where(d == 0, torch.zeros_like(d), 2 * (pred - target).abs() / safe).mean()


@pytest.mark.parametrize("kind", ["random", "huge", "single"])
def test_smape_matches_formula(kind):
    assert_matches_torch("smape", {}, data(kind), torch_smape)


def test_smape_both_zero_is_zero_with_zero_gradient():
    value, grad = ours("smape", {}, {"pred": [[0.0], [1.0], [0.0]], "target": [[0.0], [0.0], [2.0]]})
    assert value == pytest.approx((0 + 2 + 2) / 3, rel=1e-15)
    assert grad[0, 0] == 0.0 and np.all(np.isfinite(grad))


@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("eps", [1e-8, 1e-3])
def test_poisson_matches_torch(log_input, full, eps):
    n = 60
    target = rng.poisson(3.0, size=(n, 2)).astype(float)
    target[0, 0], target[1, 0] = 0.0, 1.0  # the Stirling term applies only to y > 1
    pred = rng.normal(size=(n, 2)) if log_input else rng.uniform(0.0, 5.0, size=(n, 2))
    if not log_input:
        pred[2, 1] = 0.0  # rate exactly zero: eps keeps the log finite
    params = {"log_input": log_input, "full": full, "eps": eps}
    fn = lambda pred, target: F.poisson_nll_loss(pred, target, log_input=log_input, full=full, eps=eps)  # noqa: E731
    assert_matches_torch("poisson", params, {"pred": pred, "target": target}, fn)
    assert_matches_torch("poisson", params, {"pred": pred[:1], "target": target[:1]}, fn)


def test_poisson_large_log_rates():
    arrays = {"pred": [[-700.0], [700.0], [-1e4]], "target": [[0.0], [3.0], [2.0]]}
    assert_matches_torch("poisson", {}, arrays, lambda pred, target: F.poisson_nll_loss(pred, target))


@pytest.mark.parametrize("var_width", [1, 2])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("eps", [1e-6, 0.5])
def test_gaussian_nll_matches_torch(var_width, full, eps):
    arrays = data("random")
    var = rng.uniform(1e-9, 2.0, size=(50, var_width))
    var[0, 0] = 1e-12  # clamped to eps
    arrays["var"] = var

    def fn(pred, target, var):
        return F.gaussian_nll_loss(pred, target, var, full=full, eps=eps)

    assert_matches_torch("gaussian_nll", {"full": full, "eps": eps}, arrays, fn)


def test_gaussian_nll_huge_residuals_and_single_row():
    arrays = data("huge")
    arrays["var"] = rng.uniform(0.5, 2.0, size=(50, 1))
    assert_matches_torch("gaussian_nll", {}, arrays, lambda pred, target, var: F.gaussian_nll_loss(pred, target, var))
    one = {"pred": [[1.5]], "target": [[0.0]], "var": [[0.25]]}
    assert_matches_torch("gaussian_nll", {"full": True}, one,
                         lambda pred, target, var: F.gaussian_nll_loss(pred, target, var, full=True))


def torch_tweedie(power):
    # sklearn's mean_tweedie_deviance formulas, written independently in torch
    def fn(pred, target):
        mu, y, p = pred, target, power
        if p == 0:
            dev = (y - mu) ** 2
        elif p == 1:
            # xlogy(y, y) - xlogy(y, mu): 0 log 0 = 0 with a finite autograd gradient at y = 0
            dev = 2 * (torch.xlogy(y, y) - torch.xlogy(y, mu) - y + mu)
        elif p == 2:
            dev = 2 * (torch.log(mu / y) + y / mu - 1)
        else:
            dev = 2 * (y.clamp(min=0) ** (2 - p) / ((1 - p) * (2 - p)) - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))
        return dev.mean()

    return fn


@pytest.mark.parametrize("power", [-2.0, -0.5, 0.0, 1.0, 1.2, 1.5, 1.9, 2.0, 2.5, 3.0, 4.0])
def test_tweedie_matches_sklearn_and_torch(power):
    from sklearn.metrics import mean_tweedie_deviance

    arrays = positive_data(width=1, zeros=power < 2)
    if power <= 0:
        arrays["target"][1, 0] = -1.5  # allowed: sklearn needs only mu > 0 there
    value, _ = ours("tweedie", {"power": power}, arrays)
    ref = mean_tweedie_deviance(arrays["target"][:, 0], arrays["pred"][:, 0], power=power)
    assert value == pytest.approx(ref, rel=1e-10)
    assert_matches_torch("tweedie", {"power": power}, arrays, torch_tweedie(power))
    single = {k: v[2:3] for k, v in arrays.items()}
    assert_matches_torch("tweedie", {"power": power}, single, torch_tweedie(power))


def test_tweedie_worked_example_from_sklearn_docs():
    # sklearn docstring: mean_tweedie_deviance([2, 0, 1, 4], [0.5, 0.5, 2., 2.], power=1) = 1.4260...
    value, _ = ours("tweedie", {"power": 1.0}, {"pred": [0.5, 0.5, 2.0, 2.0], "target": [2, 0, 1, 4]})
    assert value == pytest.approx(1.4260, abs=1e-4)


def test_tweedie_default_power_is_1_5():
    from sklearn.metrics import mean_tweedie_deviance

    arrays = positive_data(width=1, zeros=True)
    assert ours("tweedie", {}, arrays)[0] == pytest.approx(
        mean_tweedie_deviance(arrays["target"][:, 0], arrays["pred"][:, 0], power=1.5), rel=1e-10)


def test_multi_level_quantile_matches_sklearn_per_level():
    from sklearn.metrics import mean_pinball_loss

    n = 40
    target = rng.normal(size=(n, 1))
    pred = target + rng.normal(size=(n, 3))
    levels = (0.1, 0.5, 0.9)
    value, _ = ours("quantile", {"q": levels}, {"pred": pred, "target": target})
    ref = np.mean([mean_pinball_loss(target[:, 0], pred[:, k], alpha=q) for k, q in enumerate(levels)])
    assert value == pytest.approx(ref, rel=1e-12)

    def fn(pred, target):
        r = target - pred
        q = torch.tensor(levels, dtype=torch.float64)
        return torch.maximum(q * r, (q - 1) * r).mean()

    assert_matches_torch("quantile", {"q": levels}, {"pred": pred, "target": target}, fn)


def test_quantile_single_level_spec_still_parses():
    from losscli.spec import parse_spec

    assert parse_spec("quantile:q=0.9").params["q"] == (0.9,)


# ----------------------------------------------------------------------------- domain errors through the API and CLI

def compute_table(columns, spec):
    import pyarrow as pa

    from losscli import compute
    from losscli.spec import parse_spec

    table = named(pa.table(columns), "t.csv")
    return compute(table, [parse_spec(spec)])


def test_msle_refuses_values_at_or_below_minus_one():
    from losscli.errors import InputDataError

    with pytest.raises(InputDataError) as err:
        compute_table({"pred": [0.5, -1.0, 2.0, -3.0], "target": [1.0, 1.0, 1.0, 1.0]}, "msle")
    assert "'pred'" in err.value.message and "rows 2, 4" in err.value.message and "> -1" in err.value.message
    with pytest.raises(InputDataError) as err:
        compute_table({"pred": [0.5, 1.0], "target": [1.0, -1.5]}, "msle")
    assert "'target'" in err.value.message and "row 2" in err.value.message


def test_tweedie_domain_errors():
    from losscli.errors import InputDataError

    with pytest.raises(InputDataError) as err:
        compute_table({"pred": [0.5, 1.0, 2.0], "target": [1.0, -2.0, 0.0]}, "tweedie")
    assert "target" in err.value.message and "row 2" in err.value.message and ">= 0" in err.value.message
    with pytest.raises(InputDataError) as err:
        compute_table({"pred": [0.5, 1.0], "target": [1.0, 0.0]}, "tweedie:power=2")
    assert "target" in err.value.message and "row 2" in err.value.message
    with pytest.raises(InputDataError) as err:
        compute_table({"pred": [0.5, 0.0], "target": [1.0, 1.0]}, "tweedie:power=-1")
    assert "pred" in err.value.message and "row 2" in err.value.message


def test_poisson_rates_must_be_non_negative():
    from losscli.errors import InputDataError

    with pytest.raises(InputDataError) as err:
        compute_table({"pred": [0.5, -1.0], "target": [1.0, 1.0]}, "poisson:log_input=false")
    assert "pred" in err.value.message and "row 2" in err.value.message


def test_multi_level_quantile_width_errors():
    from losscli.errors import InputDataError

    with pytest.raises(InputDataError, match="3 pred columns"):
        compute_table({"pred_0": [0.5, 1.0], "pred_1": [0.5, 1.0], "target": [1.0, 1.0]}, "quantile:q=0.1;0.5;0.9")


def cli(tmp_path, text, *args):
    from click.testing import CliRunner

    from losscli.cli import main

    path = tmp_path / "t.csv"
    path.write_text(text)
    return CliRunner().invoke(main, ["compute", *args, str(path)])


def test_cli_gaussian_nll_without_var_names_the_defaults(tmp_path):
    result = cli(tmp_path, "pred,target\n1.0,0.5\n2.0,2.5\n", "-l", "gaussian_nll")
    assert result.exit_code == 3, result.output
    for name in ("var", "variance", "var_*"):
        assert name in result.stderr


def test_cli_gaussian_nll_with_variance_column(tmp_path):
    result = cli(tmp_path, "pred,target,variance\n1.0,0.5,0.5\n2.0,2.5,2.0\n", "-l", "gaussian_nll")
    assert result.exit_code == 0, result.output


def test_cli_tweedie_negative_target_and_power_hole(tmp_path):
    text = "pred,target\n1.0,0.5\n2.0,-2.5\n"
    result = cli(tmp_path, text, "-l", "tweedie")
    assert result.exit_code == 3 and "row 2" in result.stderr, result.output
    result = cli(tmp_path, text, "-l", "tweedie:power=0.5")
    assert result.exit_code == 2 and "0 < power < 1" in result.stderr, result.output


def test_cli_msle_minus_one(tmp_path):
    result = cli(tmp_path, "pred,target\n1.0,0.5\n-1.0,2.5\n", "-l", "msle")
    assert result.exit_code == 3 and "row 2" in result.stderr, result.output


def test_million_rows_new_losses_match_references():
    from sklearn.metrics import mean_squared_log_error, mean_tweedie_deviance

    n = 1_000_000
    pred = rng.uniform(0.1, 5.0, size=(n, 1))
    target = rng.poisson(2.0, size=(n, 1)).astype(float)
    assert ours("tweedie", {}, {"pred": pred, "target": target})[0] == pytest.approx(
        mean_tweedie_deviance(target[:, 0], pred[:, 0], power=1.5), rel=1e-9)
    assert ours("msle", {}, {"pred": pred, "target": target})[0] == pytest.approx(
        mean_squared_log_error(target[:, 0], pred[:, 0]), rel=1e-9)
    t = torch.tensor(target)
    assert ours("poisson", {}, {"pred": np.log(pred), "target": target})[0] == pytest.approx(
        F.poisson_nll_loss(torch.tensor(np.log(pred)), t).item(), rel=1e-9)


def test_single_level_quantile_does_not_broadcast_one_target():
    import numpy as np
    import pyarrow as pa

    from losscli import compute
    from losscli.errors import InputDataError
    from losscli.spec import parse_spec

    table = named(pa.table({"p1": [1.0, 2.0], "p2": [0.0, 1.0], "target": [1.0, 1.0]}), "t.csv")
    with pytest.raises(InputDataError, match="one column per pred column"):
        compute(table, [parse_spec("quantile:q=0.9")], pred="p1,p2", target="target")
    report = compute(table, [parse_spec("quantile:q=0.1;0.9")], pred="p1,p2", target="target")
    # levels 0.1 on p1 and 0.9 on p2: residuals y - p = [0, -1] and [1, 0]
    expected = np.mean([0.0, 0.9 * 1.0, (1 - 0.1) * 1.0, 0.0])
    assert report.results[0].value == pytest.approx(expected)


def test_smape_gradient_at_its_kinks_is_the_middle_of_the_one_sided_slopes():
    # Documented in smape's Explain: at p = y != 0 and at p = 0 != y the gradient is the mean of the two
    # one-sided derivatives; those are measured here by one-sided differences of the formula itself.
    def f(p, y):
        return 0.0 if p == 0 and y == 0 else 2 * abs(y - p) / (abs(y) + abs(p))

    points = [(2.0, 2.0), (-0.5, -0.5), (0.0, 3.0), (0.0, -0.25)]
    pred = np.array([[p] for p, _ in points])
    target = np.array([[y] for _, y in points])
    _, grad = ours("smape", {}, {"pred": pred, "target": target}, reduction="sum")
    h = 1e-7
    for (p, y), g in zip(points, grad[:, 0]):
        right = (f(p + h, y) - f(p, y)) / h
        left = (f(p, y) - f(p - h, y)) / h
        assert abs(left - right) > 0.1  # a real kink, so the choice of gradient matters
        assert g == pytest.approx((left + right) / 2, abs=1e-5 * max(abs(left), abs(right))), (p, y)


def test_quantile_accepts_a_plain_float_level_from_api_callers():
    from losscli.catalogue import get

    loss = get("quantile")
    pred, target = np.array([[1.0, 3.0]]), np.array([[2.0, 2.0]])
    assert loss.check(pred=pred, target=target, q=0.9) == []
    np.testing.assert_allclose(loss.value(pred=pred, target=target, q=0.9), [[0.9, 0.1]])
    np.testing.assert_allclose(loss.grad(pred=pred, target=target, q=0.9), [[-0.9, 0.1]])


def test_tweedie_power_domain_text():
    from losscli.catalogue import get

    assert get("tweedie").params[0].domain_text() == "a float <= 0 or >= 1"
    for ok in ("-3", "0", "1", "1.5", "2", "7"):
        get("tweedie").params[0].parse(ok)
    with pytest.raises(ValueError, match="0 < power < 1"):
        get("tweedie").params[0].parse("0.999")


def test_gaussian_nll_names_the_role_and_the_option(tmp_path):
    result = cli(tmp_path, "pred,target\n1.0,0.5\n", "-l", "gaussian_nll")
    assert result.exit_code == 3
    assert "No var column" in result.stderr and "--input var=" in result.stderr and "var_*" in result.stderr


def test_gaussian_nll_refuses_non_positive_variance_naming_rows():
    import pyarrow as pa

    from losscli import compute
    from losscli.errors import InputDataError
    from losscli.spec import parse_spec

    table = named(pa.table({"pred": [1.0, 2.0, 3.0], "target": [1.0, 1.0, 1.0], "var": [1.0, 0.0, -2.0]}), "t.csv")
    with pytest.raises(InputDataError) as err:
        compute(table, [parse_spec("gaussian_nll")])
    assert "'var'" in err.value.message and "rows 2, 3" in err.value.message
