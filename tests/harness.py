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
