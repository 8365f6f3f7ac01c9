"""The Dask runner agrees with the local engine: same states, merged across partitions, on threads and processes."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import losscli
from losscli.cli import main
from losscli.sources import ParquetSource

pytest.importorskip("dask.distributed", reason="the dask extra is part of the test extra; install it")

LOSSES = ["focal", "bce_logits:pos_weight=2", "dice:from_logits=true", "rmse", "cross_entropy"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three Parquet files of several row groups each, so there are many partitions and batches."""
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("dask")
    for k in range(3):
        n = 3000 + 500 * k
        logits = rng.normal(size=(n, 3)) * 2
        table = pa.table({
            "pred": rng.normal(size=n) * 3, "target": (rng.random(n) < 0.3).astype(float),
            "logit_0": logits[:, 0], "logit_1": logits[:, 1], "logit_2": logits[:, 2],
            "label": rng.integers(0, 3, size=n).astype(float),
            "region": rng.choice(["north", "south", "east", f"only{k}"], size=n), "w": rng.uniform(0.1, 2, size=n),
        })
        pq.write_table(table, folder / f"part{k}.parquet", row_group_size=700)
    return folder


def both(folder, scheduler, monkeypatch, **options):
    # small partitions: each holds one or two row groups, so states from many workers are merged
    monkeypatch.setattr(ParquetSource, "PARTITION_ROWS", 1000)
    common = dict(grad=True, group_by="region", weight="w", batch_rows=512, **options)
    specs = [s for s in LOSSES if s != "cross_entropy"]
    local = [losscli.compute(str(folder), specs, **common),
             losscli.compute(str(folder), ["cross_entropy"], pred="logit_*", target="label", **common)]
    remote = [losscli.compute(str(folder), specs, engine="dask", scheduler=scheduler, **common),
              losscli.compute(str(folder), ["cross_entropy"], pred="logit_*", target="label", engine="dask",
                              scheduler=scheduler, **common)]
    return [r for report in local for r in report.results], [r for report in remote for r in report.results]


def assert_same(local, remote):
    assert [(r.label, r.group, r.n) for r in remote] == [(r.label, r.group, r.n) for r in local]
    assert any(r.group == {"region": "only2"} for r in local)  # a key only one file holds
    for a, b in zip(local, remote):
        assert b.value == pytest.approx(a.value, rel=1e-12), (a.label, a.group)
        for key in ("l2", "abs_max", "mean"):
            assert b.grad[key] == pytest.approx(a.grad[key], rel=1e-12, abs=1e-12 * a.grad["abs_max"]), (a.label, key)


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_dask_local_schedulers_agree_with_the_local_engine(folder, scheduler, monkeypatch):
    assert_same(*both(folder, scheduler, monkeypatch))


def test_dask_cluster_through_the_cli_agrees_with_the_local_engine(folder, tmp_path):
    from dask.distributed import LocalCluster

    args = ["compute", "-l", "focal", "-l", "dice:from_logits=true", "--grad", "--group-by", "region", "-f", "json",
            str(folder)]
    local = json.loads(CliRunner().invoke(main, args).stdout)["results"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        result = CliRunner().invoke(main, [*args, "--engine", "dask", "--scheduler", cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    remote = json.loads(result.stdout)["results"]
    for a, b in zip(local, remote):
        assert (a["label"], a["group"], a["n"]) == (b["label"], b["group"], b["n"])
        assert b["value"] == pytest.approx(a["value"], rel=1e-12)
        assert b["grad"]["l2"] == pytest.approx(a["grad"]["l2"], rel=1e-12)


def test_dask_usage_errors(folder, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["compute", "-l", "mse", "--scheduler", "tcp://127.0.0.1:1", str(folder)])
    assert result.exit_code == 2 and "--engine dask" in result.stderr
    result = runner.invoke(main, ["compute", "-l", "mse", "--engine", "dask", "--scheduler", "threads",
                                  "--per-row", str(tmp_path / "r.csv"), str(folder)])
    assert result.exit_code == 2 and "local engine" in result.stderr
    result = runner.invoke(main, ["compute", "-l", "mse", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9",
                                  str(folder)])
    assert result.exit_code == 2 and "no Dask scheduler answered" in result.stderr


def test_bad_data_on_a_worker_is_exit_3_naming_the_file(tmp_path):
    good = pa.table({"pred": [0.1, 0.2], "target": [0.0, 1.0]})
    pq.write_table(good, tmp_path / "a.parquet")
    pq.write_table(pa.table({"pred": [0.1, float("nan")], "target": [0.0, 1.0]}), tmp_path / "b.parquet")
    result = CliRunner().invoke(main, ["compute", "-l", "mse", "--engine", "dask", "--scheduler", "threads", str(tmp_path)])
    assert result.exit_code == 3 and "b.parquet row 2" in result.stderr
