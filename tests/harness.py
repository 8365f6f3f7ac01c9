"""The shared test harness every loss plugs into (the LossTester idea of torchmetrics).

- ``ours(name, params, arrays)``: our reduced value and full gradient, through the engine.
- ``assert_matches_torch(...)``: value and autograd gradient of a torch expression against ours.
- ``finite_difference(...)`` / ``assert_gradient_matches_fd(...)``: central differences of the
  reduced value, so no gradient check rests on torch alone.
- ``assert_merge_equals_whole(...)``: the value from chunk states merged equals the whole.

Family test files give torch (or formula) references; ``tests/cases/`` gives inputs for the
catalogue-wide property tests in ``test_catalogue_properties.py``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from losscli import engine
from losscli.catalogue import get
from losscli.spec import parse_spec


def spec_params(name: str, params: dict | None = None) -> tuple:
    """The Loss and its full parameter dict (defaults filled in), parsed as the CLI would."""
    text = name if not params else name + ":" + ",".join(f"{k}={_fmt(v)}" for k, v in params.items())
    spec = parse_spec(text)
    return spec.loss, spec.params


def _fmt(v) -> str:
    if isinstance(v, (list, tuple)):
        return ";".join(repr(float(x)) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    return repr(v) if isinstance(v, float) else str(v)


def as_arrays(arrays: dict) -> dict[str, np.ndarray]:
    out = {}
    for k, v in arrays.items():
        a = np.asarray(v, dtype=np.float64)
        out[k] = a[:, None] if a.ndim == 1 else a
    return out


def ours(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean", weight=None) -> tuple[float, np.ndarray]:
    """Our reported value and the full gradient with respect to the first input."""
    loss, p = spec_params(name, params)
    arrays = as_arrays(arrays)
    w = None if weight is None else np.asarray(weight, dtype=np.float64)
    overall, _, _ = engine.evaluate(loss, p, arrays, weight=w, reduction=reduction)
    grad = engine.gradient(loss, p, arrays, weight=w if loss.sample_weights else None, reduction=reduction)
    return overall.value, grad


def assert_close(actual, expected, rtol: float, what: str, atol_scale: float = 1e-12) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol_scale * max(scale, 1e-300), err_msg=what)


def assert_matches_torch(name: str, params: dict | None, arrays: dict, torch_fn: Callable, *,
                         reduction: str = "mean", weight=None, rtol_value: float = 1e-9, rtol_grad: float = 1e-7,
                         grad: bool = True) -> None:
    """torch_fn(**tensors) -> scalar tensor; the first input requires grad. Compares value and gradient."""
    import torch

    arrays = as_arrays(arrays)
    first = get(name).inputs[0].name
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=(k == first)) for k, v in arrays.items()}
    ref = torch_fn(**tensors)
    value, g = ours(name, params, arrays, reduction=reduction, weight=weight)
    assert_close(value, ref.item(), rtol_value, f"{name} {params} value vs torch")
    if grad:
        ref.backward()
        assert_close(g, tensors[first].grad.numpy(), rtol_grad, f"{name} {params} gradient vs torch autograd")


def reduced_value(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean", weight=None) -> float:
    loss, p = spec_params(name, params)
    w = None if weight is None else np.asarray(weight, dtype=np.float64)
    overall, _, _ = engine.evaluate(loss, p, as_arrays(arrays), weight=w, reduction=reduction)
    return overall.value


def finite_difference(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean", weight=None,
                      rel_step: float = 1e-6) -> np.ndarray:
    """Central differences of the reduced value with respect to every element of the first input."""
    arrays = as_arrays(arrays)
    first = get(name).inputs[0].name
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
    np.testing.assert_allclose(g, fd, rtol=rtol, atol=atol * scale, err_msg=f"{name} {params}: gradient vs finite differences")


def assert_merge_equals_whole(name: str, params: dict | None, arrays: dict, *, chunks: int = 3,
                              reduction: str = "mean", weight=None) -> None:
    """States of row chunks, merged, give the value (and gradient summary) of the whole."""
    loss, p = spec_params(name, params)
    arrays = as_arrays(arrays)
    n = next(iter(arrays.values())).shape[0]
    w = None if weight is None or not loss.sample_weights else np.asarray(weight, dtype=np.float64)
    width = arrays[loss.inputs[0].name].shape[1]
    merged = None
    for part in np.array_split(np.arange(n), min(chunks, n)):
        t = engine.terms(loss, {k: v[part] for k, v in arrays.items()}, p, None if w is None else w[part],
                         with_grad=loss.per != "set")
        state = engine.State.of(t, width)
        merged = state if merged is None else merged.merge(state)
    whole, _, _ = engine.evaluate(loss, p, arrays, weight=w, reduction=reduction, with_grad=True)
    chunked = engine.outcomes(loss, p, merged, reduction)[0]
    assert_close(chunked.value, whole.value, 1e-11, f"{name}: merged chunks vs whole")
    if loss.per != "set":
        for key in ("l2", "abs_max", "mean"):
            assert_close(chunked.grad[key], whole.grad[key], 1e-10, f"{name}: merged gradient {key}")
