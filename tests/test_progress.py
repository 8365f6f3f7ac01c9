"""The progress bar: on stderr, only when stderr is a terminal and CI is unset, never on stdout.

A real terminal is needed (the bar asks isatty), so the CLI runs in a child process whose stderr is a
pseudo-terminal. Its standard input is fed in two halves a second and a half apart: the read then lasts
longer than the bar's one-second delay without a large file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX only")

ROWS = 200_000  # about 5 MiB of CSV text: two or more batches of at most 3 MiB


def csv_text() -> bytes:
    rng = np.random.default_rng(3)
    pred, target = rng.normal(size=ROWS), rng.normal(size=ROWS)
    body = "\n".join(f"{p!r},{t!r}" for p, t in zip(pred.tolist(), target.tolist()))
    return ("pred,target\n" + body + "\n").encode()


def run_slowly(text: bytes, env: dict, stderr_is_terminal: bool) -> tuple[int, str, str]:
    """losscli compute -l mse - on ``text`` fed in two halves 1.5 s apart; returns (code, stdout, stderr)."""
    if stderr_is_terminal:
        leader, follower = pty.openpty()
        err_target = follower
    else:
        err_target = subprocess.PIPE
    child = subprocess.Popen([sys.executable, "-m", "losscli", "compute", "-l", "mse", "-f", "json", "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err_target, env=env)
    seen = bytearray()
    if stderr_is_terminal:
        os.close(follower)

        def drain() -> None:
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the child closed the terminal
                    return
                if not chunk:
                    return
                seen.extend(chunk)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
    half = text.index(b"\n", len(text) // 2) + 1
    child.stdin.write(text[:half])
    child.stdin.flush()
    time.sleep(1.5)
    child.stdin.write(text[half:])
    child.stdin.close()
    out = child.stdout.read()
    if stderr_is_terminal:
        child.wait(timeout=120)
        reader.join(timeout=10)
        os.close(leader)
        err = bytes(seen)
    else:
        err = child.stderr.read()
        child.wait(timeout=120)
    return child.returncode, out.decode(), err.decode(errors="replace")


@pytest.fixture(scope="module")
def text() -> bytes:
    return csv_text()


def environment(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(TERM="xterm-256color", COLUMNS="100", **extra)
    return env


def test_a_long_read_shows_a_bar_on_a_terminal(text):
    code, out, err = run_slowly(text, environment(), stderr_is_terminal=True)
    assert code == 0, err
    assert "reading" in err and "rows" in err and "rows/s" in err
    doc = json.loads(out)  # stdout holds the results alone
    assert doc["results"][0]["n"] == ROWS


def test_no_bar_in_ci(text):
    code, out, err = run_slowly(text, environment(CI="true"), stderr_is_terminal=True)
    assert code == 0, err
    assert "reading" not in err and "rows/s" not in err
    assert json.loads(out)["results"][0]["n"] == ROWS


def test_no_bar_when_stderr_is_not_a_terminal(text):
    code, out, err = run_slowly(text, environment(), stderr_is_terminal=False)
    assert code == 0, err
    assert "reading" not in err and "rows/s" not in err
    assert json.loads(out)["results"][0]["n"] == ROWS
