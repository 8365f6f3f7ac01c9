"""Set-level losses that are not sums: order statistics (a median, a maximum) and the Lovász extension.

Their value needs every row at once (a median, or the errors sorted over the whole set), so no fixed
number of sums can stand for the rows. These losses (``Loss.holds_rows``) keep each row's statistics
(``loss.stats``, a few numbers per row) in row order, with each row's group. That is exact and merges by
concatenation, but it holds 8 bytes per statistic per row in memory, so it is refused beyond
``HELD_LIMIT`` statistics with a message that says what to do. Once every row has been read:

    value of a group   = loss.value(totals=S_g)          S_g the (rows of g, k) statistics
    d value / d stats  = loss.stats_grad(totals=S_g)     (rows of g, k), scattered back into row order

and the second pass hands each block's rows of that array to ``loss.grad(..., totals=...)``, which chains
it to the first input. The engine's State still counts rows and gradient sums for these losses; only
the value comes from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageProblem

# 2^27 statistics = 1 GiB of float64: more than most machines want to give one loss.
HELD_LIMIT = 1 << 27


@dataclass
class HeldRows:
    """Every row's statistics of one loss, in row order, with each row's group id (None: no groups)."""

    label: str
    parts: list[np.ndarray] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)
    size: int = 0
    whole_grad: np.ndarray | None = None  # d value / d stats of the whole set, row order
    group_grad: np.ndarray | None = None  # d value_g / d stats for each row's own group g
    groups: dict = field(default_factory=dict)  # group id -> that group's rows, made once (see rows())

    def add(self, stats: np.ndarray, codes: np.ndarray | None) -> None:
        self.size += stats.size
        if self.size > HELD_LIMIT:
            raise UsageProblem(
                f"Loss {self.label!r} needs every row in memory at once (its value depends on the whole sorted set, "
                f"not on sums), and this input has more than {HELD_LIMIT:,} statistics ({HELD_LIMIT * 8 / 2**30:.0f} "
                "GiB). Compute it on a sample of the rows, or on smaller groups of rows in separate runs.")
        self.parts.append(stats)
        self.groups.clear()
        if codes is not None:
            self.codes.append(np.asarray(codes))

    def merge(self, other: "HeldRows", ids: np.ndarray | None) -> None:
        """Append another partition's rows (its group ids mapped through ``ids``)."""
        for stats, codes in zip(other.parts, other.codes or [None] * len(other.parts)):
            self.add(stats, None if codes is None else ids[codes])

    def rows(self) -> np.ndarray:
        """Every row's statistics as one array.

        The parts are joined once and kept joined, so the gradient's pass and the value get the very same
        array (and a group the same array of its rows, group_rows): a loss may keep work done on it, as the
        Lovász losses keep the value their gradient's sort gave.
        """
        if len(self.parts) > 1:
            self.parts = [np.concatenate(self.parts)]
        return self.parts[0] if self.parts else np.zeros((0, 0))

    def row_codes(self) -> np.ndarray | None:
        if len(self.codes) > 1:
            self.codes = [np.concatenate(self.codes)]
        return self.codes[0] if self.codes else None

    def group_rows(self, g: int) -> np.ndarray:
        if g not in self.groups:
            self.groups[g] = self.rows()[self.row_codes() == g]
        return self.groups[g]

    def states(self, loss, params, groups: int):
        """(whole, per group): object arrays of statistics arrays, what loss.value(totals=...) takes."""
        rows = self.rows()
        whole = np.empty(1, dtype=object)
        whole[0] = rows
        codes = self.row_codes()
        per_group = np.empty(groups, dtype=object)
        for g in range(groups):
            per_group[g] = rows if codes is None else self.group_rows(g)
        return whole, per_group

    def prepare_gradients(self, loss, params, grouped: bool) -> None:
        """d value / d stats for every row, for the whole set and for each row's own group."""
        rows = self.rows()
        self.whole_grad = np.asarray(loss.stats_grad(totals=rows, **params), dtype=np.float64)
        if not grouped:
            return
        codes = self.row_codes()
        self.group_grad = np.zeros_like(self.whole_grad)
        for g in np.unique(codes):
            self.group_grad[codes == g] = loss.stats_grad(totals=self.group_rows(int(g)), **params)
