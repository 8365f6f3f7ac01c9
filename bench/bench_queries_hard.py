"""Cost of losses over queries and of hard-example means against the plain mean on the same file.

    python bench/bench_queries_hard.py [--rows 1000000] [--query-size 20]

Writes a Parquet file of scores, relevance, a query key (queries of --query-size rows, shuffled
so each query's rows are spread over the file) and binary logits, then prints the best of 3 wall
times of: mse (a plain per-row loss, the baseline of one read), ranking_softmax and lambdarank with
every row held in memory, the same with --batch-rows small enough that rows spill to partition
files, and bce_logits with mean, hard:0.1 in memory and hard:0.1 streamed (histogram + a second
read). Numbers depend on the machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--query-size", type=int, default=20)
    args = parser.parse_args()
    n = args.rows

    import pyarrow as pa
    import pyarrow.parquet as pq

    import losscli

    rng = np.random.default_rng(0)
    query = rng.permutation(np.arange(n) // args.query_size)
    table = pa.table({"qid": query, "pred": rng.normal(size=n), "target": rng.integers(0, 4, size=n).astype(float),
                      "logit": rng.normal(size=n) * 3, "label": (rng.random(n) < 0.3).astype(float)})
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "bench.parquet")
        pq.write_table(table, path, row_group_size=1 << 16)
        runs = {
            "mse (baseline read)": lambda: losscli.compute(path, ["mse"]),
            "ranking_softmax, in memory": lambda: losscli.compute(path, ["ranking_softmax"], query="qid", grad=True),
            "ranking_softmax, spilled": lambda: losscli.compute(path, ["ranking_softmax"], query="qid", grad=True,
                                                                batch_rows=n // 16),
            "lambdarank, in memory": lambda: losscli.compute(path, ["lambdarank"], query="qid", grad=True),
            "lambdarank, spilled": lambda: losscli.compute(path, ["lambdarank"], query="qid", grad=True,
                                                           batch_rows=n // 16),
            "bce_logits mean": lambda: losscli.compute(path, ["bce_logits"], pred="logit", target="label", grad=True),
            "bce_logits hard:0.1, in memory": lambda: losscli.compute(path, ["bce_logits"], pred="logit",
                                                                       target="label", grad=True, reduction="hard:0.1"),
            "bce_logits hard:0.1, streamed": lambda: losscli.compute(path, ["bce_logits"], pred="logit", target="label",
                                                                      grad=True, reduction="hard:0.1",
                                                                      batch_rows=n // 16),
        }
        print(f"{n:,} rows, queries of {args.query_size} rows")
        for name, fn in runs.items():
            print(f"  {name:34s} {best_of(fn):8.3f} s")


if __name__ == "__main__":
    main()
