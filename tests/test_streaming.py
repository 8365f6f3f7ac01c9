"""One pipeline for every run: any batch and block size gives the whole table's numbers, per-row outputs
stream, memory does not grow with the input, standard input streams."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import losscli
from losscli.catalogue import CATALOGUE
from losscli.cli import main
from losscli.sinks import MemorySink

from losscli.checks import random_groups, random_weights, split

from .cases import all_cases
from .harness import as_arrays, assert_close, compute_arrays

CASES = all_cases()
FIRST_CASES = [pytest.param(name, cases[0], id=name) for name, cases in sorted(CASES.items())]


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


# ----------------------------------------------------------------------------- every loss, any batch and block


@pytest.mark.parametrize("name,case", FIRST_CASES)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch_rows=st.integers(1, 45), block_rows=st.integers(1, 45), seed=st.integers(0, 2**16),
       reduction=st.sampled_from(["mean", "sum"]))
def test_any_batch_and_block_size_gives_the_whole_tables_numbers(name, case, batch_rows, block_rows, seed, reduction):
    rng = np.random.default_rng(seed)
    arrays = as_arrays(case.make(rng, 40))
    # weights and groups per row, or per query for a loss over queries
    options = dict(weight=random_weights(rng, arrays, 0.1, 2.0), groups=random_groups(rng, arrays, 4),
                   reduction=reduction, grad=True)
    whole = compute_arrays(name, case.params, arrays, batch_rows=10**9, block_rows=10**9, **options)
    parts = compute_arrays(name, case.params, arrays, batch_rows=batch_rows, block_rows=block_rows, **options)
    assert [(r.group, r.n) for r in parts.results] == [(r.group, r.n) for r in whole.results]
    for p, w in zip(parts.results, whole.results):
        assert_close(p.value, w.value, 1e-12, f"{name} value, group {w.group}")
        for key in ("l2", "abs_max", "mean"):
            assert_close(p.grad[key], w.grad[key], 1e-12, f"{name} grad {key}, group {w.group}",
                         atol=1e-12 * max(abs(w.grad[key]), w.grad["abs_max"], 1e-300))


@pytest.mark.parametrize("name", ["mse", "bce_logits", "cross_entropy", "dice", "huber"])
def test_gradient_summaries_of_long_blocks_equal_those_of_the_gradient_itself(name):
    # the engine takes a block's sum of squares as dot products of 8,192 elements plus a shorter tail: blocks here
    # hold tens of thousands of elements, not a multiple of 8,192, so both parts count
    case = CASES[name][0]
    arrays = as_arrays(case.make(np.random.default_rng(5), 30_011))
    f = losscli.get(name, **case.params)
    g = np.asarray(f.grad(**arrays))
    expected = {"l2": float(np.sqrt(np.sum(g * g))), "abs_max": float(np.abs(g).max()), "mean": float(g.mean())}
    for block_rows in (None, 12_289):
        result = compute_arrays(name, case.params, arrays, grad=True, block_rows=block_rows).results[0]
        for key, value in expected.items():
            assert_close(result.grad[key], value, 1e-12, f"{name} grad {key}, blocks of {block_rows}",
                         atol=1e-12 * expected["abs_max"])
    if name == "mse":  # and the formula itself: d/dp mean (p - y)^2 = 2 (p - y) / N
        r = arrays["pred"] - arrays["target"]
        assert_close(compute_arrays(name, {}, arrays, grad=True).results[0].grad["l2"],
                     float(np.linalg.norm(2.0 * r / r.size)), 1e-12, "mse grad l2 against 2 (p - y) / N")


@pytest.mark.parametrize("name,case", FIRST_CASES)
def test_streamed_gradient_and_per_row_equal_the_whole_tables(name, case):
    arrays = as_arrays(case.make(np.random.default_rng(11), 37))
    f = losscli.get(name, **case.params)
    whole = f.grad(**arrays)
    roles, query = split(arrays)
    data = dict(arrays)
    grads, rows = MemorySink(), MemorySink()
    losscli.compute(data, [f.spec], inputs={r: r for r in roles}, grad_out=grads, batch_rows=5, block_rows=2,
                    per_row=rows if CATALOGUE[name].per != "set" else None, query="query" if query is not None else None)
    table = grads.table()
    streamed = np.column_stack([table.column(c).to_numpy() for c in table.column_names if c.startswith("grad[")])
    np.testing.assert_allclose(streamed, whole.reshape(streamed.shape), rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(table.column("row").to_numpy(), np.arange(1, 38))
    if CATALOGUE[name].per != "set":
        np.testing.assert_allclose(rows.table().column(f.spec.label).to_numpy(), f.per_row(**arrays), rtol=1e-12)


# ----------------------------------------------------------------------------- files, per-row outputs, top K


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 5000
    frame = pd.DataFrame({
        "g": rng.choice(["x", "y", "z"], size=n), "pred": rng.uniform(0.01, 0.99, size=n),
        "target": (rng.random(n) < 0.4).astype(float), "w": rng.uniform(0, 2, size=n), "id": np.arange(n) * 7,
    })
    frame.loc[17, ["pred", "target"]] = [0.9999, 0.0]  # the clear maximum of --top
    folder = tmp_path_factory.mktemp("big")
    frame.to_csv(folder / "big.csv", index=False)
    frame.to_parquet(folder / "big.parquet", row_group_size=700)
    return folder


@pytest.mark.parametrize("name", ["big.csv", "big.parquet"])
def test_batches_equal_one_batch_in_every_output(big, name, tmp_path):
    losses = [x for n in ("mse", "mae", "rmse", "bce", "dice") for x in ("-l", n)]

    def outputs(batch_rows: int, tag: str):
        per_row, grads = tmp_path / f"{tag}-rows.parquet", tmp_path / f"{tag}-grads.csv"
        result = run("compute", *losses, "--grad", "--group-by", "g", "--weight", "w", "-f", "json", "--top", "3",
                     "--keep", "id", "--per-row", per_row, "--grad-out", grads, "--batch-rows", batch_rows, big / name)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout), pd.read_parquet(per_row), pd.read_csv(grads)

    whole, rows_whole, grads_whole = outputs(10**7, "whole")
    streamed, rows_streamed, grads_streamed = outputs(333, "streamed")
    assert streamed["rows"] == whole["rows"] == 5000
    assert len(whole["results"]) == 5 * 4
    for a, b in zip(whole["results"], streamed["results"]):
        assert (a["label"], a["group"], a["n"]) == (b["label"], b["group"], b["n"])
        assert b["value"] == pytest.approx(a["value"], rel=1e-12)
        for key in ("l2", "abs_max", "mean"):
            assert b["grad"][key] == pytest.approx(a["grad"][key], rel=1e-12, abs=1e-12 * a["grad"]["abs_max"])
    assert streamed["top"] == whole["top"] and whole["top"]["mse"][0]["row"] == 18
    pd.testing.assert_frame_equal(rows_streamed, rows_whole, rtol=1e-12)
    pd.testing.assert_frame_equal(grads_streamed, grads_whole, rtol=1e-12)
    assert list(grads_whole.columns[:2]) == ["row", "id"] and "grad[dice][pred]" in grads_whole.columns


def test_error_names_the_files_own_row_in_a_later_batch(tmp_path):
    rows = ["pred,target"] + [f"{i},{i}" for i in range(3000)]
    rows[2501] = "nan,1"  # data row 2501
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n")
    result = run("compute", "-l", "mse", "--batch-rows", "300", path)
    assert result.exit_code == 3 and f"{path} row 2501" in result.stderr


def test_second_file_rows_are_counted_in_that_file(tmp_path):
    ok, bad = tmp_path / "a.csv", tmp_path / "b.csv"
    ok.write_text("pred,target\n" + "".join(f"{i},{i}\n" for i in range(50)))
    bad.write_text("pred,target\n1,1\n2,x\n")
    result = run("compute", "-l", "mse", ok, bad)
    assert result.exit_code == 3 and f"{bad} row 2" in result.stderr and "'x'" in result.stderr


def test_integers_first_and_floats_later_stream(tmp_path):
    rows = ["pred,target"] + [f"{i},{i}" for i in range(3000)] + ["1.5,2.5"]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(rows) + "\n")
    whole = json.loads(run("compute", "-l", "mse", "-f", "json", path).output)["results"][0]["value"]
    streamed = json.loads(run("compute", "-l", "mse", "-f", "json", "--batch-rows", "200", path).output)
    assert streamed["results"][0]["value"] == pytest.approx(whole, rel=1e-12) and streamed["rows"] == 3001
    assert whole == pytest.approx(np.mean(np.r_[np.zeros(3000), 1.0]), rel=1e-12)


def scattered_keys(rng, n):
    key = rng.integers(0, 120, size=n)
    key[rng.random(n) < 0.3] = rng.integers(0, 5)  # some keys frequent, some seen in one batch only
    return key


def keys_in_runs(rng, n):
    runs = rng.integers(0, 40, size=2 * (n // 30))
    runs[1::2] = runs[::2]  # a key often repeats right after itself: runs of runs
    return np.repeat(runs, rng.integers(1, 30, size=runs.size))  # and recurs in later runs and batches


@pytest.mark.parametrize("dtype", [pa.int64(), pa.uint32(), pa.int8()])
@pytest.mark.parametrize("make_keys", [scattered_keys, keys_in_runs])
def test_integer_keys_group_as_their_text_does_across_batches(dtype, make_keys):
    # integer keys are looked up by binary search in the keys seen so far (keys in long runs encoded one value
    # per run), other keys by Arrow's hash lookup: both must give the same groups with the same rows, however
    # the rows are batched
    rng = np.random.default_rng(11)
    key = make_keys(rng, 5000)
    n = key.size
    pred, target = rng.normal(size=n), rng.normal(size=n)
    grouped = {}
    for kind, column in (("int", pa.array(key, type=dtype)), ("text", pa.array(key.astype(str)))):
        table = pa.table({"pred": pred, "target": target, "k": column})
        report = losscli.compute(table, ["mse"], group_by="k", grad=True, batch_rows=173)
        grouped[kind] = {str(r.group["k"]): (r.value, r.n, r.grad["l2"]) for r in report.results if r.group}
    assert grouped["int"] == grouped["text"]
    for k in np.unique(key):
        mine = key == k
        assert grouped["int"][str(k)][0] == pytest.approx(np.mean((pred[mine] - target[mine]) ** 2), rel=1e-12)
        assert grouped["int"][str(k)][1] == mine.sum()


def test_query_losses_with_integer_keys_equal_text_keys_when_spilled():
    rng = np.random.default_rng(12)
    n = 6000
    key = rng.permutation(np.repeat(np.arange(300), 20))  # every query's rows scattered across batches
    pred, target = rng.normal(size=n), rng.integers(0, 4, size=n).astype(float)
    values = []
    for column in (pa.array(key), pa.array(key.astype(str))):
        table = pa.table({"pred": pred, "target": target, "q": column})
        # batches of 500 rows hold at most 1000 query rows in memory: the rest go through the spill files
        report = losscli.compute(table, ["ranking_softmax", "lambdarank"], query="q", grad=True, batch_rows=500)
        values.append([(r.value, r.n, r.grad["l2"]) for r in report.results])
    assert values[0] == values[1]


# ----------------------------------------------------------------------------- standard input


def test_stdin_csv_streams_and_parquet_is_spooled(big, tmp_path):
    expected = json.loads(run("compute", "-l", "dice", "-l", "mse", "--grad", "-f", "json", big / "big.csv").output)
    for source in ("big.csv", "big.parquet"):
        data = (big / source).read_bytes()
        got = run("compute", "-l", "dice", "-l", "mse", "--grad", "-f", "json", "--batch-rows", "256", input=data)
        assert got.exit_code == 0, got.output
        doc = json.loads(got.stdout)
        assert doc["source"] == ["<stdin>"] and doc["rows"] == 5000
        for a, b in zip(expected["results"], doc["results"]):
            assert b["value"] == pytest.approx(a["value"], rel=1e-12)
            assert b["grad"]["l2"] == pytest.approx(a["grad"]["l2"], rel=1e-12)


def test_stdin_per_row_output(tmp_path):
    out = tmp_path / "rows.csv"
    got = run("compute", "-l", "mse", "--per-row", out, input="pred,target\n1,0\n3,1\n")
    assert got.exit_code == 0, got.output
    assert pd.read_csv(out)["mse"].tolist() == [1.0, 4.0]


# ----------------------------------------------------------------------------- memory


def _peak(path, batch_rows: int) -> tuple[int, int]:
    """Peak bytes NumPy allocated (tracemalloc) and Arrow's pool peak during one run."""
    import gc

    pool = pa.default_memory_pool()
    gc.collect()
    tracemalloc.start()
    losscli.compute(str(path), ["mse", "focal", "bce_logits"], grad=True, batch_rows=batch_rows)
    _, numpy_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return numpy_peak, pool.max_memory()


def test_memory_does_not_grow_with_the_file(tmp_path):
    rng = np.random.default_rng(0)
    paths = {}
    for rows in (200_000, 1_600_000):
        table = pa.table({"pred": rng.normal(size=rows), "target": (rng.random(rows) < 0.3).astype(float)})
        paths[rows] = tmp_path / f"{rows}.parquet"
        pq.write_table(table, paths[rows], row_group_size=50_000)
    small_numpy, _ = _peak(paths[200_000], 50_000)
    big_numpy, _ = _peak(paths[1_600_000], 50_000)
    data_bytes = 1_600_000 * 2 * 8  # 25.6 MB of values in the big file
    # 8x the rows, about the same peak (a batch's worth of noise from thread timing): nothing grows with the file
    assert big_numpy < 1.5 * small_numpy, (small_numpy, big_numpy)
    assert big_numpy < data_bytes / 4, (big_numpy, data_bytes)


def test_help_does_not_import_the_engine():
    code = "import sys, losscli.cli; losscli.cli.main(['--help'], standalone_mode=False); " \
           "print(sorted(m for m in ('numpy', 'pyarrow', 'pandas', 'rich') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
