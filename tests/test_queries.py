"""Losses over queries on their two paths: queries that are runs of consecutive rows are evaluated as the
batches arrive; a key met again after its run ended sends the run back to the start, rows grouped wherever
they are. Both must give the same numbers and outputs, whatever the batches."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import losscli
from losscli.catalogue import CATALOGUE
from losscli.checks import compute_arrays, split
from losscli.cli import main
from losscli.sinks import MemorySink

from .cases import all_cases
from .harness import as_arrays, assert_close

CASES = all_cases()
QUERY_CASES = [pytest.param(name, cases[0], id=name) for name, cases in sorted(CASES.items())
               if CATALOGUE[name].per == "query"]


def in_runs(case, seed: int, rows: int = 150) -> dict:
    """The case's inputs with new query keys: runs of 3 to 11 consecutive rows, keys not in sorted order."""
    rng = np.random.default_rng(seed)
    arrays = as_arrays(case.make(rng, rows))
    sizes = rng.integers(3, 12, size=rows)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), rows)) + 1]
    keys = rng.permutation(10 * sizes.size)[: sizes.size] + 1000
    arrays["query"] = np.repeat(keys, sizes)[:rows]
    return arrays


def moved_late(arrays: dict) -> tuple[dict, np.ndarray]:
    """The same queries with the last two rows of the second query moved to the end of the input: that key
    comes back after other queries' runs (each query keeps its rows in the same order). Returns the arrays
    and, for each new row, its row in ``arrays``."""
    query = arrays["query"]
    starts = np.flatnonzero(np.r_[True, query[1:] != query[:-1]])
    end = starts[2]  # the second query's last rows are end - 2 and end - 1
    order = np.r_[np.arange(end - 2), np.arange(end, query.size), end - 2, end - 1]
    return {k: np.asarray(v)[order] for k, v in arrays.items()}, order


def per_query_options(arrays: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A weight and a group per query (the same on all its rows)."""
    rng = np.random.default_rng(seed)
    ids = np.unique(arrays["query"], return_inverse=True)[1]
    return rng.uniform(0.2, 3.0, size=ids.max() + 1)[ids], rng.integers(0, 3, size=ids.max() + 1)[ids]


def assert_same_results(got, expected, what: str) -> None:
    assert [(r.label, r.group, r.n) for r in got.results] == [(r.label, r.group, r.n) for r in expected.results], what
    for g, e in zip(got.results, expected.results):
        assert_close(g.value, e.value, 1e-12, f"{what}: value, group {e.group}")
        if e.grad is not None:
            for key in ("l2", "abs_max", "mean"):
                assert_close(g.grad[key], e.grad[key], 1e-12, f"{what}: grad {key}, group {e.group}",
                             atol=1e-12 * max(abs(e.grad[key]), e.grad["abs_max"], 1e-300))


class Reads:
    """A progress callback recording the rows read so far: they only grow unless the input is read again."""

    def __init__(self) -> None:
        self.rows: list[int] = []

    def __call__(self, rows, total_rows=None, total_bytes=None) -> None:
        self.rows.append(rows)

    @property
    def read_again(self) -> bool:
        return bool(self.rows) and bool((np.diff(self.rows) < 0).any())


@pytest.mark.parametrize("name,case", QUERY_CASES)
def test_runs_and_the_spill_give_the_same_values_and_gradients(name, case):
    arrays = in_runs(case, seed=3)
    weight, groups = per_query_options(arrays, seed=4)
    moved, order = moved_late(arrays)
    options = dict(weight=weight, groups=groups, grad=True)
    whole = compute_arrays(name, case.params, arrays, batch_rows=10**9, **options)
    assert whole.results[0].n == np.unique(arrays["query"]).size  # every query counted once
    for batch_rows in (7, 10**9):
        fast, again = Reads(), Reads()
        runs = compute_arrays(name, case.params, arrays, batch_rows=batch_rows, progress=fast, **options)
        # batch_rows 7: rows held past 14 go to partition files, so the fallback spills
        spilled = compute_arrays(name, case.params, moved, batch_rows=batch_rows, weight=weight[order],
                                 groups=groups[order], grad=True, progress=again)
        assert not fast.read_again and fast.rows[-1] == len(arrays["query"])
        assert again.read_again == (batch_rows == 7)  # a single batch sees the whole input before any evaluation
        assert_same_results(runs, whole, f"{name} in runs, batches of {batch_rows}")
        assert_same_results(spilled, whole, f"{name} with a key met again, batches of {batch_rows}")


def test_a_key_met_again_is_named_in_a_warning_and_runs_give_none(tmp_path):
    frame = _frame()
    path = tmp_path / "ranked.csv"
    frame.to_csv(path, index=False)
    quiet = CliRunner().invoke(main, ["compute", "-l", "ranking_softmax", "--query", "qid", str(path)])
    assert quiet.exit_code == 0 and "read a second time" not in quiet.output
    late = frame.iloc[np.r_[2:len(frame), 0:2]]  # the first query's first two rows moved to the end
    late.to_csv(path, index=False)
    result = CliRunner().invoke(main, ["compute", "-l", "ranking_softmax", "--query", "qid", "--batch-rows", "5",
                                       str(path)])
    assert result.exit_code == 0, result.output
    first = frame["qid"].iloc[0]
    row = len(frame) - 1  # 1-based data row of the first moved row
    assert f"query {first!r} comes back at {path} row {row}" in result.output
    assert "read a second time" in result.output and "sort by qid" in result.output


def text_key(keys: np.ndarray, pad: int = 6) -> np.ndarray:
    return np.array([f"k{k:0{pad}d}" for k in keys])


@pytest.mark.parametrize("name,case", QUERY_CASES)
@pytest.mark.parametrize("form", ["integers", "texts", "texts whose hashes collide"])
def test_keys_numbered_by_shortcuts_give_what_an_exact_lookup_gives(name, case, form, monkeypatch):
    # Ascending integer keys take the shortcuts (runs found while numbering the keys, sorted keys extended in
    # place); texts are looked up by a 64-bit hash, ascending ones known new without a lookup, and a hash shared
    # by two texts (forced here) sends the column to Arrow's exact lookup. The reference: the same keys as texts
    # longer than any hashed text, always looked up exactly. Batches of 7 end inside queries and at their edges.
    arrays = in_runs(case, seed=6)
    arrays["query"] = pd.factorize(arrays["query"])[0] * 3 + 5  # numbered in order of appearance: ascending
    assert (np.diff(arrays["query"]) >= 0).all()
    weight, groups = per_query_options(arrays, seed=7)
    options = dict(weight=weight, groups=groups, grad=True)
    moved, order = moved_late(arrays)

    def keyed(data):
        return data if form == "integers" else {**data, "query": text_key(data["query"])}

    reference = {**arrays, "query": text_key(arrays["query"], pad=300)}
    if form == "texts whose hashes collide":
        import losscli.engine.groups as keys_module

        monkeypatch.setattr(keys_module, "text_hashes", lambda texts: np.zeros(len(texts), dtype=np.int64))
    for batch_rows in (7, 40, 10**9):
        expected = compute_arrays(name, case.params, reference, batch_rows=batch_rows, **options)
        got = compute_arrays(name, case.params, keyed(arrays), batch_rows=batch_rows, **options)
        assert_same_results(got, expected, f"{name}, {form}, batches of {batch_rows}")
        # a key that comes back after ascending ones is still known (read again on the spill path)
        late = compute_arrays(name, case.params, keyed(moved), batch_rows=batch_rows, weight=weight[order],
                              groups=groups[order], grad=True)
        assert_same_results(late, expected, f"{name}, {form}, one met again, batches of {batch_rows}")


@pytest.mark.parametrize("name,case", QUERY_CASES)
def test_runs_and_the_spill_give_the_same_per_query_rows_top_and_gradients(name, case):
    arrays = in_runs(case, seed=5, rows=90)
    moved, order = moved_late(arrays)
    label = losscli.get(name, **case.params).spec.label

    def outputs(data):
        roles, query = split(data)
        per_row, grads = MemorySink(), MemorySink()
        report = losscli.compute({**roles, "q": query}, [losscli.get(name, **case.params).spec],
                                 inputs={r: r for r in roles}, query="q", per_row=per_row, grad_out=grads, top=4,
                                 batch_rows=7)
        gradient = grads.table()
        columns = [c for c in gradient.column_names if c.startswith("grad[")]
        assert gradient.column("row").to_pylist() == list(range(1, len(query) + 1))
        return per_row.table(), np.column_stack([gradient.column(c).to_numpy() for c in columns]), report.top[label]

    rows_runs, grad_runs, top_runs = outputs(arrays)
    rows_moved, grad_moved, top_moved = outputs(moved)
    # one row per query in order of first appearance, on both paths
    assert rows_runs.column("q").to_pylist() == list(pd.unique(arrays["query"]))
    assert rows_moved.column("q").to_pylist() == rows_runs.column("q").to_pylist()
    assert rows_moved.column("rows").to_pylist() == rows_runs.column("rows").to_pylist()
    np.testing.assert_allclose(rows_moved.column(label).to_numpy(), rows_runs.column(label).to_numpy(), rtol=1e-12)
    f = losscli.get(name, **case.params)
    np.testing.assert_allclose(rows_runs.column(label).to_numpy(), f.per_row(**arrays), rtol=1e-12)
    # --grad-out rows in input order: the moved rows' gradients moved with them
    expected = f.grad(**arrays).reshape(grad_runs.shape)
    np.testing.assert_allclose(grad_runs, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(grad_moved, grad_runs[order], rtol=1e-12, atol=1e-300)
    assert [t["q"] for t in top_moved] == [t["q"] for t in top_runs] and len(top_runs) == 4
    np.testing.assert_allclose([t["loss"] for t in top_moved], [t["loss"] for t in top_runs], rtol=1e-12)


def _frame(seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 12, size=30)
    n = int(sizes.sum())
    return pd.DataFrame({"qid": np.repeat([f"q{i:02d}" for i in rng.permutation(30)], sizes),
                         "pred": rng.normal(size=n), "target": rng.integers(0, 4, size=n).astype(float),
                         "w": np.repeat(rng.uniform(0.5, 2.0, size=30), sizes),
                         "g": np.repeat(rng.choice(["x", "y"], size=30), sizes)})


LOSSES = ["ranking_softmax", "pairwise_logistic", "lambdarank:k=5", "ndcg_loss:k=3"]
OPTIONS = dict(query="qid", weight="w", group_by="g", grad=True)


def test_a_query_split_across_two_files_of_a_folder(tmp_path):
    frame = _frame()
    losses = LOSSES + ["mse"]  # a loss per row in the same run: its state too is gathered again on a fallback
    expected = losscli.compute(frame, losses, **OPTIONS)
    query_starts = np.flatnonzero(np.r_[True, frame["qid"].to_numpy()[1:] != frame["qid"].to_numpy()[:-1]])
    cut = int(query_starts[10]) + 2  # two rows of the 11th query in the first file, the rest in the second
    assert frame["qid"][cut - 1] == frame["qid"][cut]
    for name, rows in (("runs", frame), ("moved", frame.iloc[np.r_[2:len(frame), 0:2]])):
        folder = tmp_path / name
        folder.mkdir()
        pq.write_table(pa.Table.from_pandas(rows.iloc[:cut], preserve_index=False), folder / "a.parquet")
        pq.write_table(pa.Table.from_pandas(rows.iloc[cut:], preserve_index=False), folder / "b.parquet")
        for batch_rows in (5, 10**6):
            reads = Reads()
            got = losscli.compute(str(folder), losses, batch_rows=batch_rows, progress=reads, **OPTIONS)
            assert_same_results(got, expected, f"{name} in two files, batches of {batch_rows}")
            # the first query's first rows moved to the end: its key is met again, the input read again
            assert reads.read_again == (name == "moved" and batch_rows == 5)


def test_standard_input_in_runs_and_not(tmp_path):
    frame = _frame(seed=9)
    expected = losscli.compute(frame, LOSSES, **OPTIONS)
    moved = frame.iloc[np.r_[2:len(frame), 0:2]]
    for rows in (frame, moved):
        result = CliRunner().invoke(main, ["compute", *[a for loss in LOSSES for a in ("-l", loss)], "--query", "qid",
                                           "--weight", "w", "--group-by", "g", "--grad", "-f", "json",
                                           "--batch-rows", "6"], input=rows.to_csv(index=False))
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["rows"] == len(frame)
        for got, want in zip(doc["results"], expected.results):
            assert (got["label"], got["group"], got["n"]) == (want.label, want.group, want.n)
            assert got["value"] == pytest.approx(want.value, rel=1e-12)
            assert got["grad"]["l2"] == pytest.approx(want.grad["l2"], rel=1e-12)


@pytest.mark.parametrize("moved", [False, True])
def test_a_weight_or_group_that_differs_within_a_query_across_batches_is_named(tmp_path, moved):
    frame = _frame(seed=10)
    starts = np.flatnonzero(np.r_[True, frame["qid"].to_numpy()[1:] != frame["qid"].to_numpy()[:-1]])
    bad = int(starts[4])  # the 5th query's first row gets another weight and another group
    key = frame["qid"][bad]
    frame.loc[bad, "w"] += 1.0
    if moved:
        frame = frame.iloc[np.r_[1:len(frame), 0]]
    path = tmp_path / "lists.csv"
    frame.to_csv(path, index=False)
    for option, column in (("--weight", "w"), ("--group-by", "g")):
        if column == "g":
            frame = pd.read_csv(path)
            frame.loc[frame.index[frame["qid"] == key][-1], "g"] = "z"
            frame["w"] = 1.0
            frame.to_csv(path, index=False)
        result = CliRunner().invoke(main, ["compute", "-l", "ranking_softmax", "--query", "qid", option, column,
                                           "--batch-rows", "4", str(path)])
        assert result.exit_code == 3, result.output
        assert f"{option} differs between rows of the same query" in result.output
        assert repr(key) in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("nan", ["drop", "propagate"])
def test_rows_left_out_for_a_missing_value_on_both_paths(nan):
    frame = _frame(seed=11)
    frame.loc[[5, 40, 41], "pred"] = np.nan
    expected = losscli.compute(frame, LOSSES, batch_rows=10**6, nan=nan, **OPTIONS)
    assert expected.results[0].n == 30
    moved = frame.iloc[np.r_[2:len(frame), 0:2]]
    for rows in (frame, moved):
        for batch_rows in (4, 10**6):
            got = losscli.compute(rows, LOSSES, batch_rows=batch_rows, nan=nan, **OPTIONS)
            if nan == "propagate":
                assert all(np.isnan(r.value) for r in got.results if r.group is None)
            assert [(r.label, r.group, r.n, r.dropped) for r in got.results] == [
                (r.label, r.group, r.n, r.dropped) for r in expected.results]
            assert_same_results(got, expected, f"--nan {nan}, batches of {batch_rows}")


def test_gradient_rows_of_queries_cut_by_left_out_rows_and_batches():
    # rows left out inside a query that goes on into the next batch: the query's rows then have row numbers
    # that are not consecutive, and --grad-out must still put each gradient on its own row
    frame = _frame(seed=12)
    frame.loc[[5, 6, 40, 41, 42], "pred"] = np.nan
    losses = ["ranking_softmax", "lambdarank:k=5"]

    def gradients(rows, batch_rows):
        sink = MemorySink()
        losscli.compute(rows, losses, query="qid", grad=True, nan="drop", grad_out=sink, batch_rows=batch_rows)
        return sink.table()

    whole = gradients(frame, 10**6)
    kept = frame.drop(index=[5, 6, 40, 41, 42])
    assert whole.column("row").to_pylist() == [i + 1 for i in kept.index]
    for label, name in zip(losses, ("ranking_softmax", "lambdarank")):
        f = losscli.get(label)
        expected = f.grad(pred=kept["pred"].to_numpy(), target=kept["target"].to_numpy(), query=kept["qid"].to_numpy())
        np.testing.assert_allclose(whole.column(f"grad[{name}{label[len(name):]}][pred]").to_numpy(),
                                   np.ravel(expected), rtol=1e-12, atol=1e-300)
    for batch_rows in (4, 5):
        got = gradients(frame, batch_rows)
        assert got.column_names == whole.column_names
        for column in whole.column_names:
            np.testing.assert_allclose(got.column(column).to_numpy(), whole.column(column).to_numpy(), rtol=1e-12,
                                       atol=1e-300, err_msg=f"{column}, batches of {batch_rows}")
