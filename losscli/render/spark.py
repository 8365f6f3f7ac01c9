"""A sparkline of the per-row losses, one table cell wide, from a result's histogram state.

Each character is a run of neighbouring log-spaced bins over the range that holds rows, its height
the row count against the largest, never below the lowest block for a bin with rows (so a tail of a
few rows still shows beside a peak of millions), followed by the range: ``▁▃█▆▂ ▁ 0.0012 to 38``. Block characters on a terminal, an ASCII ramp in pipes and CI
logs, where the table is ASCII too.
"""

from __future__ import annotations

BLOCKS = " ▁▂▃▄▅▆▇█"
ASCII = " _-:=+*#@"  # no dots: '...' would read as a number cut short
WIDTH = 12
TITLE = "per-row losses"


def bound(value: float) -> str:
    """A bin edge in three significant digits; the edges of the zero bin read as 0."""
    return "0" if abs(value) < 1e-14 else f"{value:.3g}"


def heights(counts, levels: int) -> list[int]:
    """0 for an empty bin, else 1..levels in proportion to its count (at least 1)."""
    top = max(counts) if len(counts) else 0
    if top <= 0:
        return [0] * len(counts)
    return [0 if c == 0 else max(1, int(round(levels * c / top))) for c in counts]


def sparkline(hist, unicode: bool = True, width: int = WIDTH) -> str:
    """The sparkline and range of one result's histogram; "" when it has none (set-level losses, groups)."""
    from ..plot.spread import coarsen

    if hist is None or not hist.sum():
        return ""
    spread = coarsen([hist], width)[0]
    ramp = BLOCKS if unicode else ASCII
    line = "".join(ramp[h] for h in heights(spread.count, len(ramp) - 1))
    return f"{line} {bound(spread.low[0])} to {bound(spread.high[-1])}"


def column(results, unicode: bool) -> list[str] | None:
    """One cell per result, or None when no result has a histogram (--no-spark, machine formats)."""
    if not any(getattr(r, "hist", None) is not None for r in results):
        return None
    return [sparkline(getattr(r, "hist", None), unicode) for r in results]
