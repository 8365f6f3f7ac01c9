"""The catalogue: every loss losscli knows, read by compute, list, explain and the API.

Each family module exports ``LOSSES``, a tuple of :class:`~losscli.catalogue.base.Loss`.
Adding a loss means adding one definition to a family module; nothing else
needs to know about it.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib

from .aliases import ALIASES, Alias
from .base import Loss

# Family modules, in the order `losscli list` shows them.
FAMILIES = (
    "regression",
    "robust",
    "classification",
    "margin",
    "multiclass",
    "multilabel",
    "segmentation",
    "embedding",
    "boxes",
    "distribution",
    "pairs",
    "keypoints",
)


def _load() -> dict[str, Loss]:
    catalogue: dict[str, Loss] = {}
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"{__name__}.{family}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{family}":
                raise
            continue
        for loss in module.LOSSES:
            if loss.name in catalogue:
                raise RuntimeError(f"loss {loss.name!r} is defined twice")
            catalogue[loss.name] = loss
    for alias in ALIASES:
        if alias.name in catalogue or alias.loss not in catalogue:
            raise RuntimeError(f"alias {alias.name!r}: shadows a loss or names no loss ({alias.loss!r})")
    return {name: dataclasses.replace(loss, aliases=loss.aliases + tuple(a.name for a in ALIASES if a.loss == name))
            for name, loss in catalogue.items()}


CATALOGUE: dict[str, Loss] = _load()
ALIAS: dict[str, Alias] = {a.name: a for a in ALIASES}


def get(name: str) -> Loss:
    """The loss called ``name``; KeyError when there is none."""
    return CATALOGUE[name]


def lookup(name: str) -> tuple[Loss, Alias | None] | None:
    """The loss a name means, and the alias it went through: a catalogue name, an alias, or either in
    another letter case when that case-blind match means one loss with one preset; None otherwise."""
    if name in CATALOGUE:
        return CATALOGUE[name], None
    if name in ALIAS:
        return CATALOGUE[ALIAS[name].loss], ALIAS[name]
    folded = name.casefold()
    meanings = {(n, "") for n in CATALOGUE if n.casefold() == folded}
    meanings |= {(a.loss, a.preset) for a in ALIASES if a.name.casefold() == folded}
    if len(meanings) != 1:
        return None
    loss, preset = meanings.pop()
    alias = next((a for a in ALIASES if a.name.casefold() == folded and (a.loss, a.preset) == (loss, preset)), None)
    return CATALOGUE[loss], alias


def closest(name: str) -> list[str]:
    """Catalogue names and aliases that look like ``name``, best first, quoted for a message;
    an alias says what it means: ``'log_loss' (= bce:compat=sklearn)``."""
    names = {n.casefold(): n for n in [*ALIAS, *CATALOGUE]}  # catalogue names win a case-blind tie
    found = [names[f] for f in difflib.get_close_matches(name.casefold(), list(names), n=3, cutoff=0.6)]
    return [repr(n) if n in CATALOGUE else f"{n!r} (= {ALIAS[n].spec})" for n in found]
