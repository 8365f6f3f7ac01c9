"""The Dask runner: the same batch-to-state function on each partition of the input, states merged on the client.

A partition is a piece of the input a worker opens itself (a Parquet file's row groups, a CSV
file, a slice of an in-memory table): only its description travels, never its rows. Each worker
runs the local pipeline's pass 1 on its partition and sends back the Accumulator (a few sums per
loss and group, and the group keys it met); the client merges them in partition order, so the
result does not depend on which worker finished first. Set-level gradients take their second
pass the same way, with the merged totals sent to the workers. Per-row outputs (--per-row,
--grad-out, --top) are written by the local engine only.

Dask is an optional extra (`pip install "losscli[dask]"`), imported only here.
"""

from __future__ import annotations

import copy

import numpy as np

from ..errors import UsageProblem
from ..model import Report
from ..plan import Plan
from ..sources import Part, Source
from .pipeline import Accumulator, Options, finish, needs_second_pass, second_pass
from .state import State


def _first_pass(part: Part, plan: Plan, options: Options) -> Accumulator:
    source = part.open()
    acc = Accumulator(plan, options)
    for batch in source.batches(plan.projection, options.batch_rows, plan.text):
        acc.add(batch)
    return acc


def _second_pass(part: Part, merged: Accumulator) -> tuple[list[State | None], list[State | None]]:
    """Gradient states of a partition: per loss, its groups' (gradient fields only) and the whole set's."""
    acc = copy.deepcopy(merged)
    whole = second_pass(part.open(), acc)
    groups = [State(grad_sq=s.grad_sq, grad_sum=s.grad_sum, grad_absmax=s.grad_absmax)
              if lp.loss.per == "set" and merged.grouping is not None else None
              for lp, s in zip(acc.plan.losses, acc.states)]
    return groups, whole


def _client(scheduler: str | None):
    """A distributed client (and the cluster it started, if any) for an address or a new local cluster;
    (None, None) for Dask's local schedulers."""
    if scheduler in ("threads", "processes", "synchronous"):
        return None, None
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageProblem("--engine dask needs Dask: pip install 'losscli[dask]'.") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="5s"), None
        except (OSError, TimeoutError) as exc:
            raise UsageProblem(f"--scheduler {scheduler}: no Dask scheduler answered ({exc}). "
                               "Check the address (tcp://HOST:8786) and that the cluster is running.") from None
    cluster = LocalCluster(processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _merge_gradients(acc: Accumulator, seconds) -> list[State | None]:
    """Fold the partitions' second-pass gradient states into the groups' states; the whole set's, per loss."""
    whole_grads: list[State | None] = [None] * len(acc.states)
    for groups, whole in seconds:
        for i, state in enumerate(acc.states):
            if groups[i] is not None:
                if state.grad_sq is None:
                    state.grad_sq, state.grad_sum, state.grad_absmax = (np.zeros(acc.groups) for _ in range(3))
                state.fold(groups[i], np.arange(groups[i].groups))
            if whole[i] is not None:
                whole_grads[i] = whole[i] if whole_grads[i] is None else whole_grads[i].merge(whole[i])
    return whole_grads


def run_dask(source: Source, plan: Plan, options: Options, scheduler: str | None = None) -> Report:
    """``run`` on a Dask cluster: ``scheduler`` is a scheduler address, None for a new local cluster, or one of
    Dask's local schedulers ('threads', 'processes', 'synchronous')."""
    try:
        import dask
    except ImportError:
        raise UsageProblem("--engine dask needs Dask: pip install 'losscli[dask]'.") from None
    if options.per_row is not None or options.grad_out is not None or options.top:
        raise UsageProblem("--per-row, --grad-out and --top are written by the local engine; drop --engine dask for them.")
    options = Options(reduction=options.reduction, with_grad=options.with_grad, batch_rows=options.batch_rows,
                      block_rows=options.block_rows)
    parts = source.partitions()
    client, cluster = _client(scheduler)
    # with a client, dask.compute runs on its cluster; without, on the named local scheduler
    where = {"scheduler": scheduler} if client is None else {}
    try:
        firsts = dask.compute(*[dask.delayed(_first_pass)(part, plan, options) for part in parts], **where)
        acc = Accumulator(plan, options)
        for partial in firsts:
            acc.merge(partial)
        whole_grads = None
        if needs_second_pass(plan, options):
            seconds = dask.compute(*[dask.delayed(_second_pass)(part, acc) for part in parts], **where)
            whole_grads = _merge_gradients(acc, seconds)
        return finish(acc, whole_grads)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
