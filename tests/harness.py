"""The shared test harness every loss plugs into (the LossTester idea of torchmetrics).

Everything goes through the public API (``losscli.get`` and ``losscli.compute``), so the engine
behind it can change without these tests changing.

- ``ours(name, params, arrays)``: our reduced value and full gradient.
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

import losscli
from losscli.catalogue import get
from losscli.sources import ArrowSource, arrow_table


def named(data, name: str) -> ArrowSource:
    """In-memory data (a dict of arrays, a pyarrow Table) that messages call ``name``, as they would a file."""
    return ArrowSource(arrow_table(data), name)


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


def as_arrays(arrays: dict) -> dict[str, np.ndarray]:
    out = {}
    for k, v in arrays.items():
        a = np.asarray(v, dtype=np.float64)
        out[k] = a[:, None] if a.ndim == 1 else a
    return out


def ours(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean", weight=None) -> tuple[float, np.ndarray]:
    """Our reported value and the full gradient with respect to the first input."""
    f = losscli.get(name, **(params or {}))
    arrays = as_arrays(arrays)
    return (f.value(**arrays, weight=weight, reduction=reduction),
            f.grad(**arrays, weight=weight, reduction=reduction))


def compute_arrays(name: str, params: dict | None, arrays: dict, **options):
    """losscli.compute on the arrays as columns named by their roles; returns the Report."""
    arrays = as_arrays(arrays)
    data = dict(arrays)
    group = options.pop("groups", None)
    if group is not None:
        data["g"] = np.asarray(group)
        options["group_by"] = "g"
    if options.get("weight") is not None:
        data["w"] = np.asarray(options["weight"], dtype=np.float64)
        options["weight"] = "w"
    return losscli.compute(data, [spec_text(name, params)], inputs={role: role for role in arrays}, **options)


def assert_close(actual, expected, rtol: float, what: str, atol_scale: float = 1e-12, atol: float | None = None) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    if atol is None:
        atol = atol_scale * max(scale, 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


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
    return losscli.get(name, **(params or {})).value(**as_arrays(arrays), weight=weight, reduction=reduction)


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


def assert_merge_equals_whole(name: str, params: dict | None, arrays: dict, *, batch_rows: int = 7,
                              block_rows: int = 3, reduction: str = "mean", weight=None, groups=None) -> None:
    """Batches and blocks of rows, folded into states and merged, give the numbers of the whole table."""
    arrays = as_arrays(arrays)
    common = dict(reduction=reduction, weight=weight, groups=groups, grad=True)
    whole = compute_arrays(name, params, arrays, batch_rows=10**9, block_rows=10**9, **common)
    chunked = compute_arrays(name, params, arrays, batch_rows=batch_rows, block_rows=block_rows, **common)
    assert len(whole.results) == len(chunked.results)
    for w, c in zip(whole.results, chunked.results):
        assert (w.group, w.n) == (c.group, c.n)
        assert_close(c.value, w.value, 1e-12, f"{name}: merged chunks vs whole, group {w.group}")
        for key in ("l2", "abs_max", "mean"):
            # a mean of signed gradients can cancel to ~0; its rounding error is bounded by eps * abs_max
            assert_close(c.grad[key], w.grad[key], 1e-12, f"{name}: merged gradient {key}, group {w.group}",
                         atol=1e-12 * max(abs(w.grad[key]), w.grad["abs_max"], 1e-300))


def hessian_finite_difference(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean", weight=None,
                              rel_step: float = 1e-5) -> np.ndarray:
    """Central differences of the analytic gradient: d grad_ij / d x_ij for every element of the first input.

    Rows are independent except under rmse's root, so a whole column is nudged at once (its row i
    moves only grad_ij of row i on the diagonal); under a root every element is nudged alone.
    """
    arrays = as_arrays(arrays)
    loss = get(name)
    f = losscli.get(name, **(params or {}))
    first = loss.inputs[0].name
    x = arrays[first]
    steps = rel_step * np.maximum(1.0, np.abs(x))
    masks = ([np.eye(x.size, dtype=bool)[k].reshape(x.shape) for k in range(x.size)] if loss.finish != "identity"
             else [np.eye(x.shape[1], dtype=bool)[None, j].repeat(x.shape[0], axis=0) for j in range(x.shape[1])])
    out = np.zeros_like(x)
    for mask in masks:
        h = np.where(mask, steps, 0.0)
        up = f.grad(**{**arrays, first: x + h}, weight=weight, reduction=reduction)
        down = f.grad(**{**arrays, first: x - h}, weight=weight, reduction=reduction)
        out[mask] = ((up - down) / (2.0 * np.where(mask, steps, 1.0)))[mask]
    return out


def assert_hessian_matches_fd(name: str, params: dict | None, arrays: dict, *, reduction: str = "mean",
                              weight=None, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """The analytic Hessian diagonal against central differences of the analytic gradient (away from kinks)."""
    h = losscli.get(name, **(params or {})).hess(**as_arrays(arrays), weight=weight, reduction=reduction)
    fd = hessian_finite_difference(name, params, arrays, reduction=reduction, weight=weight)
    scale = max(1.0, float(np.max(np.abs(fd))))
    np.testing.assert_allclose(h, fd, rtol=rtol, atol=atol * scale,
                               err_msg=f"{name} {params}: Hessian vs finite differences of the gradient")


def torch_hessian_diagonal(name: str, arrays: dict, torch_fn: Callable) -> np.ndarray:
    """d^2 torch_fn / d x_ij^2 for every element of the first input, by autograd twice (one backward per element)."""
    import torch

    arrays = as_arrays(arrays)
    first = get(name).inputs[0].name
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=(k == first)) for k, v in arrays.items()}
    x = tensors[first]
    (g,) = torch.autograd.grad(torch_fn(**tensors), x, create_graph=True)
    out = np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        (row,) = torch.autograd.grad(g[index], x, retain_graph=True, allow_unused=True)
        out[index] = 0.0 if row is None else row[index].item()
    return out


def assert_hessian_matches_torch(name: str, params: dict | None, arrays: dict, torch_fn: Callable, *,
                                 reduction: str = "mean", weight=None, rtol: float = 1e-9) -> None:
    """Our Hessian diagonal against torch autograd's second derivative of torch_fn (same reduction and weights)."""
    h = losscli.get(name, **(params or {})).hess(**as_arrays(arrays), weight=weight, reduction=reduction)
    assert_close(h, torch_hessian_diagonal(name, arrays, torch_fn), rtol, f"{name} {params}: Hessian vs torch autograd")
