"""Streaming batch by batch gives the in-memory numbers, groups and error locations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from losscli.catalogue import CATALOGUE
from losscli.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 5000
    frame = pd.DataFrame({
        "g": rng.choice(["x", "y", "z"], size=n), "pred": rng.uniform(0.01, 0.99, size=n),
        "target": (rng.random(n) < 0.4).astype(float), "w": rng.uniform(0, 2, size=n),
    })
    folder = tmp_path_factory.mktemp("big")
    frame.to_csv(folder / "big.csv", index=False)
    frame.to_parquet(folder / "big.parquet", row_group_size=700)
    return folder


def losses() -> list[str]:
    names = ["mse", "mae", "rmse"]
    # set-level and per-row losses too, once the catalogue has them
    names += [n for n in ("bce", "dice") if n in CATALOGUE]
    return names


@pytest.mark.parametrize("name", ["big.csv", "big.parquet"])
def test_streaming_equals_in_memory(big, name):
    from losscli.readers import iter_batches

    assert len(list(iter_batches([str(big / name)], 600))) >= 5
    args = [x for n in losses() for x in ("-l", n)]
    common = [*args, "--grad", "--group-by", "g", "-f", "json", big / name]
    whole = json.loads(run("compute", *common).output)
    streamed = json.loads(run("compute", *common, "--batch-rows", "600").output)
    assert len(whole["results"]) == len(streamed["results"]) == 4 * len(losses())
    for a, b in zip(whole["results"], streamed["results"]):
        assert (a["label"], a["group"], a["n"]) == (b["label"], b["group"], b["n"])
        assert b["value"] == pytest.approx(a["value"], rel=1e-11)
        for key in ("l2", "abs_max", "mean"):
            assert b["grad"][key] == pytest.approx(a["grad"][key], rel=1e-10, abs=1e-300)
    assert streamed["rows"] == 5000


def test_streaming_weighted_and_sum(big):
    common = ["-l", "mse", "--weight", "w", "--reduction", "sum", "-f", "json", big / "big.csv"]
    whole = json.loads(run("compute", *common).output)["results"][0]["value"]
    streamed = json.loads(run("compute", *common, "--batch-rows", "777").output)["results"][0]["value"]
    assert streamed == pytest.approx(whole, rel=1e-12)


def test_streaming_error_names_the_files_own_row(tmp_path):
    rows = ["pred,target"] + [f"{i},{i}" for i in range(3000)]
    rows[2501] = "nan,1"  # data row 2501
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n")
    from losscli.readers import iter_batches

    starts = [-int(b.starts[0]) for b in iter_batches([str(path)], 300)]
    assert len(starts) > 1 and starts[0] == 0 and starts[1] < 2500  # the bad row is not in the first batch
    result = run("compute", "-l", "mse", "--batch-rows", "300", path)
    assert result.exit_code == 3 and f"{path} row 2501" in result.stderr


def test_streaming_refuses_per_row_outputs_and_stdin(big, tmp_path):
    result = run("compute", "-l", "mse", "--batch-rows", "100", "--top", "3", big / "big.csv")
    assert result.exit_code == 2 and "need every row" in result.stderr
    result = CliRunner().invoke(main, ["compute", "-l", "mse", "--batch-rows", "100"], input="pred,target\n1,2\n")
    assert result.exit_code == 2 and "standard input" in result.stderr


def test_integers_first_and_floats_later_stream(tmp_path):
    rows = ["pred,target"] + [f"{i},{i}" for i in range(3000)] + ["1.5,2.5"]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(rows) + "\n")
    whole = json.loads(run("compute", "-l", "mse", "-f", "json", path).output)["results"][0]["value"]
    streamed = json.loads(run("compute", "-l", "mse", "-f", "json", "--batch-rows", "200", path).output)
    assert streamed["results"][0]["value"] == pytest.approx(whole) and streamed["rows"] == 3001
