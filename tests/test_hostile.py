"""Hostile input, table-driven: every bad file, column and value a CI job may feed losscli, each with the exit
code it must give and the words its message must hold (the file, the column, the rows, what to do).

Each case writes its files into a fresh folder and runs the command line in-process (click's CliRunner);
no case may print a traceback or exit 4. The tests after the table check what a table cannot: that an
input is left untouched, that numbers are right (not only that they are printed), that signals clean up.
"""

from __future__ import annotations

import bz2
import datetime
import decimal
import gzip
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import losscli
from losscli.cli import main

ROOT = Path(__file__).resolve().parent.parent


def parquet(table: dict | pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table if isinstance(table, pa.Table) else pa.table(table), sink)
    return sink.getvalue()


def zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


SIMPLE = b"pred,target\n0.5,1\n1.5,1\n-2,0\n"  # mse 1.75 = (0.25 + 0.25 + 4) / 3... over 3 rows: 4.5 / 3 = 1.5
SIMPLE_MSE = (0.25 + 0.25 + 4.0) / 3
MULTI = b"c0,c1,c2,c3,c4,cls\n1,2,3,4,5,0\n1,0,0,0,3,1\n"
TYPES = pa.table({
    "pred": [0.1, 0.2, 0.3, 0.4], "target": [0.0, 1.0, 1.0, 0.0],
    "d": pa.array([datetime.date(2020, 1, 1)] * 2 + [datetime.date(2021, 1, 1)] * 2),
    "ts": pa.array([datetime.datetime(2020, 1, 1, 5)] * 4),
    "dec": pa.array([decimal.Decimal("1.5")] * 2 + [decimal.Decimal("2.5")] * 2),
    "bin": pa.array([b"\xff\xfe", b"\xff\xfe", b"ab", b"ab"]),
    "lst": pa.array([[1, 2], [3], [4], [5]]),
    "st": pa.array([{"x": 1}] * 4),
    "g": pa.array([float("inf"), 1.0, -float("inf"), 2.0]),
    "gi": pa.array([1, 1, 2, 2]),
})


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    words: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    stdin: bytes | None = None
    absent: list[str] = field(default_factory=list)  # words the output must not hold


def compute(*args):
    return ["compute", "-l", "mse", *args]


CASES = [
    # ------------------------------------------------------------------ files
    Case("missing file", compute("{d}/nope.csv"), 3, ["File not found", "nope.csv"]),
    Case("folder without data files", compute("{d}/folder"), 3, ["has no .csv"], {"folder/readme.txt": b"hi"}),
    Case("empty file", compute("{d}/e.csv"), 3, ["e.csv is empty"], {"e.csv": b""}),
    Case("header only", compute("{d}/h.csv"), 3, ["header but no data rows"], {"h.csv": b"pred,target\n"}),
    Case("truncated parquet", compute("{d}/t.parquet"), 3, ["t.parquet", "truncated or damaged"],
         {"t.parquet": parquet(TYPES.select(["pred", "target"]))[:-30]}),
    Case("corrupt parquet", compute("{d}/c.parquet"), 3, ["c.parquet", "truncated or damaged"],
         {"c.parquet": b"PAR1" + bytes(range(256)) * 4 + b"PAR1"}),
    Case("binary named parquet", compute("{d}/b.parquet"), 3, ["not a Parquet file", "PAR1"],
         {"b.parquet": bytes(range(256))}),
    Case("parquet named csv", compute("{d}/p.csv"), 0, ["is a Parquet file", "read as Parquet"],
         {"p.csv": parquet({"pred": [0.5, 1.5, -2.0], "target": [1.0, 1.0, 0.0]})}),
    Case("csv named parquet", compute("{d}/c.parquet"), 0, ["is text, not Parquet", "read as CSV"], {"c.parquet": SIMPLE}),
    Case("ragged row", compute("{d}/r.csv"), 3, ["r.csv row 2 has 3 fields, but the header has 2", "'1,2,3'"],
         {"r.csv": b"pred,target\n1,2\n1,2,3\n4,5\n"}),
    Case("ragged row deep in a file", compute("{d}/r.csv", "--batch-rows", "1000"), 3,
         ["r.csv row 150001 has 1 fields, but the header has 2"],
         {"r.csv": b"pred,target\n" + b"1,2\n" * 150000 + b"7\n" + b"1,2\n" * 10}),
    Case("semicolon file", compute("{d}/s.csv"), 3, ["--sep ';'", "one column"], {"s.csv": b"pred;target\n1;2\n"}),
    Case("pipe file", compute("{d}/s.csv"), 3, ["--sep '|'"], {"s.csv": b"pred|target\n1|2\n"}),
    Case("semicolon file with --sep", compute("{d}/s.csv", "--sep", ";"), 0, ["1.5"],
         {"s.csv": b"pred;target\n0.5;1\n1.5;1\n-2;0\n"}, absent=["Warning"]),
    Case("bad --sep", compute("{d}/s.csv", "--sep", ";;"), 2, ["--sep"], {"s.csv": SIMPLE}),
    Case("utf-8 bom", compute("{d}/b.csv"), 0, ["1.5"], {"b.csv": b"\xef\xbb\xbf" + SIMPLE}),
    Case("utf-16 with bom", compute("{d}/u.csv"), 0, ["1.5"], {"u.csv": SIMPLE.decode().encode("utf-16")}),
    Case("utf-16 without bom", compute("{d}/u.csv"), 0, ["1.5"], {"u.csv": SIMPLE.decode().encode("utf-16-le")}),
    Case("crlf", compute("{d}/w.csv"), 0, ["1.5"], {"w.csv": SIMPLE.replace(b"\n", b"\r\n")}),
    Case("quoted fields", compute("{d}/q.csv", "--keep", "note"), 0, ["1.5"],
         {"q.csv": b'pred,target,note\n"0.5",1,"a, b"\n1.5,1,"two\nlines"\n-2,"0",""""\n'}),
    Case("gzip", compute("{d}/z.csv.gz"), 0, ["1.5"], {"z.csv.gz": gzip.compress(SIMPLE)}),
    Case("bzip2", compute("{d}/z.csv.bz2"), 0, ["1.5"], {"z.csv.bz2": bz2.compress(SIMPLE)}),
    Case("zstd", compute("{d}/z.csv.zst"), 0, ["1.5"], {"z.csv.zst": zstd(SIMPLE)}),
    Case("gzip tsv", compute("{d}/z.tsv.gz"), 0, ["1.5"], {"z.tsv.gz": gzip.compress(SIMPLE.replace(b",", b"\t"))}),
    Case("truncated gzip", compute("{d}/z.csv.gz"), 3, ["z.csv.gz"], {"z.csv.gz": gzip.compress(SIMPLE * 1000)[:-40]}),
    Case("named gzip, is not", compute("{d}/z.csv.gz"), 3, ["named as gzip-compressed"], {"z.csv.gz": SIMPLE}),
    Case("gzip in a folder", compute("{d}/f"), 0, ["1.5"], {"f/z.csv.gz": gzip.compress(SIMPLE)}),
    Case("unknown suffix", compute("{d}/x.txt"), 3, ["unknown file type"], {"x.txt": SIMPLE}),
    Case("files with other columns", compute("{d}/a.csv", "{d}/b.csv"), 3,
         ["b.csv does not have the columns of", "'extra'"],
         {"a.csv": SIMPLE, "b.csv": b"pred,target,extra\n1,2,3\n"}),
    Case("same file twice", compute("{d}/a.csv", "{d}/./a.csv"), 0, ["given twice", "counted twice"], {"a.csv": SIMPLE}),
    Case("empty stdin", compute("-"), 3, ["Standard input is empty"], stdin=b""),
    Case("binary stdin", compute("-"), 3, ["binary data"], stdin=bytes(range(256)) * 8),
    Case("gzip stdin", compute("-"), 0, ["1.5"], stdin=gzip.compress(SIMPLE)),
    Case("utf-16 stdin", compute("-"), 0, ["1.5"], stdin=SIMPLE.decode().encode("utf-16")),
    Case("stdin twice", compute("-", "-"), 2, ["more than once"], stdin=SIMPLE),
    Case("a 5 MB cell", compute("{d}/big.csv", "--batch-rows", "1"), 0, ["1.5"],
         {"big.csv": b"pred,target,note\n0.5,1,x\n1.5,1," + b"y" * (5 << 20) + b"\n-2,0,z\n"}),
    Case("300,000 columns", ["compute", "-l", "mse", "--pred", "c0", "--target", "c1", "{d}/wide.csv"], 0, ["mse"],
         {"wide.csv": (",".join(f"c{i}" for i in range(300_000)) + "\n" + ",".join("1" for _ in range(300_000))
                       + "\n").encode()}),
    Case("huge --batch-rows", compute("{d}/a.csv", "--batch-rows", "33554432"), 0, ["1.5"], {"a.csv": SIMPLE}),
    # ------------------------------------------------------------------ cells and types
    Case("text cell", compute("{d}/t.csv"), 3, ["'pred'", "text, not numbers", "t.csv row 2", "'abc'"],
         {"t.csv": b"pred,target\n1,2\nabc,3\n"}),
    Case("hex cell", compute("{d}/t.csv"), 3, ["'pred'", "'0x10'", "hexadecimal", "t.csv row 1"],
         {"t.csv": b"pred,target\n0x10,2\n1,3\n"}),
    Case("decimal comma", compute("{d}/t.csv", "--sep", ";"), 3, ["'1,5'", "decimal point"],
         {"t.csv": b"pred;target\n1,5;2\n"}),
    Case("text on row 999,999, streamed", compute("{d}/m.csv", "--batch-rows", "65536"), 3,
         ["m.csv row 999999", "'oops'", "'target'"],
         {"m.csv": b"pred,target\n" + b"1,2\n" * 999_998 + b"1,oops\n1,2\n"}),
    Case("float class index", ["compute", "-l", "cross_entropy", "{d}/c.csv"], 0, ["cross_entropy"],
         {"c.csv": b"logit_0,logit_1,logit_2,target\n1,2,3,2.0\n1,2,3,0.0\n"}),
    Case("fractional class index", ["compute", "-l", "cross_entropy", "{d}/c.csv"], 3,
         ["class index 2.5 is not a whole number", "c.csv row 1"],
         {"c.csv": b"logit_0,logit_1,logit_2,target\n1,2,3,2.5\n"}),
    Case("class index out of range", ["compute", "-l", "cross_entropy", "{d}/c.csv"], 3,
         ["class index 3", "valid indices are 0..2", "c.csv row 2"],
         {"c.csv": b"logit_0,logit_1,logit_2,target\n1,2,3,2\n1,2,3,3\n"}),
    Case("parquet text holding numbers", compute("{d}/s.parquet"), 3,
         ["'pred'", "numbers stored as text", "s.parquet rows 1, 2", "'1.5'"],
         {"s.parquet": parquet({"pred": ["1.5", "2"], "target": [1.0, 2.0]})}),
    Case("parquet text", compute("{d}/s.parquet"), 3, ["'pred'", "text, not numbers", "s.parquet row 2", "'x'"],
         {"s.parquet": parquet({"pred": ["1.5", "x"], "target": [1.0, 2.0]})}),
    Case("parquet vectors all empty", compute("{d}/v.parquet"), 3, ["only empty vectors"],
         {"v.parquet": parquet({"pred": pa.array([[], []], type=pa.list_(pa.float64())),
                                "target": pa.array([[], []], type=pa.list_(pa.float64()))})}),
    Case("parquet vectors ragged", compute("{d}/v.parquet"), 3, ["length is not 2", "v.parquet row 2"],
         {"v.parquet": parquet({"pred": pa.array([[1.0, 2.0], [3.0]]), "target": pa.array([[1.0, 1.0], [1.0, 1.0]])})}),
    Case("parquet timestamp as numbers", ["compute", "-l", "mse", "--pred", "ts", "--target", "target", "{d}/t.parquet"],
         3, ["'ts'", "not numbers"], {"t.parquet": parquet(TYPES.select(["ts", "target"]))}),
    # ------------------------------------------------------------------ missing values
    Case("empty cell", compute("{d}/n.csv"), 3, ["'pred'", "missing values", "n.csv row 2", "--nan drop"],
         {"n.csv": b"pred,target\n1,2\n,3\n"}),
    Case("nan cell", compute("{d}/n.csv"), 3, ["'target'", "n.csv row 1", "'NaN'"], {"n.csv": b"pred,target\n1,NaN\n"}),
    Case("inf cell", compute("{d}/n.csv"), 3, ["'pred'", "infinite", "n.csv row 1"], {"n.csv": b"pred,target\n-inf,1\n"}),
    Case("parquet null", compute("{d}/n.parquet"), 3, ["'pred'", "n.parquet row 2"],
         {"n.parquet": parquet({"pred": [1.0, None], "target": [1.0, 2.0]})}),
    Case("nan drop", compute("{d}/n.csv", "--nan", "drop", "-f", "json"), 0, ['"dropped": 1', "left out 1 of 3 rows"],
         {"n.csv": b"pred,target\n1,2\n,3\n3,3\n"}),
    Case("nan propagate", compute("{d}/n.csv", "--nan", "propagate", "-f", "json"), 0, ['"value": null', "propagate"],
         {"n.csv": b"pred,target\n1,2\nnan,3\n3,3\n"}),
    Case("every row dropped", compute("{d}/n.csv", "--nan", "drop"), 3, ["Every one of the 2 rows"],
         {"n.csv": b"pred,target\n,2\nNA,3\n"}),
    Case("missing group key", compute("{d}/g.csv", "--group-by", "g"), 3, ["--group-by column 'g'", "missing keys",
                                                                            "g.csv row 2"],
         {"g.csv": b"pred,target,g\n1,2,a\n2,3,\n"}),
    Case("missing group key dropped", compute("{d}/g.csv", "--group-by", "g", "--nan", "drop"), 0, ["g=a", "left out 1"],
         {"g.csv": b"pred,target,g\n1,2,a\n2,3,\n"}, absent=["g= "]),
    # ------------------------------------------------------------------ columns and roles
    Case("one column for two roles", compute("{d}/y.csv", "--pred", "y", "--target", "y"), 2,
         ["Column 'y' is named for two roles", "--pred", "--target"], {"y.csv": b"y,z\n1,2\n"}),
    Case("weight is pred", compute("{d}/a.csv", "--weight", "pred"), 2, ["'pred'", "another role", "--pred COLS"],
         {"a.csv": SIMPLE}),
    Case("group is target", compute("{d}/a.csv", "--target", "target", "--group-by", "target"), 2,
         ["'target'", "two roles", "--group-by"], {"a.csv": SIMPLE}),
    Case("duplicate column names", compute("{d}/d.csv"), 3, ["2 columns named 'pred'", "columns 1 and 3"],
         {"d.csv": b"pred,target,pred\n1,2,3\n"}),
    Case("duplicate group column", compute("{d}/d.csv", "--group-by", "g"), 3, ["2 columns named 'g'"],
         {"d.csv": b"pred,target,g,g\n1,2,a,b\n"}),
    Case("literal names", ["compute", "-l", "mse", "--pred", '"a,b"', "--target", '" target"', "{d}/l.csv"], 0, ["1.5"],
         {"l.csv": b'"a,b", target\n0.5,1\n1.5,1\n-2,0\n'}),
    Case("bracket name", ["compute", "-l", "mse", "--pred", "p[0]", "--target", "t*", "{d}/l.csv"], 0, ["1.5"],
         {"l.csv": b"p[0],p0,t*\n0.5,9,1\n1.5,9,1\n-2,9,0\n"}),
    Case("name needing quotes, hint", ["compute", "-l", "mse", "--pred", "a,b,c", "{d}/l.csv"], 3,
         ["named in double quotes"], {"l.csv": b'"a,b",target\n1,2\n'}),
    Case("unclosed quote in spec", ["compute", "-l", "mse", "--pred", '"a', "{d}/a.csv"], 2, ["does not close"],
         {"a.csv": SIMPLE}),
    Case("keep row renamed", compute("{d}/k.csv", "--keep", "row", "--top", "1", "-f", "json"), 0,
         ['"input_row": "r1"', "written as 'input_row'"], {"k.csv": b"pred,target,row\n5,1,r1\n1,1,r2\n"}),
    Case("keep loss label renamed", compute("{d}/k.csv", "--keep", "mse", "--top", "1", "-f", "json"), 0,
         ['"input_mse": "x"'], {"k.csv": b"pred,target,mse\n5,1,x\n1,1,y\n"}),
    Case("--input twice", ["compute", "-l", "gaussian_nll", "--input", "var=v", "--input", "var=w", "{d}/a.csv"], 2,
         ["given twice"], {"a.csv": SIMPLE}),
    # ------------------------------------------------------------------ parameters and gates
    Case("infinite pos_weight", ["compute", "-l", "bce_logits:pos_weight=inf", "{d}/a.csv"], 2, ["pos_weight", "finite"],
         {"a.csv": SIMPLE}),
    Case("infinite gamma", ["compute", "-l", "focal:gamma=inf", "{d}/a.csv"], 2, ["gamma", "finite"], {"a.csv": SIMPLE}),
    Case("infinite delta", ["compute", "-l", "huber:delta=inf", "{d}/a.csv"], 2, ["delta", "finite"], {"a.csv": SIMPLE}),
    Case("huge ignore_index", ["compute", "-l", "cross_entropy:ignore_index=99999999999999999999999", "{d}/a.csv"], 2,
         ["ignore_index", "2^53"], {"a.csv": SIMPLE}),
    Case("nan gate bound", compute("{d}/a.csv", "--fail-if", "mse>nan"), 2, ["NaN", "always pass"], {"a.csv": SIMPLE}),
    Case("nan tolerance", ["diff", "{d}/a.csv", "{d}/a.csv", "-l", "mse", "--fail-if-worse", "nan"], 2, ["nan"],
         {"a.csv": SIMPLE}),
    Case("--fail-if-worse before the files", ["diff", "--fail-if-worse", "{d}/a.csv", "{d}/b.csv", "-l", "mse"], 0,
         ["not worse by > 0"], {"a.csv": SIMPLE, "b.csv": SIMPLE}),
    # ------------------------------------------------------------------ domains
    Case("probability outside [0, 1]", ["compute", "-l", "bce", "--pred", "p", "{d}/p.csv"], 3,
         ["Loss 'bce'", "'p'", "1.5", "p.csv row 2"], {"p.csv": b"p,target\n0.5,1\n1.5,0\n"}),
    Case("negative variance", ["compute", "-l", "gaussian_nll", "--input", "var=v", "{d}/v.csv"], 3,
         ["gaussian_nll", "'v'", "v.csv row 1"], {"v.csv": b"pred,target,v\n1,2,-1\n"}),
    Case("msle at -1", ["compute", "-l", "msle", "{d}/m.csv"], 3, ["msle", "m.csv row 1"],
         {"m.csv": b"pred,target\n-1,2\n"}),
    Case("width mismatch", ["compute", "-l", "mse", "--pred", "a,b", "--target", "t", "{d}/w.csv"], 3,
         ["target needs 2", "got 1"], {"w.csv": b"a,b,t\n1,2,3\n"}),
    Case("degenerate box", ["compute", "-l", "giou", "{d}/b.csv"], 3, ["Loss 'giou'", "degenerate boxes", "b.csv row 2"],
         {"b.csv": b"pred_0,pred_1,pred_2,pred_3,target_0,target_1,target_2,target_3\n0,0,1,1,0,0,2,2\n"
                   b"0,0,-1,1,0,0,2,2\n"}),
    Case("unicode column names", ["compute", "-l", "mse", "--pred", "prédiction", "--target", "目标", "{d}/u.csv"], 0,
         ["1.5"], {"u.csv": "prédiction,目标\n0.5,1\n1.5,1\n-2,0\n".encode()}),
    Case("soft labels not summing to 1", ["compute", "-l", "cross_entropy", "{d}/s.csv"], 3,
         ["soft labels", "sum to 0.9", "s.csv row 1", "--renormalize"],
         {"s.csv": b"logit_0,logit_1,target_0,target_1\n1,2,0.4,0.5\n1,2,0.5,0.5\n"}),
    Case("soft labels renormalized", ["compute", "-l", "cross_entropy", "--renormalize", "{d}/s.csv"], 0,
         ["cross_entropy"], {"s.csv": b"logit_0,logit_1,target_0,target_1\n1,2,0.4,0.5\n1,2,0.5,0.5\n"}),
    Case("weights overflowing", compute("{d}/w.csv", "--weight", "w"), 3, ["'w'", "more than float64"],
         {"w.csv": b"pred,target,w\n0.5,0,1e308\n0.5,0,1e308\n0.5,0,1\n0.5,0,1\n"}),
    # ------------------------------------------------------------------ class names
    Case("class names from suffixes", ["compute", "-l", "cross_entropy", "{d}/c.csv"], 0, ["cross_entropy"],
         {"c.csv": b"prob_cat,prob_dog,prob_fox,target\n1,2,3,fox\n3,2,1,cat\n"}),
    Case("unknown class name", ["compute", "-l", "cross_entropy", "{d}/c.csv"], 3,
         ["'wolf'", "c.csv row 2", "cat, dog, fox", "suffixes of the pred columns"],
         {"c.csv": b"prob_cat,prob_dog,prob_fox,target\n1,2,3,fox\n3,2,1,wolf\n"}),
    Case("class names without suffixes", ["compute", "-l", "cross_entropy", "--pred", "a,b", "{d}/c.csv"], 3,
         ["do not end in class names", "--classes", "Classes seen in these rows: cat, dog"],
         {"c.csv": b"a,b,target\n1,2,cat\n3,2,dog\n"}),
    Case("--classes", ["compute", "-l", "cross_entropy", "--pred", "a,b", "--classes", "dog,cat", "{d}/c.csv"], 0,
         ["cross_entropy"], {"c.csv": b"a,b,target\n1,2,cat\n3,2,dog\n"}),
    Case("--classes of the wrong length", ["compute", "-l", "cross_entropy", "--pred", "a,b", "--classes", "x,y,z",
                                           "{d}/c.csv"], 2, ["--classes names 3 classes", "needs 2"],
         {"c.csv": b"a,b,target\n1,2,cat\n"}),
    # ------------------------------------------------------------------ groups and keys in every format
    *[Case(f"group by {col} as {fmt}", compute("{d}/t.parquet", "--group-by", col, "-f", fmt), 0, [])
      for col in ("d", "ts", "dec", "bin", "g") for fmt in ("json", "table", "markdown", "csv", "junit")],
    Case("group by a list", compute("{d}/t.parquet", "--group-by", "lst"), 3, ["'lst'", "cannot be group keys"]),
    Case("group by a struct", compute("{d}/t.parquet", "--group-by", "st"), 3, ["'st'", "cannot be group keys"]),
    *[Case(f"top keeping {col} as {fmt}", compute("{d}/t.parquet", "--top", "2", "--keep", col, "-f", fmt), 0, [])
      for col in ("lst", "ts", "bin", "dec", "st") for fmt in ("json", "table")],
    *[Case(f"per-row keeping {col} as {suffix}", compute("{d}/t.parquet", "--keep", col, "--per-row", "{d}/rows" + suffix),
           0, []) for col in ("lst", "ts", "bin", "st") for suffix in (".csv", ".parquet")],
    Case("integer keys streamed, gated", compute("{d}/t.parquet", "--group-by", "gi", "--batch-rows", "1",
                                                 "--fail-if", "mse[gi=1]>5"), 0, ["gi=1"]),
    Case("zip codes stay text", compute("{d}/z.csv", "--group-by", "zip", "-f", "json"), 0,
         ['"zip": "02134"', '"zip": "2134"', '"zip": "002134"'], {"z.csv": b"pred,target,zip\n1,2,02134\n1,2,2134\n1,2,002134\n"}),
    Case("unused column turns text later", compute("{d}/u.csv", "--batch-rows", "2"), 0, ["mse"],
         {"u.csv": b"pred,target,note\n1,2,\n1,2,3\n1,2,x\n1,2,y\n"}),
]
for case in CASES:
    if "{d}/t.parquet" in case.args and "t.parquet" not in case.files:
        case.files["t.parquet"] = parquet(TYPES)


def invoke(args, stdin=None):
    return CliRunner().invoke(main, args, input=stdin)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(tmp_path, case):
    for name, data in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    args = [a.replace("{d}", str(tmp_path)) for a in case.args]
    result = invoke(args, case.stdin)
    text = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == case.code, text
    assert "Traceback" not in text and "internal error" not in text
    for word in case.words:
        assert word in text, f"{word!r} not in:\n{text}"
    for word in case.absent:
        assert word not in text, f"{word!r} in:\n{text}"
    if case.code == 0 and "json" in args:
        json.loads(result.stdout)


DIFF_ID = b"id,pred,target\n1,0.1,0\n2,0.2,1\n3,-1,1\n4,3,0\n"
DIFF_ID_SHUFFLED = b"id,pred,target\n4,0.3,0\n3,0.2,1\n2,-1,1\n1,3,0\n"
CASES_DIFF = [
    *[Case(f"diff --on with a gate as {fmt}", ["diff", "{d}/a.csv", "{d}/b.csv", "-l", "bce_logits", "--on", "id",
                                               "--fail-if", "bce_logits>0.3", "-f", fmt], 1, [])
      for fmt in ("table", "json", "csv", "markdown", "junit")],
    Case("diff of 4 classes against 3", ["diff", "{d}/a.csv", "{d}/b.csv", "-l", "cross_entropy"], 3,
         ["baseline's pred columns", "differ in number"],
         {"a.csv": b"logit_0,logit_1,logit_2,target\n1,2,3,0\n", "b.csv": b"logit_0,logit_1,logit_2,logit_3,target\n1,2,3,4,0\n"}),
    Case("diff with class names", ["diff", "{d}/a.csv", "{d}/b.csv", "-l", "cross_entropy"], 0, ["cross_entropy"],
         {"a.csv": b"prob_cat,prob_dog,target\n1,2,dog\n2,1,cat\n", "b.csv": b"prob_cat,prob_dog,target\n1,3,dog\n3,1,cat\n"}),
]
for case in CASES_DIFF:
    case.files.setdefault("a.csv", DIFF_ID)
    case.files.setdefault("b.csv", DIFF_ID_SHUFFLED)


@pytest.mark.parametrize("case", CASES_DIFF, ids=[c.id for c in CASES_DIFF])
def test_hostile_diff(tmp_path, case):
    test_hostile_input(tmp_path, case)


# ----------------------------------------------------------------------------- nothing is lost


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("option", ["--per-row", "--grad-out"])
def test_an_output_naming_an_input_is_refused_before_reading(tmp_path, suffix, option):
    data = tmp_path / f"data{suffix}"
    data.write_bytes(SIMPLE if suffix == ".csv" else parquet({"pred": [0.5, 1.5], "target": [1.0, 1.0]}))
    (tmp_path / "link").symlink_to(data)
    os.link(data, tmp_path / f"hard{suffix}")
    before = data.read_bytes()
    for spelling in (data, f"{tmp_path}/./{data.name}", tmp_path / "sub" / ".." / data.name, tmp_path / "link",
                     tmp_path / f"hard{suffix}"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        if str(spelling).endswith("link"):
            continue  # a link without a data suffix is refused for its suffix; the resolved check is below
        result = invoke(["compute", "-l", "mse", option, str(spelling), str(data)])
        assert result.exit_code == 2 and "is an input file" in result.output, (spelling, result.output)
        assert data.read_bytes() == before
    linked = tmp_path / f"link{suffix}"
    linked.symlink_to(data)
    result = invoke(["compute", "-l", "mse", option, str(linked), str(tmp_path)])  # the folder holds the input
    assert result.exit_code == 2 and "is an input file" in result.output
    assert data.read_bytes() == before


def test_two_outputs_naming_one_file_are_refused(tmp_path):
    (tmp_path / "a.csv").write_bytes(SIMPLE)
    result = invoke(["compute", "-l", "mse", "--per-row", str(tmp_path / "o.csv"), "--grad-out",
                     f"{tmp_path}/./o.csv", str(tmp_path / "a.csv")])
    assert result.exit_code == 2 and "--per-row and --grad-out name the same file" in result.output
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("target,words", [("missing/o.csv", "does not exist"), ("folder.csv", "is a folder"),
                                          ("o.txt", "must end in .csv or .parquet")])
def test_outputs_that_cannot_be_written_are_refused_first(tmp_path, target, words):
    (tmp_path / "a.csv").write_bytes(SIMPLE)
    (tmp_path / "folder.csv").mkdir()
    result = invoke(["compute", "-l", "mse", "--per-row", str(tmp_path / target), str(tmp_path / "a.csv")])
    assert result.exit_code == 2 and words in result.output


def _unprivileged(args: list[str], **kw) -> subprocess.CompletedProcess:
    """The CLI run without root's right to read and write anything (file permissions then apply to it too)."""
    command = [sys.executable, "-m", "losscli", *args]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.fail("running as root without setpriv: permissions cannot be tested")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, **kw)


def test_unwritable_folder_and_unreadable_file(tmp_path):
    data = tmp_path / "a.csv"
    data.write_bytes(b"pred,target\n" + b"1,2\n" * 1000)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = _unprivileged(["compute", "-l", "mse", "--per-row", str(locked / "rows.csv"), str(data)])
        assert result.returncode == 2 and "cannot write in folder" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not result.stdout  # refused before any work
        data.chmod(0)
        result = _unprivileged(["compute", "-l", "mse", str(data)])
        assert result.returncode == 3 and "cannot be read: permission denied" in result.stderr, result.stderr
    finally:
        locked.chmod(0o755)
        data.chmod(0o644)


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_leaves_no_temporary_file_and_exits_as_interrupted(tmp_path, signum, code):
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "losscli", "compute", "-l", "mse", "--per-row",
                                str(out / "rows.csv"), "--batch-rows", "1000", "-"], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdin.write(b"pred,target\n" + b"1,2\n" * 1_000_000)  # more than a block: the output file is started
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while not any(out.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(out.iterdir()), "the run never started writing"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert list(out.iterdir()) == [] and b"Traceback" not in stderr


@pytest.mark.parametrize("creation", [1, 2], ids=["the writability probe", "the output's temporary file"])
def test_an_interrupt_just_after_a_file_is_created_leaves_nothing_behind(tmp_path, monkeypatch, creation):
    # A Ctrl-C lands between two bytecodes; the worst one is right after a file came to exist in the output
    # folder and before the run knows it must remove it. Simulated here by an interrupt raised from the
    # system call that created the file (the signal test above meets this moment only by chance).
    out = tmp_path / "out"
    out.mkdir()
    real_open, created = os.open, []

    def open_then_interrupted(path, flags, *args, **kwargs):
        handle = real_open(path, flags, *args, **kwargs)
        if flags & os.O_CREAT and Path(path).parent == out:
            created.append(path)
            if len(created) == creation:
                os.close(handle)
                raise KeyboardInterrupt
        return handle

    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        losscli.compute({"pred": [0.5, 1.5, 2.0], "target": [1.0, 1.0, 0.0]}, ["mse"], per_row=str(out / "rows.csv"))
    monkeypatch.undo()
    assert len(created) == creation
    losscli.sources.remove_temporary_files()  # as the program does on its way out, and Python at exit
    assert list(out.iterdir()) == []


def test_outputs_respect_the_umask_and_keep_a_replaced_files_mode(tmp_path):
    (tmp_path / "a.csv").write_bytes(SIMPLE)
    rows = tmp_path / "rows.csv"
    subprocess.run([sys.executable, "-m", "losscli", "compute", "-l", "mse", "--per-row", str(rows),
                    str(tmp_path / "a.csv")], cwd=ROOT, check=True, capture_output=True,
                   preexec_fn=lambda: os.umask(0o027))
    assert stat.S_IMODE(rows.stat().st_mode) == 0o640
    rows.chmod(0o604)
    assert invoke(["compute", "-l", "mse", "--per-row", str(rows), str(tmp_path / "a.csv")]).exit_code == 0
    assert stat.S_IMODE(rows.stat().st_mode) == 0o604


@pytest.mark.parametrize("kind", ["parquet", "csv for a query loss"])
def test_the_program_leaves_no_spooled_standard_input_behind(tmp_path, kind):
    # standard input read twice is first copied to a temporary file; the program ends without the interpreter's
    # teardown, so that file must be gone by then whatever removes it
    spool = tmp_path / "spool"
    spool.mkdir()
    if kind == "parquet":
        buffer = io.BytesIO()
        pq.write_table(pa.table({"pred": [0.5, 1.5, -2.0], "target": [1.0, 1.0, 0.0]}), buffer)
        data, args = buffer.getvalue(), ["-l", "mse"]
    else:
        data, args = b"pred,target,qid\n0.5,1,a\n1.5,0,a\n-2,1,b\n", ["-l", "ranking_softmax", "--query", "qid"]
    result = subprocess.run([sys.executable, "-m", "losscli", "compute", *args, "-f", "json", "-"], input=data,
                            capture_output=True, cwd=ROOT, env={**os.environ, "TMPDIR": str(spool)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["n"] > 0
    assert list(spool.iterdir()) == []


@pytest.mark.parametrize("redirect,words", [("> /dev/full", "No space left"), (">&-", "Standard output is closed")])
def test_standard_output_full_or_closed(tmp_path, redirect, words):
    if not os.path.exists("/dev/full") and "full" in redirect:
        pytest.fail("/dev/full is missing")
    (tmp_path / "a.csv").write_bytes(SIMPLE)
    result = subprocess.run(f"'{sys.executable}' -m losscli compute -l mse '{tmp_path / 'a.csv'}' {redirect}",
                            shell=True, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, result.stderr


# ----------------------------------------------------------------------------- no silent wrong number


def _value(args, files=None, tmp_path=None, label=0):
    doc = json.loads(invoke([*args, "-f", "json"]).stdout)
    return doc["results"][label]["value"]


def test_a_glob_never_takes_the_target(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(MULTI)
    globbed = _value(["compute", "-l", "cross_entropy", "--pred", "c*", "--target", "cls", str(path)])
    named = _value(["compute", "-l", "cross_entropy", "--pred", "c0,c1,c2,c3,c4", "--target", "cls", str(path)])
    logits = np.array([[1, 2, 3, 4, 5], [1, 0, 0, 0, 3]], dtype=float)
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[[0, 1], [0, 1]])
    assert globbed == pytest.approx(expected, rel=1e-12) and named == globbed


def test_class_names_give_the_numbers_of_class_indices(tmp_path):
    names = tmp_path / "names.csv"
    names.write_bytes(b"prob_cat,prob_dog,prob_fox,target\n1,2,3,fox\n3,2,1, cat\n0,0,1,dog\n")
    indices = tmp_path / "idx.csv"
    indices.write_bytes(b"prob_cat,prob_dog,prob_fox,target\n1,2,3,2\n3,2,1,0\n0,0,1,1\n")
    by_name = _value(["compute", "-l", "cross_entropy", str(names)])
    assert by_name == _value(["compute", "-l", "cross_entropy", str(indices)])
    table = pa.table({"prob_cat": [1.0, 3.0, 0.0], "prob_dog": [2.0, 2.0, 0.0], "prob_fox": [3.0, 1.0, 1.0],
                      "target": pa.array(["fox", "cat", "dog"]).dictionary_encode()})
    assert losscli.compute(table, ["cross_entropy"]).results[0].value == by_name
    reordered = losscli.compute(table.rename_columns(["a", "b", "c", "target"]), ["cross_entropy"], pred="a,b,c",
                                classes=["cat", "dog", "fox"])
    assert reordered.results[0].value == by_name


@pytest.mark.parametrize("kind", ["int8", "int64", "uint16", "float32", "float16", "decimal", "bool", "dictionary"])
def test_every_numeric_parquet_type_reads_as_float64(tmp_path, kind):
    values = [0.0, 1.0, 1.0, 0.0, 1.0]
    preds = [0.5, -1.5, 2.0, 0.25, 3.0]
    column = {"int8": pa.array(values, pa.int8()), "int64": pa.array(values, pa.int64()),
              "uint16": pa.array(values, pa.uint16()), "float32": pa.array(values, pa.float32()),
              "float16": pa.array(np.array(values, dtype=np.float16)),
              "decimal": pa.array([decimal.Decimal(str(v)) for v in values], pa.decimal128(5, 2)),
              "bool": pa.array([bool(v) for v in values]), "dictionary": pa.array(values).dictionary_encode()}[kind]
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"pred": preds, "target": column}), path)
    got = losscli.compute(str(path), ["bce_logits"]).results[0].value
    want = losscli.compute({"pred": np.array(preds), "target": np.array(values)}, ["bce_logits"]).results[0].value
    assert got == want


def test_nan_drop_equals_the_rows_left_and_keeps_row_numbers(tmp_path):
    path = tmp_path / "n.csv"
    path.write_bytes(b"pred,target,g\n1,2,a\n,3,a\n3,3,b\n5,NA,b\n2,1,\n")
    result = invoke(["compute", "-l", "mse", "--nan", "drop", "--group-by", "g", "--per-row", str(tmp_path / "r.csv"),
                     "-f", "json", str(path)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    overall, a, b = doc["results"]
    assert overall["value"] == pytest.approx((1 + 0) / 2) and overall["dropped"] == 3 and overall["n"] == 2
    assert (a["group"], a["dropped"], a["n"]) == ({"g": "a"}, 1, 1) and (b["group"], b["dropped"], b["n"]) == ({"g": "b"}, 1, 1)
    rows = (tmp_path / "r.csv").read_text().splitlines()
    assert rows == ['"row","mse"', "1,1", "3,0"]
    assert "left out 3 of 5 rows" in result.output


def test_finite_values_whose_sum_overflows_are_not_taken_for_missing():
    # the screen proves a column finite by its sum; 1e308 + 1e308 overflows, which must not be read as a NaN
    big = np.array([[1e308, 1e308], [1e308, -1.0], [1e308, 1e308]])
    result = losscli.compute({"pred": big, "target": big}, ["mae"], inputs={"pred": "pred", "target": "target"})
    assert result.results[0].value == 0.0


@pytest.mark.parametrize("block_rows", [None, 1, 2, 3])
def test_overflowing_sums_in_some_blocks_still_give_the_whole_result(block_rows):
    # each block proves its own rows finite by a sum; a block whose sum overflows is evaluated all the same
    pred = np.array([1e308, 1e308, 0.5, 1.0, 1e308, 1e308, 2.0])
    target = np.array([1e308, 1e308, 0.0, 1.0, 1e308, 1e308, 0.0])
    result = losscli.compute({"pred": pred, "target": target}, ["mae"], inputs={"pred": "pred", "target": "target"},
                             block_rows=block_rows, grad=True)
    assert result.results[0].value == pytest.approx(2.5 / 7, rel=1e-15)
    assert result.results[0].grad["l2"] == pytest.approx(np.sqrt(2) / 7, rel=1e-15)  # two non-zero residuals


@pytest.mark.parametrize("block_rows", [None, 1, 4])
def test_a_missing_value_is_reported_before_a_bad_value_in_an_earlier_block(block_rows):
    # a probability of 1.5 in row 1 and a NaN in row 9: the missing value is what the message names,
    # as when the whole batch was screened for them before any block ran
    pred = np.full(10, 0.5)
    pred[0] = 1.5
    target = np.zeros(10)
    target[8] = np.nan
    with pytest.raises(losscli.InputDataError, match=r"'target' has missing values.*row 9"):
        losscli.compute({"pred": pred, "target": target}, ["bce"], inputs={"pred": "pred", "target": "target"},
                        block_rows=block_rows)
    target[8] = 0.0
    with pytest.raises(losscli.InputDataError, match=r"'pred'.*row 1\b"):
        losscli.compute({"pred": pred, "target": target}, ["bce"], inputs={"pred": "pred", "target": "target"},
                        block_rows=block_rows)


@pytest.mark.parametrize("column", [0, 1])
def test_a_nan_in_any_column_of_a_wide_input_names_its_row(column):
    pred = np.zeros((5, 2))
    pred[3, column] = np.nan
    with pytest.raises(losscli.InputDataError, match="row 4"):
        losscli.compute({"pred": pred, "target": np.zeros((5, 2))}, ["mse"], inputs={"pred": "pred", "target": "target"})


def test_nan_propagate_gives_null_results_and_nan_rows(tmp_path):
    path = tmp_path / "n.csv"
    path.write_bytes(b"pred,target,g\n1,2,a\nnan,3,a\n3,3,b\n")
    result = invoke(["compute", "-l", "mse", "--nan", "propagate", "--group-by", "g", "--grad", "--per-row",
                     str(tmp_path / "r.csv"), "-f", "json", str(path)])
    doc = json.loads(result.stdout)
    overall, a, b = doc["results"]
    assert overall["value"] is None and a["value"] is None and a["grad"]["l2"] is None
    assert b["value"] == 0.0 and "dropped" not in b
    assert (tmp_path / "r.csv").read_text().splitlines() == ['"row","mse"', "1,1", "2,nan", "3,0"]


def test_cross_entropy_at_the_ends_of_float64(tmp_path):
    logits = np.array([[1e308, -1e308, 0.0], [-1e308, 1e308, 5.0]])
    f = losscli.get("cross_entropy")
    assert f.value(pred=logits, target=np.array([0.0, 1.0])) == 0.0
    assert np.all(np.isfinite(f.grad(pred=logits, target=np.array([0.0, 1.0]))))
    assert f.value(pred=logits, target=np.array([2.0, 1.0])) == pytest.approx(1e308 / 2)


def test_top_keeps_an_infinite_loss_first(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"pred,target,id\n1,2,a\n1e200,-1e200,b\n3,1,c\n")
    doc = json.loads(invoke(["compute", "-l", "mse", "--top", "2", "--keep", "id", "-f", "json", str(path)]).stdout)
    assert [r["id"] for r in doc["top"]["mse"]] == ["b", "c"] and doc["top"]["mse"][0]["loss"] is None


def test_json_has_no_nan_or_infinity_anywhere(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"pred": [1.0, 1e200, 3.0], "target": [2.0, -1e200, 1.0],
                             "g": [float("inf"), 1.0, float("-inf")], "k": [float("nan"), 1.0, 2.0]}), path)
    result = invoke(["compute", "-l", "mse", "--group-by", "g", "--top", "3", "--keep", "k", "--fail-if", "mse>1",
                     "--fail-if", "mse[g=1.0]>1", "-f", "json", str(path)])
    assert result.exit_code == 1, result.output
    for token in ("NaN", "Infinity"):
        assert token not in result.stdout
    doc = json.loads(result.stdout)
    assert [c["value"] for c in doc["checks"]] == [None, None]
    assert {json.dumps(r["group"]) for r in doc["results"][1:]} == {'{"g": null}', '{"g": 1.0}'}
    assert [r["k"] for r in doc["top"]["mse"]] == [1.0, 2.0, None]


def test_group_values_cannot_break_tables_or_reach_the_terminal_raw(tmp_path):
    path = tmp_path / "g.parquet"
    evil = "a\nb|<script>x</script>\x1b[31mred\u202e"
    pq.write_table(pa.table({"pred": [1.0, 2.0], "target": [1.0, 1.0], "g": [evil, "plain"]}), path)
    table = invoke(["compute", "-l", "mse", "--group-by", "g", str(path)]).stdout
    markdown = invoke(["compute", "-l", "mse", "--group-by", "g", "-f", "markdown", str(path)]).stdout
    for text in (table, markdown):
        assert "\x1b" not in text and "\u202e" not in text and "a\nb" not in text and "\\x1b[31m" in text
    assert "&lt;script&gt;" in markdown and "<script>" not in markdown and "b\\|" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| mse")]
    assert len(rows) == 3 and all(line.count(" | ") == rows[0].count(" | ") for line in rows)


def test_numpy_warnings_never_reach_stderr(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(b"pred,target\n1e200,-1e200\n1,2\n")
    for quiet in ([], ["-q"]):
        result = subprocess.run([sys.executable, "-m", "losscli", "compute", "-l", "mse", "-l", "huber", *quiet,
                                 str(path)], capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0 and "RuntimeWarning" not in result.stderr and "site-packages" not in result.stderr
        if quiet:
            assert result.stderr == ""


def test_out_of_memory_is_exit_3_with_advice(tmp_path, monkeypatch):
    from losscli.engine import pipeline

    def exhausted(self, batch):
        raise MemoryError

    monkeypatch.setattr(pipeline.Accumulator, "add", exhausted)
    (tmp_path / "a.csv").write_bytes(SIMPLE)
    result = invoke(["compute", "-l", "mse", str(tmp_path / "a.csv")])
    assert result.exit_code == 3 and "out of memory" in result.output and "--batch-rows" in result.output


def test_a_missing_catalogue_family_stops_losscli(tmp_path):
    (tmp_path / "a.csv").write_bytes(SIMPLE)
    code = ("import sys; sys.modules['losscli.catalogue.boxes'] = None\n"
            "from losscli.cli import main\nmain(['compute', '-l', 'mse', sys.argv[1]])")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a.csv")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 4 and "cannot start" in result.stderr and "'boxes'" in result.stderr
    assert "Traceback" not in result.stderr
