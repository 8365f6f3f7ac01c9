"""What the per-row loss histogram (the state behind the compute table's sparkline and `plot dist`) costs.

    python bench/bench_histogram.py [--rows 10000000] [--repeats 5]

The cost is the share of a run's CPU time spent building the histogram: the engine's `histogram` function is
wrapped to add up its own thread's CPU time (so time a thread spends waiting does not count), and that is divided
by the CPU time of the run. On a shared machine runs vary by more than the histogram costs, so a share measured
inside each run is steadier than the difference between runs with and without it; that difference (medians of
runs alternating with and without the histogram, CPU time) is printed too. Two kinds of run:

- commands: `losscli compute -l LOSS FILE` as a fresh process, what a user runs (Python start and imports
  included), on a generated Parquet file of `pred` logits and `target` labels;
- engine: `losscli.compute` inside this process, no start-up, on the same file and on an in-memory table (no
  reading either): the engine's own work, where the histogram weighs most.

Nothing is asserted; numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

from common import ROOT, binary_file, installed_env, table

# A fresh `losscli` process whose engine histogram is timed (by this module's EngineTimer); prints the histogram's
# CPU seconds and the process's on the last line of stderr.
_RUNNER = r"""
import json, resource, sys
sys.path.insert(0, "bench")
from bench_histogram import EngineTimer
timer = EngineTimer()
from losscli.cli import main
try:
    main(sys.argv[1:], prog_name="losscli")
except SystemExit as exc:
    if exc.code:
        raise
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"hist": timer.spent, "cpu": usage.ru_utime + usage.ru_stime}), file=sys.stderr)
"""


def command_run(args: list[str]) -> tuple[float, float]:
    """(histogram CPU seconds, process CPU seconds) of one fresh `losscli` process."""
    done = subprocess.run([sys.executable, "-c", _RUNNER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, cwd=ROOT, env=installed_env())
    if done.returncode:
        raise SystemExit(f"losscli {' '.join(args)} failed:\n{done.stderr}")
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["hist"], report["cpu"]


class EngineTimer:
    """Wraps the engine's histogram in this process, adding up the CPU time of the threads that run it."""

    def __init__(self) -> None:
        import losscli.engine.pipeline as pipeline

        self.spent, self.lock, original = 0.0, threading.Lock(), pipeline.histogram

        def timed(*args, **kwargs):
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                with self.lock:
                    self.spent += time.thread_time() - start

        pipeline.histogram = timed

    def run(self, fn) -> tuple[float, float]:
        """(histogram CPU seconds, process CPU seconds) of fn()."""
        self.spent, cpu = 0.0, time.process_time()
        fn()
        return self.spent, time.process_time() - cpu


def shares(measure_on, measure_off, repeats: int) -> list[str]:
    """Median share of the runs with the histogram; median CPU with and without it, alternating."""
    on, off = [], []
    for _ in range(repeats):
        on.append(measure_on())
        off.append(measure_off()[1])
    share = statistics.median(h / cpu for h, cpu in on)
    cpu_on, cpu_off = statistics.median(cpu for _, cpu in on), statistics.median(off)
    return [f"{100 * share:.1f}%", f"{cpu_off * 1e3:.0f} ms", f"{cpu_on * 1e3:.0f} ms",
            f"{100 * (cpu_on / cpu_off - 1):+.1f}%"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import pyarrow as pa

    import losscli

    path = binary_file(args.rows)
    header = ["run", "histogram's share of CPU", "CPU, --no-spark", "CPU, with it", "difference"]
    jobs = [["-l", "mse"], ["-l", "mae"], ["-l", "huber"], ["-l", "bce_logits"], ["-l", "focal"],
            ["-l", "mse", "-l", "focal", "--grad"]]
    rows = []
    for job in jobs:
        cli = ["compute", *job, str(path)]
        rows.append([f"losscli compute {' '.join(job)} (fresh process)",
                     *shares(lambda cli=cli: command_run(cli), lambda cli=cli: command_run([*cli, "--no-spark"]),
                             args.repeats)])

    timer = EngineTimer()
    rng = np.random.default_rng(0)
    n = args.rows
    memory = pa.table({"pred": rng.normal(size=n) * 2, "target": (rng.random(n) < 0.3).astype(float)})
    multi = pa.table({**{f"logit_{k}": rng.normal(size=n // 10) for k in range(10)},
                      "cls": rng.integers(0, 10, size=n // 10).astype(float)})
    cases = [(name, where, data) for name in ("mse", "mae", "huber", "bce_logits", "focal")
             for where, data in (("the Parquet file", str(path)), ("an in-memory table", memory))]
    cases.append(("cross_entropy", f"an in-memory table, {n // 10:,} rows x 10", multi))
    for name, where, data in cases:
        inputs = {"pred": "logit_*", "target": "cls"} if name == "cross_entropy" else {"pred": "pred", "target": "target"}

        def run(histogram, data=data, name=name, inputs=inputs):
            return lambda: losscli.compute(data, [name], inputs=inputs, histogram=histogram)

        rows.append([f"engine: {name} on {where}",
                     *shares(lambda run=run: timer.run(run("overall")), lambda run=run: timer.run(run(None)),
                             args.repeats)])
    print(f"{args.rows:,} rows; medians of {args.repeats} runs of each\n")
    print(table(rows, header))


if __name__ == "__main__":
    main()
