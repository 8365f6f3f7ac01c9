"""Loss specifications: ``name`` or ``name:key=value,key=value`` as the user typed it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .catalogue import CATALOGUE, closest
from .catalogue.base import Loss
from .errors import UsageProblem


@dataclass(frozen=True)
class LossSpec:
    """A loss with all its parameters resolved, labelled exactly as the user wrote it."""

    label: str
    loss: Loss
    params: dict[str, Any]

    def __reduce__(self):
        # A spec travels (to a cluster's workers) as the text it is labelled with, which parses back to it;
        # the definition's functions stay behind, each process having the catalogue itself.
        return parse_spec, (self.label,)

    def signature(self, reduction: str) -> str:
        """``focal|gamma=2|alpha=0.25|compat=torch|mean|losscli 0.2.0``: equal signatures, comparable numbers."""
        from . import __version__

        parts = [self.loss.name]
        parts += [f"{k}={format_param(v)}" for k, v in self.params.items()]
        return "|".join(parts + [reduction, f"losscli {__version__}"])


def format_param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ";".join(format_param(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}" if value == float(f"{value:g}") else repr(value)
    return str(value)


def parse_spec(text: str) -> LossSpec:
    """Parse ``focal:gamma=1.5,alpha=0.25``; a UsageProblem names what is wrong and the fix."""
    name, _, rest = text.partition(":")
    name = name.strip()
    if name not in CATALOGUE:
        guesses = closest(name)
        hint = f" Did you mean {' or '.join(repr(g) for g in guesses)}?" if guesses else ""
        raise UsageProblem(f"Unknown loss {name!r} in --loss {text!r}.{hint} Run 'losscli list' to see every loss.")
    loss = CATALOGUE[name]
    params = loss.defaults()
    given: set[str] = set()
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq:
            raise UsageProblem(f"--loss {text!r}: expected key=value, got {item!r}. Example: --loss focal:gamma=1.5,alpha=0.25")
        param = next((p for p in loss.params if p.name == key), None)
        if param is None:
            known = ", ".join(loss.param_names) or "no parameters"
            guesses = difflib.get_close_matches(key, list(loss.param_names), n=1)
            hint = f" Did you mean {guesses[0]!r}?" if guesses else ""
            raise UsageProblem(f"Loss {name!r} has no parameter {key!r}.{hint} It takes: {known}.")
        if key in given:
            raise UsageProblem(f"--loss {text!r} sets {key!r} twice.")
        try:
            params[key] = param.parse(raw)
        except ValueError as exc:
            raise UsageProblem(f"The {key!r} parameter of loss {name!r} {exc}") from None
        given.add(key)
    return LossSpec(label=text, loss=loss, params=params)


def spec_from_values(name: str, values: dict[str, Any]) -> LossSpec:
    """A spec from Python values (``get("focal", gamma=1.5)``), checked as the command line checks text."""
    spec = parse_spec(name)
    params = dict(spec.params)
    for key, value in values.items():
        param = next((p for p in spec.loss.params if p.name == key), None)
        if param is None:
            known = ", ".join(spec.loss.param_names) or "no parameters"
            raise UsageProblem(f"Loss {spec.loss.name!r} has no parameter {key!r}. It takes: {known}.")
        try:
            params[key] = param.coerce(value)
        except ValueError as exc:
            raise UsageProblem(f"The {key!r} parameter of loss {spec.loss.name!r} {exc}") from None
    label = spec.label if not values else (
        spec.label + (":" if ":" not in spec.label else ",") + ",".join(f"{k}={format_param(params[k])}" for k in values))
    return LossSpec(label=label, loss=spec.loss, params=params)
