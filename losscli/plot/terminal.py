"""Plots as text for terminals, ssh sessions and CI logs: Rich Text lines, no plotting library.

Curves are drawn on a grid of character cells, one marker per series (``*``, ``+``, ``o`` ...) joined
column to column so steep parts stay connected; colour is added on a terminal only (Rich decides,
honouring NO_COLOR and FORCE_COLOR), so a series can be told apart without it. Distributions are
horizontal bars, one row per display bin, groups side by side. Box-drawing characters and eighth
blocks on a terminal, ASCII in pipes and logs, like the tables.
"""

from __future__ import annotations

import numpy as np

MARKERS = "*+ox#@%&=~"
COLOURS = ("cyan", "magenta", "yellow", "green", "red", "blue", "bright_cyan", "bright_magenta", "bright_yellow",
           "bright_green")
EIGHTHS = " ▏▎▍▌▋▊▉"


def number(value: float) -> str:
    if value != value:
        return "nan"
    return "0" if abs(value) < 1e-14 else f"{value:.3g}"


def line_plot(x: np.ndarray, series: list[tuple[str, np.ndarray]], *, width: int, height: int, title: str,
              xlabel: str, unicode: bool):
    """A line chart of several series over x as a list of Rich Text lines (axes, ticks and legend included)."""
    from rich.text import Text

    finite = [y[np.isfinite(y)] for _, y in series]
    values = np.concatenate(finite) if finite else np.zeros(0)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if high - low <= 0:
        low, high = low - 1.0, high + 1.0
    # a range that nearly reaches zero is drawn from zero: round ticks, and the minimum of most losses
    if 0 < low < 0.05 * (high - low):
        low = 0.0
    elif 0 > high > -0.05 * (high - low):
        high = 0.0
    cells = [[(" ", None)] * width for _ in range(height)]

    def row_of(y):
        return np.rint((high - y) / (high - low) * (height - 1))

    if low < 0 < high:  # a faint zero line helps read signs (gradients)
        zero = int(row_of(0.0))
        cells[zero] = [("·" if unicode else ".", "dim")] * width
    picks = np.rint(np.linspace(0, x.size - 1, width)).astype(int)
    rows = [row_of(y[picks]) for _, y in series]
    # Two passes, the first series last so it stays on top: the vertical joins of steep parts, then
    # the points themselves, so a join never hides another series' point.
    for points_only in (False, True):
        for k in reversed(range(len(series))):
            marker, colour = MARKERS[k % len(MARKERS)], COLOURS[k % len(COLOURS)]
            previous = None
            for col, r in enumerate(rows[k]):
                if not np.isfinite(r):
                    previous = None
                    continue
                r = int(r)
                join = () if points_only or previous is None else range(min(r, previous), max(r, previous) + 1)
                for row in (*join, r):
                    cells[row][col] = (marker, colour)
                previous = r
    label_width = max(len(number(v)) for v in (low, high, (low + high) / 2))
    vertical, corner, horizontal = ("│", "└", "─") if unicode else ("|", "+", "-")
    lines = [Text(title, style="bold")]
    for r in range(height):
        tick = {0: number(high), height - 1: number(low), (height - 1) // 2: number((low + high) / 2)}.get(r, "")
        line = Text(tick.rjust(label_width) + " " + vertical)
        for char, style in cells[r]:
            line.append(char, style=style)
        lines.append(line)
    lines.append(Text(" " * label_width + " " + corner + horizontal * width))
    left, middle, right = number(x[0]), number((x[0] + x[-1]) / 2), number(x[-1])
    ticks = left + middle.center(width - len(left) - len(right)) + right
    lines.append(Text(" " * (label_width + 2) + ticks))
    lines.append(Text(" " * (label_width + 2) + xlabel.center(width), style="dim"))
    indent = " " * (label_width + 2)
    legend = Text(indent)
    for k, (label, _) in enumerate(series):  # wrapped to the plot's width
        if len(legend) > len(indent) and len(legend) + len(label) + 2 > label_width + 2 + width:
            lines.append(legend)
            legend = Text(indent)
        legend.append(MARKERS[k % len(MARKERS)], style=COLOURS[k % len(COLOURS)])
        legend.append(f" {label}   ")
    lines.append(legend)
    return lines


def side_by_side(blocks: list[list], gap: int = 4) -> list:
    """Text blocks joined left to right, each padded to its widest line."""
    from rich.text import Text

    widths = [max((len(line) for line in block), default=0) for block in blocks]
    out = []
    for i in range(max(len(b) for b in blocks)):
        line = Text()
        for block, width in zip(blocks, widths):
            part = block[i] if i < len(block) else Text()
            line.append_text(part)
            line.append(" " * (width - len(part) + gap))
        line.rstrip()
        out.append(line)
    return out


def bar(fraction: float, width: int, unicode: bool) -> str:
    """A bar of ``fraction`` of ``width`` cells: eighth blocks on a terminal, '#' in ASCII."""
    if not unicode:
        cells = int(round(fraction * width))
        return "#" * (cells if cells or fraction == 0 else 1)
    eighths = int(round(fraction * width * 8))
    if fraction > 0 and eighths == 0:
        eighths = 1
    return "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")


def histogram_block(spreads, names: list[str], *, width: int, unicode: bool, title: str, summary: list[str]):
    """Horizontal bars, one row per display bin, one column of bars per histogram (groups side by side).

    Every column is scaled to its own largest bin, so shapes of groups of different sizes compare.
    """
    from rich.text import Text

    labels = [f"[{number(lo)}, {number(hi)})" for lo, hi in zip(spreads[0].low, spreads[0].high)]
    label_width = max([len(t) for t in labels] + [len("per-row loss")])
    counts = [[f"{int(c):,}" for c in s.count] for s in spreads]
    count_width = max(len(c) for column in counts for c in column) if spreads[0].count.size else 1
    bar_width = max(6, (width - label_width) // max(1, len(spreads)) - count_width - 3)
    lines = [Text(title, style="bold")]
    for line in summary:
        lines.append(Text(line, style="dim"))
    header = Text("per-row loss".ljust(label_width))
    for name in names:
        header.append("  " + name[: bar_width + count_width].ljust(bar_width + count_width + 1), style="bold")
    lines.append(header)
    for k, label in enumerate(labels):
        line = Text(label.rjust(label_width))
        for j, s in enumerate(spreads):
            top = s.count.max()
            line.append("  ")
            line.append(bar(s.count[k] / top if top else 0.0, bar_width, unicode).ljust(bar_width), style=COLOURS[j % len(COLOURS)])
            line.append(" " + counts[j][k].rjust(count_width))
        lines.append(line)
    return lines


def confidence_block(by, *, width: int, unicode: bool, title: str):
    """Rows and share of the summed loss per bin of the predicted probability of the true class."""
    from rich.text import Text

    counts = [f"{int(c):,}" for c in by.rows]
    count_width = max(len(c) for c in counts)
    label = "p of the true class"
    bar_width = max(6, (width - len(label) - count_width - 12) // 2)
    edges, share, top = by.edges, by.share, by.rows.max()
    lines = [Text(title, style="bold"),
             Text(label + "  " + "rows".ljust(bar_width + count_width + 3) + "share of the loss", style="bold")]
    for k in range(edges.size - 1):
        line = Text(f"[{edges[k]:.2f}, {edges[k + 1]:.2f})".ljust(len(label) + 2))
        line.append(bar(by.rows[k] / top if top else 0.0, bar_width, unicode).ljust(bar_width), style=COLOURS[0])
        line.append(" " + counts[k].rjust(count_width) + "  ")
        line.append(bar(share[k], bar_width, unicode).ljust(bar_width), style=COLOURS[1])
        line.append(f" {100 * share[k]:5.1f}%")
        lines.append(line)
    return lines
