"""`--format html`: one self-contained page, checked as HTML by a strict parser and its SVGs as XML.

These tests need no browser: every element must close in order, nothing may load from outside, and
every number shown must be the report's. tests/test_html_browser.py opens the same pages in headless
Chromium where one is installed.
"""

from __future__ import annotations

from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import numpy as np
from click.testing import CliRunner

import losscli
from losscli.cli import main

VOID = {"meta", "br", "img", "hr", "input", "link", "col", "area", "base", "source", "wbr"}
SVG_VOID = {"rect", "line"}  # written self-closed


class StrictParser(HTMLParser):
    """Fails on a closing tag that does not match the open one, and records what a page might fetch."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.fetches: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") or (value and "url(" in value):
                self.fetches.append(f"{tag} {name}={value}")
        if tag in ("script", "link", "iframe", "img"):
            self.fetches.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> StrictParser:
    assert page.startswith("<!DOCTYPE html>")
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


def test_compute_page_is_valid_and_self_contained(tmp_path):
    path = tmp_path / "a<b>.csv"  # a name that must be escaped
    rng = np.random.default_rng(0)
    import pandas as pd

    pd.DataFrame({"id": range(500), "g": rng.choice(["x", "y"], 500), "pred": rng.normal(size=500) * 3,
                  "target": rng.normal(size=500)}).to_csv(path, index=False)
    result = CliRunner().invoke(main, ["compute", "-l", "mse", "-l", "huber:delta=2", "--group-by", "g", "--grad",
                                       "--top", "3", "--keep", "id", "--fail-if", "mse>1", "--format", "html",
                                       str(path)])
    assert result.exit_code == 1  # the gate fails, the page is still written
    page = result.stdout
    parser = parse(page)
    assert parser.fetches == []
    text = " ".join(parser.text)
    assert "a<b>.csv" in text and "<b>" not in page.replace("a&lt;b&gt;.csv", "")
    report = losscli.compute(str(path), ["mse", "huber:delta=2"], group_by="g", grad=True)
    for r in report.results:
        assert f"{r.value:.6g}" in text
    assert "FAIL" in text and "mse&gt;1" in page and "Signatures" in text and "Hardest rows" in text
    svgs = [page[i:page.index("</svg>", i) + 6] for i in range(len(page)) if page.startswith("<svg", i)]
    assert len(svgs) == 2  # one distribution per loss
    for svg in svgs:
        root = ET.fromstring(svg)
        bars = [e for e in root.iter() if e.tag.endswith("rect")]
        assert bars and sum(1 for b in bars if float(b.get("height")) > 0) >= 5


def test_no_spark_and_set_level_losses_draw_no_distribution():
    runner = CliRunner()
    page = runner.invoke(main, ["compute", "-l", "mse", "--no-spark", "--format", "html",
                                "sample_data/regression.csv"]).stdout
    parse(page)
    assert "<svg" not in page
    page = runner.invoke(main, ["compute", "-l", "dice", "--pred", "prob", "--format", "html",
                                "sample_data/binary.csv"]).stdout
    parse(page)
    assert "<svg" not in page and "dice" in page


def test_bar_tooltips_count_every_row():
    page = CliRunner().invoke(main, ["compute", "-l", "mae", "--format", "html", "sample_data/regression.csv"]).stdout
    root = ET.fromstring(page[page.index("<svg"):page.index("</svg>") + 6])
    titles = [e.text for e in root.iter() if e.tag.endswith("title")]
    assert sum(int(t.split(": ")[1].split(" rows")[0].replace(",", "")) for t in titles) == 221


def test_diff_page():
    runner = CliRunner()
    page = runner.invoke(main, ["diff", "sample_data/regression.csv", "sample_data/regression.parquet", "-l", "mae",
                                "--format", "html"]).stdout
    text = " ".join(parse(page).text)
    assert "losscli diff" in text and "95% CI of delta" in text
