"""Loss specifications: ``name`` or ``name:key=value,key=value`` as the user typed it.

Keys are the loss's parameters (``focal:gamma=1.5``) or its inputs, naming that loss's own columns
(``bce:pred=prob``, ``cross_entropy:pred=logit_*``, ``;`` between several names); a loss's own
columns override the global --pred/--target/--input for that loss alone.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from .catalogue import closest, lookup
from .catalogue.base import Loss
from .errors import UsageProblem


@dataclass(frozen=True)
class LossSpec:
    """A loss with all its parameters resolved, labelled exactly as the user wrote it."""

    label: str
    loss: Loss
    params: dict[str, Any]
    columns: dict[str, str] = field(default_factory=dict)  # role -> its own column spec (``bce:pred=prob``)

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


def split_spec(text: str) -> tuple[str, str]:
    """``focal:gamma=2`` -> (``focal``, ``gamma=2``). A name may hold one colon itself (XGBoost's
    ``reg:squarederror``), so the longer reading wins when it names a loss."""
    parts = text.split(":")
    if len(parts) >= 2 and "=" not in parts[1]:
        longer = ":".join(parts[:2]).strip()
        if lookup(longer) is not None or lookup(parts[0].strip()) is None:
            return longer, ":".join(parts[2:])
    return parts[0].strip(), ":".join(parts[1:])


def unknown_loss(name: str, context: str = "") -> UsageProblem:
    guesses = closest(name)
    hint = f" Did you mean {' or '.join(guesses)}?" if guesses else ""  # closest() quotes them
    return UsageProblem(f"Unknown loss {name!r}{context}.{hint} Run 'losscli list' to see every loss and alias.")


def parse_spec(text: str) -> LossSpec:
    """Parse ``focal:gamma=1.5,alpha=0.25`` or ``bce:pred=prob``; a UsageProblem names what is wrong and the fix.

    The name may be an alias (``binary_crossentropy``), whose preset parameters come first; keys are
    the loss's parameters or its inputs (``pred=prob``, ``target=y0;y1``: columns, ``;`` between names).
    """
    name, rest = split_spec(text)
    found = lookup(name)
    if found is None:
        raise unknown_loss(name, f" in --loss {text!r}")
    loss, alias = found
    params = loss.defaults()
    if alias is not None and alias.preset:
        params.update(_parse_items(loss, alias.preset, alias.spec, {}, set()))
    columns: dict[str, str] = {}
    params.update(_parse_items(loss, rest, text, columns, set()))
    return LossSpec(label=text, loss=loss, params=params, columns=columns)


def _parse_items(loss: Loss, rest: str, text: str, columns: dict[str, str], given: set[str]) -> dict[str, Any]:
    """The ``key=value`` items after the colon: parameters are returned, input columns go to ``columns``."""
    params: dict[str, Any] = {}
    roles = [role.name for role in loss.inputs]
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq:
            raise UsageProblem(f"--loss {text!r}: expected key=value, got {item!r}. "
                               "Example: --loss focal:gamma=1.5,alpha=0.25 or --loss bce:pred=prob")
        if key in given:
            raise UsageProblem(f"--loss {text!r} sets {key!r} twice. Give each key once.")
        given.add(key)
        if key in roles:
            names = [n.strip() for n in raw.split(";") if n.strip()]
            if not names:
                raise UsageProblem(f"--loss {text!r}: {key}= names no column. Example: {loss.name}:{key}=COL "
                                   f"(several columns: {key}=a;b, or a glob: {key}=a_*).")
            columns[key] = ",".join(names)
            continue
        param = next((p for p in loss.params if p.name == key), None)
        if param is None:
            guesses = difflib.get_close_matches(key, [*loss.param_names, *roles], n=1)
            hint = f" Did you mean {guesses[0]!r}?" if guesses else ""
            known = ", ".join(loss.param_names) or "none"
            raise UsageProblem(f"Loss {loss.name!r} has no parameter {key!r}.{hint} Its parameters: {known}; "
                               f"its inputs, which take its own columns as INPUT=COL: {', '.join(roles)}.")
        try:
            params[key] = param.parse(raw)
        except ValueError as exc:
            raise UsageProblem(f"The {key!r} parameter of loss {loss.name!r} {exc}") from None
    return params


def spec_from_values(name: str, values: dict[str, Any]) -> LossSpec:
    """A spec from Python values (``get("focal", gamma=1.5)``), checked as the command line checks text."""
    spec = parse_spec(name)
    if spec.columns:
        raise UsageProblem(f"{name!r} names columns ({', '.join(f'{k}=' for k in spec.columns)}), but get() takes arrays "
                           "by input name: call .value(pred=..., target=...). Column keys belong in compute() specs.")
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
        spec.label + ("," if split_spec(spec.label)[1].strip() else ":")
        + ",".join(f"{k}={format_param(params[k])}" for k in values))
    return LossSpec(label=label, loss=spec.loss, params=params, columns=spec.columns)
