"""`--format html` opened in a real headless browser (Chromium): parsed as written, and its distributions drawn.

tests/test_plot_html.py checks the page with a strict parser and needs nothing installed; this file
checks what a person opening the CI artifact sees. It needs a Chromium binary: `chromium` on the
PATH (Debian: `apt-get install chromium`) or the path in LOSSCLI_TEST_BROWSER. Without one the tests
are skipped, unless LOSSCLI_REQUIRE_BROWSER is set (as `.ci/run` does once it has installed
Chromium), when they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import losscli
from losscli.cli import main

COUNTED = ("table", "tr", "td", "th", "svg", "rect", "line", "text", "title", "li", "h1", "h2")


def browser() -> str:
    found = os.environ.get("LOSSCLI_TEST_BROWSER") or next(
        (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
    if found is None:
        if os.environ.get("LOSSCLI_REQUIRE_BROWSER"):
            pytest.fail("LOSSCLI_REQUIRE_BROWSER is set but no Chromium was found (apt-get install chromium)")
        pytest.skip("no headless Chromium here (apt-get install chromium, or set LOSSCLI_TEST_BROWSER)")
    return found


def open_in_browser(page: Path, *args: str) -> str:
    """Run headless Chromium on a local page (no network: every host resolves to nothing); its stdout."""
    profile = page.parent / "chromium-profile"
    done = subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--hide-scrollbars", f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",
                           *args, page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class TagCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter = Counter()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1

    def handle_data(self, data):
        self.text.append(data)


def counted(page: str) -> tuple[Counter, str]:
    parser = TagCounter()
    parser.feed(page)
    parser.close()
    return Counter({tag: parser.tags[tag] for tag in COUNTED}), " ".join(parser.text)


def bar_colour(page: str) -> tuple[int, int, int]:
    """The fill of the page's histogram bars (its most common rect fill), as RGB."""
    fills = Counter(re.findall(r'<rect[^>]*fill="#([0-9a-fA-F]{6})"', page))
    assert fills, "no filled bars in the page"
    hex_colour = fills.most_common(1)[0][0]
    return tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))


def bar_pixels(png: Path, colour: tuple[int, int, int]) -> int:
    """How many pixels of the screenshot are the bars' colour (anti-aliased edges within a few levels)."""
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    return int((np.abs(pixels - np.array(colour)).max(axis=2) <= 6).sum())


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("html")
    data = folder / "preds.csv"
    rng = np.random.default_rng(3)
    pd.DataFrame({"g": rng.choice(["north", "south"], 400), "pred": rng.normal(size=400) * 3,
                  "target": rng.normal(size=400)}).to_csv(data, index=False)
    result = CliRunner().invoke(main, ["compute", "-l", "mse", "-l", "huber:delta=2", "--group-by", "g", "--grad",
                                       "--fail-if", "mse>1", "--format", "html", str(data)])
    assert result.exit_code == 1, result.output  # the gate fails; the page is written all the same
    page = folder / "report.html"
    page.write_text(result.stdout, encoding="utf-8")
    return page, data


def test_the_browser_builds_every_element_the_page_holds(report_page):
    page, data = report_page
    dom = open_in_browser(page, "--dump-dom")
    written, written_text = counted(page.read_text(encoding="utf-8"))
    seen, seen_text = counted(dom)
    # an element the browser dropped, moved out of its parent or added (a stray tag, an unclosed cell) shows here
    assert seen == written
    assert written["svg"] == 2 and written["rect"] > 10
    report = losscli.compute(str(data), ["mse", "huber:delta=2"], group_by="g", grad=True)
    for r in report.results:
        assert f"{r.value:.6g}" in seen_text
    assert "FAIL" in seen_text and re.sub(r"\s+", " ", written_text) == re.sub(r"\s+", " ", seen_text)


def test_the_distributions_are_drawn_and_absent_without_them(report_page, tmp_path):
    page, data = report_page
    shot = tmp_path / "with.png"
    open_in_browser(page, "--window-size=1100,1400", f"--screenshot={shot}")
    colour = bar_colour(page.read_text(encoding="utf-8"))
    with_bars = bar_pixels(shot, colour)
    # two histograms of about 16 bars each: thousands of pixels of the bar colour
    assert with_bars > 3000, with_bars

    bare = tmp_path / "bare.html"
    bare.write_text(CliRunner().invoke(main, ["compute", "-l", "mse", "-l", "huber:delta=2", "--no-spark", "--format",
                                              "html", str(data)]).stdout, encoding="utf-8")
    shot = tmp_path / "without.png"
    open_in_browser(bare, "--window-size=1100,1400", f"--screenshot={shot}")
    assert bar_pixels(shot, colour) == 0


def test_the_diff_page_renders(tmp_path):
    result = CliRunner().invoke(main, ["diff", "sample_data/regression.csv", "sample_data/regression.parquet", "-l",
                                       "mae", "--format", "html"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "diff.html"
    page.write_text(result.stdout, encoding="utf-8")
    written, _ = counted(result.stdout)
    seen, text = counted(open_in_browser(page, "--dump-dom"))
    assert seen == written and "95% CI of delta" in text and "losscli diff" in text
