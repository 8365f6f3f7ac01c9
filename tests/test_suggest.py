"""`losscli suggest`: synthetic data built to need each recommendation, clean data that needs none,
and the maximum-likelihood fit of Barron's alpha and scale on samples drawn from his distribution.

The sampler and the partition-function references here are written from the paper's formula
(Barron 2019, eq. 1 and section 2), independently of losscli's own rho.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import losscli
from losscli.cli import main
from losscli.suggest import fit_robust, log_partition, suggest


def barron_rho(x: np.ndarray, alpha: float) -> np.ndarray:
    """rho(x, alpha, 1) straight from eq. (1) and its limits at alpha = 0 and 2."""
    if alpha == 2.0:
        return 0.5 * x * x
    if alpha == 0.0:
        return np.log1p(0.5 * x * x)
    b = abs(alpha - 2.0)
    return b / alpha * ((x * x / b + 1.0) ** (alpha / 2.0) - 1.0)


def barron_sample(alpha: float, scale: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draws by inverse CDF on a fine grid of the normalised density (sinh-spaced out to |x| = 1e4)."""
    u = np.linspace(-1.0, 1.0, 400_001)
    x = np.sinh(u * np.arcsinh(1e4))
    density = np.exp(-barron_rho(x, alpha))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(x))])
    return scale * np.interp(rng.random(n), cdf / cdf[-1], x)


def specs(result) -> list[str]:
    return [a.spec for a in result.advice]


def names(result) -> list[str]:
    return [a.spec.split(":")[0] for a in result.advice]


# ----------------------------------------------------------------------------- Barron's distribution


def test_log_partition_matches_closed_forms_and_quadrature():
    from scipy.integrate import quad
    from scipy.special import k1

    assert log_partition(2.0) == pytest.approx(0.5 * math.log(2 * math.pi), abs=1e-12)
    assert log_partition(0.0) == pytest.approx(math.log(math.pi * math.sqrt(2)), abs=1e-12)
    assert log_partition(1.0) == pytest.approx(math.log(2 * math.e * k1(1.0)), abs=1e-12)
    for alpha in (0.25, 0.7, 1.5, 3.0):
        z, _ = quad(lambda x: math.exp(-float(barron_rho(np.array(x), alpha))), -np.inf, np.inf, limit=500)
        assert log_partition(alpha) == pytest.approx(math.log(z), abs=1e-8), alpha
    assert log_partition(1e-12) == pytest.approx(log_partition(0.0), abs=1e-9)  # continuous at the Cauchy limit
    with pytest.raises(ValueError):
        log_partition(-1.0)


@pytest.mark.parametrize("alpha, scale", [(0.0, 2.0), (0.5, 1.0), (1.0, 1.5), (2.0, 0.7)])
def test_fit_recovers_alpha_and_scale(alpha, scale):
    # 20,000 draws: alpha within 0.1 and scale within 8% (alpha = 2 is the loosest: the likelihood is
    # flattest there, and a slightly smaller alpha with a smaller scale fits nearly as well)
    rng = np.random.default_rng(int(10 * alpha + scale))
    fit = fit_robust(barron_sample(alpha, scale, 20_000, rng))
    assert abs(fit.alpha - alpha) <= 0.1, fit
    assert abs(fit.scale / scale - 1.0) <= 0.08, fit


# ----------------------------------------------------------------------------- regression


def regression(residuals: np.ndarray, target: np.ndarray | None = None) -> dict:
    rng = np.random.default_rng(1)
    y = rng.normal(size=residuals.size) * 5.0 if target is None else target
    return {"pred": y + residuals, "target": y}


def test_clean_regression_keeps_the_default():
    rng = np.random.default_rng(2)
    result = suggest(regression(rng.normal(size=20_000) * 0.8))
    assert result.task == "regression"
    assert specs(result) == ["mse"] and result.advice[0].default
    assert result.fit is None


def test_fit_on_request_reads_gaussian_residuals_as_alpha_two():
    rng = np.random.default_rng(3)
    result = suggest(regression(rng.normal(size=20_000) * 2.0), fit=True)
    assert specs(result) == ["mse"]  # evidence only: nothing exotic is recommended
    assert abs(result.fit.alpha - 2.0) < 0.15 and abs(result.fit.scale / 2.0 - 1.0) < 0.08


def test_heavy_tailed_residuals_get_huber_log_cosh_and_a_fitted_robust_loss():
    rng = np.random.default_rng(4)
    data = regression(rng.standard_t(1.5, size=20_000))
    result = suggest(data)
    assert names(result) == ["mse", "huber", "log_cosh", "robust"]
    share = next(e.value for e in result.evidence if e.name == "outlier_share")
    assert share > 0.01
    assert result.fit.alpha < 1.2  # Student t with 1.5 degrees of freedom: far heavier than Gaussian
    delta = float(result.advice[1].spec.split("=")[1])
    scale = next(e.value for e in result.evidence if e.name == "residual_scale")
    assert delta == pytest.approx(1.345 * scale, rel=1e-2)
    robust = result.advice[3]
    assert robust.spec == f"robust:alpha={result.fit.alpha:.3g},scale={result.fit.scale:.3g}"
    # the values are the pipeline's own, on the whole input
    report = losscli.compute(data, [a.spec for a in result.advice])
    assert [a.value for a in result.advice] == [r.value for r in report.results]


def test_skewed_counts_get_poisson():
    rng = np.random.default_rng(5)
    rate = np.exp(rng.normal(size=20_000) * 1.2)
    result = suggest({"pred": rate, "target": rng.poisson(rate).astype(float)})
    assert "poisson:log_input=false" in specs(result)
    assert specs(result).index("poisson:log_input=false") == 1  # before any robust advice
    log_rates = suggest({"pred": np.log(rate), "target": rng.poisson(rate).astype(float)})
    assert "poisson:log_input=true" in specs(log_rates)


def test_skewed_positive_values_get_msle_and_zeros_get_tweedie():
    rng = np.random.default_rng(6)
    y = np.exp(rng.normal(size=20_000))
    positive = suggest({"pred": y * np.exp(rng.normal(size=y.size) * 0.1), "target": y})
    assert "msle" in names(positive)
    y0 = np.where(rng.random(y.size) < 0.3, 0.0, y)
    zeros = suggest({"pred": np.maximum(y0, 0.05) * 1.1, "target": y0})
    assert "tweedie:power=1.5" in specs(zeros)


def test_interval_asks_for_quantiles_at_its_ends():
    rng = np.random.default_rng(7)
    result = suggest(regression(rng.normal(size=2_000)), interval=0.8)
    assert specs(result) == ["mse", "quantile:q=0.1", "quantile:q=0.5", "quantile:q=0.9"]


# ----------------------------------------------------------------------------- classification


def test_one_to_a_hundred_imbalance_gets_focal_and_weighted_bce():
    rng = np.random.default_rng(8)
    n = 50_000
    label = (rng.random(n) < 1 / 101).astype(float)
    result = suggest({"logit": rng.normal(size=n) + 3 * label - 4, "label": label})
    assert result.task == "binary"
    assert names(result) == ["bce_logits", "focal", "bce_logits"]
    positives = label.mean()
    alpha = float(result.advice[1].spec.split("alpha=")[1])
    assert alpha == pytest.approx(1 - positives, abs=1e-3)
    weight = float(result.advice[2].spec.split("=")[1])
    assert weight == pytest.approx((1 - positives) / positives, rel=1e-2)
    ratio = next(e.value for e in result.evidence if e.name == "imbalance_ratio")
    assert 80 < ratio < 125


def test_balanced_binary_keeps_the_default():
    rng = np.random.default_rng(9)
    label = (rng.random(5_000) < 0.4).astype(float)
    result = suggest({"logit": rng.normal(size=label.size) + 2 * label - 1, "label": label})
    assert specs(result) == ["bce_logits"]
    probabilities = suggest({"prob": rng.random(label.size), "label": label})
    assert specs(probabilities) == ["bce"]


def test_rare_foreground_masks_get_dice_and_tversky():
    rng = np.random.default_rng(10)
    mask = (rng.random(40_000) < 0.03).astype(float)
    result = suggest({"prob": np.clip(0.6 * mask + 0.4 * rng.random(mask.size), 0, 1), "mask": mask},
                     pred="prob", target="mask")
    assert result.task == "segmentation"
    assert specs(result) == ["bce", "dice", "tversky:alpha=0.3,beta=0.7"]
    assert all(a.value is not None for a in result.advice)


def test_imbalanced_classes_get_balanced_weights_and_focal_ce():
    rng = np.random.default_rng(11)
    n = 30_000
    y = rng.choice(3, size=n, p=[0.9, 0.095, 0.005]).astype(float)
    data = {f"logit_{k}": rng.normal(size=n) for k in range(3)}
    data["target"] = y
    result = suggest(data)
    assert result.task == "multiclass"
    assert names(result) == ["cross_entropy", "cross_entropy", "focal_ce"]
    weights = [float(w) for w in result.advice[1].spec.split("weight=")[1].split(";")]
    counts = np.bincount(y.astype(int), minlength=3)
    np.testing.assert_allclose(weights, n / (3 * counts), rtol=1e-2)


def test_balanced_classes_and_soft_labels():
    rng = np.random.default_rng(12)
    n = 3_000
    data = {f"logit_{k}": rng.normal(size=n) for k in range(3)}
    data["target"] = rng.integers(0, 3, size=n).astype(float)
    assert specs(suggest(data)) == ["cross_entropy"]
    p = rng.dirichlet([2, 2, 2], size=n)
    t = rng.dirichlet([1, 1, 1], size=n)
    soft = {**{f"prob_{k}": p[:, k] for k in range(3)}, **{f"target_{k}": t[:, k] for k in range(3)}}
    result = suggest(soft)
    assert result.task == "soft" and specs(result) == ["cross_entropy:from_logits=false", "kl_div"]


# ----------------------------------------------------------------------------- the command


def test_command_table_and_json(tmp_path):
    rng = np.random.default_rng(13)
    y = rng.normal(size=4_000)
    path = tmp_path / "heavy.parquet"
    pd.DataFrame({"pred": y + rng.standard_t(1.5, size=y.size), "target": y}).to_parquet(path)
    runner = CliRunner()
    table = runner.invoke(main, ["suggest", str(path)])
    assert table.exit_code == 0
    assert "huber:delta=" in table.output and "robust:alpha=" in table.output and "Barron" in table.output
    document = json.loads(runner.invoke(main, ["suggest", str(path), "--format", "json"]).output)
    assert document["task"] == "regression" and document["rows"] == 4_000
    assert [r["default"] for r in document["recommendations"]][:2] == [True, False]
    assert document["robust_fit"]["alpha"] < 1.5
    mse = losscli.compute(str(path), ["mse"]).results[0].value
    assert document["recommendations"][0]["value"] == mse


def test_clean_file_says_keep_the_default():
    result = CliRunner().invoke(main, ["suggest", "sample_data/regression.csv"])
    assert result.exit_code == 0 and "keep the default" in result.output


def test_bad_input_and_usage(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("pred,target\n1,2\nnan,3\n")
    runner = CliRunner()
    result = runner.invoke(main, ["suggest", str(bad)])
    assert result.exit_code == 3 and "'pred'" in result.output and "row 2" in result.output
    result = runner.invoke(main, ["suggest", "sample_data/regression.csv", "--interval", "1.5"])
    assert result.exit_code == 2 and "fraction" in result.output
