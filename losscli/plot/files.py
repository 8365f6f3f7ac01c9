"""Plot files (PNG, SVG, PDF) through matplotlib, the `plot` extra: ``pip install 'losscli[plot]'``.

matplotlib is imported here only, when a file is asked for, and through its object API (Figure and
the Agg canvas), never pyplot: no global state, no GUI backend, nothing opened on a display.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import UsageProblem
from ..sources import new_temporary, untrack_temporary

FORMATS = ("png", "svg", "pdf")
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22")


def check_path(path: str) -> str:
    """The format of an output path (from its suffix); a usage error for other suffixes or a missing folder."""
    kind = os.path.splitext(path)[1].lower().lstrip(".")
    if kind not in FORMATS:
        raise UsageProblem(f"-o {path}: name a .png, .svg or .pdf file.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageProblem(f"-o {path}: the folder {folder} does not exist.")
    return kind


def figure(rows: int, columns: int, width: float = 6.4, height: float = 3.6):
    """A Figure with a grid of axes (a 2-D array), or a usage error naming the extra when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageProblem("Writing plots to files needs matplotlib: pip install 'losscli[plot]' "
                           "(without -o, plots are drawn in the terminal).") from None
    fig = Figure(figsize=(width * columns, height * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False)
    return fig, axes


def save(fig, path: str) -> None:
    """Write the figure whole or not at all: to a temporary file beside ``path``, renamed when complete."""
    kind = check_path(path)
    folder = os.path.dirname(os.path.abspath(path))
    temporary = new_temporary(folder, ".losscli-", "." + kind)
    try:
        # a fixed date and hash salt keep SVG and PDF files identical from run to run
        metadata = {"png": {"Software": "losscli"}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[kind]
        fig.savefig(temporary, format=kind, dpi=120, metadata=metadata)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # the temporary's 0600 would hide the plot from the rest of the team
        os.replace(temporary, path)
    except BaseException:
        untrack_temporary(temporary, remove=True)
        raise
    untrack_temporary(temporary)


def curve_figure(plot, grad: bool, title: str):
    """The loss curves, and beside them their gradients with ``grad``."""
    fig, axes = figure(1, 2 if grad else 1)
    panels = [(axes[0][0], "y", "loss")] + ([(axes[0][1], "dy", plot.dylabel)] if grad else [])
    for ax, field, ylabel in panels:
        for k, series in enumerate(plot.series):
            label = series.label + (f" ({series.note})" if series.note else "")
            ax.plot(plot.x, getattr(series, field), color=COLOURS[k % len(COLOURS)], linewidth=1.8, label=label)
        ax.axhline(0.0, color="#999999", linewidth=0.6)
        ax.set_xlabel(plot.xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    axes[0][0].set_title(title)
    if grad:
        axes[0][1].set_title("gradient")
    return fig


def dist_figure(panels):
    """One row per loss, one column per group: bars over the display bins, a log value axis for heavy tails.

    ``panels`` is a list of (title, spreads, names, heavy, by_confidence) per loss; a loss with a
    ByConfidence (classification) gets one more panel: rows and loss share by p of the true class.
    """
    columns = max(len(spreads) + (by is not None) for _, spreads, _, _, by in panels)
    fig, axes = figure(len(panels), columns, width=5.0 if columns > 1 else 6.4)
    for row, (title, spreads, names, heavy, by) in enumerate(panels):
        if by is not None:
            confidence_panel(axes[row][len(spreads)], by, title)
        for col in range(columns - (by is not None)):
            ax = axes[row][col]
            if col >= len(spreads):
                ax.set_visible(False)
                continue
            s = spreads[col]
            low, high = s.drawable()
            log = bool(heavy and s.low.size and s.high[0] > 0)
            if log:  # the zero bin (|v| < 2^-50) has no place on a log axis: drawn just below its upper edge
                low = np.where(low <= 0, high / 2, low)
                ax.set_xscale("log")
            # The bins are log-spaced: of equal width on a log axis, so there a bar's height is its rows. On
            # a linear axis their widths differ, so the height is rows per unit of loss (the area is the rows).
            heights = s.count if log else s.count / (high - low)
            ax.bar(low, heights, width=high - low, align="edge", color=COLOURS[col % len(COLOURS)],
                   edgecolor="white", linewidth=0.4)
            ax.set_title(f"{title}" + (f" · {names[col]}" if names[col] else ""), fontsize="medium")
            ax.set_xlabel("per-row loss" + (" (log scale)" if log else ""))
            ax.set_ylabel("rows" if log else "rows per unit of loss")
            ax.grid(True, axis="y", alpha=0.3)
    return fig


def confidence_panel(ax, by, title: str) -> None:
    """Bars of rows per bin of p of the true class, and the share of the summed loss on a second axis."""
    edges = by.edges
    ax.bar(edges[:-1], by.rows, width=np.diff(edges), align="edge", color=COLOURS[0], edgecolor="white",
           linewidth=0.4, label="rows")
    ax.set_xlabel("predicted probability of the true class")
    ax.set_ylabel("rows")
    ax.set_title(f"{title} · where the loss comes from", fontsize="medium")
    share = ax.twinx()
    share.plot((edges[:-1] + edges[1:]) / 2, 100 * by.share, color=COLOURS[1], marker="o", markersize=3,
               label="share of the loss")
    share.set_ylabel("share of the summed loss (%)", color=COLOURS[1])
    share.set_ylim(bottom=0)
