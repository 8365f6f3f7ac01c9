"""Hard-example means (OHEM): --reduction hard:FRACTION / hard:K equal sorting every per-row loss and averaging
the top rows, on files many batches long, with ties, weights, groups and the gradient (zero on rows left out)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import losscli
from losscli.cli import main

rng = np.random.default_rng(31)


def top_mean(per_row: np.ndarray, k: int) -> float:
    """The oracle: sort all per-row losses, average the k largest."""
    return float(np.sort(per_row)[::-1][:k].mean())


def k_of(spec: str, n: int) -> int:
    value = spec.split(":")[1]
    return min(n, int(value)) if value.isdigit() else max(1, math.ceil(float(value) * n))


@pytest.fixture(scope="module")
def long_file(tmp_path_factory):
    """200,000 rows in row groups of 3,000: read 2,500 rows at a time, the file is 80 batches long."""
    n = 200_000
    logits = rng.normal(size=n) * 3
    logits[:5000] = 2.0  # a block of exactly tied losses
    frame = pd.DataFrame({"pred": logits, "target": (rng.random(n) < 0.3).astype(float),
                          "g": rng.choice(["a", "b", "c"], size=n)})
    path = tmp_path_factory.mktemp("hard") / "long.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=3000)
    per_row = losscli.get("bce_logits").per_row(frame["pred"].to_numpy(), frame["target"].to_numpy())
    return path, frame, per_row


@pytest.mark.parametrize("spec", ["hard:0.1", "hard:0.003", "hard:1.0", "hard:1", "hard:4321", "hard:0.97"])
def test_hard_mean_equals_sorting_all_rows_of_a_long_file(long_file, spec):
    path, frame, per_row = long_file
    report = losscli.compute(str(path), ["bce_logits"], reduction=spec, batch_rows=2500, group_by="g")
    whole = report.results[0]
    k = k_of(spec, len(frame))
    assert whole.n == k
    assert whole.value == pytest.approx(top_mean(per_row, k), rel=1e-12)
    for result in report.results[1:]:
        rows = per_row[(frame["g"] == result.group["g"]).to_numpy()]
        assert result.value == pytest.approx(top_mean(rows, k_of(spec, rows.size)), rel=1e-12)
    in_memory = losscli.compute(str(path), ["bce_logits"], reduction=spec, group_by="g")
    for a, b in zip(report.results, in_memory.results):
        assert a.value == pytest.approx(b.value, rel=1e-12) and a.n == b.n


def test_ties_at_the_boundary_share_their_places_whatever_the_order():
    pred = np.r_[np.full(300, 2.0), rng.uniform(0.0, 1.0, 700)]
    target = np.zeros(1000)
    k = 200  # 200 of the 300 rows tied at the top
    for order in (np.arange(1000), rng.permutation(1000)):
        for batch_rows in (10**6, 7):
            f = losscli.get("mae")
            value = losscli.compute({"pred": pred[order], "target": target}, ["mae"], reduction=f"hard:{k}",
                                    batch_rows=batch_rows).results[0].value
            assert value == 2.0
            grad = f.grad(pred[order], target, reduction=f"hard:{k}").ravel()
            tied = pred[order] == 2.0
            np.testing.assert_allclose(grad[tied], (200 / 300) / k)  # each tied row counts 2/3
            assert not grad[~tied].any()


@pytest.mark.parametrize("batch_rows", [10**6, 50])
def test_hard_gradient_is_zero_on_rows_left_out_and_matches_finite_differences(batch_rows):
    n = 400
    pred, target = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    f = losscli.get("huber")
    per_row = f.per_row(pred, target)
    k = 40
    chosen = np.argsort(per_row)[::-1][:k]
    report = losscli.compute({"pred": pred, "target": target}, ["huber"], inputs={"pred": "pred", "target": "target"},
                             reduction="hard:0.1", grad=True, batch_rows=batch_rows)
    g = f.grad(pred, target, reduction="hard:0.1")
    left_out = np.setdiff1d(np.arange(n), chosen)
    assert not g[left_out].any()
    # the selection is fixed near a point without ties: central differences of the value
    h = 1e-6
    for i in chosen[:5]:
        for j in range(3):
            up, down = pred.copy(), pred.copy()
            up[i, j] += h
            down[i, j] -= h
            fd = (f.value(up, target, reduction="hard:0.1") - f.value(down, target, reduction="hard:0.1")) / (2 * h)
            assert g[i, j] == pytest.approx(fd, rel=1e-5, abs=1e-9)
    assert report.results[0].grad["l2"] == pytest.approx(float(np.sqrt((g * g).sum())), rel=1e-12)
    assert report.results[0].grad["mean"] == pytest.approx(float(g.mean()), rel=1e-10, abs=1e-15)


def test_weights_weigh_the_selected_rows():
    pred, target = rng.normal(size=50), np.zeros(50)
    w = rng.uniform(0.5, 2.0, size=50)
    per_row = pred ** 2
    chosen = np.argsort(per_row)[::-1][:10]
    value = losscli.get("mse").value(pred, target, weight=w, reduction="hard:10")
    assert value == pytest.approx((w[chosen] * per_row[chosen]).sum() / w[chosen].sum(), rel=1e-12)


def test_cli_reduction_syntax_and_messages(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame({"pred": [1.0, 2.0, 3.0, 4.0], "target": [0.0, 0.0, 0.0, 0.0]}).to_csv(path, index=False)
    run = CliRunner().invoke
    ok = run(main, ["compute", "-l", "mae", "--reduction", "hard:0.5", "-f", "json", str(path)])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)["results"][0]
    assert doc["value"] == 3.5 and doc["n"] == 2 and doc["reduction"] == "hard:0.5" and "hard:0.5" in doc["signature"]
    for bad in ("hard:0", "hard:1.5", "hard:x", "hard", "median"):
        result = run(main, ["compute", "-l", "mae", "--reduction", bad, str(path)])
        assert result.exit_code == 2 and "hard:" in result.output and "Traceback" not in result.output
    query = run(main, ["compute", "-l", "ranking_softmax", "--query", "pred", "--reduction", "hard:0.5", str(path)])
    assert query.exit_code == 2 and "losses over queries" in query.output
    stdin = run(main, ["compute", "-l", "mae", "--reduction", "hard:3", "-f", "json", "--batch-rows", "1"],
                input=path.read_text())
    assert json.loads(stdin.stdout)["results"][0]["value"] == 3.0


def test_explain_focal_mentions_hard_example_mining():
    result = CliRunner().invoke(main, ["explain", "focal"])
    assert "hard:FRACTION" in result.output and "OHEM" in result.output


def test_dask_engine_refuses_what_is_not_a_sum_of_partitions():
    from losscli.errors import UsageProblem

    with pytest.raises(UsageProblem, match="local engine"):
        losscli.compute({"pred": [1.0, 2.0], "target": [0.0, 0.0]}, ["mae"], reduction="hard:1", engine="dask")
    with pytest.raises(UsageProblem, match="losses over queries"):
        losscli.compute({"pred": [1.0, 2.0], "target": [0.0, 1.0], "qid": [1, 1]}, ["ranking_softmax"], query="qid",
                        engine="dask")
