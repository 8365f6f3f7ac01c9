"""Whatever the bytes, losscli answers with exit 0, 2 or 3 and a message, never a traceback or exit 4.

- Property tests (hypothesis): random bytes, and random CSV text built from hostile cells, fed to
  `losscli compute` on standard input.
- A fuzzing run of the reading path for a fixed budget of seconds (LOSSCLI_FUZZ_SECONDS, default 8):
  valid CSV, TSV, Parquet and compressed files mutated at random (bytes flipped, cut, repeated,
  spliced with hostile cells), read from standard input and from files of every suffix. An input that
  raises anything but losscli's own errors is saved under tests/fuzz/crashes/ and fails the test;
  moved to tests/fuzz/regressions/ once fixed, it is replayed by every run.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import losscli
from losscli.cli import main
from losscli.errors import InputDataError, UsageProblem

FUZZ = Path(__file__).resolve().parent / "fuzz"
REGRESSIONS = sorted((FUZZ / "regressions").glob("*.bin"))
BUDGET = float(os.environ.get("LOSSCLI_FUZZ_SECONDS", "8"))

CELLS = ["0", "1", "-2.5", "1e308", "-1e308", "1e-320", "", " ", "nan", "NaN", "-inf", "inf", "NA", "null", "0x10",
         "1,5", "abc", "true", "\"q\"", "\"a,b\"", "\"x\ny\"", "\"", "é", "\x00", "\ufeff", "٣", "1_000", "+.5e-3"]
NAMES = ["pred", "target", "w", "g", "id", "logit_0", "logit_1", "target_0", "target_1", "prob_cat", "prob_dog",
         "pred", " target", "a,b", "p[0]", "*", "", "é"]
COMMANDS = [["-l", "mse"], ["-l", "bce_logits", "--group-by", "g"], ["-l", "cross_entropy", "--nan", "drop"],
            ["-l", "mse", "--weight", "w", "--top", "2", "--keep", "id", "-f", "json"],
            ["-l", "mse", "--nan", "propagate", "--grad", "-f", "markdown"], ["-l", "cross_entropy", "--renormalize"]]


def cli(args, stdin: bytes):
    return CliRunner().invoke(main, ["compute", *args, "-"], input=stdin)


def assert_answered(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2, 3), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    if result.exit_code:
        assert "Error:" in result.output  # every refusal says why


MAGIC_PREFIXES = [b"", b"PAR1", b"\x1f\x8b\x08", b"\xef\xbb\xbf", b"\xff\xfe", b"BZh91AY&SY", b"\x28\xb5\x2f\xfd",
                  b"pred,target\n"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(MAGIC_PREFIXES), body=st.binary(max_size=600), command=st.sampled_from(COMMANDS))
def test_random_bytes_on_stdin_get_an_answer(prefix, body, command):
    assert_answered(cli(command, prefix + body))


@st.composite
def csv_text(draw) -> bytes:
    sep = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5))
    rows = draw(st.lists(st.lists(st.sampled_from(CELLS), min_size=0, max_size=6), max_size=8))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = sep.join(names) + end + "".join(sep.join(row) + end for row in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=csv_text(), command=st.sampled_from(COMMANDS))
def test_random_csv_text_on_stdin_gets_an_answer(data, command):
    assert_answered(cli(command, data))


# ----------------------------------------------------------------------------- the fuzzing run


def seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    n = 40
    frame = {"pred": rng.normal(size=n), "target": rng.integers(0, 2, n).astype(float), "w": rng.uniform(0, 2, n),
             "g": rng.choice(["a", "b", "02134"], n), "id": np.arange(n)}
    text = "pred,target,w,g,id\n" + "".join(f"{p!r},{t},{w!r},{g},{i}\n" for p, t, w, g, i in zip(*frame.values()))
    sink = io.BytesIO()
    pq.write_table(pa.table(frame), sink, row_group_size=16)
    vectors = io.BytesIO()
    pq.write_table(pa.table({"pred": pa.array(rng.normal(size=(n, 3)).tolist()),
                             "target": pa.array(rng.normal(size=(n, 3)).tolist()), "g": frame["g"]}), vectors)
    return [text.encode(), text.replace(",", "\t").encode(), sink.getvalue(), vectors.getvalue(),
            gzip.compress(text.encode()), text.encode("utf-16")]


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        if not data:
            data += rng.choice(CELLS).encode() + b"\n"
        choice = rng.random()
        at = rng.randrange(len(data))
        if choice < 0.3:
            data[at] = rng.randrange(256)
        elif choice < 0.45:
            del data[at:at + rng.randint(1, 64)]
        elif choice < 0.6:
            data = data[:at]
        elif choice < 0.8:
            data[at:at] = rng.choice(CELLS + [",", "\n", "\"", "\t"]).encode()
        else:
            span = data[at:at + rng.randint(1, 200)]
            data[at:at] = span * rng.randint(1, 4)
    return bytes(data)


ALLOWED = (InputDataError, UsageProblem, MemoryError)


def read_everything(data: bytes, folder: Path, suffix: str, command: dict) -> None:
    """One input through the reading path: standard input, or a file of this suffix."""
    if suffix == "-":
        losscli.compute(["-"], stdin=io.BytesIO(data), **command)
    else:
        path = folder / f"input{suffix}"
        path.write_bytes(data)
        losscli.compute(str(path), **command)


API_COMMANDS = [dict(losses=["mse"]), dict(losses=["bce_logits"], group_by="g", nan="drop"),
                dict(losses=["mse"], weight="w", top=3, keep="id", nan="propagate"), dict(losses=["mse"], grad=True)]
SUFFIXES = ["-", ".csv", ".tsv", ".parquet", ".csv.gz"]


def save_crash(data: bytes) -> str:
    crashes = FUZZ / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(data).hexdigest()[:16]
    (crashes / f"{name}.bin").write_bytes(data)
    return name


def check_input(data: bytes, folder: Path, rng: random.Random) -> None:
    suffix, command = rng.choice(SUFFIXES), rng.choice(API_COMMANDS)
    if rng.random() < 0.2:  # the whole command line, rendering included
        result = cli(rng.choice(COMMANDS) + ["-f", rng.choice(["table", "json", "csv", "markdown", "junit"])], data)
        try:
            assert_answered(result)
        except AssertionError:
            save_crash(data)
            raise
        return
    try:
        read_everything(data, folder, suffix, command)
    except ALLOWED:
        pass
    except Exception as exc:
        name = save_crash(data)
        raise AssertionError(f"reading {suffix} with {command} raised {type(exc).__name__}: {exc}; the input is "
                             f"saved as tests/fuzz/crashes/{name}.bin") from exc


@pytest.fixture
def no_unraisable(monkeypatch):
    """Fail on an exception a library could only print ("Exception ignored in ..."): a traceback on stderr."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: seen.append(unraisable.exc_value))
    yield
    assert not seen, f"an exception was printed, not raised: {seen[0]!r}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's, from the API door; the CLI hides them
def test_fuzzing_the_reading_path_for_a_fixed_budget(tmp_path, no_unraisable):
    rng = random.Random(int(os.environ.get("LOSSCLI_FUZZ_SEED", time.time_ns())))
    corpus = seeds()
    deadline = time.monotonic() + BUDGET
    tried = 0
    while time.monotonic() < deadline:
        check_input(mutate(rng.choice(corpus), rng), tmp_path, rng)
        tried += 1
    assert tried > 10, "the budget let almost nothing run"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_inputs_that_once_crashed_the_reader(tmp_path, path, suffix, no_unraisable):
    data = path.read_bytes()
    for command in API_COMMANDS:
        try:
            read_everything(data, tmp_path, suffix, command)
        except ALLOWED:
            pass
