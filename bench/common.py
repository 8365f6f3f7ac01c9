"""What the bench scripts share: generated inputs (never committed) and timing a command in a fresh process.

Each measured command runs as its own process, so its time includes starting Python and importing
its libraries, as a user's would; its peak memory is that process's peak resident set size.
Nothing here is asserted: the scripts print tables of medians and ratios.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("LOSSCLI_BENCH_DIR", "/tmp/losscli-bench"))

# Runs a command in this interpreter and reports its own peak RSS on the last line of stderr.
_RUNNER = r"""
import json, resource, runpy, sys
kind, target, args = sys.argv[1], sys.argv[2], sys.argv[3:]
code = 0
try:
    if kind == "losscli":
        from losscli.cli import main
        main(args, prog_name="losscli")
    else:
        sys.argv = [target, *args]
        runpy.run_path(target, run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
print(json.dumps({"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "code": code}), file=sys.stderr)
"""


def installed_env() -> dict[str, str]:
    """The environment of a measured process, with Python allowed to cache compiled modules: pip compiles an
    installed package's modules when it installs them, so a user's process never compiles losscli's sources,
    but an editable install under PYTHONDONTWRITEBYTECODE (as this project's machines set it) would, in every
    process (0.1-0.15 s on this project's machine)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(kind: str, target: str, args: list[str], repeats: int = 5) -> tuple[float, float]:
    """Median wall-clock seconds and the largest peak RSS (MiB) of ``repeats`` fresh runs.

    ``kind`` is "losscli" (target ignored, args are the CLI's) or "script" (target is a path).
    """
    seconds, peaks = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _RUNNER, kind, target, *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, env=installed_env())
        seconds.append(time.perf_counter() - start)
        report = json.loads(done.stderr.strip().splitlines()[-1])
        if report["code"] not in (0, None):
            raise SystemExit(f"{kind} {target} {' '.join(args)} failed:\n{done.stderr}")
        peaks.append(report["rss_mib"])
    return statistics.median(seconds), max(peaks)


def binary_file(rows: int, kind: str = "parquet", chunk: int = 1 << 20) -> Path:
    """A generated file of `pred` logits and `target` 0/1 labels, two float64 columns, written a chunk at a time:
    ``kind`` "parquet" (one row group per chunk) or "csv" (six decimals). Reused when it exists."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = CACHE / f"binary-{rows}.{kind}"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    temp = path.with_suffix(".tmp")
    schema = pa.schema([("pred", pa.float64()), ("target", pa.float64())])
    writer = pq.ParquetWriter(temp, schema) if kind == "parquet" else pacsv.CSVWriter(temp, schema)
    with writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            target = (rng.random(n) < 0.3).astype(np.float64)
            pred = rng.normal(size=n) * 2.0 + (target - 0.3) * 2.0
            writer.write_table(pa.table({"pred": pred if kind == "parquet" else np.round(pred, 6), "target": target},
                                        schema=schema))
    temp.rename(path)
    return path


def table(rows: list[list[str]], header: list[str]) -> str:
    """A Markdown table, ready for the README."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
