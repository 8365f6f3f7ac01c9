"""`losscli plot` and the pictures behind it: curves, distributions, files, the histogram state.

Curves are checked against the catalogue through the public API (``losscli.get``), the histogram
state against an independent binning of the per-row losses with NumPy, and files by their bytes:
a PNG's signature and header dimensions, an SVG parsed as XML.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import losscli
from losscli.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
REGRESSION = str(SAMPLES / "regression.csv")
BINARY = str(SAMPLES / "binary.csv")


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.endswith(b"IEND\xaeB`\x82"), "PNG is cut short"
    return width, height


def assert_plausible_png(path: Path, min_width: int = 500, min_height: int = 300) -> None:
    width, height = png_size(path)
    assert width >= min_width and height >= min_height, (width, height)
    assert 10_000 < path.stat().st_size < 5_000_000


def assert_plausible_svg(path: Path, min_paths: int = 5) -> None:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    drawn = [e for e in root.iter() if e.tag.endswith(("path", "rect", "use"))]
    assert len(drawn) >= min_paths
    assert 5_000 < path.stat().st_size < 5_000_000


# ----------------------------------------------------------------------------- curves


def test_curve_values_and_gradients_are_the_catalogues():
    from losscli.plot.curves import curves
    from losscli.spec import parse_spec

    plot = curves([parse_spec("huber:delta=1.5"), parse_spec("log_cosh"), parse_spec("robust:alpha=0.5,scale=2")],
                  "-5:5", points=41)
    assert plot.axis == "residual"
    for series, name, params in zip(plot.series, ("huber", "log_cosh", "robust"),
                                    ({"delta": 1.5}, {}, {"alpha": 0.5, "scale": 2.0})):
        f = losscli.get(name, **params)
        np.testing.assert_allclose(series.y, f.per_row(pred=plot.x, target=np.zeros_like(plot.x)), rtol=1e-12)
        grad = f.grad(pred=plot.x, target=np.zeros_like(plot.x), reduction="sum")
        np.testing.assert_allclose(series.dy, grad, rtol=1e-12, atol=1e-300)


def test_probability_axis_is_the_probability_of_the_true_class():
    from losscli.plot.curves import curves
    from losscli.spec import parse_spec

    plot = curves([parse_spec("bce_logits"), parse_spec("focal:gamma=2,alpha=-1"), parse_spec("cross_entropy"),
                   parse_spec("bce"), parse_spec("kl_div")], "0.05:0.95", points=19)
    p = plot.x
    for series in plot.series:  # cross-entropy of the true class: -log p for every form
        if series.label != "focal:gamma=2,alpha=-1":
            np.testing.assert_allclose(series.y, -np.log(p), rtol=1e-12)
    focal = plot.series[1].y
    np.testing.assert_allclose(focal, -(1 - p) ** 2 * np.log(p), rtol=1e-12)  # Lin et al., eq. (4) without alpha
    # the gradient of bce_logits with respect to its logit for a true class is p - 1
    np.testing.assert_allclose(plot.series[0].dy, p - 1.0, rtol=1e-12)


def test_relative_losses_are_drawn_at_target_one_and_undefined_points_are_gaps():
    from losscli.plot.curves import curves
    from losscli.spec import parse_spec

    plot = curves([parse_spec("msle"), parse_spec("mape")], "-3:3", points=13)
    msle, mape = plot.series
    assert msle.note == "at target 1"
    assert np.isnan(msle.y[plot.x <= -2]).all() and np.isfinite(msle.y[plot.x > -2]).all()  # pred > -1 only
    np.testing.assert_allclose(mape.y, np.abs(plot.x), rtol=1e-12)


@pytest.mark.parametrize("losses, words", [
    (["huber", "mse", "mae", "log_cosh"], ["residual", "huber", "log_cosh"]),
    (["bce_logits", "focal:gamma=2,alpha=-1"], ["probability of the true class", "focal:gamma=2"]),
    (["hinge", "soft_margin"], ["margin", "hinge"]),
])
def test_curve_in_the_terminal(losses, words):
    result = run("plot", "curve", *[a for name in losses for a in ("-l", name)])
    assert result.exit_code == 0, result.output
    text = result.output
    for word in words:
        assert word in text
    lines = text.splitlines()
    assert sum("|" in line for line in lines) >= 16  # the plot's rows, ASCII when piped
    assert all(len(line) <= 100 for line in lines)  # fits a CI log
    assert "*" in text and "+" in text  # one marker per series


def test_curve_with_gradient_draws_two_panels_side_by_side():
    result = run("plot", "curve", "-l", "mse", "-l", "mae", "--grad")
    assert result.exit_code == 0
    first = result.output.splitlines()[0]
    assert "loss against the residual" in first and "d loss / d pred" in first


@pytest.mark.parametrize("args, fragment", [
    (["-l", "dice"], "plot dist"),
    (["-l", "mse", "-l", "hinge"], "drawn against different things"),
    (["-l", "mse", "--range", "4:-4"], "LOW:HIGH"),
    (["-l", "bce", "--range", "-1:1"], "0:1"),
    (["-l", "mse", "-o", "plot.jpg"], ".png, .svg or .pdf"),
])
def test_curve_usage_errors(args, fragment):
    result = run("plot", "curve", *args)
    assert result.exit_code == 2
    assert fragment in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_curve_files(tmp_path, suffix):
    path = tmp_path / f"curves.{suffix}"
    result = run("plot", "curve", "-l", "huber", "-l", "mse", "--grad", "-o", path)
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left behind
    if suffix == "png":
        assert_plausible_png(path, min_width=1200)  # two panels side by side
    else:
        assert_plausible_svg(path)
        assert "huber" in path.read_text()


# ----------------------------------------------------------------------------- the histogram state


def binned(values: np.ndarray) -> np.ndarray:
    """An independent histogram on the engine's bin edges: searchsorted on the lower edges."""
    from losscli.engine.state import HIST_BINS, HIST_ZERO, hist_edges

    lows, highs = hist_edges()
    counts = np.zeros(HIST_BINS)
    tiny = highs[HIST_ZERO]
    positive = values[values >= tiny]
    negative = values[values <= -tiny]
    zero = values.size - positive.size - negative.size
    counts[HIST_ZERO] += zero
    np.add.at(counts, np.searchsorted(lows, positive, side="right") - 1, 1)  # [low, high)
    np.add.at(counts, np.searchsorted(highs, negative, side="left"), 1)  # (low, high] on the negative side
    return counts


def test_histogram_matches_independent_binning_across_batches_and_groups():
    rng = np.random.default_rng(5)
    n = 30_000
    pred = rng.standard_t(2, size=n) * 10.0 ** rng.integers(-6, 6, size=n)
    pred[:5] = [0.0, 1e-300, 2.0**-50, 1.0, 1e100]  # the zero bin, its edge, an exact edge, the overflow bin
    target = np.zeros(n)
    group = rng.integers(0, 3, size=n)
    data = {"pred": pred, "target": target, "g": group}
    report = losscli.compute(data, ["mse", "mae"], group_by="g", histogram="groups", batch_rows=7_000,
                             block_rows=1_000)
    for label, per_row in (("mse", pred**2), ("mae", np.abs(pred))):
        whole = report.overall(label)
        np.testing.assert_array_equal(whole.hist, binned(per_row))
        for r in report.results:
            if r.label == label and r.group is not None:
                np.testing.assert_array_equal(r.hist, binned(per_row[group == r.group["g"]]))


def test_histogram_of_negative_values_and_ignored_rows():
    # gaussian_nll with a small variance is negative; cross_entropy rows with ignore_index are left out
    rng = np.random.default_rng(2)
    n = 2_000
    pred, target, var = rng.normal(size=n), rng.normal(size=n), np.full(n, 0.01)
    report = losscli.compute({"pred": pred, "target": target, "var": var}, ["gaussian_nll"], histogram="overall")
    expected = 0.5 * (np.log(0.01) + (pred - target) ** 2 / 0.01)
    np.testing.assert_array_equal(report.results[0].hist, binned(expected))
    assert (expected < 0).any()
    logits = rng.normal(size=(n, 3))
    labels = rng.integers(0, 3, size=n).astype(float)
    labels[::4] = -100
    frame = {"l0": logits[:, 0], "l1": logits[:, 1], "l2": logits[:, 2], "target": labels}
    report = losscli.compute(frame, ["cross_entropy"], pred="l0,l1,l2", histogram="overall")
    assert report.results[0].hist.sum() == n - len(labels[::4])


def test_histogram_is_off_by_default_and_limits_groups():
    data = {"pred": np.arange(600.0), "target": np.zeros(600), "g": np.arange(600)}
    assert losscli.compute(data, ["mse"]).results[0].hist is None
    overall = losscli.compute(data, ["mse"], group_by="g", histogram="overall")
    assert overall.results[0].hist.sum() == 600 and overall.results[1].hist is None
    from losscli.errors import UsageProblem

    with pytest.raises(UsageProblem, match="more than 256 groups"):
        losscli.compute(data, ["mse"], group_by="g", histogram="groups")


def test_quantiles_from_the_histogram_are_within_a_bin():
    from losscli.plot.spread import heavy_tail, quantile

    rng = np.random.default_rng(0)
    values = rng.lognormal(size=50_000)
    counts = binned(values)
    for q in (0.1, 0.5, 0.9, 0.99):
        exact = np.quantile(values, q)
        assert abs(quantile(counts, q) / exact - 1) < 0.25
    assert heavy_tail(binned(rng.normal(size=10_000) ** 2))  # squared errors: p99 / median ~ 15
    assert not heavy_tail(binned(np.abs(rng.normal(size=10_000))))  # absolute errors: ~ 3.8


# ----------------------------------------------------------------------------- plot dist


def test_dist_in_the_terminal_with_groups_side_by_side():
    result = run("plot", "dist", "-l", "mse", "-l", "mae", "--group-by", "sex", REGRESSION)
    assert result.exit_code == 0
    text = result.output
    assert "sex=a" in text and "sex=b" in text and "median" in text
    header = next(line for line in text.splitlines() if line.startswith("per-row loss"))
    assert header.index("sex=a") < header.index("sex=b")  # side by side
    first_loss = [line for line in text.split("\n\n")[0].splitlines() if line.lstrip().startswith("[")]
    counts = [int(tok.replace(",", "")) for line in first_loss for tok in line.split() if re.fullmatch(r"[\d,]+", tok)]
    assert sum(counts) == 221  # every row of the file is in the first loss's bars, once


def test_dist_counts_every_row_once(tmp_path):
    rng = np.random.default_rng(1)
    n = 5_000
    frame = pd.DataFrame({"logit": rng.normal(size=n) * 3, "target": (rng.random(n) < 0.2).astype(float)})
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    result = run("plot", "dist", "-l", "bce_logits", "--bins", "8", "--batch-rows", "700", path)
    assert result.exit_code == 0
    histogram = result.output.split("where the loss comes from")[0]
    counts = [int(line.split()[-1].replace(",", "")) for line in histogram.splitlines()
              if line.lstrip().startswith("[")]
    assert sum(counts) == n and len(counts) <= 8


def test_dist_skips_set_level_losses_with_a_warning():
    result = run("plot", "dist", "-l", "bce", "-l", "dice", "--pred", "prob", BINARY)
    assert result.exit_code == 0
    assert "dice: a set-level loss" in result.stderr
    only_set = run("plot", "dist", "-l", "dice", "--pred", "prob", BINARY)
    assert only_set.exit_code == 2 and "Nothing to draw" in only_set.output


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_dist_files(tmp_path, suffix):
    path = tmp_path / f"dist.{suffix}"
    result = run("plot", "dist", "-l", "mse", "-l", "mae", "--group-by", "sex", REGRESSION, "-o", path)
    assert result.exit_code == 0
    if suffix == "png":
        assert_plausible_png(path, min_width=1000, min_height=500)  # 2 x 2 panels
    else:
        assert_plausible_svg(path, min_paths=20)


def test_bad_input_leaves_no_plot_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("pred,target\n1,2\nx,3\n")
    out = tmp_path / "dist.png"
    result = run("plot", "dist", "-l", "mse", bad, "-o", out)
    assert result.exit_code == 3 and "'pred'" in result.output
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["bad.csv"]


# ----------------------------------------------------------------------------- the compute sparkline


def test_compute_table_has_a_sparkline_unless_no_spark():
    with_spark = run("compute", "-l", "mse", "-l", "dice", "--pred", "prob", BINARY)
    assert with_spark.exit_code == 0 and "per-row losses" in with_spark.output
    line = next(li for li in with_spark.output.splitlines() if li.startswith("| mse"))
    assert " to " in line and "..." not in line  # the range after the ASCII sparkline
    without = run("compute", "-l", "mse", "--no-spark", "--pred", "prob", BINARY)
    assert without.exit_code == 0 and "per-row losses" not in without.output
    machine = run("compute", "-l", "mse", "--format", "json", "--pred", "prob", BINARY)
    assert "hist" not in machine.output


def test_sparkline_shows_the_shape():
    from losscli.render.spark import sparkline

    counts = binned(np.concatenate([np.full(1000, 1.0), [1000.0]]))  # a peak and one far outlier
    text = sparkline(counts, unicode=True)
    line, low, high = text.rsplit(" ", 3)[0], text.rsplit(" ", 3)[1], text.rsplit(" ", 3)[3]
    assert text.rsplit(" ", 3)[2] == "to"
    assert line[0] == "█" and line[-1] != " " and " " in line  # the lone outlier still shows
    assert low == "1" and 1000 < float(high) <= 1250  # the outer edges of the occupied bins
    assert sparkline(None) == ""


def test_help_does_not_import_the_plotting_library():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom losscli.cli import main\n"
            "for args in (['--help'], ['plot', '--help'], ['plot', 'curve', '--help'], ['suggest', '--help'],\n"
            "             ['plot', 'curve', '-l', 'mse']):\n"
            "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_missing_matplotlib_is_a_usage_error_naming_the_extra(tmp_path):
    code = ("import sys\nsys.modules['matplotlib'] = None\nsys.modules['matplotlib.figure'] = None\n"
            "from click.testing import CliRunner\nfrom losscli.cli import main\n"
            f"r = CliRunner().invoke(main, ['plot', 'curve', '-l', 'mse', '-o', {str(tmp_path / 'c.png')!r}])\n"
            "print(r.exit_code, r.output)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.startswith("2 ") and "losscli[plot]" in out.stdout, out.stdout + out.stderr


# ----------------------------------------------------------------------------- loss by probability of the true class


def test_true_class_probability_of_each_input_form():
    from losscli.plot.curves import true_class_probability
    from losscli.spec import parse_spec

    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 1)) * 3
    y = (rng.random((50, 1)) < 0.5).astype(float)
    p = 1 / (1 + np.exp(-x))
    expected = np.where(y == 1, p, 1 - p)[:, 0]
    np.testing.assert_allclose(true_class_probability(parse_spec("focal"), x, y), expected, rtol=1e-12)
    np.testing.assert_allclose(true_class_probability(parse_spec("bce"), p, y), expected, rtol=1e-12)
    logits = rng.normal(size=(50, 4))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    index = rng.integers(0, 4, size=(50, 1)).astype(float)
    index[0] = -100  # ignored: no true class
    truth = np.where(index[:, 0] >= 0, probs[np.arange(50), np.maximum(index[:, 0], 0).astype(int)], np.nan)
    np.testing.assert_allclose(true_class_probability(parse_spec("cross_entropy"), logits, index), truth, rtol=1e-12)
    np.testing.assert_allclose(true_class_probability(parse_spec("nll"), np.log(probs), index), truth, rtol=1e-12)
    soft = rng.dirichlet([1, 1, 1, 1], size=50)
    np.testing.assert_allclose(true_class_probability(parse_spec("kl_div"), probs, soft), (soft * probs).sum(axis=1))
    assert true_class_probability(parse_spec("bce_logits"), np.zeros((3, 2)), np.zeros((3, 2))) is None


def test_dist_shows_where_the_loss_comes_from(tmp_path):
    rng = np.random.default_rng(4)
    n = 3_000
    label = (rng.random(n) < 0.3).astype(float)
    logit = rng.normal(size=n) * 2 + 2 * label - 1
    path = tmp_path / "b.csv"
    pd.DataFrame({"logit": logit, "target": label}).to_csv(path, index=False)
    result = run("plot", "dist", "-l", "bce_logits", "--batch-rows", "500", path)
    assert result.exit_code == 0 and "where the loss comes from" in result.output
    block = result.output.split("where the loss comes from")[1]
    rows = [line.split() for line in block.splitlines() if line.startswith("[")]
    assert len(rows) == 20
    counts = [next(int(t.replace(",", "")) for t in r[2:] if t.replace(",", "").isdigit()) for r in rows]
    shares = [float(r[-1].rstrip("%")) for r in rows]
    assert sum(counts) == n and abs(sum(shares) - 100) < 1.0  # 20 shares rounded to 0.1
    # the bins of p_t hold the rows numpy puts there, and their loss share is the loss's own
    p = 1 / (1 + np.exp(-logit))
    p_true = np.where(label == 1, p, 1 - p)
    loss = losscli.get("bce_logits").per_row(pred=logit, target=label)
    k = np.minimum((p_true * 20).astype(int), 19)
    np.testing.assert_array_equal(counts, np.bincount(k, minlength=20))
    np.testing.assert_allclose(shares, 100 * np.bincount(k, weights=loss, minlength=20) / loss.sum(), atol=0.051)
