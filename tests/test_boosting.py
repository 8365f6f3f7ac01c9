"""Catalogue losses as XGBoost and LightGBM objectives: small models trained on synthetic data.

(a) With the built-in-equivalent losses the custom objective reproduces the library's own objective:
    mse against reg:squarederror / regression, bce_logits against binary:logistic / binary, with and
    without sample weights, both started from a margin of 0. Tolerance: the largest difference of the
    raw margins is at most 1e-5 times the largest margin for XGBoost and 1e-6 for LightGBM. Both keep
    gradients in float32, so the libraries' own numbers carry relative errors of ~1e-7 per step;
    measured: XGBoost 0 to 1.4e-6 on margins of ~7, LightGBM 0 to 1.2e-8.
(b) The alpha-balanced focal loss (gamma=2, alpha=0.75 on the rare class) recovers more of the
    minority class at threshold 0.5 than plain logistic loss on an imbalanced set (7% positives).
"""

from __future__ import annotations

import numpy as np
import pytest
import lightgbm as lgb
import xgboost as xgb

import losscli
from losscli.boosting import (Objective, is_piecewise_linear, lightgbm_metric, lightgbm_objective, xgboost_metric,
                              xgboost_objective)
from losscli.catalogue import CATALOGUE

from .cases import all_cases
from .harness import as_arrays

XGB = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "nthread": 1}
LGB = {"num_leaves": 8, "learning_rate": 0.3, "verbose": -1, "num_threads": 1, "deterministic": True}


def regression_data(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, X[:, 0] * 2 + np.sin(X[:, 1] * 2) + rng.normal(size=n) * 0.3, rng.uniform(0.5, 2.0, n)


def binary_data(n=1200, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, (X[:, 0] + X[:, 1] ** 2 - 1 + rng.normal(size=n) * 0.5 > 0).astype(float), rng.uniform(0.5, 2.0, n)


# ----------------------------------------------------------------------------- (a) the built-in objectives


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("builtin,loss,make", [("reg:squarederror", "mse", regression_data),
                                               ("binary:logistic", "bce_logits", binary_data)])
def test_xgboost_custom_objective_reproduces_the_builtin(builtin, loss, make, weighted):
    X, y, w = make()
    data = xgb.DMatrix(X, label=y, weight=w if weighted else None, base_margin=np.zeros(len(y)))
    own = xgb.train({**XGB, "objective": builtin}, data, 30)
    # mse = (p - y)^2 is twice reg:squarederror's loss: its gradient and Hessian are doubled, so doubling
    # lambda and min_child_weight gives the same leaf values and the same split choices
    scale = 2.0 if loss == "mse" else 1.0
    ours = xgb.train({**XGB, "lambda": scale, "min_child_weight": scale}, data, 30, obj=xgboost_objective(loss))
    a, b = own.predict(data, output_margin=True), ours.predict(data, output_margin=True)
    assert np.abs(a).max() > 3.0  # the models learned something
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-5 * np.abs(a).max())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("builtin,loss,make", [("regression", "mse", regression_data),
                                               ("binary", "bce_logits", binary_data)])
def test_lightgbm_custom_objective_reproduces_the_builtin(builtin, loss, make, weighted):
    X, y, w = make()
    data = lgb.Dataset(X, label=y, weight=w if weighted else None, init_score=np.zeros(len(y)), free_raw_data=False)
    own = lgb.train({**LGB, "objective": builtin, "boost_from_average": False}, data, 30)
    ours = lgb.train({**LGB, "objective": lightgbm_objective(loss)}, data, 30)
    a, b = own.predict(X, raw_score=True), ours.predict(X, raw_score=True)
    assert np.abs(a).max() > 3.0
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-6 * np.abs(a).max())


# ----------------------------------------------------------------------------- (b) focal on an imbalanced set


def imbalanced(seed, n=2000):
    rng = np.random.default_rng(seed)

    def draw():
        X = rng.normal(size=(n, 4))
        return X, (1.5 * X[:, 0] + X[:, 1] - 3.8 + rng.logistic(size=n) > 0).astype(float)

    return draw(), draw()


def recall(margin, y):
    return float(((margin > 0) & (y == 1)).sum() / (y == 1).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_focal_training_recovers_more_of_the_minority_class(seed):
    (X, y), (X_test, y_test) = imbalanced(seed)
    assert 0.04 < y.mean() < 0.1
    recalls = {}
    for library in ("xgboost", "lightgbm"):
        for loss, params in (("bce_logits", {}), ("focal", {"gamma": 2.0, "alpha": 0.75})):
            if library == "xgboost":
                data = xgb.DMatrix(X, label=y, base_margin=np.zeros(len(y)))
                model = xgb.train({**XGB, "eta": 0.1}, data, 60, obj=xgboost_objective(loss, **params))
                margin = model.predict(xgb.DMatrix(X_test, base_margin=np.zeros(len(y_test))), output_margin=True)
            else:
                data = lgb.Dataset(X, label=y, init_score=np.zeros(len(y)))
                model = lgb.train({**LGB, "learning_rate": 0.1, "objective": lightgbm_objective(loss, **params)},
                                  data, 60)
                margin = model.predict(X_test, raw_score=True)
            recalls[library, loss] = recall(margin, y_test)
    for library in ("xgboost", "lightgbm"):
        assert recalls[library, "focal"] >= recalls[library, "bce_logits"] + 0.05, recalls


# ----------------------------------------------------------------------------- multi-class, metrics, shapes


def three_classes(n=900, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, np.argmax(X[:, :3] + rng.normal(size=(n, 3)) * 0.3, axis=1).astype(float)


@pytest.mark.parametrize("loss,params", [("cross_entropy", {}), ("focal_ce", {"gamma": 1.0})])
def test_multiclass_objectives_train_both_libraries(loss, params):
    X, y = three_classes()
    log = {}
    data = xgb.DMatrix(X, label=y, base_margin=np.zeros((len(y), 3)))
    model = xgb.train({**XGB, "num_class": 3}, data, 25, obj=xgboost_objective(loss, **params),
                      custom_metric=xgboost_metric(loss, **params), evals=[(data, "train")], evals_result=log,
                      verbose_eval=False)
    margin = model.predict(data, output_margin=True)
    assert margin.shape == (len(y), 3) and (margin.argmax(axis=1) == y).mean() > 0.85
    label = losscli.get(loss, **params).label
    curve = log["train"][label.replace(":", "[", 1) + "]" if params else label]  # XGBoost splits names at ':'
    assert curve[-1] < curve[0] / 2
    # the logged metric is the loss's value on the margins, as losscli computes it
    assert curve[-1] == pytest.approx(losscli.get(loss, **params).value(pred=margin, target=y), rel=1e-5)
    log = {}
    data = lgb.Dataset(X, label=y, init_score=np.zeros((len(y), 3)))
    model = lgb.train({**LGB, "num_class": 3, "objective": lightgbm_objective(loss, **params)}, data, 25,
                      valid_sets=[data], valid_names=["train"], feval=lightgbm_metric(loss, **params),
                      callbacks=[lgb.record_evaluation(log)])
    margin = model.predict(X, raw_score=True)
    assert margin.shape == (len(y), 3) and (margin.argmax(axis=1) == y).mean() > 0.85
    curve = log["train"][losscli.get(loss, **params).label]
    assert curve[-1] < curve[0] / 2


@pytest.mark.parametrize("loss,k", [("exponential", None), ("sparsemax", None), ("multiclass_sparsemax", 3)])
def test_issue_12_losses_boost_with_their_exact_hessians(loss, k):
    """AdaBoost's exponential loss and the sparsemax losses, Newton-boosted on their own Hessians by both libraries."""
    X, y = binary_data()[:2] if k is None else three_classes()
    shape = (len(y),) if k is None else (len(y), k)
    extra = {} if k is None else {"num_class": k}
    f = losscli.get(loss)
    assert xgboost_objective(loss).objective.hessian == "exact"
    start = f.value(pred=np.zeros(shape), target=y)
    model = xgb.train({**XGB, **extra}, xgb.DMatrix(X, label=y, base_margin=np.zeros(shape)), 40,
                      obj=xgboost_objective(loss))
    margins = [model.predict(xgb.DMatrix(X, base_margin=np.zeros(shape)), output_margin=True)]
    model = lgb.train({**LGB, **extra, "objective": lightgbm_objective(loss)},
                      lgb.Dataset(X, label=y, init_score=np.zeros(shape)), 40)
    margins.append(model.predict(X, raw_score=True))
    for margin in margins:
        assert f.value(pred=margin, target=y) < start / 3
        predicted = (margin > 0) if k is None else margin.argmax(axis=1)
        assert (predicted == y).mean() > 0.9


def test_wing_boosts_with_a_constant_hessian():
    # wing's Hessian is never positive (concave on each side of 0, 0 on the linear part): a Newton step has no
    # curvature to divide by, so "auto" takes the constant Hessian, as for the piecewise-linear losses
    for case in all_cases()["wing"]:
        h = losscli.get("wing", **case.params).hess(**as_arrays(case.make(np.random.default_rng(0), 50)))
        assert np.all(h <= 0) and np.any(h < 0)
    assert xgboost_objective("wing").objective.hessian == "constant"
    assert xgboost_objective("wing", hessian="exact").objective.hessian == "exact"
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1500, 3))
    y = X[:, 0] + rng.normal(size=1500) * 0.1
    y[:60] += 50.0  # 4% gross outliers
    start = np.full(1500, np.median(y))
    data = xgb.DMatrix(X, label=y, base_margin=start)
    fits = {hessian: xgb.train({**XGB, "min_child_weight": 0}, data, 100,
                               obj=xgboost_objective("wing", hessian=hessian)).predict(data, output_margin=True)
            for hessian in ("auto", "exact")}
    wing = losscli.get("wing")
    assert wing.value(pred=fits["auto"], target=y) < 0.85 * wing.value(pred=start, target=y)
    clean = {h: np.abs(fit[60:] - X[60:, 0]).mean() for h, fit in fits.items()}
    assert clean["auto"] < 0.7 * np.abs(start[60:] - X[60:, 0]).mean()
    # the exact Hessian, floored at 1e-16, makes the Newton steps explode instead
    assert clean["exact"] > 10 * clean["auto"], clean


def test_objective_derivatives_are_per_row_and_weighted():
    x = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
    y = np.array([0.0, 2.0])
    w = np.array([1.0, 3.0])
    g, h = Objective("cross_entropy", {}).derivatives(x, y, w)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    onehot = np.eye(3)[[0, 2]]
    np.testing.assert_allclose(g, w[:, None] * (p - onehot), rtol=1e-14)
    np.testing.assert_allclose(h, w[:, None] * p * (1 - p), rtol=1e-14)
    g, h = Objective("mse", {}).derivatives(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    assert g.shape == h.shape == (2,)
    np.testing.assert_array_equal(g, [2.0, 4.0])
    np.testing.assert_array_equal(h, [2.0, 2.0])


def test_piecewise_linear_losses_boost_with_a_constant_hessian():
    g, h = Objective("quantile", {"q": 0.9}).derivatives(np.array([0.0, 2.0]), np.array([1.0, 1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, [-0.9, 2 * 0.1])
    np.testing.assert_array_equal(h, [1.0, 2.0])  # XGBoost's and LightGBM's quantile convention, weighted
    assert Objective("quantile", {}, hessian="exact").derivatives(np.zeros(2), np.ones(2))[1].tolist() == [1e-16] * 2
    # a quantile model fitted with it lands near the 0.9 quantile
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(2000, 2)), rng.normal(size=2000)
    model = xgb.train({**XGB, "eta": 0.1}, xgb.DMatrix(X, label=y, base_margin=np.zeros(2000)), 200,
                      obj=xgboost_objective("quantile", q=0.9))
    covered = (y <= model.predict(xgb.DMatrix(X, base_margin=np.zeros(2000)), output_margin=True)).mean()
    assert 0.85 < covered < 0.95


def test_huber_objective_resists_outliers_where_squared_error_does_not():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1500, 3))
    y = X[:, 0] + rng.normal(size=1500) * 0.1
    y[:60] += 50.0  # 4% gross outliers
    start = np.full(1500, np.median(y))
    fits = {}
    for loss, params in (("mse", {}), ("huber", {"delta": 1.0})):
        data = xgb.DMatrix(X, label=y, base_margin=start)
        model = xgb.train({**XGB, "min_child_weight": 0}, data, 100, obj=xgboost_objective(loss, **params))
        fits[loss] = model.predict(data, output_margin=True)
    clean = slice(60, None)
    error = {loss: np.abs(fit[clean] - X[clean, 0]).mean() for loss, fit in fits.items()}
    assert error["huber"] < error["mse"] / 3, error


def test_is_piecewise_linear_agrees_with_the_catalogue():
    for name, cases in sorted(all_cases().items()):
        if CATALOGUE[name].hess is None:
            continue
        for case in cases:
            f = losscli.get(name, **case.params)
            zero = np.all(f.hess(**as_arrays(case.make(np.random.default_rng(0), 20)), reduction="sum") == 0)
            assert is_piecewise_linear(f) == zero, (name, case.params)


# ----------------------------------------------------------------------------- refusals, as the CLI's


def test_objectives_refuse_what_cannot_be_boosted():
    with pytest.raises(losscli.UsageProblem, match="root of a sum.*use mse"):
        xgboost_objective("rmse")
    with pytest.raises(losscli.UsageProblem, match="takes pred, target, var"):
        lightgbm_objective("gaussian_nll")
    with pytest.raises(losscli.UsageProblem, match="has no Hessian.*hessian='constant'"):
        xgboost_objective("dice")
    with pytest.raises(losscli.UsageProblem, match="hessian='newton' is not one of"):
        xgboost_objective("mse", hessian="newton")
    with pytest.raises(losscli.UsageProblem, match="The 'gamma' parameter of loss 'focal' must be a float >= 0"):
        lightgbm_objective("focal", gamma=-1)


def test_bad_labels_raise_the_clis_input_error_during_training():
    X, y = three_classes(n=60)
    y[7] = 5.0
    data = xgb.DMatrix(X, label=y, base_margin=np.zeros((60, 3)))
    with pytest.raises(losscli.InputDataError, match=r"class index 5 but there are 3 logit columns.*<arrays> row 8"):
        xgb.train({**XGB, "num_class": 3}, data, 2, obj=xgboost_objective("cross_entropy"))
