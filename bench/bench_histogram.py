"""What the per-row loss histogram (the state behind the compute sparkline and `plot dist`) costs.

    python bench/bench_histogram.py [--rows 4000000] [--repeat 5]

For a few losses it times `losscli.compute` with the histogram state (the default) and without it
(histogram=None, what --no-spark asks for) on an in-memory table (no parsing: the engine's own work,
the hardest case for the histogram), on a Parquet file and on a CSV file (real runs). The two variants alternate,
--repeat times each, and the best wall-clock and best CPU time (all threads of this process, less
disturbed by other processes on a shared machine) of each are kept; it prints both overheads in
percent. Nothing is asserted; numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def best_alternating(variants: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """name -> (best wall seconds, best CPU seconds), running the variants in turn."""
    best = {name: (float("inf"), float("inf")) for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import pyarrow as pa
    import pyarrow.parquet as pq

    import losscli

    from losscli.engine.state import histogram

    rng = np.random.default_rng(0)
    block = rng.normal(size=1 << 16) ** 2
    used = np.ones(block.size, dtype=bool)
    each = best_alternating({"histogram": lambda: histogram(block, used)}, 200)["histogram"][1]
    print(f"the histogram of one 65,536-row block: {each * 1e6:.0f} us, {each / block.size * 1e9:.2f} ns per row")
    n = args.rows
    table = pa.table({
        "pred": rng.normal(size=n), "target": rng.normal(size=n),
        "logit": rng.normal(size=n) * 3, "label": (rng.random(n) < 0.3).astype(float),
        **{f"logit_{k}": rng.normal(size=n) for k in range(10)},
        "cls": rng.integers(0, 10, size=n).astype(float),
    })
    cases = [
        ("mse", {"pred": "pred", "target": "target"}),
        ("huber", {"pred": "pred", "target": "target"}),
        ("bce_logits", {"pred": "logit", "target": "label"}),
        ("focal", {"pred": "logit", "target": "label"}),
        ("cross_entropy", {"pred": "logit_*", "target": "cls"}),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.parquet"
        pq.write_table(table, path, row_group_size=1 << 20)
        import pyarrow.csv as pacsv

        csv_path = Path(tmp) / "rows.csv"
        pacsv.write_csv(table, csv_path)
        print(f"{n:,} rows, best of {args.repeat}; times in ms")
        print(f"{'loss':<15}{'input':<9}{'wall':>9}{'+hist':>9}{'overhead':>10}{'cpu':>9}{'+hist':>9}{'overhead':>10}")
        for name, columns in cases:
            for where, data in (("memory", table), ("parquet", str(path)), ("csv", str(csv_path))):
                def run(histogram, data=data, name=name, columns=columns):
                    return lambda: losscli.compute(data, [name], inputs=columns, histogram=histogram)

                best = best_alternating({"off": run(None), "on": run("overall")}, args.repeat)
                (wall0, cpu0), (wall1, cpu1) = best["off"], best["on"]
                print(f"{name:<15}{where:<9}{wall0 * 1e3:>9.1f}{wall1 * 1e3:>9.1f}{100 * (wall1 / wall0 - 1):>9.1f}%"
                      f"{cpu0 * 1e3:>9.1f}{cpu1 * 1e3:>9.1f}{100 * (cpu1 / cpu0 - 1):>9.1f}%")

if __name__ == "__main__":
    main()
