"""Blocks of a batch on the engine's one thread pool.

NumPy's ufuncs release the GIL, so blocks of a batch run in parallel on threads; results come back
in block order, so what is merged from them never depends on which thread finished first.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_POOL: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    """The one thread pool, sized to the cores this process may use."""
    global _POOL
    if _POOL is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        _POOL = ThreadPoolExecutor(max_workers=max(1, cores), thread_name_prefix="losscli")
    return _POOL


def block_spans(rows: int, block_rows: int) -> list[tuple[int, int]]:
    return [(start, min(rows, start + block_rows)) for start in range(0, rows, block_rows)]


def run_blocks(function, spans: list[tuple[int, int]]) -> list:
    """function(start, stop) for every span, on the pool when there are several; results in span order."""
    if len(spans) == 1:
        return [function(*spans[0])]
    return list(pool().map(lambda span: function(*span), spans))
