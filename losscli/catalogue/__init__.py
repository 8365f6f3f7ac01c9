"""The catalogue: every loss losscli knows, read by compute, list, explain and the API.

Each family module exports ``LOSSES``, a tuple of :class:`~losscli.catalogue.base.Loss`.
Adding a loss means adding one definition to a family module; nothing else
needs to know about it.
"""

from __future__ import annotations

import difflib
import importlib

from ..errors import IncompleteInstall
from .base import Loss

# Family modules, in the order `losscli list` shows them.
FAMILIES = (
    "regression",
    "robust",
    "classification",
    "margin",
    "multiclass",
    "segmentation",
    "embedding",
    "boxes",
    "distribution",
)


def _load() -> dict[str, Loss]:
    catalogue: dict[str, Loss] = {}
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"{__name__}.{family}")
        except ImportError as exc:
            raise IncompleteInstall(
                f"losscli cannot start: its {family!r} losses failed to load ({type(exc).__name__}: {exc}). "
                "The installation is incomplete or damaged; reinstall losscli (pip install --force-reinstall losscli).") from exc
        for loss in module.LOSSES:
            if loss.name in catalogue:
                raise RuntimeError(f"loss {loss.name!r} is defined twice")
            catalogue[loss.name] = loss
    return catalogue


CATALOGUE: dict[str, Loss] = _load()


def get(name: str) -> Loss:
    """The loss called ``name``; KeyError when there is none."""
    return CATALOGUE[name]


def closest(name: str) -> list[str]:
    """Catalogue names that look like ``name``, best first."""
    return difflib.get_close_matches(name, list(CATALOGUE), n=3, cutoff=0.5)
