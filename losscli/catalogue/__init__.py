"""The catalogue: every loss losscli knows, read by compute, list, explain and the API.

Each family module exports ``LOSSES``, a tuple of :class:`~losscli.catalogue.base.Loss`.
Adding a loss means adding one definition to a family module; nothing else
needs to know about it.

Plugins add losses written in the same vocabulary: a Python file given with ``--plugin FILE``
(:func:`load_plugin`) or an installed package that declares an entry point in the
``losscli.losses`` group (:func:`load_entry_points`, run the first time a name is not built in or the
whole catalogue is read, through :func:`everything`: finding entry points costs a run tens of
milliseconds, and a plugin can never shadow a built-in name). A plugin
module defines ``LOSSES`` (a sequence of ``Loss``) and, optionally, ``CASES`` (example inputs for
`losscli check`, as in the test suite); an entry point may also name the sequence itself. Plugin
losses are marked with their origin, which list and explain show. A plugin that does not import,
reuses a name, or has a loss without a gradient is refused with a UsageProblem (exit 2) naming the
file and the problem.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import os

from ..errors import IncompleteInstall, UsageProblem
from .aliases import ALIASES, Alias
from .base import Explain, Loss

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
    "ranking",
    "metric",
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
    for alias in ALIASES:
        if alias.name in catalogue or alias.loss not in catalogue:
            raise RuntimeError(f"alias {alias.name!r}: shadows a loss or names no loss ({alias.loss!r})")
    return {name: dataclasses.replace(loss, aliases=loss.aliases + tuple(a.name for a in ALIASES if a.loss == name))
            for name, loss in catalogue.items()}


CATALOGUE: dict[str, Loss] = _load()
ALIAS: dict[str, Alias] = {a.name: a for a in ALIASES}
PLUGIN_MODULES: dict[str, object] = {}  # origin -> the plugin's module (for its CASES)
PER_KINDS = ("element", "row", "set", "query")


def _problem(origin: str, text: str) -> UsageProblem:
    return UsageProblem(f"Plugin {origin}: {text}")


def register(losses, origin: str) -> list[Loss]:
    """Check a plugin's losses and add them to the catalogue, marked with ``origin``; returns them."""
    if isinstance(losses, Loss) or not hasattr(losses, "__iter__"):
        raise _problem(origin, "LOSSES must be a list or tuple of losscli Loss(...) values.")
    added: list[Loss] = []
    seen: set[str] = set()
    for loss in losses:
        if not isinstance(loss, Loss):
            raise _problem(origin, f"LOSSES holds {type(loss).__name__} {loss!r}, not a losscli Loss(...).")
        name = loss.name
        if not isinstance(name, str) or not name.isidentifier():
            raise _problem(origin, f"loss name {name!r} must be a plain identifier such as my_loss.")
        if name in seen:
            raise _problem(origin, f"defines loss {name!r} twice.")
        seen.add(name)
        existing = CATALOGUE.get(name)
        if existing is not None:
            if existing.origin == origin:  # the same plugin loaded again in this process
                added.append(existing)
                continue
            where = existing.origin or "the built-in catalogue"
            raise _problem(origin, f"loss {name!r} already exists (from {where}); give yours another name.")
        if name in ALIAS:
            raise _problem(origin, f"loss {name!r} is already an alias of {ALIAS[name].loss}; give yours another name.")
        if not callable(loss.value):
            raise _problem(origin, f"loss {name!r} has no value function.")
        if not callable(loss.grad):
            raise _problem(origin, f"loss {name!r} has no gradient: give grad=, the derivative of its values with "
                                   f"respect to its first input ({loss.inputs[0].name if loss.inputs else 'pred'}).")
        if loss.per not in PER_KINDS:
            raise _problem(origin, f"loss {name!r} has per={loss.per!r}; use one of {', '.join(PER_KINDS)}.")
        if loss.per == "set" and not callable(loss.stats):
            raise _problem(origin, f"set-level loss {name!r} needs stats=, its per-row sufficient statistics.")
        if not loss.inputs:
            raise _problem(origin, f"loss {name!r} has no inputs (roles).")
        if not isinstance(loss.explain, Explain):
            raise _problem(origin, f"loss {name!r} needs explain=Explain(...), the text of losscli explain.")
        added.append(dataclasses.replace(loss, origin=origin))
    for loss in added:
        CATALOGUE[loss.name] = loss
    return added


def _import_file(path: str):
    import importlib.util
    import sys

    name = "losscli_plugin_" + "".join(ch if ch.isalnum() else "_" for ch in os.path.abspath(path))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise _problem(path, "is not a Python file (it should end in .py).")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the plugin's own error, told as such
        sys.modules.pop(name, None)
        line = ""
        tb = exc.__traceback__
        while tb is not None:
            if os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(path):
                line = f" (line {tb.tb_lineno})"
            tb = tb.tb_next
        if isinstance(exc, SyntaxError) and exc.lineno:
            line = f" (line {exc.lineno})"
        hint = ""
        if isinstance(exc, TypeError) and "'grad'" in str(exc):
            hint = " A Loss needs grad=, the derivative of its values with respect to its first input."
        raise _problem(path, f"could not be imported{line}: {type(exc).__name__}: {exc}.{hint}") from None
    return module


def load_plugin(path: str) -> list[Loss]:
    """Import a plugin file and register its LOSSES; loading the same file again changes nothing."""
    if not os.path.isfile(path):
        raise UsageProblem(f"--plugin {path!r}: no such file.")
    origin = os.path.relpath(path) if not os.path.isabs(path) else path
    if origin in PLUGIN_MODULES:
        module = PLUGIN_MODULES[origin]
    else:
        everything()  # installed packages first, as always: a name both use is then this file's to change
        module = _import_file(path)
    losses = getattr(module, "LOSSES", None)
    if losses is None:
        raise _problem(origin, "defines no LOSSES (a list of losscli Loss(...) values).")
    added = register(losses, origin)
    PLUGIN_MODULES[origin] = module
    return added


def load_entry_points(found=None) -> list[Loss]:
    """Register the losses of installed packages that declare a ``losscli.losses`` entry point."""
    if found is None:
        from importlib.metadata import entry_points

        found = entry_points(group="losscli.losses")
    added: list[Loss] = []
    for point in found:
        origin = f"package entry point {point.name} ({point.value})"
        try:
            target = point.load()
        except Exception as exc:
            raise _problem(origin, f"could not be imported: {type(exc).__name__}: {exc}.") from None
        losses = getattr(target, "LOSSES", target)
        added += register(losses, origin)
        PLUGIN_MODULES[origin] = target
    return added


_installed_plugins_loaded = False


def everything() -> dict[str, Loss]:
    """The whole catalogue, installed packages' losses included (loaded on the first call)."""
    global _installed_plugins_loaded
    if not _installed_plugins_loaded:
        _installed_plugins_loaded = True
        load_entry_points()
    return CATALOGUE


def get(name: str) -> Loss:
    """The loss called ``name``; KeyError when there is none."""
    return CATALOGUE[name] if name in CATALOGUE else everything()[name]


def lookup(name: str) -> tuple[Loss, Alias | None] | None:
    """The loss a name means, and the alias it went through: a catalogue name, an alias, or either in
    another letter case when that case-blind match means one loss with one preset; None otherwise."""
    if name in CATALOGUE:
        return CATALOGUE[name], None
    if name in ALIAS:
        return CATALOGUE[ALIAS[name].loss], ALIAS[name]
    if name in everything():  # an installed package's loss
        return CATALOGUE[name], None
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
    names = {n.casefold(): n for n in [*ALIAS, *everything()]}  # catalogue names win a case-blind tie
    found = [names[f] for f in difflib.get_close_matches(name.casefold(), list(names), n=3, cutoff=0.6)]
    return [repr(n) if n in CATALOGUE else f"{n!r} (= {ALIAS[n].spec})" for n in found]
