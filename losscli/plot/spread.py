"""The distribution of per-row losses, read from the engine's histogram state.

The engine counts rows in fixed bins (``engine.state.hist_edges``: each power of two split in four,
from 2^-50 to 2^64, both signs, and a bin for |v| < 2^-50). Drawing needs fewer, wider bins over the
range that holds rows: :func:`coarsen` merges runs of neighbouring bins. Quantiles read from the bins
are exact to within a bin (25% of the value at most).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Spread:
    """Display bins: value bounds [low, high) and the rows in each."""

    low: np.ndarray
    high: np.ndarray
    count: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.count.sum())

    def drawable(self) -> tuple[np.ndarray, np.ndarray]:
        """Finite bounds for drawing: the open-ended outer bins (beyond 2^64) drawn as wide as their inner edge."""
        low, high = self.low.copy(), self.high.copy()
        low[~np.isfinite(low)] = 2.0 * high[~np.isfinite(low)]
        high[~np.isfinite(high)] = 2.0 * low[~np.isfinite(high)]
        return low, high


def occupied(counts: np.ndarray) -> tuple[int, int] | None:
    """The first and last bins holding rows, or None for an empty histogram."""
    filled = np.flatnonzero(counts)
    return (int(filled[0]), int(filled[-1])) if filled.size else None


def coarsen(histograms: list[np.ndarray], max_bins: int = 20) -> list[Spread]:
    """The histograms (all on the engine's bins) over their common occupied range in at most ``max_bins`` bins.

    Neighbouring engine bins are merged k at a time, k chosen so the range fits; every histogram gets the
    same display bins, so groups drawn side by side line up.
    """
    from ..engine.state import hist_edges

    lows, highs = hist_edges()
    spans = [s for s in (occupied(h) for h in histograms) if s is not None]
    if not spans:
        return [Spread(np.zeros(0), np.zeros(0), np.zeros(0)) for _ in histograms]
    first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    k = max(1, -(-(last - first + 1) // max_bins))
    starts = np.arange(first, last + 1, k)
    stops = np.minimum(starts + k, last + 1) - 1
    out = []
    for h in histograms:
        counts = np.add.reduceat(np.asarray(h, dtype=np.float64)[first:last + 1], starts - first)
        out.append(Spread(lows[starts].copy(), highs[stops].copy(), counts))
    return out


def quantile(counts: np.ndarray, q: float) -> float:
    """The q-quantile of the rows, interpolated geometrically inside its bin (linearly across zero)."""
    from ..engine.state import hist_edges

    total = counts.sum()
    if total <= 0:
        return float("nan")
    lows, highs = hist_edges()
    cumulative = np.cumsum(counts)
    k = int(np.searchsorted(cumulative, q * total, side="left"))
    k = min(k, counts.size - 1)
    before = cumulative[k] - counts[k]
    share = (q * total - before) / counts[k] if counts[k] else 0.0
    low, high = lows[k], highs[k]
    if not np.isfinite(low):
        return float(high)
    if not np.isfinite(high):
        return float(low)
    if low > 0:
        return float(low * (high / low) ** share)
    if high < 0:
        return float(high * (low / high) ** (1.0 - share))
    return float(low + (high - low) * share)


def heavy_tail(counts: np.ndarray) -> bool:
    """True when the 99th-percentile row loses ten times the median row or more: draw the values on a log axis."""
    median, top = quantile(counts, 0.5), quantile(counts, 0.99)
    if not (median > 0 and top > 0):
        return top > 0 and median <= 0  # losses of zero for half the rows and some far above
    return top / median >= 10.0


def summary(counts: np.ndarray) -> str:
    """One line on a distribution: rows, median, 90th and 99th percentiles (to within a bin), and its tail."""
    rows = int(counts.sum())
    if not rows:
        return "no rows"
    median, p90, p99 = (quantile(counts, q) for q in (0.5, 0.9, 0.99))
    ratio = p99 / median if median > 0 else float("inf")
    tail = f"heavy tail (p99 = {ratio:.3g} x median)" if heavy_tail(counts) else "light tail"
    return f"{rows:,} rows · median {median:.3g} · p90 {p90:.3g} · p99 {p99:.3g} · {tail}"


# ----------------------------------------------------------------------------- loss by predicted probability

CONFIDENCE_BINS = 20  # bins of the predicted probability of the true class, 0.05 wide


@dataclass
class ByConfidence:
    """Rows and their summed loss per bin of the predicted probability of the true class (p_t).

    Shows where the loss comes from: the focal-loss argument is that many easy rows (p_t near 1)
    together outweigh the few hard ones; here it can be read off a file.
    """

    rows: np.ndarray
    loss: np.ndarray

    @classmethod
    def empty(cls) -> "ByConfidence":
        return cls(np.zeros(CONFIDENCE_BINS), np.zeros(CONFIDENCE_BINS))

    def add(self, p: np.ndarray, values: np.ndarray) -> None:
        ok = np.isfinite(p) & np.isfinite(values)
        k = np.clip((p[ok] * CONFIDENCE_BINS).astype(np.intp), 0, CONFIDENCE_BINS - 1)
        self.rows += np.bincount(k, minlength=CONFIDENCE_BINS)
        self.loss += np.bincount(k, weights=values[ok], minlength=CONFIDENCE_BINS)

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, CONFIDENCE_BINS + 1)

    @property
    def share(self) -> np.ndarray:
        """Each bin's share of the summed loss."""
        total = self.loss.sum()
        return self.loss / total if total > 0 else np.zeros_like(self.loss)


def confidence_sink(readers: dict):
    """A per-row sink that feeds a ByConfidence per loss as batches stream: ``readers`` maps a loss's label
    to (spec, pred columns, target columns), columns the run keeps beside the per-row losses."""
    from ..sinks import RowSink
    from .curves import true_class_probability

    class ConfidenceSink(RowSink):
        def __init__(self) -> None:
            self.bins = {label: ByConfidence.empty() for label in readers}

        def write(self, table) -> None:
            def matrix(columns):
                return np.column_stack([table.column(c).to_numpy().astype(np.float64) for c in columns])

            for label, (spec, pred_columns, target_columns) in readers.items():
                p = true_class_probability(spec, matrix(pred_columns), matrix(target_columns))
                if p is not None:
                    self.bins[label].add(p, table.column(label).to_numpy())

    return ConfidenceSink()
