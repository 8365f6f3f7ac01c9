"""End to end: `losscli compute -l mse -l focal --grad` on a generated Parquet file of `pred` logits and `target`
labels, against the careful pyarrow + NumPy script, pandas + torch autograd, and the time just to read the file.

    python bench/bench_end_to_end.py [--rows 10000000] [--repeats 5]

Each command is a fresh process (Python start and imports included); medians of the repeats, and the largest
peak RSS. The numbers the commands print are compared first, so the race is between equal answers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from common import ROOT, binary_file, measure, table


def check_same_numbers(path) -> None:
    ours = json.loads(subprocess.run([sys.executable, "-m", "losscli", "compute", "-l", "mse", "-l", "focal", "--grad",
                                      "-f", "json", str(path)], capture_output=True, text=True, check=True, cwd=ROOT).stdout)
    theirs = subprocess.run([sys.executable, str(ROOT / "bench" / "careful.py"), str(path)], capture_output=True,
                            text=True, check=True).stdout.split("\n")
    for result, line in zip(ours["results"], theirs):
        name, *numbers = line.split()
        mine = [result["value"], result["grad"]["l2"], result["grad"]["abs_max"], result["grad"]["mean"]]
        for a, b in zip(mine, map(float, numbers)):
            if abs(a - b) > 1e-9 * max(abs(a), abs(b), 1e-300) and abs(a - b) > 1e-18:
                raise SystemExit(f"{name}: losscli {mine} but the careful script {numbers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    path = binary_file(args.rows)
    check_same_numbers(path)
    runs = {
        "losscli compute -l mse -l focal --grad": measure("losscli", "", ["compute", "-l", "mse", "-l", "focal", "--grad",
                                                                          str(path)], args.repeats),
        "careful pyarrow + NumPy script (bench/careful.py)": measure("script", str(ROOT / "bench" / "careful.py"),
                                                                     [str(path)], args.repeats),
        "pandas + torch autograd (bench/torch_script.py)": measure("script", str(ROOT / "bench" / "torch_script.py"),
                                                                   [str(path)], args.repeats),
        "reading the two columns only (bench/read_only.py)": measure("script", str(ROOT / "bench" / "read_only.py"),
                                                                     [str(path)], args.repeats),
    }
    careful = runs["careful pyarrow + NumPy script (bench/careful.py)"][0]
    rows = [[name, f"{s:.2f} s", f"{rss:.0f} MiB", f"{s / careful:.2f}"] for name, (s, rss) in runs.items()]
    print(f"{args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB Parquet; median of {args.repeats} fresh processes\n")
    print(table(rows, ["command", "time", "peak RSS", "time / careful script"]))


if __name__ == "__main__":
    main()
