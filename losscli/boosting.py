"""Catalogue losses as custom objectives and evaluation metrics for XGBoost and LightGBM.

A gradient-boosting library with a custom objective asks, every round, for the first and second
derivative of the loss with respect to each raw score (the margin, before any link). These adapters
give them from the catalogue's analytic gradient and Hessian diagonal, through the same pipeline
and validation as ``losscli compute``: per row (the ``sum`` reduction, so row i's derivative is its
own loss's), multiplied by the sample weights the library holds, in the shape it passes the raw
scores: ``(n,)`` for regression and binary tasks, ``(n, K)`` for multi-class ones (set
``num_class``). The matching metric reports the value ``losscli compute`` would: the weighted mean.

>>> import numpy as np, xgboost as xgb
>>> from losscli.boosting import xgboost_objective, xgboost_metric
>>> X = np.random.default_rng(0).normal(size=(200, 3))
>>> y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
>>> data = xgb.DMatrix(X, label=y, base_margin=np.zeros(200))
>>> log = {}
>>> booster = xgb.train({"max_depth": 2, "eta": 0.3}, data, num_boost_round=20, evals=[(data, "train")],
...                     obj=xgboost_objective("focal", gamma=2.0), custom_metric=xgboost_metric("focal", gamma=2.0),
...                     evals_result=log, verbose_eval=False)
>>> first, last = log["train"]["focal[gamma=2]"][0], log["train"]["focal[gamma=2]"][-1]
>>> bool(last < first / 4)
True

The raw score is the loss's first input as it is, with no link function: use losses whose prediction
is a real number (logits for classification, values for regression). A loss on probabilities or on
positive means refuses raw scores outside its domain, as ``compute`` does.

``hessian`` says which second derivative the library gets:

- ``"exact"``: the catalogue's Hessian diagonal (softmax losses: the exact diagonal ``p (1 - p)``;
  XGBoost's own ``multi:softprob`` uses the bound ``2 p (1 - p)`` instead).
- ``"constant"``: 1 per row (times its weight), what XGBoost's and LightGBM's own L1 and quantile
  objectives use: Newton steps then become plain gradient steps on the leaf.
- ``"auto"`` (default): ``"constant"`` for the losses whose Hessian is 0 wherever it exists (mae,
  quantile, mape, hinge, perceptron, the multi-class hinges and perceptron, nll, smooth_l1 with
  beta=0, multi_margin with p=1, generalized_ce with q=1, ...) and for wing, whose Hessian is never
  positive (concave on each side of 0, linear beyond w): a Newton step has no curvature to divide by
  there. ``"exact"`` for every other loss.

Every Hessian is then raised to at least ``min_hess`` (default 1e-16, XGBoost's own floor for its
logistic objective). A non-convex loss (focal, cauchy, welsch, ...) has negative curvature in places;
XGBoost would clip it to 0 itself, LightGBM would not, so the floor is applied for both.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .api import LossFunction, get, no_hessian
from .errors import UsageProblem

__all__ = ["xgboost_objective", "lightgbm_objective", "xgboost_metric", "lightgbm_metric", "Objective"]

HESSIANS = ("auto", "exact", "constant")
# the losses whose Hessian is 0 wherever it exists, whatever their parameters
PIECEWISE_LINEAR = ("mae", "quantile", "mape", "hinge", "nll", "perceptron", "multiclass_hinge", "categorical_hinge",
                    "multiclass_perceptron", "total_variation", "wasserstein_1d", "multilabel_margin",
                    "hinge_embedding", "margin_ranking")
# XGBoost's floor for the logistic objective's Hessian (regression_loss.h, LogisticRegression).
MIN_HESS = 1e-16


def is_piecewise_linear(f: LossFunction) -> bool:
    """Whether the loss's Hessian is 0 wherever it exists (tested against the catalogue's hess)."""
    name, params = f.name, f.params
    return (name in PIECEWISE_LINEAR or (name == "smooth_l1" and params["beta"] == 0)
            or (name == "multi_margin" and params["p"] == 1) or (name == "generalized_ce" and params["q"] == 1))


def has_no_positive_curvature(f: LossFunction) -> bool:
    """Whether the loss's Hessian is nowhere positive: 0 wherever it exists (piecewise linear), or, for wing,
    negative on its logarithmic part (concave on each side of 0) and 0 on its linear part. A Newton step has
    nothing to divide by in either case, so ``"auto"`` boosts these with a constant Hessian."""
    return is_piecewise_linear(f) or f.name == "wing"


def _boostable(name: str, params: dict[str, Any], adapter: str) -> LossFunction:
    f = get(name, **params)
    roles = [role.name for role in f.loss.inputs]
    if roles[:2] != ["pred", "target"] or len(roles) > 2:
        raise UsageProblem(f"{adapter}: loss {f.label!r} takes {', '.join(roles)}; a boosting library passes only "
                           "raw scores (pred) and labels (target).")
    if f.loss.finish != "identity":
        raise UsageProblem(f"{adapter}: loss {f.label!r} is the root of a sum, not a sum over rows, so it has no "
                           f"per-row objective; use {'mse' if f.name == 'rmse' else 'its square'}, which has the "
                           "same minimiser.")
    return f


class Objective:
    """A catalogue loss as per-row gradient and Hessian of raw scores; the library adapters wrap it."""

    def __init__(self, name: str, params: dict[str, Any], *, hessian: str = "auto", min_hess: float = MIN_HESS,
                 adapter: str = "objective") -> None:
        if hessian not in HESSIANS:
            raise UsageProblem(f"{adapter}: hessian={hessian!r} is not one of {', '.join(map(repr, HESSIANS))}.")
        if not (min_hess >= 0.0):
            raise UsageProblem(f"{adapter}: min_hess must be >= 0, got {min_hess!r}.")
        self.loss = _boostable(name, params, adapter)
        if hessian == "auto":
            hessian = "constant" if has_no_positive_curvature(self.loss) else "exact"
        self.hessian = hessian
        if self.hessian == "exact" and no_hessian(self.loss.spec):
            raise UsageProblem(f"{adapter}: {no_hessian(self.loss.spec)} Pass hessian='constant' to boost with "
                               "gradient steps.")
        self.min_hess = float(min_hess)

    def __repr__(self) -> str:
        return f"Objective({self.loss.label!r}, hessian={self.hessian!r})"

    def derivatives(self, raw: np.ndarray, labels: np.ndarray,
                    weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-row gradient and Hessian of the (weighted) loss w.r.t. the raw scores, shaped like ``raw``."""
        raw = np.asarray(raw, dtype=np.float64)
        if self.hessian == "exact":
            g, h = self.loss.grad_hess(pred=raw, target=labels, weight=weight, reduction="sum")
        else:
            g = self.loss.grad(pred=raw, target=labels, weight=weight, reduction="sum")
            h = np.ones_like(g) if weight is None else np.broadcast_to(
                np.asarray(weight, dtype=np.float64).reshape((-1,) + (1,) * (g.ndim - 1)), g.shape).copy()
        return g, np.maximum(h, self.min_hess)

    def value(self, raw: np.ndarray, labels: np.ndarray, weight: np.ndarray | None = None) -> float:
        """The weighted mean of the loss, as ``losscli compute --weight`` reports it."""
        return self.loss.value(pred=np.asarray(raw, dtype=np.float64), target=labels, weight=weight)


def _labels_and_weights(data) -> tuple[np.ndarray, np.ndarray | None]:
    labels = np.asarray(data.get_label(), dtype=np.float64)
    weight = data.get_weight()
    weight = None if weight is None or len(weight) == 0 else np.asarray(weight, dtype=np.float64)
    return labels, weight


def _library_objective(adapter: str, name: str, params: dict[str, Any], hessian: str, min_hess: float):
    """``f(raw_scores, data) -> (grad, hess)``, the form both libraries call; ``data`` is a DMatrix or a Dataset."""
    objective = Objective(name, params, hessian=hessian, min_hess=min_hess, adapter=adapter)

    def obj(raw: np.ndarray, data) -> tuple[np.ndarray, np.ndarray]:
        return objective.derivatives(raw, *_labels_and_weights(data))

    obj.objective = objective  # type: ignore[attr-defined]
    obj.__name__ = obj.__qualname__ = f"{adapter}({objective.loss.label!r})"
    return obj


def xgboost_objective(name: str, *, hessian: str = "auto", min_hess: float = MIN_HESS,
                      **params: Any) -> Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]:
    """A custom objective for ``xgboost.train(params, dtrain, obj=...)``: ``obj(predt, dtrain) -> (grad, hess)``.

    ``name`` and ``params`` choose the loss as :func:`losscli.get` does; ``hessian`` and ``min_hess`` are
    explained in the module's documentation. Labels are ``dtrain.get_label()`` (class indices for
    multi-class losses), weights ``dtrain.get_weight()``. For multi-class set ``num_class`` in the
    parameters: XGBoost then passes (n, K) raw scores and takes (n, K) derivatives.

    For a bit-for-bit match with XGBoost's own ``reg:squarederror`` (which is half of ``mse``), double
    ``reg_lambda``, ``min_child_weight`` and ``gamma``: ``mse``'s gradient and Hessian are twice XGBoost's.
    """
    return _library_objective("xgboost_objective", name, params, hessian, min_hess)


def lightgbm_objective(name: str, *, hessian: str = "auto", min_hess: float = MIN_HESS,
                       **params: Any) -> Callable[[np.ndarray, Any], tuple[np.ndarray, np.ndarray]]:
    """A custom objective for ``lightgbm.train({"objective": ...}, train_set)``: ``f(preds, train_data)``.

    As :func:`xgboost_objective`; labels and weights come from the Dataset. For multi-class set
    ``num_class``: LightGBM then passes (n, K) raw scores and takes (n, K) derivatives. LightGBM's own
    ``regression`` objective is half of ``mse`` too; with its default ``lambda_l2=0`` the factor 2
    cancels in every leaf value and split choice.
    """
    return _library_objective("lightgbm_objective", name, params, hessian, min_hess)


def _metric_loss(name: str, params: dict[str, Any], adapter: str) -> LossFunction:
    f = get(name, **params)
    if [role.name for role in f.loss.inputs] != ["pred", "target"]:
        raise UsageProblem(f"{adapter}: loss {f.label!r} takes {', '.join(r.name for r in f.loss.inputs)}; a "
                           "boosting library passes only raw scores (pred) and labels (target).")
    return f


def xgboost_metric(name: str, **params: Any) -> Callable[[np.ndarray, Any], tuple[str, float]]:
    """An evaluation metric for ``xgboost.train(..., custom_metric=...)``: ``(label, weighted mean)``.

    XGBoost passes raw scores to it when the objective is a custom one, so it pairs with
    :func:`xgboost_objective` (or scores any loss on raw margins). The name is the loss's label with
    its parameters in brackets (``"focal[gamma=2]"``: XGBoost's log splits names at colons); lower is
    better.
    """
    f = _metric_loss(name, params, "xgboost_metric")
    # XGBoost splits "train-NAME:VALUE" at the colons, so a label's own colon would break its log
    label = f.label.replace(":", "[", 1) + "]" if ":" in f.label else f.label

    def metric(predt: np.ndarray, data) -> tuple[str, float]:
        labels, weight = _labels_and_weights(data)
        return label, f.value(pred=np.asarray(predt, dtype=np.float64), target=labels, weight=weight)

    metric.__name__ = metric.__qualname__ = f"xgboost_metric({f.label!r})"
    return metric


def lightgbm_metric(name: str, **params: Any) -> Callable[[np.ndarray, Any], tuple[str, float, bool]]:
    """An evaluation function for ``lightgbm.train(..., feval=...)``: ``(label, weighted mean, False)``.

    With a custom objective LightGBM passes raw scores, so it pairs with :func:`lightgbm_objective`;
    ``False`` says that higher is not better.
    """
    f = _metric_loss(name, params, "lightgbm_metric")

    def metric(preds: np.ndarray, data) -> tuple[str, float, bool]:
        labels, weight = _labels_and_weights(data)
        return f.label, f.value(pred=np.asarray(preds, dtype=np.float64), target=labels, weight=weight), False

    metric.__name__ = metric.__qualname__ = f"lightgbm_metric({f.label!r})"
    return metric
