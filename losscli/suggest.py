"""The loss advisor behind `losscli suggest`: evidence from the data, losses that fit it, numbers for each.

The file is read once as it streams, keeping a uniform random sample of rows of bounded size
(each row gets a random key; the rows with the smallest keys are kept, which merges batch by
batch), so files larger than memory work; the evidence is computed on the sample. The suggested
losses are then computed on the whole file by the ordinary pipeline, next to the default loss.

Rules (the thresholds are the module's constants, each with its reason):

- regression: residuals r = pred - target, robust scale s = 1.4826 MAD (the standard deviation for
  Gaussian residuals). An outlier share |r - median| > 3 s above 1% (four times the Gaussian 0.27%)
  means heavy tails: huber with delta = 1.345 s (Huber's 95%-efficiency constant), log_cosh when s
  is near 1 (its bend sits at |r| ~ 1), and robust with alpha and scale fitted by maximum likelihood
  under Barron's distribution. Non-negative targets with skewness above 1: poisson for counts,
  tweedie for zeros with a continuous positive part, msle for positive values. --interval asks
  for quantile losses at the interval's ends.
- binary: a minority class share below 1:10 suggests focal (alpha = 1 - positive share, the
  alpha-balanced weighting) and bce_logits with pos_weight = negatives / positives (torch's advice);
  segmentation masks with a rare foreground suggest dice and tversky (alpha 0.3, beta 0.7).
- multi-class: a class ratio above 10 suggests cross_entropy with balanced class weights
  n / (K n_k) (scikit-learn's "balanced") and focal_ce; soft labels suggest kl_div.

Barron's distribution (Barron 2019, section 2): p(x | alpha, c) = exp(-rho(x / c, alpha)) / (c Z(alpha)),
Z(alpha) = integral over the real line of exp(-rho(x, alpha, 1)), finite for alpha >= 0. Z has no closed
form; :func:`log_partition` integrates it numerically after x = e^t, which turns the polynomial tail of
alpha = 0 into an exponential one so a fixed grid covers it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SAMPLE_ROWS = 200_000  # rows kept for the evidence
FIT_ROWS = 20_000  # residuals used by the robust fit: alpha's standard error is then about 0.02 (alpha = 1)
GAUSSIAN_SCALE = 1.4826  # 1 / Phi^-1(3/4): MAD to standard deviation for Gaussian data
OUTLIER_SCALES = 3.0
OUTLIER_SHARE = 0.01  # heavy tails: four times the 0.27% of Gaussian residuals beyond 3 sigma
HUBER_K = 1.345  # Huber's delta for 95% efficiency at the Gaussian, in units of the scale
SKEWED = 1.0  # sample skewness beyond which a distribution is highly skewed (Bulmer)
IMBALANCED = 10.0  # majority / minority ratio from which plain cross-entropy is swamped by the majority
ALPHA_RANGE = (0.0, 3.0)  # Barron's distribution needs alpha >= 0; beyond 3 tails are lighter than Gaussian
TASKS = ("auto", "regression", "binary", "multiclass", "soft", "segmentation")


@dataclass
class Evidence:
    name: str
    value: float | str
    text: str

    def as_json(self) -> dict:
        value = self.value
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        return {"name": self.name, "value": value, "text": self.text}


@dataclass
class Advice:
    """One loss to try: its spec, why, and its value on the whole file."""

    spec: str
    reason: str
    default: bool = False
    value: float | None = None
    note: str = ""

    def as_json(self) -> dict:
        value = self.value if self.value is not None and math.isfinite(self.value) else None
        return {"spec": self.spec, "default": self.default, "value": value, "reason": self.reason, "note": self.note}


@dataclass
class RobustFit:
    """Barron's alpha and scale fitted by maximum likelihood, and the mean negative log-likelihood."""

    alpha: float
    scale: float
    nll: float
    rows: int

    def as_json(self) -> dict:
        return {"alpha": self.alpha, "scale": self.scale, "nll": self.nll, "rows": self.rows}


@dataclass
class Suggestion:
    sources: list[str]
    rows: int
    sampled: int
    task: str
    columns: dict[str, list[str]]
    evidence: list[Evidence] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    fit: RobustFit | None = None
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"source": self.sources, "rows": self.rows, "sampled": self.sampled, "task": self.task,
                "columns": self.columns, "evidence": [e.as_json() for e in self.evidence],
                "recommendations": [a.as_json() for a in self.advice],
                "robust_fit": None if self.fit is None else self.fit.as_json()}


# ----------------------------------------------------------------------------- Barron's distribution


def rho(x: np.ndarray, alpha: float) -> np.ndarray:
    """Barron's rho(x, alpha, scale 1): the catalogue's robust loss, so the fit and the loss agree."""
    from .catalogue.robust import robust

    return robust(x, 0.0, alpha=alpha, scale=1.0)


# x = e^t from 1e-13 to 1e26 (alpha = 0's tail beyond is below e^-60); the trapezoidal rule on this smooth,
# exponentially decaying integrand is exact to 1e-13 against the closed forms at alpha = 0, 1 and 2
_T = np.linspace(-30.0, 60.0, 1501)


def log_partition(alpha: float) -> float:
    """log Z(alpha) = log of the integral of exp(-rho(x, alpha)) over the reals, for alpha >= 0.

    Z = 2 int_0^inf exp(-rho(x)) dx = 2 int exp(-rho(e^t) + t) dt, by the trapezoidal rule on a fine
    grid of t (the integrand is smooth and decays exponentially at both ends), in log space.
    Checks: Z(2) = sqrt(2 pi), Z(0) = pi sqrt(2), Z(1) = 2 e K_1(1).
    """
    if alpha < 0:
        raise ValueError("Barron's distribution needs alpha >= 0")
    log_integrand = -rho(np.exp(_T), alpha) + _T
    top = log_integrand.max()
    step = _T[1] - _T[0]
    weights = np.exp(log_integrand - top)
    integral = step * (weights.sum() - 0.5 * (weights[0] + weights[-1]))
    return float(math.log(2.0) + top + math.log(integral))


def negative_log_likelihood(residuals: np.ndarray, alpha: float, scale: float) -> float:
    """Mean -log p(r | alpha, scale) under Barron's distribution centred at 0."""
    return float(np.mean(rho(residuals / scale, alpha)) + math.log(scale) + log_partition(alpha))


def _nelder_mead(f, start: np.ndarray, step: np.ndarray, iterations: int = 200, tolerance: float = 1e-8) -> np.ndarray:
    """Minimise f over two or more variables by the Nelder-Mead simplex (standard coefficients)."""
    points = [start] + [start + step * np.eye(start.size)[k] for k in range(start.size)]
    values = [f(p) for p in points]
    for _ in range(iterations):
        order = np.argsort(values)
        points, values = [points[k] for k in order], [values[k] for k in order]
        if abs(values[-1] - values[0]) <= tolerance * (1.0 + abs(values[0])):
            break
        centre = np.mean(points[:-1], axis=0)
        reflected = centre + (centre - points[-1])
        fr = f(reflected)
        if fr < values[0]:
            expanded = centre + 2.0 * (centre - points[-1])
            fe = f(expanded)
            points[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            points[-1], values[-1] = reflected, fr
        else:
            contracted = centre + 0.5 * (points[-1] - centre)
            fc = f(contracted)
            if fc < values[-1]:
                points[-1], values[-1] = contracted, fc
            else:  # shrink towards the best point
                points = [points[0]] + [points[0] + 0.5 * (p - points[0]) for p in points[1:]]
                values = [values[0]] + [f(p) for p in points[1:]]
    return points[int(np.argmin(values))]


def fit_robust(residuals: np.ndarray, seed: int = 0) -> RobustFit:
    """Barron's alpha in [0, 3] and scale > 0 that maximise the likelihood of the residuals.

    A coarse grid over alpha and log scale (around the MAD scale) finds the basin; Nelder-Mead on
    (alpha, log scale) refines it, alpha held to its range by clipping.
    """
    r = np.asarray(residuals, dtype=np.float64).ravel()
    if r.size > FIT_ROWS:
        r = np.random.default_rng(seed).choice(r, FIT_ROWS, replace=False)
    mad = GAUSSIAN_SCALE * float(np.median(np.abs(r - np.median(r))))
    base = mad if mad > 0 else float(np.mean(np.abs(r))) or 1.0
    low, high = ALPHA_RANGE

    def objective(theta: np.ndarray) -> float:
        alpha = float(np.clip(theta[0], low, high))
        penalty = (theta[0] - alpha) ** 2  # keeps the simplex near the allowed range
        return negative_log_likelihood(r, alpha, base * math.exp(theta[1])) + penalty

    grid = [(objective(np.array([a, s])), a, s) for a in np.linspace(low, high, 7) for s in np.linspace(-1.5, 1.5, 5)]
    _, a0, s0 = min(grid)
    best = _nelder_mead(objective, np.array([a0, s0]), np.array([0.2, 0.2]))
    alpha, scale = float(np.clip(best[0], low, high)), base * math.exp(float(best[1]))
    return RobustFit(alpha=alpha, scale=scale, nll=negative_log_likelihood(r, alpha, scale), rows=r.size)


# ----------------------------------------------------------------------------- reading a sample


@dataclass
class Sample:
    pred: np.ndarray  # (n, P)
    target: np.ndarray  # (n, T)
    columns: dict[str, list[str]]
    rows: int
    sources: list[str]


def read_sample(data, pred: str | None, target: str | None, limit: int = SAMPLE_ROWS, seed: int = 0,
                batch_rows: int | None = None, stdin=None) -> Sample:
    """A uniform random sample of at most ``limit`` rows of the pred and target columns, read as the input streams."""
    from .catalogue.base import pred_role, target_role
    from .engine import DEFAULT_BATCH_ROWS
    from .errors import InputDataError
    from .plan import resolve
    from .sources import open_source
    from .validate import check_finite, float_columns, role_array

    source = open_source(data, stdin=stdin)
    columns = {"pred": resolve(source.schema, source.names, pred, pred_role(""), "--pred"),
               "target": resolve(source.schema, source.names, target, target_role(""), "--target")}
    names = list(dict.fromkeys(columns["pred"] + columns["target"]))
    rng = np.random.default_rng(seed)
    keys = np.zeros(0)
    kept: dict[str, np.ndarray] = {}
    rows = 0
    for batch in source.batches(names, batch_rows or DEFAULT_BATCH_ROWS):
        arrays = float_columns(batch, names)
        for name in names:
            check_finite(batch, name, arrays[name])
        parts = {role: role_array(arrays, cols, 0, batch.rows) for role, cols in columns.items()}
        batch_keys = rng.random(batch.rows)
        keys = np.concatenate([keys, batch_keys])
        kept = {role: np.concatenate([kept[role], part]) if role in kept else part.copy() for role, part in parts.items()}
        if keys.size > limit:
            chosen = np.argpartition(keys, limit)[:limit]
            keys, kept = keys[chosen], {role: a[chosen] for role, a in kept.items()}
        rows += batch.rows
    if rows == 0:
        raise InputDataError(f"{', '.join(source.names)} has no rows: nothing to inspect.")
    return Sample(kept["pred"], kept["target"], columns, rows, list(source.names))


# ----------------------------------------------------------------------------- the task


def _integers(a: np.ndarray) -> bool:
    return bool(np.all(a == np.round(a)))


def _binary(a: np.ndarray) -> bool:
    return bool(np.all((a == 0.0) | (a == 1.0)))


def _probabilities(a: np.ndarray) -> bool:
    return bool(a.min() >= 0.0 and a.max() <= 1.0)


def detect_task(sample: Sample, task: str = "auto") -> tuple[str, str]:
    """The kind of problem and how to read it, from the columns' shapes and values."""
    p, t = sample.pred, sample.target
    width, target_width = p.shape[1], t.shape[1]
    names = " ".join(sample.columns["target"]).lower()
    rows_sum_to_one = target_width > 1 and bool(np.allclose(t.sum(axis=1), 1.0, atol=1e-6))
    if task != "auto":
        return task, f"--task {task}"
    if target_width == 1 and width >= 2 and _integers(t) and t.min() >= 0 and t.max() < width:
        return "multiclass", f"{width} pred columns and one target column of class indices"
    if target_width == width and _probabilities(t) and rows_sum_to_one and width >= 2:
        if _binary(t):
            return "multiclass", f"{width} pred columns and one-hot target rows"
        return "soft", f"{width} pred columns and target rows that are distributions (soft labels)"
    if target_width == width and _binary(t):
        if any(word in names for word in ("mask", "seg", "pixel", "voxel")):
            return "segmentation", f"0/1 target column{'s' if width > 1 else ''} named like a mask ({names})"
        return "binary", f"0/1 target column{'s' if width > 1 else ''}"
    return "regression", "real-valued targets"


# ----------------------------------------------------------------------------- advice per task


def _skewness(a: np.ndarray) -> float:
    centred = a - a.mean()
    sd = centred.std()
    return float(np.mean(centred**3) / sd**3) if sd > 0 else 0.0


def _excess_kurtosis(a: np.ndarray) -> float:
    centred = a - a.mean()
    var = np.mean(centred**2)
    return float(np.mean(centred**4) / var**2 - 3.0) if var > 0 else 0.0


def _g(value: float) -> str:
    return f"{value:.3g}"


def advise_regression(s: Suggestion, sample: Sample, interval: float | None, fit: bool) -> None:
    r = (sample.pred - sample.target).ravel()
    t = sample.target.ravel()
    median = float(np.median(r))
    scale = GAUSSIAN_SCALE * float(np.median(np.abs(r - median)))
    s.advice.append(Advice("mse", "the default for regression: the Gaussian maximum-likelihood loss", default=True))
    s.evidence.append(Evidence("residual_median", median, f"median residual {_g(median)}"))
    s.evidence.append(Evidence("residual_scale", scale, f"robust residual scale 1.4826 x MAD = {_g(scale)}"))
    if scale > 0:
        share = float(np.mean(np.abs(r - median) > OUTLIER_SCALES * scale))
    else:
        share = float(np.mean(r != median))
    s.evidence.append(Evidence("outlier_share", share, f"{100 * share:.2f}% of residuals lie beyond 3 scales "
                               "(0.27% for Gaussian residuals)"))
    kurtosis = _excess_kurtosis(r)
    s.evidence.append(Evidence("residual_excess_kurtosis", kurtosis, f"excess kurtosis of the residuals {_g(kurtosis)} "
                               "(0 for Gaussian)"))
    positive = bool(t.min() >= 0.0)
    skew = _skewness(t)
    s.evidence.append(Evidence("target_skewness", skew, f"skewness of the targets {_g(skew)}"
                               + (" (non-negative)" if positive else "")))
    skewed = positive and skew > SKEWED
    if skewed:
        p = sample.pred.ravel()
        zeros = float(np.mean(t == 0.0))
        if _integers(t):
            log_input = "true" if p.min() < 0 else "false"
            kind = "log-rates" if log_input == "true" else "rates"
            s.advice.append(Advice(f"poisson:log_input={log_input}",
                                   f"skewed (skewness {_g(skew)}) non-negative whole-number targets: counts; "
                                   f"pred read as {kind}"))
        elif zeros > 0:
            note = "" if p.min() > 0 else "tweedie needs pred > 0: predict the mean on a positive scale"
            s.advice.append(Advice("tweedie:power=1.5", f"skewed (skewness {_g(skew)}) non-negative targets with "
                                   f"{100 * zeros:.1f}% exact zeros: compound Poisson-gamma", note=note))
        else:
            note = "" if p.min() > -1 else "msle needs pred > -1"
            s.advice.append(Advice("msle", f"skewed (skewness {_g(skew)}) positive targets: errors in log space "
                                   "weigh relative, not absolute, misses", note=note))
    heavy = share > OUTLIER_SHARE
    robust_fit = fit_robust(r) if (fit or heavy) and np.ptp(r) > 0 else None
    if robust_fit is not None:
        s.fit = robust_fit
        s.evidence.append(Evidence("robust_alpha", robust_fit.alpha,
                                   f"Barron's alpha fitted by maximum likelihood: {robust_fit.alpha:.3f} "
                                   f"(2 Gaussian, 1 Charbonnier-like, 0 Cauchy-like), scale {_g(robust_fit.scale)}"))
    if heavy and scale > 0 and robust_fit is not None:
        why = f"{100 * share:.1f}% outliers beyond 3 scales: heavy tails pull mse towards them"
        if skewed:  # errors that grow with a skewed target look like outliers on the raw scale
            why += " (with these skewed targets, try the loss for them above first)"
        s.advice.append(Advice(f"huber:delta={_g(HUBER_K * scale)}", why + f"; delta = 1.345 x scale {_g(scale)} "
                               "keeps 95% of mse's efficiency on the Gaussian part"))
        if 0.25 <= scale <= 4.0:
            s.advice.append(Advice("log_cosh", why + "; log_cosh bends from quadratic to linear near |r| = 1, "
                                   "close to this residual scale"))
        s.advice.append(Advice(f"robust:alpha={robust_fit.alpha:.3g},scale={_g(robust_fit.scale)}",
                               "alpha and scale fitted to the residuals by maximum likelihood under Barron's "
                               "distribution (the adaptive robust loss)"))
    if interval is not None:
        low, high = (1.0 - interval) / 2.0, (1.0 + interval) / 2.0
        for q in (low, 0.5, high):
            s.advice.append(Advice(f"quantile:q={q:g}", f"a {100 * interval:g}% interval was asked for: train "
                                   f"its {'lower end' if q == low else 'upper end' if q == high else 'median'} "
                                   "with the pinball loss"))


def advise_binary(s: Suggestion, sample: Sample, probabilities: bool, segmentation: bool) -> None:
    t = sample.target
    share = t.mean(axis=0)  # positive share per column
    s.evidence.append(Evidence("positive_share", float(share.min()) if share.size else 0.0,
                               "share of positives " + ", ".join(f"{100 * v:.2f}%" for v in share)))
    minority = np.minimum(share, 1.0 - share)
    worst = float(minority.min())
    ratio = (1.0 - worst) / worst if worst > 0 else math.inf
    s.evidence.append(Evidence("imbalance_ratio", ratio, f"majority : minority = {_g(ratio)} : 1"
                               + (" (the most imbalanced column)" if share.size > 1 else "")))
    default = "bce" if probabilities else "bce_logits"
    s.advice.append(Advice(default, "the default for 0/1 targets" + (" (pred are probabilities)" if probabilities else ""),
                           default=True))
    logits_note = "needs logits: pass log(p / (1 - p)) as pred" if probabilities else ""
    if segmentation:
        fg = float(share.mean())
        s.evidence.append(Evidence("foreground_share", fg, f"foreground {100 * fg:.2f}% of pixels"))
        if fg < 1.0 / (1.0 + IMBALANCED):
            logits = "" if probabilities else ":from_logits=true"
            args = ":alpha=0.3,beta=0.7" + ("" if probabilities else ",from_logits=true")
            s.advice.append(Advice(f"dice{logits}", f"rare foreground ({100 * fg:.2f}%): an overlap loss is not "
                                   "swamped by the background the way per-pixel cross-entropy is"))
            s.advice.append(Advice(f"tversky{args}", "rare foreground: Tversky with beta > alpha costs missed "
                                   "foreground more than extra foreground (recall)"))
        return
    if ratio >= IMBALANCED:
        positives = float(share.mean())
        alpha = round(1.0 - positives, 3)
        s.advice.append(Advice(f"focal:gamma=2,alpha={alpha:g}", f"1:{_g(ratio)} imbalance: focal down-weights "
                               f"the many easy examples; alpha = 1 - positive share {positives:.3g}",
                               note=logits_note))
        weight = (1.0 - positives) / positives if positives > 0 else 1.0
        s.advice.append(Advice(f"bce_logits:pos_weight={_g(weight)}", "weighted cross-entropy: positives weighted "
                               "by negatives / positives", note=logits_note))


def advise_multiclass(s: Suggestion, sample: Sample, probabilities: bool) -> None:
    k = sample.pred.shape[1]
    t = sample.target
    labels = t[:, 0].astype(int) if t.shape[1] == 1 else np.argmax(t, axis=1)
    counts = np.bincount(labels, minlength=k).astype(float)
    s.evidence.append(Evidence("class_counts", ", ".join(str(int(c)) for c in counts),
                               "rows per class (in the sample): " + ", ".join(str(int(c)) for c in counts)))
    present = counts[counts > 0]
    ratio = float(present.max() / present.min()) if present.size else 1.0
    s.evidence.append(Evidence("imbalance_ratio", ratio, f"largest : smallest class = {_g(ratio)} : 1"))
    option = ":from_logits=false" if probabilities else ""
    s.advice.append(Advice(f"cross_entropy{option}", "the default for single-label classes", default=True))
    if ratio >= IMBALANCED:
        weights = counts.sum() / (k * np.maximum(counts, 1.0))
        text = ";".join(_g(w) for w in weights)
        sep = "," if option else ":"
        s.advice.append(Advice(f"cross_entropy{option}{sep}weight={text}", f"1:{_g(ratio)} class imbalance: "
                               "balanced class weights n / (K n_k)"))
        if not probabilities:
            s.advice.append(Advice("focal_ce:gamma=2", "class imbalance: focal down-weights well-classified rows "
                                   "so the rare classes keep their share of the gradient"))


def advise_soft(s: Suggestion, sample: Sample, probabilities: bool) -> None:
    entropy = -np.sum(np.where(sample.target > 0, sample.target * np.log(np.where(sample.target > 0, sample.target, 1.0)),
                               0.0), axis=1)
    mean_entropy = float(entropy.mean())
    s.evidence.append(Evidence("target_entropy", mean_entropy, f"mean entropy of the target rows {_g(mean_entropy)} "
                               "nats (0 for one-hot labels)"))
    if probabilities:
        s.advice.append(Advice("cross_entropy:from_logits=false", "the default for class probabilities", default=True))
        s.advice.append(Advice("kl_div", "soft labels: KL(target || pred) is zero exactly when the predicted "
                               "distribution matches the target's"))
    else:
        s.advice.append(Advice("cross_entropy", "the default; with probability targets it is KL plus the target "
                               "entropy, so it ranks models as kl_div does", default=True))
        s.advice.append(Advice("kl_div", "soft labels: the divergence itself", note="needs probabilities: pass "
                               "softmax(pred)"))


# ----------------------------------------------------------------------------- the whole advice


def suggest(data, *, pred: str | None = None, target: str | None = None, task: str = "auto",
            interval: float | None = None, fit: bool = False, batch_rows: int | None = None, stdin=None,
            sample_rows: int = SAMPLE_ROWS, seed: int = 0) -> Suggestion:
    """Inspect the data, recommend losses with the evidence for each, and compute them on the whole input.

    ``fit`` runs the robust fit even when the residuals do not call for a robust loss.
    """
    from .api import compute
    from .errors import InputDataError, UsageProblem
    from .sources import ArrowSource, arrow_table, open_source

    if task not in TASKS:
        raise UsageProblem(f"--task {task!r}: choose one of {', '.join(TASKS)}.")
    if interval is not None and not 0.0 < interval < 1.0:
        raise UsageProblem(f"--interval {interval:g}: give the interval's coverage as a fraction in (0, 1), e.g. 0.8.")
    if not isinstance(data, (str, list, tuple)) and not hasattr(data, "batches"):
        data = ArrowSource(arrow_table(data))  # in-memory data is read twice: once here, once by compute
    source = open_source(data, stdin=stdin).rewindable()
    sample = read_sample(source, pred, target, sample_rows, seed, batch_rows)
    kind, why = detect_task(sample, task)
    probabilities = _probabilities(sample.pred) and (sample.pred.shape[1] == 1 or
                                                     bool(np.allclose(sample.pred.sum(axis=1), 1.0, atol=1e-6)))
    s = Suggestion(sources=sample.sources, rows=sample.rows, sampled=sample.pred.shape[0], task=kind,
                   columns=sample.columns)
    s.evidence.append(Evidence("task", kind, f"{kind}: {why}"))
    if kind == "regression":
        if sample.pred.shape[1] != sample.target.shape[1]:
            raise InputDataError(f"--task regression needs one target column per pred column; got "
                                 f"{sample.pred.shape[1]} and {sample.target.shape[1]}.")
        advise_regression(s, sample, interval, fit)
    elif kind in ("binary", "segmentation"):
        advise_binary(s, sample, probabilities, kind == "segmentation")
    elif kind == "multiclass":
        advise_multiclass(s, sample, probabilities)
    else:
        advise_soft(s, sample, probabilities)
    runnable = [a for a in s.advice if not a.note]
    if runnable:
        columns = {"pred": ",".join(sample.columns["pred"]), "target": ",".join(sample.columns["target"])}
        report = compute(source, [a.spec for a in runnable], inputs=columns, batch_rows=batch_rows)
        s.warnings.extend(report.warnings)
        for a in runnable:
            a.value = report.overall(a.spec).value
    return s
