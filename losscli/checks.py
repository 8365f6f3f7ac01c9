"""The properties every loss must have, shared by the test suite and `losscli check`.

Each check runs a loss through the public API (``losscli.get``, ``losscli.compute``) on example
inputs and raises :class:`CheckFailed` (an AssertionError) saying what differs, where and by how
much. The catalogue's tests run them on every loss of the catalogue with the inputs of
tests/cases; `losscli check my_losses.py` runs them on a plugin's losses, with the plugin's own
``CASES`` or inputs drawn from each role's domain.

- gradient: the analytic gradient against central finite differences (mean and sum, weighted),
  on random inputs and on large ones.
- chunks: batches and blocks of rows, folded into states and merged, give the whole table's numbers.
- row order: shuffling rows permutes the gradient and keeps the value.
- weights: integer weights equal repeated rows (repeated queries for a loss over queries); a loss
  that takes no weights ignores them.
- single row: finite value and gradient.
- groups: --group-by results equal each group computed alone.
- fused: ``value_and_grad`` agrees with ``value`` and ``grad`` called apart.
- extremes: finite value and gradient on adversarial inputs (logits of +-1e4, probabilities of
  exactly 0 and 1, magnitudes of 1e6).

Example inputs are dicts of arrays named by role; a loss over queries also gets ``query``, each
row's query key (an integer array), which the helpers pass on as the query column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

QUERY = "query"  # the key of an example's query ids


class CheckFailed(AssertionError):
    """A property does not hold; the message says which numbers differ."""


@dataclass(frozen=True)
class Case:
    """Example inputs of one loss: ``make(rng, n)`` gives the arrays of n rows, ``params`` its parameters."""

    name: str
    make: Callable[[np.random.Generator, int], dict]
    params: dict = field(default_factory=dict)
    # finite-difference tolerance; loosen only with a comment saying why
    fd_rtol: float = 1e-5


# ----------------------------------------------------------------------------- running a loss


def split(arrays: dict) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The role arrays as float64 (n, c) and the query keys (or None)."""
    roles, query = {}, None
    for k, v in arrays.items():
        if k == QUERY:
            query = np.asarray(v)
            continue
        a = np.asarray(v, dtype=np.float64)
        roles[k] = a[:, None] if a.ndim == 1 else a
    return roles, query


def as_arrays(arrays: dict) -> dict[str, np.ndarray]:
    """Role arrays as (n, c) float64; the query keys, if any, unchanged."""
    roles, query = split(arrays)
    return roles if query is None else {**roles, QUERY: query}


def spec_text(name: str, params: dict | None = None) -> str:
    """The --loss spec a user would type for these parameters."""
    return name if not params else name + ":" + ",".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _fmt(v) -> str:
    if isinstance(v, (list, tuple)):
        return ";".join(repr(float(x)) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    return repr(v) if isinstance(v, float) else str(v)


def first_role(name: str) -> str:
    from .catalogue import get

    return get(name).inputs[0].name


def ours(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean", weight=None) -> tuple[float, np.ndarray]:
    """Our reported value and the full gradient with respect to the first input."""
    import losscli

    f = losscli.get(name, **(params or {}))
    roles, query = split(arrays)
    return (f.value(**roles, weight=weight, query=query, reduction=reduction),
            f.grad(**roles, weight=weight, query=query, reduction=reduction))


def reduced_value(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean", weight=None) -> float:
    import losscli

    roles, query = split(arrays)
    return losscli.get(name, **(params or {})).value(**roles, weight=weight, query=query, reduction=reduction)


def compute_arrays(name: str, params: dict | None, arrays: dict, **options):
    """losscli.compute on the arrays as columns named by their roles; returns the Report."""
    import losscli

    roles, query = split(arrays)
    data = dict(roles)
    group = options.pop("groups", None)
    if group is not None:
        data["g"] = np.asarray(group)
        options["group_by"] = "g"
    if options.get("weight") is not None:
        data["w"] = np.asarray(options["weight"], dtype=np.float64)
        options["weight"] = "w"
    if query is not None:
        data["q"] = query
        options["query"] = "q"
    return losscli.compute(data, [spec_text(name, params)], inputs={role: role for role in roles}, **options)


# ----------------------------------------------------------------------------- comparing numbers


def assert_close(actual, expected, rtol: float, what: str, atol_scale: float = 1e-12, atol: float | None = None) -> None:
    """|actual - expected| <= atol + rtol |expected| everywhere, else CheckFailed naming the worst element."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    if atol is None:
        atol = atol_scale * max(scale, 1e-300)
    if actual.shape != expected.shape:
        raise CheckFailed(f"{what}: shape {actual.shape}, expected {expected.shape}")
    both_nan = np.isnan(actual) & np.isnan(expected)
    bad = ~both_nan & ~(np.abs(actual - expected) <= atol + rtol * np.abs(expected))
    if bad.any():
        excess = np.where(bad, np.abs(actual - expected) - rtol * np.abs(expected), -np.inf)
        worst = np.unravel_index(int(np.nanargmax(np.where(np.isnan(excess), np.inf, excess))), actual.shape)
        where = f" at {tuple(int(i) for i in worst)}" if actual.ndim else ""
        raise CheckFailed(f"{what}: {int(bad.sum())} of {bad.size} differ; worst{where}: got {actual[worst]!r}, "
                          f"expected {expected[worst]!r} (rtol {rtol:g}, atol {atol:.3g})")


# ----------------------------------------------------------------------------- finite differences


def finite_difference(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean", weight=None,
                      rel_step: float = 1e-6) -> np.ndarray:
    """Central differences of the reduced value with respect to every element of the first input."""
    arrays = as_arrays(arrays)
    first = first_role(name)
    x = arrays[first]
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        h = rel_step * max(1.0, abs(x[index]))
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        f_up = reduced_value(name, params, {**arrays, first: up}, reduction=reduction, weight=weight)
        f_down = reduced_value(name, params, {**arrays, first: down}, reduction=reduction, weight=weight)
        grad[index] = (f_up - f_down) / (2.0 * h)
    return grad


def assert_gradient_matches_fd(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean",
                               weight=None, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Analytic gradient against central differences (inputs should stay away from kinks)."""
    _, g = ours(name, params, arrays, reduction=reduction, weight=weight)
    fd = finite_difference(name, params, arrays, reduction=reduction, weight=weight)
    scale = max(1.0, float(np.max(np.abs(fd))))
    assert_close(g, fd, rtol, f"{name} {params or {}}: gradient vs finite differences", atol=atol * scale)


def assert_merge_equals_whole(name: str, params: dict | None, arrays: dict, *, batch_rows: int = 7,
                              block_rows: int = 3, reduction: str = "mean", weight=None, groups=None) -> None:
    """Batches and blocks of rows, folded into states and merged, give the numbers of the whole table."""
    arrays = as_arrays(arrays)
    common = dict(reduction=reduction, weight=weight, groups=groups, grad=True)
    whole = compute_arrays(name, params, arrays, batch_rows=10**9, block_rows=10**9, **common)
    chunked = compute_arrays(name, params, arrays, batch_rows=batch_rows, block_rows=block_rows, **common)
    if len(whole.results) != len(chunked.results):
        raise CheckFailed(f"{name}: {len(chunked.results)} results from chunks, {len(whole.results)} from the whole")
    for w, c in zip(whole.results, chunked.results):
        if (w.group, w.n) != (c.group, c.n):
            raise CheckFailed(f"{name}: chunks give group {c.group} with {c.n} rows, the whole {w.group} with {w.n}")
        assert_close(c.value, w.value, 1e-12, f"{name}: merged chunks vs whole, group {w.group}")
        for key in ("l2", "abs_max", "mean"):
            # a mean of signed gradients can cancel to ~0; its rounding error is bounded by eps * abs_max
            assert_close(c.grad[key], w.grad[key], 1e-12, f"{name}: merged gradient {key}, group {w.group}",
                         atol=1e-12 * max(abs(w.grad[key]), w.grad["abs_max"], 1e-300))


# ----------------------------------------------------------------------------- weights and groups per query


def rows_of(arrays: dict) -> int:
    return len(next(np.asarray(v) for k, v in arrays.items() if k != QUERY))


def per_unit(arrays: dict, values_of_units: Callable[[int], np.ndarray]) -> np.ndarray:
    """A value per row drawn per row, or per query (the same on all its rows) for arrays with a query."""
    query = arrays.get(QUERY)
    if query is None:
        return values_of_units(rows_of(arrays))
    ids = np.unique(np.asarray(query), return_inverse=True)[1].ravel()
    return values_of_units(int(ids.max()) + 1)[ids]


def random_weights(rng: np.random.Generator, arrays: dict, low: float = 0.2, high: float = 3.0) -> np.ndarray:
    return per_unit(arrays, lambda k: rng.uniform(low, high, size=k))


def random_groups(rng: np.random.Generator, arrays: dict, groups: int = 3) -> np.ndarray:
    return per_unit(arrays, lambda k: rng.integers(0, groups, size=k))


def repeated(arrays: dict, counts: np.ndarray) -> dict:
    """Each row (each query, with a new key per copy) repeated counts times."""
    roles, query = split(arrays)
    if query is None:
        return {k: np.repeat(v, counts, axis=0) for k, v in roles.items()}
    ids = np.unique(query, return_inverse=True)[1].ravel()
    parts: dict[str, list] = {k: [] for k in roles}
    keys = []
    for copy in range(int(counts.max(initial=0))):
        keep = counts[ids] > copy
        for k, v in roles.items():
            parts[k].append(v[keep])
        keys.append(ids[keep] + copy * (int(ids.max()) + 1))
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out[QUERY] = np.concatenate(keys)
    return out


# ----------------------------------------------------------------------------- the properties


def check_gradient(name: str, case: Case, reduction: str = "mean", rows: int = 6, seed: int = 1) -> None:
    arrays = case.make(np.random.default_rng(seed), rows)
    assert_gradient_matches_fd(name, case.params, arrays, reduction=reduction, rtol=case.fd_rtol)


def check_weighted_gradient(name: str, case: Case, rows: int = 6, seed: int = 2) -> None:
    rng = np.random.default_rng(seed)
    arrays = case.make(rng, rows)
    assert_gradient_matches_fd(name, case.params, arrays, weight=random_weights(rng, arrays), rtol=case.fd_rtol)


def check_merged_chunks(name: str, case: Case, rows: int = 40, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    arrays = case.make(rng, rows)
    assert_merge_equals_whole(name, case.params, arrays)
    assert_merge_equals_whole(name, case.params, arrays, reduction="sum", weight=random_weights(rng, arrays, 0.0, 2.0),
                              batch_rows=11, block_rows=4, groups=random_groups(rng, arrays))


def check_row_order(name: str, case: Case, rows: int = 30, seed: int = 4) -> None:
    rng = np.random.default_rng(seed)
    arrays = as_arrays(case.make(rng, rows))
    order = rng.permutation(rows)
    shuffled = {k: v[order] for k, v in arrays.items()}
    v1, g1 = ours(name, case.params, arrays)
    v2, g2 = ours(name, case.params, shuffled)
    assert_close(v2, v1, 1e-12, f"{name}: shuffled value")
    assert_close(g2, g1[order], 1e-12, f"{name}: shuffled gradient")


def check_integer_weights(name: str, case: Case, rows: int = 12, seed: int = 5) -> None:
    from .catalogue import get

    rng = np.random.default_rng(seed)
    arrays = as_arrays(case.make(rng, rows))
    counts = per_unit(arrays, lambda k: rng.integers(0, 4, size=k))
    units = per_unit(arrays, lambda k: np.arange(k))
    counts[units == units[0]] = max(counts[0], 1)
    weighted = reduced_value(name, case.params, arrays, weight=counts.astype(float))
    if get(name).sample_weights:
        unit_counts = np.zeros(int(units.max()) + 1, dtype=np.int64)
        unit_counts[units] = counts
        again = repeated(arrays, unit_counts if QUERY in arrays else counts)
        assert_close(weighted, reduced_value(name, case.params, again), 1e-11, f"{name}: weights vs repeated rows")
    else:  # a loss that cannot take weights must ignore them, not half-apply them
        assert_close(weighted, reduced_value(name, case.params, arrays), 1e-12, f"{name}: ignored weights")


def check_single_row(name: str, case: Case, seed: int = 6) -> None:
    arrays = case.make(np.random.default_rng(seed), 1)
    value, grad = ours(name, case.params, arrays)
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        raise CheckFailed(f"{name}: a single row gives value {value!r} and gradient {np.ravel(grad)[:4]!r}")


def check_groups(name: str, case: Case, rows: int = 30, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    arrays = as_arrays(case.make(rng, rows))
    codes = random_groups(rng, arrays)
    report = compute_arrays(name, case.params, arrays, groups=codes, grad=True)
    groups = [r for r in report.results if r.group is not None]
    present = sorted(set(codes.tolist()))
    if [r.group for r in groups] != [{"g": g} for g in present]:
        raise CheckFailed(f"{name}: groups {[r.group for r in groups]}, expected {present}")
    for g, result in zip(present, groups):
        alone = compute_arrays(name, case.params, {k: v[codes == g] for k, v in arrays.items()}, grad=True).results[0]
        assert_close(result.value, alone.value, 1e-11, f"{name}: group {g} value")
        for key in ("l2", "abs_max", "mean"):
            # a mean of signed gradients can cancel to ~0 (softmax rows sum to 0): judge it against abs_max
            assert_close(result.grad[key], alone.grad[key], 1e-10, f"{name}: group {g} grad {key}",
                         atol=1e-12 * max(abs(alone.grad[key]), alone.grad["abs_max"], 1e-300))


def check_fused(name: str, case: Case, rows: int = 50, seed: int = 8) -> None:
    """A definition that computes value and gradient together must give what the two give apart."""
    from .catalogue import get

    loss = get(name)
    if loss.value_and_grad is None:
        return
    params = {**loss.defaults(), **{k: tuple(v) if isinstance(v, list) else v for k, v in case.params.items()}}
    arrays = as_arrays(case.make(np.random.default_rng(seed), rows))
    arrays.pop(QUERY, None)
    if loss.per == "query":  # one query of all the rows, as the engine stacks it
        arrays = {k: v[None] for k, v in arrays.items()}
    value, grad = loss.value_and_grad(**arrays, **params)
    assert_close(value, loss.value(**arrays, **params), 1e-13, f"{name}: fused value vs value", atol=0)
    assert_close(grad, loss.grad(**arrays, **params), 1e-13, f"{name}: fused gradient vs grad", atol=0)


def check_extremes(name: str, case: Case, rows: int = 8, seed: int = 9) -> None:
    """Finite value and gradient on the domain's adversarial inputs (see extreme_inputs), or a clear refusal of
    them (the loss's own check raising InputDataError, exit 3, is an honest answer too)."""
    from .catalogue import get
    from .errors import InputDataError

    loss = get(name)
    arrays = extreme_inputs(loss, np.random.default_rng(seed), rows, case)
    try:
        with np.errstate(all="ignore"):  # the overflow is the finding, reported below, not a warning
            value, grad = ours(name, case.params, arrays)
    except InputDataError:
        return
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        raise CheckFailed(f"{name}: adversarial inputs give value {value!r} and gradient with "
                          f"{int(np.sum(~np.isfinite(grad)))} non-finite entries")


PROPERTIES: dict[str, Callable[[str, Case], None]] = {
    "gradient (mean)": lambda name, case: check_gradient(name, case, "mean"),
    "gradient (sum)": lambda name, case: check_gradient(name, case, "sum"),
    "gradient (weighted)": check_weighted_gradient,
    "merged chunks": check_merged_chunks,
    "row order": check_row_order,
    "integer weights": check_integer_weights,
    "single row": check_single_row,
    "groups": check_groups,
    "fused value_and_grad": check_fused,
    "adversarial inputs": check_extremes,
}


# ----------------------------------------------------------------------------- inputs from a loss's roles


def _width(role, widths: dict[str, int], default: int) -> int:
    if isinstance(role.width, int):
        return role.width
    if role.width in ("pred", "1|pred"):
        return widths.get("__first__", default)
    return default


def generated_case(loss, width: int = 3, queries: int = 3) -> Case:
    """Example inputs drawn from each role's domain, for a loss that brings no CASES of its own."""
    def make(rng: np.random.Generator, n: int) -> dict:
        widths: dict[str, int] = {}
        out: dict = {}
        for k, role in enumerate(loss.inputs):
            w = _width(role, widths, width)
            if k == 0:
                widths["__first__"] = w
            out[role.name] = draw(role.domain, rng, (n, w))
        if loss.per == "query":
            out[QUERY] = rng.integers(0, queries, size=n)
        return out

    return Case("generated from the roles' domains", make)


def draw(domain, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Values inside a domain, away from its edges (finite differences need room on both sides)."""
    from .catalogue import base as vocabulary

    if domain is vocabulary.PROBABILITY:
        return rng.uniform(0.05, 0.95, size=shape)
    if domain is vocabulary.POSITIVE:
        return rng.uniform(0.2, 3.0, size=shape)
    if domain is vocabulary.NON_NEGATIVE:
        return rng.uniform(0.1, 3.0, size=shape)
    if domain is vocabulary.BINARY:
        return (rng.uniform(size=shape) < 0.5).astype(float)
    if domain is vocabulary.LOG_PROBABILITY:
        return np.log(rng.uniform(0.05, 0.95, size=shape))
    values = rng.normal(size=shape)
    bad = domain.is_bad(values)
    if bad.any():  # a domain we do not know: keep drawing inside it
        for _ in range(50):
            values[bad] = rng.normal(size=int(bad.sum())) * 3
            bad = domain.is_bad(values)
            if not bad.any():
                break
    return values


def extreme_inputs(loss, rng: np.random.Generator, n: int, case: Case) -> dict:
    """The case's inputs with the first input pushed to its domain's extremes: reals to +-1e4 and 1e6 magnitudes,
    probabilities to exactly 0 and 1, positives to 1e-6 and 1e6."""
    from .catalogue import base as vocabulary

    arrays = as_arrays(case.make(rng, n))
    first = loss.inputs[0]
    x = arrays[first.name].copy()
    sign = np.where(rng.uniform(size=x.shape) < 0.5, -1.0, 1.0)
    if first.domain is vocabulary.PROBABILITY:
        x = np.where(sign > 0, 1.0, 0.0)
    elif first.domain in (vocabulary.POSITIVE, vocabulary.NON_NEGATIVE):
        x = np.where(sign > 0, 1e6, 1e-6)
    elif first.domain is vocabulary.REAL:
        x = sign * np.where(rng.uniform(size=x.shape) < 0.5, 1e4, 1e6)
    else:
        return arrays
    arrays[first.name] = x
    return arrays


def run_properties(name: str, cases: list[Case], only: list[str] | None = None):
    """Yield (property, case name, None or the failure message) for every property that applies and every case."""
    from .catalogue import get

    for case in cases:
        for prop, check in PROPERTIES.items():
            if (only and prop not in only) or (check is check_fused and get(name).value_and_grad is None):
                continue
            try:
                check(name, case)
            except CheckFailed as exc:
                yield prop, case.name, str(exc)
            except AssertionError as exc:
                yield prop, case.name, str(exc) or "assertion failed"
            except Exception as exc:  # the user's loss raised: that is a finding too
                message = getattr(exc, "message", None) or str(exc)
                yield prop, case.name, f"{type(exc).__name__}: {message}"
            else:
                yield prop, case.name, None

