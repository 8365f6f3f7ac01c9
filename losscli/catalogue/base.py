"""The vocabulary every loss definition is written in.

A loss is one :class:`Loss` value: its inputs (:class:`Role`), its parameters
(:class:`Param`), a function giving per-element or per-row values, the
analytic gradient of those values with respect to the first input, a formula
and an :class:`Explain` page. Reductions, weights, groups, gradient summaries
and output live in the engine, so a definition says only what the loss is.

How the engine reads a definition (``per`` is ``"element"`` or ``"row"``)::

    values  v = loss.value(**inputs, **params)   # (n, c) per element or (n,) per row
    grads   g = loss.grad(**inputs, **params)    # shape of the first input:
                                                  # d(sum_j v_ij)/d first_input_ij
    hess    h = loss.hess(**inputs, **params)    # optional, shape of the first input:
                                                  # d^2(sum_j v_ij)/d first_input_ij^2, the diagonal
    norm    d = loss.norm(**inputs, **params)    # (n,) per-row denominators, optional
    mean reduction = sum_i w_i sum_j v_ij / sum_i w_i d_i
    sum reduction  = sum_i w_i sum_j v_ij

``d`` defaults to the number of elements per row for per-element losses (so the
mean is torch's mean over all elements) and to 1 for per-row losses. A loss with
class weights or ignored rows (cross-entropy) returns ``d`` itself.

Set-level losses (``per="set"``, Dice and its family) have no per-row value. They
give per-row sufficient statistics that add up over rows, batches and groups::

    stats  s = loss.stats(**inputs, **params)                  # (n, k)
    value  L = loss.value(totals=s.sum(axis=0), **params)       # a float for (k,) totals; for (R, k)
                                                                 # totals (R resamples of diff's
                                                                 # bootstrap) one value per row
    grads  g = loss.grad(**inputs, totals=t, **params)          # shape of first input; t is the
                                                                 # (k,) totals, or (n, k): each row's
                                                                 # own group's totals

``hess`` is the diagonal of each row's Hessian (per element for elementwise losses, where it is
the whole Hessian; the diagonal of the row's K x K block for per-row losses such as softmax
cross-entropy). Where the second derivative does not exist (a kink, the tip of a square root) 0
is given, as the gradient takes the zero subgradient there; a piecewise-linear loss (mae,
quantile, hinge) therefore has a Hessian of 0 everywhere. Losses without one leave it None.

A definition may also give ``value_and_grad``, returning both at once, when they share work
(a sigmoid, a softmax); the engine then calls it instead of the two when a gradient is asked for.

Set-level losses ignore sample weights and the reduction (they are defined on
the whole set); the engine warns when either is given. A set-level loss whose value is no sum of
per-row statistics (``holds_rows``: medians, maxima, the Lovász extension) is described in engine/held.py.

Query losses (``per="query"``: learning to rank, in-batch metric learning) are defined on all
rows sharing a ``--query`` key at once. The engine gathers each query's rows wherever they are
(see ``losscli.engine.queries``) and calls the definition on queries stacked by size::

    values  L = loss.value(**inputs, **params)   # inputs (q, m, width): q queries of m rows; L (q,)
    grads   G = loss.grad(**inputs, **params)    # (q, m, width of the first input): dL_q/dx
    norm    d = loss.norm(**inputs, **params)    # (q,) optional; 0 leaves a query out of the mean
    mean reduction = sum_q w_q L_q / sum_q w_q d_q, w_q the weight shared by the query's rows
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

# Names tried, in order, when the user does not name the columns; the globs after the
# plain names pick up the usual spellings of several columns (logit_0, logit_1, ...).
PRED_DEFAULTS = ("pred", "prediction", "y_pred", "score", "logit", "prob", "pred_*", "logit_*", "prob_*")
TARGET_DEFAULTS = ("target", "label", "y_true", "y", "target_*")


# --------------------------------------------------------------------------- domains


@dataclass(frozen=True)
class Domain:
    """The values an input may take, with a test that marks the ones it may not."""

    text: str
    is_bad: Callable[[np.ndarray], np.ndarray]


REAL = Domain("any finite real number", lambda a: np.zeros(a.shape, dtype=bool))
PROBABILITY = Domain("probabilities in [0, 1]", lambda a: (a < 0.0) | (a > 1.0))
POSITIVE = Domain("positive numbers (> 0)", lambda a: ~(a > 0.0))
NON_NEGATIVE = Domain("non-negative numbers (>= 0)", lambda a: a < 0.0)
BINARY = Domain("0 or 1", lambda a: (a != 0.0) & (a != 1.0))
LOG_PROBABILITY = Domain("log-probabilities (<= 0)", lambda a: a > 0.0)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Role:
    """One input of a loss: a group of columns with a meaning and a domain.

    ``width`` says how many columns the role takes: ``None`` for one or more,
    an int for exactly that many, ``"pred"`` for as many as the first input,
    ``"1|pred"`` for one column or as many as the first input (class indices or
    per-class probabilities, a shared or per-column variance).
    ``defaults`` are the column names or globs tried, in order, when the user
    does not name the columns. ``hint`` is added to a domain error and says what
    to do instead (for example which loss takes logits). ``looks_like_probabilities``
    asks for a warning when a column lies wholly in [0, 1], the sign that the user
    passed probabilities to a loss that wants logits: a sentence, or a function of the
    loss's parameters giving the sentence ("" for no warning), for losses where a
    parameter says whether the input is logits (cross_entropy's from_logits).
    ``sums_to_one`` marks soft labels: given as K >= 2 columns, each row is a distribution and
    must sum to 1 (``--renormalize`` divides rows by their sums instead).
    """

    name: str
    text: str
    domain: Domain = REAL
    width: int | str | None = None
    defaults: tuple[str, ...] = ()
    hint: str = ""
    warn_if_probabilities: str | Callable[[dict], str] = ""
    sums_to_one: bool = False


def pred_role(text: str, domain: Domain = REAL, **kw) -> Role:
    return Role("pred", text, domain, defaults=PRED_DEFAULTS, **kw)


def target_role(text: str, domain: Domain = REAL, width="pred", **kw) -> Role:
    return Role("target", text, domain, width=width, defaults=TARGET_DEFAULTS, **kw)


# --------------------------------------------------------------------------- parameters


MAX_EXACT_INT = 2**53  # the largest integer whose neighbours float64 still tells apart


@dataclass(frozen=True)
class Param:
    """A keyword parameter: its default, its type and the values it allows.

    ``kind`` is ``float``, ``int``, ``bool``, ``str`` or ``"floats"`` (a
    semicolon-separated list such as ``q=0.1;0.5;0.9``). ``low``/``high`` bound
    numbers (``low_open``/``high_open`` make a bound strict), ``choices`` lists
    allowed strings. ``allow_none`` lets a parameter be unset (``weight=none``).
    Numbers must be finite (an infinite gamma or delta gives NaN, not a loss) unless
    ``infinite`` lists the infinities a parameter means something at (Barron's a = -inf);
    integers stay within 2^53, where float64 inputs can still equal them.
    """

    name: str
    default: Any
    text: str
    kind: Any = float
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    allow_none: bool = False
    infinite: tuple[float, ...] = ()

    def domain_text(self) -> str:
        kind = {float: "a float", int: "an integer", bool: "true or false", str: "one of",
                "floats": "a ';'-separated list of floats"}[self.kind]
        if self.choices:
            return f"{kind} {', '.join(repr(c) for c in self.choices)}"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        text = kind + (" " + " and ".join(bounds) if bounds else "")
        return text + (" (or none)" if self.allow_none else "")

    def parse(self, raw: str) -> Any:
        """Turn the text after ``key=`` into a checked value; ValueError says why."""
        text = raw.strip()
        if self.allow_none and text.lower() in ("none", "null", ""):
            return None
        try:
            if self.kind is bool:
                lowered = text.lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                value: Any = lowered in ("true", "1", "yes")
            elif self.kind == "floats":
                value = tuple(float(part) for part in text.split(";") if part.strip())
                if not value:
                    raise ValueError
            elif self.kind is int:
                value = int(text)
            elif self.kind is float:
                value = float(text)
            else:
                value = text
        except ValueError:
            raise ValueError(f"must be {self.domain_text()}. Got {raw!r}.") from None
        self.check(value)
        return value

    def coerce(self, value: Any) -> Any:
        """A Python value (from the API) as the parameter's type, checked; ValueError says why."""
        if value is None and self.allow_none:
            return None
        try:
            if self.kind == "floats":
                value = tuple(float(v) for v in np.atleast_1d(np.asarray(value, dtype=np.float64)))
            elif self.kind is bool:
                if not isinstance(value, (bool, np.bool_)):
                    raise TypeError
                value = bool(value)
            elif self.kind is int:
                if isinstance(value, bool) or int(value) != value:
                    raise TypeError
                value = int(value)
            elif self.kind is float:
                if isinstance(value, bool):
                    raise TypeError
                value = float(value)
            else:
                value = str(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"must be {self.domain_text()}. Got {value!r}.") from None
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        if value is None and self.allow_none:
            return
        if self.choices and value not in self.choices:
            raise ValueError(f"must be {self.domain_text()}. Got {value!r}.")
        numbers = value if isinstance(value, tuple) else (value,)
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                continue
            if isinstance(number, int) and abs(number) > MAX_EXACT_INT:
                raise ValueError(f"must be {self.domain_text()} between -2^53 and 2^53. Got {value!r}.")
            if not np.isfinite(number) and number not in self.infinite:
                raise ValueError(f"must be {self.domain_text()}, and finite. Got {value!r}.")
            too_low = self.low is not None and (number <= self.low if self.low_open else number < self.low)
            too_high = self.high is not None and (number >= self.high if self.high_open else number > self.high)
            if too_low or too_high:
                raise ValueError(f"must be {self.domain_text()}. Got {value!r}.")


# --------------------------------------------------------------------------- explain pages


@dataclass(frozen=True)
class Explain:
    """The prose of `losscli explain NAME`, in our own words."""

    inputs: str
    gradient: str
    use: str
    avoid: str
    relations: str
    reference: str


@dataclass(frozen=True)
class Problem:
    """A loss-specific input problem found by ``Loss.check``: which input, which rows, why."""

    role: str
    bad: np.ndarray  # bool mask, (n,) rows or (n, c) elements
    message: str


# --------------------------------------------------------------------------- the loss


@dataclass(frozen=True)
class Loss:
    name: str
    family: str
    summary: str
    formula: str
    inputs: tuple[Role, ...]
    value: Callable[..., Any]
    grad: Callable[..., np.ndarray]
    explain: Explain
    hess: Callable[..., np.ndarray] | None = None
    params: tuple[Param, ...] = ()
    per: str = "element"  # "element", "row" or "set"
    norm: Callable[..., np.ndarray] | None = None
    finish: str = "identity"  # "identity" or "sqrt" (rmse)
    check: Callable[..., list[Problem]] | None = None
    stats: Callable[..., np.ndarray] | None = None
    value_and_grad: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None
    sample_weights: bool = True
    aliases: tuple[str, ...] = field(default=())
    # Said on stderr when a gradient is asked for and it carries little or no signal: a loss that is
    # piecewise constant (gradient 0 almost everywhere) or an order statistic (only the selected rows move).
    grad_warning: str = ""
    # A set-level loss that is no sum (a median, a maximum, the Lovász extension) keeps every row's stats:
    # value(totals=S) gets the (rows, k) statistics themselves, stats_grad(totals=S) returns d value / d S,
    # and grad(..., totals=D) gets the rows of that array belonging to its block (see engine/held.py).
    holds_rows: bool = False
    stats_grad: Callable[..., np.ndarray] | None = None
    # A loss over queries whose work is a (rows x rows) array per query (pairs, distance matrices), as most are;
    # False for one that works on each query's rows alone (a softmax, a sort), evaluated in bigger chunks.
    pairwise: bool = True
    origin: str = ""  # "" for the built-in catalogue; the plugin file or package that added the loss

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def role(self, name: str) -> Role:
        for role in self.inputs:
            if role.name == name:
                return role
        raise KeyError(name)


# --------------------------------------------------------------------------- numerics shared by losses


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x|."""
    e = np.exp(-np.abs(x))
    # the numerator is 1 for x >= 0 and e below; max(e, [x >= 0]) picks it without np.where (e <= 1)
    return np.maximum(e, x >= 0) / (1.0 + e)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = -(max(-x, 0) + log1p(exp(-|x|))), exact for logits of either sign and size."""
    return -(np.maximum(-x, 0.0) + np.log1p(np.exp(-np.abs(x))))


def row_sums(x: np.ndarray) -> np.ndarray:
    """sum_j x_ij of an (n, c) array.

    NumPy's own axis-1 sum walks each short row on its own: for c = 2 it took ~50 ns a row, twenty
    times as long as adding the two columns. Narrow arrays are added column by column, wider ones by
    einsum's loop, which was faster than ``sum(axis=1)`` at every width measured (2 to 256).
    """
    width = x.shape[1]
    if width == 1:
        # a copy, never a view: callers write into x afterwards (softmax puts the winner's 1 back into e,
        # which through a view turned a one-column row's "other classes' mass" from 0 into 1)
        return x[:, 0].copy()
    if width > 4:
        return np.einsum("ij->i", x)
    total = x[:, 0] + x[:, 1]
    for k in range(2, width):
        total += x[:, k]
    return total


def row_max(x: np.ndarray) -> np.ndarray:
    """max_j x_ij of an (n, c) array; narrow arrays column by column, as in row_sums."""
    if x.shape[1] > 16:
        return x.max(axis=1)
    top = x[:, 0].copy()
    for k in range(1, x.shape[1]):
        np.maximum(top, x[:, k], out=top)
    return top


def row_argmax(x: np.ndarray) -> np.ndarray:
    """The first index of each row's maximum, as np.argmax(x, axis=1); up to 4 columns by comparing each
    column with row_max (NumPy's argmax walks a narrow row at a time, more than twice as slow)."""
    if x.shape[1] > 4:
        return np.argmax(x, axis=1)
    top = row_max(x)
    found = x[:, 0] == top
    index = np.zeros(x.shape[0], dtype=np.intp)
    for k in range(1, x.shape[1]):
        index += ~found  # rows whose maximum is not among the first k columns
        found |= x[:, k] == top
    return index


# elements per step of the whole-array passes below: their temporaries are reused block after block, while a
# temporary the size of millions of rows is fresh memory every time (page faults cost more than the arithmetic)
_PASS_BLOCK = 1 << 20


def whole_array_blocks(n: int):
    """(start, stop) of the steps of a pass over n elements, _PASS_BLOCK at a time."""
    return ((start, min(n, start + _PASS_BLOCK)) for start in range(0, n, _PASS_BLOCK))


def descending_order(x: np.ndarray) -> np.ndarray:
    """Indices that put the floats x from largest to smallest, equal values in index order.

    The same permutation as ``np.argsort(-x, kind="stable")``, several times faster on millions of
    values: NumPy's argsort is a plain merge sort, its sort of bare numbers a vectorised one. Each
    value becomes a 64-bit unsigned key whose order is the float order (negative floats with every
    bit flipped, the others with the sign bit set; -0.0 taken as 0.0), its lowest bits are replaced
    by the index and the keys are sorted as numbers. Values that agree in all but those low bits
    come out in index order; the few runs where they still differ are sorted again by (value,
    index) on their own. The keys are the only array of x's size: built, compared and turned into
    the order block by block, in place.
    """
    x = np.ravel(x)
    n = x.size
    if n < 1 << 12:
        return np.argsort(-x, kind="stable")
    bits = (n - 1).bit_length()
    low = np.uint64((1 << bits) - 1)
    keys = np.empty(n, dtype=np.uint64)
    for start, stop in whole_array_blocks(n):
        flipped = 0.0 - x[start:stop]  # ascending order of -x; 0.0 - (-0.0) is +0.0, so the two zeros tie
        sign = (flipped.view(np.int64) >> 63).view(np.uint64)  # all ones for negatives, else 0
        sign |= np.uint64(1 << 63)
        key = keys[start:stop]
        np.bitwise_xor(flipped.view(np.uint64), sign, out=key)
        key &= ~low
        key |= np.arange(start, stop, dtype=np.uint64)
    keys.sort()
    shared = []  # neighbours i, i + 1 whose keys differ only in the index
    for start, stop in whole_array_blocks(n - 1):
        differ = keys[start:stop] ^ keys[start + 1:stop + 1]
        shared.append(np.flatnonzero((differ >> np.uint64(bits)) == 0) + start)
    keys &= low
    order = keys.view(np.int64)
    shared = np.concatenate(shared)
    if shared.size:
        _resort_close_values(x, order, shared)
    return order


def _resort_close_values(x: np.ndarray, order: np.ndarray, shared: np.ndarray) -> None:
    """Fix ``order`` in place where runs of sorted positions shared their high key bits but not their values."""
    member = np.zeros(order.size, dtype=bool)
    member[shared] = True
    member[shared + 1] = True
    positions = np.flatnonzero(member)
    continues = np.zeros(order.size, dtype=bool)  # a position continues the run of the one before it
    continues[shared + 1] = True
    starts = ~continues[positions]
    run = np.cumsum(starts)
    values = x[order[positions]]
    differ = (values[1:] != values[:-1]) & ~starts[1:]
    if not differ.any():  # runs of equal values only: index order is already right
        return
    flagged = np.zeros(run[-1] + 1, dtype=bool)
    flagged[run[1:][differ]] = True
    chosen = flagged[run]
    positions, values, run = positions[chosen], values[chosen], run[chosen]
    indices = order[positions]
    order[positions] = indices[np.lexsort((indices, -values, run))]


def _exp_shifted(x: np.ndarray):
    """x minus its row maximum, and exp of that with the maximum's own exp(0) = 1 left out.

    Returns shifted, e, ``rest`` (the row sums of e: the other classes' mass relative to the
    winner's) and the index of each row's maximum in the flattened e (C order). One flat index is
    twice as fast as NumPy's fancy indexing by a (rows, columns) pair.
    """
    n, c = x.shape
    rows, leader = np.arange(n), row_argmax(x)
    top = rows * c + leader
    # the maximum by index: a second reduction over the rows is slow
    biggest = x.reshape(-1)[top] if x.flags.c_contiguous else x[rows, leader]
    with np.errstate(over="ignore"):  # 1e308 - (-1e308) is -inf: a log-probability below any float, exp of it 0
        shifted = np.subtract(x, biggest[:, None], order="C")  # C order, so that top indexes e
    e = np.exp(shifted)
    e.reshape(-1)[top] = 0.0
    return shifted, e, row_sums(e), top


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax, accurate even when one class takes nearly all the mass.

    The row maximum is subtracted, so exp never overflows. The normaliser is
    log(1 + rest) with ``rest`` the sum of exp over the other classes, taken by
    log1p: log(sum) of a sum like 1 + 1e-12 would lose most digits of the tiny
    log-probability of the winning class, and focal terms (1 - p)^gamma need it.
    """
    shifted, _, rest, _ = _exp_shifted(x)
    return shifted - np.log1p(rest)[:, None]


def log_softmax_and_softmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log_softmax(x) and softmax(x) from one exp: p = e / (1 + rest), the winner's e being 1.

    Dividing keeps p to an ulp or two; exp(log p) would add the absolute error of log p, about
    |log p| ulps, to p's relative error.
    """
    shifted, e, rest, top = _exp_shifted(x)
    e.reshape(-1)[top] = 1.0
    return shifted - np.log1p(rest)[:, None], e / (1.0 + rest)[:, None]


def softmax_at(x: np.ndarray, index: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log_softmax(x) at each row's class ``index``, and ``scale`` times softmax(x), from one exp.

    What a loss on one class per row needs (cross-entropy with class indices): the (rows, classes)
    log-softmax is never formed, and each row's scale meets its normaliser once rather than every class.
    """
    n, c = x.shape
    shifted, e, rest, top = _exp_shifted(x)
    e.reshape(-1)[top] = 1.0
    at_index = shifted.reshape(-1)[np.arange(n) * c + index] - np.log1p(rest)  # flat: see _exp_shifted
    e *= (scale / (1.0 + rest))[:, None]
    return at_index, e


def times_log(c: np.ndarray, logp: np.ndarray) -> np.ndarray:
    """c * log p with 0 where c = 0: a class the target gives no weight costs nothing, even when its
    log-probability is -inf (logits of +-1e308 put exp(x - max) below the smallest float)."""
    with np.errstate(invalid="ignore"):
        return np.where(c == 0, 0.0, c * logp)


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax, exp(x - max) over its row sum: the sum is at least 1, so p keeps an ulp or two.

    (exp(log_softmax(x)) would add log p's absolute error to p's relative one, and the maximum's index
    that it uses needs slow fancy indexing.)
    """
    # a narrow (n, c) array against an (n, 1) column goes a row at a time, twice as slow: up to 4 columns
    # the maximum is subtracted and the sum divided column by column
    narrow = x.shape[1] <= 4
    top = row_max(x)
    e = np.empty(x.shape)
    with np.errstate(over="ignore"):  # 1e308 - (-1e308) is -inf, whose exp is the 0 it stands for
        if narrow:
            for k in range(x.shape[1]):
                np.subtract(x[:, k], top, out=e[:, k])
        else:
            np.subtract(x, top[:, None], out=e)
    np.exp(e, out=e)
    total = row_sums(e)
    if narrow:
        for k in range(x.shape[1]):
            e[:, k] /= total
    else:
        e /= total[:, None]
    return e


def zero_gradient(pred: np.ndarray, *_, **__) -> np.ndarray:
    """The gradient of a piecewise-constant loss (a count of mistakes): 0 wherever it exists, i.e. off the jumps."""
    return np.zeros_like(pred)


def piecewise_linear_hess(pred: np.ndarray, *others: np.ndarray, **params) -> np.ndarray:
    """0: the second derivative of a piecewise-linear loss wherever it exists, and the value taken at its kinks."""
    return np.zeros(np.broadcast_shapes(pred.shape, *(o.shape for o in others)))
