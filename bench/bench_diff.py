"""`losscli diff` of two generated Parquet files of the same rows, two losses, 1000 bootstrap resamples.

    python bench/bench_diff.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common import CACHE, binary_file, measure, table


def candidate(rows: int):
    path = CACHE / f"candidate-{rows}.parquet"
    if not path.exists():
        base = pq.read_table(binary_file(rows))
        noise = np.random.default_rng(1).normal(size=rows) * 0.3
        pq.write_table(base.set_column(0, "pred", pa.array(base.column("pred").to_numpy() + noise)), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base, cand = binary_file(args.rows), candidate(args.rows)
    command = ["diff", str(base), str(cand), "-l", "bce_logits", "-l", "mse", "--bootstrap", "1000"]
    seconds, rss = measure("losscli", "", command, args.repeats)
    print(table([[f"losscli diff, {args.rows:,} rows each, -l bce_logits -l mse --bootstrap 1000", f"{seconds:.2f} s",
                  f"{rss:.0f} MiB"]], ["command", "time", "peak RSS"]))


if __name__ == "__main__":
    main()
