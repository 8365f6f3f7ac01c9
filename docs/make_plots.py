"""Draw the README's example plots with losscli itself: `python docs/make_plots.py` (needs `pip install -e '.[plot]'`).

Every picture is a `losscli plot` command run on the catalogue or on sample_data/, written to
docs/images/; the terminal rendering of each is written beside it as a .txt file, so the README can
show both. Re-run after changing a loss or the plotting code; nothing here is drawn by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"

PLOTS = {
    "curves-regression": ["plot", "curve", "-l", "mse", "-l", "mae", "-l", "huber", "-l", "log_cosh", "--grad",
                          "--range", "-4:4"],
    "curves-focal": ["plot", "curve", "-l", "bce_logits", "-l", "focal:gamma=0.5,alpha=-1",
                     "-l", "focal:gamma=1,alpha=-1", "-l", "focal:gamma=2,alpha=-1", "-l", "focal:gamma=5,alpha=-1"],
    "curves-robust": ["plot", "curve", "-l", "robust:alpha=2", "-l", "robust:alpha=1", "-l", "robust:alpha=0",
                      "-l", "robust:alpha=-2", "-l", "welsch", "--grad", "--range", "-6:6"],
    "dist-regression": ["plot", "dist", "-l", "mse", "-l", "mae", "--group-by", "sex",
                        "sample_data/regression.csv"],
    "dist-binary": ["plot", "dist", "-l", "bce_logits", "-l", "focal", "sample_data/binary.csv"],
}


def losscli(args: list[str], env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "losscli", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"losscli {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": ""}
    for name, args in PLOTS.items():
        losscli(args + ["-o", str(IMAGES / f"{name}.png")], env)
        (IMAGES / f"{name}.txt").write_text(losscli(args, env), encoding="utf-8")
        print(f"docs/images/{name}.png and .txt")


if __name__ == "__main__":
    main()
