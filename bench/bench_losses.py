"""Per-loss speed: losscli's value and gradient summaries against torch autograd and a hand-fused loop.

    python bench/bench_losses.py [--rows 10000000] [--only mse,focal,...] [--repeats 5] [--classes 10]

For every loss of the catalogue (``losscli.catalogue.CATALOGUE``, so a new loss is measured without
editing this file), with its default parameters, on inputs from its first default-parameter case in
tests/cases (the generators that make valid inputs for every loss):

- losscli: ``losscli.compute(arrays, [loss], grad=True, inputs={role: role})``, the public API, all of
  it: the arrays become a table, every block is validated, the value and the gradient summaries
  (l2, abs_max, mean) are reported;
- torch: the loss's expression in bench/torch_losses.py on float64 tensors sharing the arrays' memory
  (``torch.set_num_threads(2)``), forward, ``backward()`` and the same three gradient summaries;
- fused: the hand-fused numba loop of bench/fused.py, where there is one: the floor for this machine.

Inputs have ``--rows`` rows; a multi-class loss (a generator with a class count ``k``) gets
``--classes`` classes and rows / classes rows (1,000,000 x 10 by default), so every loss sees about
the same number of prediction values. A loss over queries (ranking, in-batch metric learning) gets
its rows in queries of ``--query-size`` consecutive rows (20 by default) and its key column as
``--query``; torch gets the same queries as (queries, rows, width) tensors, free views it need not
group, run a chunk of queries at a time as losscli's engine does (with its chunk size and with four
times that, keeping the faster), so neither holds every pair of the input at once. Before timing,
each loss is run on small inputs and torch's and the fused loop's value and gradient summaries must
equal losscli's to rel 1e-6: the race is between equal answers. Timings are interleaved (losscli, torch, fused, then again) and the minimum of
``--repeats`` is shown, so a busy machine hurts all three alike. A counting metric (zero_one,
hamming, ...) has no autograd graph: torch computes its value and the gradient is 0, as losscli's.

On a shared machine, ``--cpu-time`` pins the process to one core (losscli's pool then has one
thread, torch and numba get one) and times process CPU seconds: the ratio of the work each does,
steadier than wall-clock when other processes compete for the cores, but blind to how well each
spreads over cores. Nothing is asserted; the last column says which target of issue 7 a loss misses
(faster than torch for every loss, at most half torch's time for mse, mae, huber, bce_logits, focal).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from common import table  # noqa: E402

TWICE_AS_FAST = ("mse", "mae", "huber", "bce_logits", "focal")
CHECK_ROWS = 3000
RTOL = 1e-6


def default_case(name: str):
    """The first case of the loss that uses its default parameters (else its first case)."""
    from tests.cases import all_cases

    cases = all_cases()[name]
    return next((c for c in cases if not c.params), cases[0])


def generator(make, classes: int):
    """The case's generator, rebuilt with ``classes`` classes when it is a factory's closure over a class count k.

    The multi-class generators of tests/cases are made by factories such as ``logits_index(k=4)``;
    the factory is called again with the same arguments and k = classes. Returns the generator and
    whether it was widened.
    """
    free = inspect.getclosurevars(make).nonlocals
    if "k" not in free:
        return make, False
    factory = getattr(sys.modules[make.__module__], make.__qualname__.split(".")[0])
    arguments = {k: v for k, v in free.items() if k in inspect.signature(factory).parameters}
    return factory(**{**arguments, "k": classes}), True


def in_queries(make, size: int):
    """A query loss's generator whose rows form queries of ``size`` consecutive rows (n rounded down to whole queries).

    The cases of tests/cases draw query keys at random (a few rows per query, scattered); a ranking
    file has lists of tens of rows, each stored together, which is what both contenders get here.
    """
    from losscli.checks import QUERY

    def queries(rng, n: int) -> dict:
        n = max(size, n - n % size)
        arrays = make(rng, n)
        return {**arrays, QUERY: np.arange(n) // size}

    return queries


def with_losscli(spec, arrays):
    import losscli
    from losscli.checks import QUERY

    roles = {role: role for role in arrays if role != QUERY}
    query = QUERY if QUERY in arrays else None
    result = losscli.compute(arrays, [spec], grad=True, inputs=roles, query=query).results[0]
    return result.value, result.grad


def with_torch(expression, params, first: str, arrays):
    import torch

    from losscli.checks import QUERY

    if QUERY in arrays:
        return with_torch_queries(expression, params, first, arrays)
    tensors = {role: torch.from_numpy(a) for role, a in arrays.items()}
    tensors[first].requires_grad_(True)
    value = expression(**tensors, **params)
    if value.requires_grad:
        value.backward()
        g = tensors[first].grad
    else:  # a count (zero_one, hamming, ...): no autograd graph, and its gradient is 0
        g = torch.zeros_like(tensors[first])
    return float(value.detach()), torch_summary(g)


def torch_summary(g) -> dict:
    import torch

    return {"l2": float(torch.linalg.vector_norm(g)), "abs_max": float(g.abs().max()), "mean": float(g.mean())}


# pair entries (queries x rows x rows x width) per torch chunk: losscli's engine's, and four times that; the race
# runs both and keeps the faster for torch (neither size suits every loss)
QUERY_CHUNKS = (1 << 20, 1 << 22)


def with_torch_queries(expression, params, first: str, arrays, chunk: int = QUERY_CHUNKS[0]):
    """A query loss in torch: queries of equal size as (queries, rows, width) views, in chunks of queries.

    Each chunk's per-query losses are summed, divided by the number of queries and back-propagated
    into that chunk's rows of the gradient, so no pair tensor holds more than ``chunk`` entries.
    """
    import torch

    from losscli.checks import QUERY

    key = arrays[QUERY]
    size = int(np.count_nonzero(key == key[0]))
    tensors = {}
    for role, a in arrays.items():
        if role != QUERY:
            a = a[:, None] if a.ndim == 1 else a
            tensors[role] = torch.from_numpy(a).reshape(-1, size, a.shape[1])
    queries = tensors[first].shape[0]
    step = max(1, chunk // (size * size * tensors[first].shape[2]))
    grad = torch.zeros_like(tensors[first])
    total = 0.0
    for lo in range(0, queries, step):
        part = {role: t[lo:lo + step] for role, t in tensors.items()}
        part[first] = part[first].detach().requires_grad_(True)
        value = expression(**part, **params).sum() / queries
        if value.requires_grad:
            value.backward()
            grad[lo:lo + step] = part[first].grad
        total += float(value.detach())
    return total, torch_summary(grad)


def disagreement(ours, theirs, elements: int) -> str:
    """'' when two (value, gradient summary) answers agree to rel 1e-6, else what differs."""
    (v1, g1), (v2, g2) = ours, theirs
    problems = []
    if not math.isclose(v1, v2, rel_tol=RTOL, abs_tol=1e-300):
        problems.append(f"value {v1!r} vs {v2!r}")
    # the gradient's mean may be ~0: compare it on the scale of the gradient's typical element
    typical = g1["l2"] / math.sqrt(elements)
    for key in ("l2", "abs_max", "mean"):
        slack = RTOL * typical if key == "mean" else 1e-300
        if not math.isclose(g1[key], g2[key], rel_tol=RTOL, abs_tol=slack):
            problems.append(f"grad {key} {g1[key]!r} vs {g2[key]!r}")
    return "; ".join(problems)


CLOCK = time.perf_counter


def timed(function) -> float:
    gc.collect()
    start = CLOCK()
    function()
    return CLOCK() - start


def race(contenders: dict, make, rows: int, first: str, repeats: int):
    """Each contender's times on the same full-size inputs, interleaved, and the first input's shape."""
    arrays = make(np.random.default_rng(0), rows)
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            times[name].append(timed(lambda: run(arrays)))
    return " x ".join(f"{d:,}" for d in arrays[first].shape), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--classes", type=int, default=10, help="classes of the multi-class losses (rows / classes rows)")
    parser.add_argument("--only", default="", help="comma-separated loss names (default: the whole catalogue)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--query-size", type=int, default=20, help="rows per query of the losses over queries")
    parser.add_argument("--threads", type=int, default=2, help="torch's threads (losscli uses one per core)")
    parser.add_argument("--cpu-time", action="store_true", help="one core, process CPU time (see above)")
    args = parser.parse_args()
    if args.cpu_time:
        global CLOCK
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # before losscli sizes its pool
        os.environ["NUMBA_NUM_THREADS"] = "1"
        args.threads = 1
        CLOCK = time.process_time

    import torch

    from fused import FUSED
    from losscli.catalogue import CATALOGUE
    from losscli.spec import spec_from_values
    from torch_losses import TORCH, UNEXPRESSED

    torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(CATALOGUE)
    unknown = [n for n in names if n not in CATALOGUE]
    if unknown:
        raise SystemExit(f"not in the catalogue: {', '.join(unknown)}")

    rows_out, notes = [], []
    for name in names:
        loss = CATALOGUE[name]
        case = default_case(name)
        params = {**loss.defaults(), **case.params}
        spec = spec_from_values(name, case.params)
        make, widened = generator(case.make, args.classes)
        rows = args.rows // args.classes if widened else args.rows
        if loss.per == "query":
            make = in_queries(make, args.query_size)
        first = loss.inputs[0].name
        expression = TORCH.get(name)
        fast = FUSED[name](**params) if name in FUSED else None

        small = make(np.random.default_rng(1), CHECK_ROWS)
        elements = small[first].size
        ours = with_losscli(spec, small)
        if expression is None:
            notes.append(f"{name}: no torch expression ({UNEXPRESSED.get(name, 'not written yet')})")
        elif problem := disagreement(ours, with_torch(expression, params, first, small), elements):
            notes.append(f"{name}: torch disagrees with losscli, not timed: {problem}")
            expression = None
        if fast is not None and (problem := disagreement(ours, fast(**small), elements)):
            notes.append(f"{name}: the fused loop disagrees with losscli, not timed: {problem}")
            fast = None

        contenders = {"losscli": lambda arrays: with_losscli(spec, arrays)}
        if expression is not None:
            contenders["torch"] = lambda arrays: with_torch(expression, params, first, arrays)
            if loss.per == "query":
                contenders["torch, larger chunks"] = lambda arrays: with_torch_queries(expression, params, first, arrays,
                                                                                      QUERY_CHUNKS[1])
        if fast is not None:
            contenders["fused"] = lambda arrays: fast(**arrays)
        shape, times = race(contenders, make, rows, first, args.repeats)
        ours_s, torch_s, fused_s = times["losscli"], times.get("torch"), times.get("fused")
        if "torch, larger chunks" in times:  # torch's better chunk size
            torch_s = torch_s + times["torch, larger chunks"]
        ms = min(ours_s) * 1e3
        vs_torch = min(ours_s) / min(torch_s) if torch_s else None
        vs_fused = min(ours_s) / min(fused_s) if fused_s else None
        goal = 0.5 if name in TWICE_AS_FAST else 1.0
        verdict = "no torch" if vs_torch is None else ("ok" if vs_torch <= goal else f"misses <= {goal:g}")
        rows_out.append([name, shape, f"{ms:.0f}", f"{min(torch_s) * 1e3:.0f}" if torch_s else "-",
                         f"{vs_torch:.2f}" if vs_torch is not None else "-",
                         f"{vs_fused:.1f}" if vs_fused is not None else "-", verdict])
        print(" | ".join(rows_out[-1]), file=sys.stderr, flush=True)

    clock = "process CPU time on one core" if args.cpu_time else f"wall-clock; torch on {args.threads} threads"
    print(f"value + gradient summaries, minimum of {args.repeats} interleaved runs, {clock}\n")
    print(table(rows_out, ["loss", "pred shape", "losscli ms", "torch ms", "losscli/torch", "losscli/fused", "target"]))
    for note in notes:
        print(f"\n- {note}", end="")
    print()


if __name__ == "__main__":
    main()
