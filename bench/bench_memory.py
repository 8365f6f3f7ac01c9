"""Memory that does not grow with the file: peak RSS of `losscli compute` on large generated inputs.

    python bench/bench_memory.py [--parquet-rows 100000000] [--csv-rows 30000000]

The inputs (1.6 GB of values for 100M rows) are generated under $LOSSCLI_BENCH_DIR (default /tmp/losscli-bench),
never committed. Five losses are computed, as in the issue that set the target (under 400 MiB whatever the size).
"""

from __future__ import annotations

import argparse

from common import binary_file, measure, table

LOSSES = ["-l", "mse", "-l", "mae", "-l", "huber", "-l", "log_cosh", "-l", "bce_logits"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet-rows", type=int, default=100_000_000)
    parser.add_argument("--csv-rows", type=int, default=30_000_000)
    parser.add_argument("--small-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for label, path in (("Parquet", binary_file(args.small_rows)), ("Parquet", binary_file(args.parquet_rows)),
                        ("CSV", binary_file(args.small_rows, "csv")), ("CSV", binary_file(args.csv_rows, "csv"))):
        seconds, rss = measure("losscli", "", ["compute", *LOSSES, "--grad", str(path)], args.repeats)
        rows.append([f"{label}, {path.stat().st_size / 2**20:,.0f} MiB on disk", f"{seconds:.1f} s", f"{rss:.0f} MiB"])
    print("losscli compute -l mse -l mae -l huber -l log_cosh -l bce_logits --grad FILE\n")
    print(table(rows, ["input", "time", "peak RSS"]))


if __name__ == "__main__":
    main()
