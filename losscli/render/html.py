"""`--format html`: one self-contained HTML page for CI artifacts, opened in any browser.

Tables of results (and of the hardest rows), gates, signatures and warnings, and for each loss with
per-row values the distribution of its per-row losses drawn inline as SVG from its histogram state.
The SVG is written here by hand (rectangles and text), so the page needs no plotting library, no
script, no font and nothing from the network; every value is escaped.
"""

from __future__ import annotations

from html import escape

from .spark import bound
from .table import number

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #d0d0d7; padding: 0.3rem 0.6rem; }
th { background: #f3f3f6; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 600; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em; }
.warning { color: #9a6700; }
figure { display: inline-block; margin: 0.5rem 1rem 0.5rem 0; }
figcaption { font-size: 0.85rem; color: #57606a; max-width: 420px; }
"""

BAR = "#1f77b4"


def _cell(value, numeric: bool = False) -> str:
    text = number(value) if numeric and not isinstance(value, str) else escape(str(value))
    return f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def histogram_svg(hist, title: str, bins: int = 24, width: int = 420, height: int = 170) -> str:
    """An SVG bar chart of a histogram state: bars of equal width per log-spaced display bin, edges labelled."""
    from ..plot.spread import coarsen, summary

    spread = coarsen([hist], bins)[0]
    left, right, top, bottom = 44, 10, 24, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    n = spread.count.size
    tallest = float(spread.count.max()) if n else 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<text x="{left}" y="15" font-size="12" font-weight="600">{escape(title)}</text>']
    step = plot_w / max(n, 1)
    for k in range(n):
        h = plot_h * spread.count[k] / tallest if tallest else 0.0
        x, y = left + k * step, top + plot_h - h
        tip = f"[{bound(spread.low[k])}, {bound(spread.high[k])}): {int(spread.count[k]):,} rows"
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - 1, 0.5):.1f}" height="{h:.1f}" '
                     f'fill="{BAR}"><title>{escape(tip)}</title></rect>')
    axis_y = top + plot_h
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#444"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{axis_y}" stroke="#444"/>')
    parts.append(f'<text x="{left - 4}" y="{top + 9}" font-size="10" text-anchor="end">{int(tallest):,}</text>')
    parts.append(f'<text x="{left - 4}" y="{axis_y}" font-size="10" text-anchor="end">0</text>')
    if n:
        for k, anchor in ((0, "start"), (n // 2, "middle"), (n, "end")):
            edge = spread.low[k] if k < n else spread.high[-1]
            parts.append(f'<text x="{left + k * step:.1f}" y="{axis_y + 13}" font-size="10" '
                         f'text-anchor="{anchor}">{escape(bound(edge))}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" font-size="10" text-anchor="middle" '
                 f'fill="#57606a">per-row loss, log-spaced bins</text>')
    parts.append("</svg>")
    caption = escape(summary(hist))
    return f"<figure>{''.join(parts)}<figcaption>{caption}</figcaption></figure>"


def _checks(checks) -> str:
    if not checks:
        return ""
    rows = [[f"<td><code>{escape(c.expr)}</code></td>", _cell(c.value, True),
             f'<td class="{"pass" if c.passed else "fail"}">{"pass" if c.passed else "FAIL"}</td>'] for c in checks]
    failed = sum(not c.passed for c in checks)
    verdict = f"{failed} of {len(checks)} gates failed" if failed else f"all {len(checks)} gates passed"
    return f"<h2>Gates: {escape(verdict)}</h2>" + _table(["gate", "value", "result"], rows)


def _compute_body(report, top) -> list[str]:
    has_grad = any(r.grad is not None for r in report.results)
    header = ["loss"] + (["group"] if report.group_by else []) + ["value", "rows"]
    header += ["grad l2", "grad abs_max", "grad mean"] if has_grad else []
    rows = []
    for r in report.results:
        row = [f"<td><code>{escape(r.label)}</code></td>"]
        if report.group_by:
            row.append(_cell(", ".join(f"{k}={v}" for k, v in r.group.items()) if r.group else "(all)"))
        row += [_cell(r.value, True), _cell(str(r.n), True)]
        if has_grad:
            g = r.grad or {}
            row += [_cell(g.get("l2"), True), _cell(g.get("abs_max"), True), _cell(g.get("mean"), True)] if g \
                else ["<td></td>"] * 3
        rows.append(row)
    body = [f"<h1>losscli: {escape(', '.join(report.sources))} · {report.rows:,} rows</h1>", _table(header, rows)]
    plots = [histogram_svg(r.hist, r.label) for r in report.results if r.hist is not None and r.hist.sum()]
    if plots:
        body.append("<h2>Distributions of per-row losses</h2>" + "".join(plots))
    for label, records in (top or {}).items():
        if records:
            keys = list(records[0])
            table_rows = [[_cell(v, k == "loss") for k, v in record.items()] for record in records]
            body.append(f"<h2>Hardest rows · <code>{escape(label)}</code></h2>" + _table(keys, table_rows))
    return body


def _diff_body(report) -> list[str]:
    header = ["loss", "baseline", "candidate", "delta", "rel delta", "95% CI of delta", "rows"]
    rows = [[f"<td><code>{escape(r.label)}</code></td>", _cell(r.baseline, True), _cell(r.candidate, True),
             _cell(r.delta, True), _cell("" if r.rel_delta is None else f"{100 * r.rel_delta:+.2f}%", True),
             _cell(f"[{number(r.ci[0])}, {number(r.ci[1])}]", True), _cell(str(r.n), True)] for r in report.results]
    title = f"losscli diff: {' vs '.join(report.sources)} · {report.rows:,} paired rows · {report.bootstrap} resamples"
    return [f"<h1>{escape(title)}</h1>", _table(header, rows)]


def report(compute_like, checks=None, top=None) -> str:
    """The whole page for a compute or diff report."""
    from ..model import DiffReport

    body = _diff_body(compute_like) if isinstance(compute_like, DiffReport) else _compute_body(compute_like, top)
    body.append(_checks(checks))
    signatures = dict.fromkeys(r.signature for r in compute_like.results)
    body.append("<h2>Signatures</h2><ul>" + "".join(f"<li><code>{escape(s)}</code></li>" for s in signatures) + "</ul>")
    if compute_like.warnings:
        body.append("<h2>Warnings</h2><ul>" + "".join(f'<li class="warning">{escape(w)}</li>'
                                                     for w in compute_like.warnings) + "</ul>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>losscli report</title><style>{STYLE}</style></head><body>"
            + "".join(body) + "</body></html>\n")
