"""Loss curves from the catalogue's own definitions: the same value and gradient functions compute uses.

Each loss is drawn against the one number that decides it:

- regression and robust losses against the residual r = pred - target (target 0; the relative
  losses msle, mape, smape, poisson and tweedie at target 1, where 0 is degenerate for them);
- binary and multi-class losses against p, the predicted probability of the true class (the
  picture of the focal-loss paper): logits logit(p) for losses on logits, p itself for losses on
  probabilities, two classes (p, 1 - p) with class 0 true for multi-class losses;
- margin losses against the margin y * f(x).

The gradient is the catalogue's derivative with respect to the loss's first input (the residual's
prediction, the logit, or the probability, as the loss takes it), on the true class's column.
A row's loss is the engine's: its sum over elements divided by its norm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageProblem

AXES = {
    "regression": "residual", "robust": "residual",
    "classification": "probability", "multiclass": "probability",
    "margin": "margin",
}
AXIS_LABELS = {
    "residual": "residual  pred - target",
    "probability": "predicted probability of the true class",
    "margin": "margin  y * score",
}
DEFAULT_RANGES = {"residual": (-4.0, 4.0), "probability": (0.0, 1.0), "margin": (-3.0, 3.0)}
# Losses of the size of the error relative to the target, or defined only for positive targets:
# drawn at target 1 (pred = 1 + r), since at target 0 they are degenerate or undefined.
AT_ONE = {"msle", "mape", "smape", "poisson", "tweedie"}
# The probability axis stops short of 0 and 1, where logits are infinite.
P_FLOOR, P_CEIL = 1e-3, 1.0 - 1e-7


@dataclass
class Series:
    label: str
    y: np.ndarray  # NaN where the loss is undefined (outside its inputs' domains)
    dy: np.ndarray
    note: str = ""


@dataclass
class CurvePlot:
    axis: str
    x: np.ndarray
    series: list[Series] = field(default_factory=list)

    @property
    def xlabel(self) -> str:
        return AXIS_LABELS[self.axis]

    @property
    def dylabel(self) -> str:
        return {"residual": "d loss / d pred", "probability": "d loss / d input (logit or probability)",
                "margin": "d loss / d score"}[self.axis]


def parse_range(text: str | None, axis: str) -> tuple[float, float]:
    """'-4:4' -> (-4.0, 4.0); the axis's default range when not given."""
    if not text:
        return DEFAULT_RANGES[axis]
    low, colon, high = text.partition(":")
    try:
        a, b = float(low), float(high)
    except ValueError:
        a = b = float("nan")
    if not colon or not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise UsageProblem(f"--range {text!r}: expected LOW:HIGH with LOW < HIGH, for example --range -4:4.")
    if axis == "probability" and (a < 0 or b > 1):
        raise UsageProblem(f"--range {text!r}: probabilities lie in 0:1.")
    return a, b


def axis_of(spec) -> str:
    axis = AXES.get(spec.loss.family)
    if axis is None or spec.loss.per == "set":
        raise UsageProblem(
            f"plot curve: {spec.label} is a {spec.loss.family} loss, which no single error number decides; curves are "
            "drawn for regression, robust, classification, multi-class and margin losses. Use `losscli plot dist` to "
            "see its per-row values on a file.")
    return axis


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def input_form(spec) -> str:
    """How a classification loss takes its prediction: "probability", "log-probability" or "logit"."""
    domain = spec.loss.inputs[0].domain.text
    if domain.startswith("log-probabilities"):
        return "log-probability"
    if domain.startswith("probabilities") or spec.params.get("from_logits", True) is False:
        return "probability"
    return "logit"


def true_class_probability(spec, pred: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """Each row's predicted probability of its true class (the inverse of the probability axis), NaN where
    the row has none (an ignored class index); None for losses not read that way (several binary columns).

    Binary: p_t = p y + (1 - p)(1 - y), as the focal loss defines it for soft labels too. Multi-class:
    the probability of the target's class, or sum_k t_k p_k for probability targets.
    """
    from ..catalogue.base import sigmoid, softmax

    form = input_form(spec)
    if spec.loss.family == "classification" and pred.shape[1] == 1 and target.shape[1] == 1:
        p = pred[:, 0] if form == "probability" else sigmoid(pred[:, 0])
        y = target[:, 0]
        return p * y + (1.0 - p) * (1.0 - y)
    if spec.loss.family != "multiclass" or pred.shape[1] < 2 or spec.loss.name in ("multi_margin",):
        return None
    probs = np.exp(pred) if form == "log-probability" else pred if form == "probability" else softmax(pred)
    if target.shape[1] == pred.shape[1]:
        return (target * probs).sum(axis=1)
    if target.shape[1] != 1:
        return None
    index = target[:, 0]
    known = (index >= 0) & (index < pred.shape[1]) & (index == np.round(index))
    p = np.full(index.size, np.nan)
    rows = np.flatnonzero(known)
    p[rows] = probs[rows, index[rows].astype(np.intp)]
    return p


def inputs_at(spec, axis: str, x: np.ndarray) -> tuple[dict[str, np.ndarray], int]:
    """The loss's inputs for each point of the axis, and the column of the first input to read the gradient from."""
    loss, n = spec.loss, x.size
    column = x[:, None]
    if axis == "residual":
        base = 1.0 if loss.name in AT_ONE else 0.0
        pred = column + (0.0 if loss.name == "poisson" and spec.params.get("log_input", True) else base)
        arrays = {"pred": pred, "target": np.full((n, 1), base)}
    elif axis == "margin":
        arrays = {"pred": column, "target": np.ones((n, 1))}
    elif loss.family == "classification":
        arrays = {"pred": column if input_form(spec) == "probability" else _logit(column), "target": np.ones((n, 1))}
    else:  # multi-class: two classes, class 0 true with probability p
        form = input_form(spec)
        if form == "log-probability":
            pred = np.hstack([np.log(column), np.log1p(-column)])
        elif form == "probability":
            pred = np.hstack([column, 1.0 - column])
        else:
            pred = np.hstack([_logit(column), np.zeros((n, 1))])
        one_hot = loss.role("target").width == "pred"
        arrays = {"pred": pred, "target": np.tile([1.0, 0.0], (n, 1)) if one_hot else np.zeros((n, 1))}
    levels = spec.params.get("q")
    if isinstance(levels, tuple) and len(levels) > 1:  # quantile with L levels takes L pred columns
        arrays["pred"] = np.repeat(arrays["pred"], len(levels), axis=1)
    for role in loss.inputs:  # further inputs (gaussian_nll's variance): 1
        arrays.setdefault(role.name, np.ones((n, 1)))
    return arrays, 0


def _valid(spec, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Rows whose inputs lie in the loss's domains and pass its own check."""
    ok = np.ones(next(iter(arrays.values())).shape[0], dtype=bool)
    for role in spec.loss.inputs:
        bad = role.domain.is_bad(arrays[role.name])
        ok &= ~(bad.any(axis=1) if bad.ndim == 2 else bad)
    if spec.loss.check is not None:
        try:
            problems = spec.loss.check(**arrays, **spec.params)
        except Exception:  # a check that refuses the whole input: no point is valid
            return np.zeros_like(ok)
        for problem in problems:
            bad = np.asarray(problem.bad)
            ok &= ~(bad.any(axis=1) if bad.ndim == 2 else bad)
    return ok


def curve(spec, axis: str, x: np.ndarray) -> Series:
    """One loss's value and gradient at every point of the axis (NaN outside its domain)."""
    from ..engine.state import terms

    arrays, col = inputs_at(spec, axis, x)
    ok = _valid(spec, arrays)
    y, dy = np.full(x.size, np.nan), np.full(x.size, np.nan)
    if ok.any():
        kept = {k: v[ok] for k, v in arrays.items()}
        with np.errstate(all="ignore"):
            t = terms(spec.loss, kept, spec.params, with_grad=True)
        y[ok] = t.per_row
        dy[ok] = t.grad[:, col] / np.where(t.denom > 0, t.denom, 1.0)
    y[~np.isfinite(y)] = np.nan
    dy[~np.isfinite(dy)] = np.nan
    note = "at target 1" if axis == "residual" and spec.loss.name in AT_ONE else ""
    return Series(spec.label, y, dy, note)


def curves(specs, range_text: str | None = None, points: int = 401) -> CurvePlot:
    """Every loss on one axis; losses drawn against different quantities are refused together."""
    axes = {spec.label: axis_of(spec) for spec in specs}
    kinds = sorted(set(axes.values()))
    if len(kinds) > 1:
        by_kind = "; ".join(f"{k}: {', '.join(l for l, a in axes.items() if a == k)}" for k in kinds)
        raise UsageProblem(f"plot curve: these losses are drawn against different things ({by_kind}); "
                           "plot each kind separately.")
    axis = kinds[0]
    low, high = parse_range(range_text, axis)
    if axis == "probability":
        low, high = max(low, P_FLOOR), min(high, P_CEIL)
    x = np.linspace(low, high, points)
    return CurvePlot(axis, x, [curve(spec, axis, x) for spec in specs])
