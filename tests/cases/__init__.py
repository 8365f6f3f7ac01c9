"""Example inputs for every loss in the catalogue, one module per family.

Each family module defines ``CASES: dict[str, list[Case]]`` mapping a loss name to
cases. ``make(rng, n)`` returns the loss's input arrays for n rows; inputs should
keep away from kinks (|r| = delta, p = y) so finite differences are meaningful.
The catalogue-wide tests run every case through finite differences, chunk merging,
row order, weights and a single row; a loss without a case fails the completeness test.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np

from losscli.checks import QUERY, Case  # noqa: F401  (the family modules import Case from here)


def all_cases() -> dict[str, list[Case]]:
    cases: dict[str, list[Case]] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, items in module.CASES.items():
            cases.setdefault(name, []).extend(items)
    return cases


def away_from(x: np.ndarray, points, gap: float = 1e-3) -> np.ndarray:
    """Nudge values that sit within `gap` of a kink so central differences stay on one side."""
    x = np.array(x, dtype=np.float64)
    for point in np.atleast_1d(points):
        near = np.abs(x - point) < gap
        x[near] = point + np.where(x[near] >= point, 1.0, -1.0) * 2 * gap
    return x
