"""The shared test harness every loss plugs into (the LossTester idea of torchmetrics).

Everything goes through the public API (``losscli.get`` and ``losscli.compute``), so the engine
behind it can change without these tests changing. The catalogue-wide properties and the helpers
they use live in ``losscli.checks``, shared with `losscli check`; this module adds the torch oracle.

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
from losscli.checks import (as_arrays, assert_close, assert_gradient_matches_fd, assert_merge_equals_whole,  # noqa: F401
                            compute_arrays, finite_difference, ours, reduced_value, spec_text, split)
from losscli.sources import ArrowSource, arrow_table


def named(data, name: str) -> ArrowSource:
    """In-memory data (a dict of arrays, a pyarrow Table) that messages call ``name``, as they would a file."""
    return ArrowSource(arrow_table(data), name)


def assert_matches_torch(name: str, params: dict | None, arrays: dict, torch_fn: Callable, *,
                         reduction: str = "mean", weight=None, rtol_value: float = 1e-9, rtol_grad: float = 1e-7,
                         grad: bool = True) -> None:
    """torch_fn(**tensors) -> scalar tensor; the first input requires grad. Compares value and gradient.

    A ``query`` entry (each row's query key) is passed to ours and to torch_fn as it is.
    """
    import torch

    roles, query = split(arrays)
    first = get(name).inputs[0].name
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=(k == first)) for k, v in roles.items()}
    extra = {} if query is None else {"query": query}
    ref = torch_fn(**tensors, **extra)
    value, g = ours(name, params, {**roles, **extra}, reduction=reduction, weight=weight)
    assert_close(value, ref.item(), rtol_value, f"{name} {params} value vs torch")
    if grad:
        ref.backward()
        assert_close(g, tensors[first].grad.numpy(), rtol_grad, f"{name} {params} gradient vs torch autograd")


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
    if not g.requires_grad:  # autograd's gradient does not depend on x (a piecewise-linear loss): its derivative is 0
        return out
    for index in np.ndindex(*x.shape):
        (row,) = torch.autograd.grad(g[index], x, retain_graph=True, allow_unused=True)
        out[index] = 0.0 if row is None else row[index].item()
    return out


def assert_hessian_matches_torch(name: str, params: dict | None, arrays: dict, torch_fn: Callable, *,
                                 reduction: str = "mean", weight=None, rtol: float = 1e-9) -> None:
    """Our Hessian diagonal against torch autograd's second derivative of torch_fn (same reduction and weights)."""
    h = losscli.get(name, **(params or {})).hess(**as_arrays(arrays), weight=weight, reduction=reduction)
    assert_close(h, torch_hessian_diagonal(name, arrays, torch_fn), rtol, f"{name} {params}: Hessian vs torch autograd")
