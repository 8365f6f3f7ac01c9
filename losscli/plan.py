"""The plan of a run: every role, weight, group and key column resolved once against the schema, before reading.

A column spec is a name (``pred``), a comma-separated list (``p0,p1,p2``) or a glob (``logit_*``);
columns matched by a glob keep the order they have in the file. A list column (Parquet, or a 2-D
array in memory) counts as one column per element, so an embedding stored as a vector can be named
directly. The plan also says which columns to read at all (the projection), which of them are
numbers, and which are keys to be read as text.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field

import pyarrow as pa

from .catalogue.base import Loss, Role
from .errors import InputDataError, UsageProblem
from .spec import LossSpec

ROLE_OPTIONS = {"pred": "--pred", "target": "--target"}


def option_for(role: str) -> str:
    return ROLE_OPTIONS.get(role, f"--input {role}=")


def option_usage(role: str) -> str:
    """How to name a role's columns: ``--target COLS`` or ``--input var=COLS``."""
    option = option_for(role)
    return f"{option}{'' if option.endswith('=') else ' '}COLS"


def match(columns: list[str], spec: str) -> list[str]:
    """The columns a spec names, in spec order for lists and file order for globs; [] if any part matches none."""
    chosen: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if any(ch in part for ch in "*?["):
            found = [c for c in columns if fnmatch.fnmatchcase(c, part)]
        else:
            found = [part] if part in columns else []
        if not found:
            return []
        chosen.extend(c for c in found if c not in chosen)
    return chosen


def resolve(schema: pa.Schema, sources: list[str], spec: str | None, role: Role, option: str,
            given: str | None = None) -> list[str]:
    """Columns for one role: the user's spec, else the first default that exists.

    ``option`` is how the user names these columns (``--pred``), ``given`` how they did (``--pred 'p'``,
    by default the option and the spec), for the messages.
    """
    columns = schema.names
    if spec:
        chosen = match(columns, spec)
        if chosen:
            return chosen
        missing = [p.strip() for p in spec.split(",") if p.strip() and not match(columns, p.strip())]
        hint = _did_you_mean(missing[0] if missing else spec, columns)
        raise InputDataError(
            f"{given or f'{option} {spec!r}'}: no column {', '.join(repr(m) for m in missing) or repr(spec)} "
            f"in {', '.join(sources)}.{hint} The columns are: {', '.join(columns)}."
        )
    for default in role.defaults:
        chosen = match(columns, default)
        if chosen:
            return chosen
    looked = ", ".join(role.defaults) if role.defaults else "(no default names)"
    raise InputDataError(
        f"No {role.name} column: {option} was not given and none of the default names exists ({looked}) "
        f"in {', '.join(sources)}. The columns are: {', '.join(columns)}. "
        f"Name them with {option}{'' if option.endswith('=') else ' '}COLS."
    )


def _did_you_mean(name: str, columns: list[str]) -> str:
    """' Did you mean y?' for a column name that is off by letter case or a few letters."""
    folded = {c.casefold(): c for c in reversed(columns)}
    guesses = [folded[g] for g in difflib.get_close_matches(name.casefold(), list(folded), n=3)]
    return f" Did you mean {', '.join(guesses)}?" if guesses else ""


def is_vector(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind) or pa.types.is_large_list(kind)


@dataclass
class LossPlan:
    """One loss of the run and the columns of each of its inputs."""

    spec: LossSpec
    columns: dict[str, list[str]]  # role name -> column names, in order

    @property
    def loss(self) -> Loss:
        return self.spec.loss

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def params(self) -> dict:
        return self.spec.params

    @property
    def first(self) -> str:
        """The role the gradient is taken with respect to (pred, or anchor for triplet)."""
        return self.loss.inputs[0].name


@dataclass
class Plan:
    losses: list[LossPlan]
    sources: list[str]
    weight: str | None = None
    group_by: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    query: str | None = None  # the --query key column of the query losses

    @property
    def numeric(self) -> list[str]:
        """Columns read as float64: every role's, and the weight's."""
        names = [c for lp in self.losses for cols in lp.columns.values() for c in cols]
        if self.weight:
            names.append(self.weight)
        return list(dict.fromkeys(names))

    @property
    def text(self) -> frozenset[str]:
        """Key columns: read as text where the format has no declared types (CSV), unless also numeric."""
        return frozenset(self.group_by + self.keep + self.query_column) - set(self.numeric)

    @property
    def projection(self) -> list[str]:
        return list(dict.fromkeys(self.numeric + self.group_by + self.keep + self.query_column))

    @property
    def query_column(self) -> list[str]:
        return [self.query] if self.query else []


def check_roles(losses: list[Loss], specs: dict[str, str | None]) -> None:
    """Refuse an --input ROLE that none of the requested losses takes (exit 2)."""
    known = {role.name for loss in losses for role in loss.inputs} | {"pred", "target"}
    unknown = [role for role, spec in specs.items() if spec and role not in known]
    if unknown:
        takes = ", ".join(sorted(known - {"pred", "target"})) or "none besides pred and target"
        raise UsageProblem(f"--input {unknown[0]}=...: no requested loss has an input called {unknown[0]!r} "
                           f"(extra inputs of these losses: {takes}).")


def make_plan(schema: pa.Schema, sources: list[str], specs: list[LossSpec], columns: dict[str, str | None] | None = None,
              *, weight: str | None = None, group_by: list[str] | tuple = (), keep: str | list[str] | None = None,
              reduction: str = "mean", query: str | None = None) -> Plan:
    """Resolve every column the run needs against the schema; nothing is read yet."""
    columns = columns or {}
    check_roles([s.loss for s in specs], columns)
    plan = Plan(losses=[], sources=list(sources))
    picked: dict[str, list[str]] = {}  # loss label -> "role=columns" picked from the default names
    for spec in specs:
        roles = {}
        for role in spec.loss.inputs:
            own = spec.columns.get(role.name)
            given = f"--loss {spec.label!r} ({role.name}={own.replace(',', ';')})" if own else None
            roles[role.name] = resolve(schema, sources, own or columns.get(role.name), role, option_for(role.name), given)
            # a column named like its role (pred, target) is no guess; any other default pick is said on stderr
            if not own and not columns.get(role.name) and roles[role.name] != [role.name]:
                picked.setdefault(spec.label, []).append(f"{role.name}={','.join(roles[role.name])}")
        plan.losses.append(LossPlan(spec=spec, columns=roles))
        if weight and not spec.loss.sample_weights:
            plan.warnings.append(f"Loss {spec.label!r} cannot take sample weights; --weight is ignored for it.")
        if spec.loss.per == "set" and reduction != "mean":
            plan.warnings.append(f"Loss {spec.label!r} is defined on the whole set; --reduction {reduction} does not change it.")
    if picked:
        plan.warnings.append(default_columns_notice(picked, specs[0].loss.name))
    if weight:
        names = resolve(schema, sources, weight, Role("weight", "sample weights"), "--weight")
        if len(names) != 1:
            raise InputDataError(f"--weight {weight!r} names {len(names)} columns ({', '.join(names)}); give exactly one.")
        plan.weight = names[0]
    plan.group_by = list(dict.fromkeys(
        c for spec in group_by for c in resolve(schema, sources, spec, Role("group", "group key"), "--group-by")))
    for name in plan.group_by:
        kind = schema.field(name).type
        if is_vector(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind):
            raise InputDataError(f"--group-by column {name!r} holds {kind} values, which cannot be group keys. "
                                 "Group by a column of numbers, text or dates.")
    plan.query = resolve_query(schema, sources, specs, query, plan.warnings)
    if keep:
        specs_ = [keep] if isinstance(keep, str) else list(keep)
        plan.keep = list(dict.fromkeys(
            c for spec in specs_ for c in resolve(schema, sources, spec, Role("keep", "key columns"), "--keep")))
    return plan


def default_columns_notice(picked: dict[str, list[str]], example: str) -> str:
    """One sentence for every column picked from the default names, so a wrong pick does not go unnoticed."""
    uses = list(dict.fromkeys(", ".join(v) for v in picked.values()))
    what = uses[0] if len(uses) == 1 else "; ".join(f"{label}: {', '.join(v)}" for label, v in picked.items())
    return (f"columns picked by their default names: {what}. If that is not right, name them with --pred/--target, "
            f"or for one loss in its spec: -l '{example}:pred=COL'.")


QUERY_DEFAULTS = ("qid", "query", "query_id")


def resolve_query(schema: pa.Schema, sources: list[str], specs: list[LossSpec], query: str | None,
                  warnings: list[str]) -> str | None:
    """The --query key column when a query loss is asked for (default names qid, query, query_id)."""
    wanting = [s.label for s in specs if s.loss.per == "query"]
    if not wanting:
        if query:
            warnings.append(f"--query {query!r} is used only by losses over queries; none was asked for.")
        return None
    if not query and not any(name in schema.names for name in QUERY_DEFAULTS):
        raise UsageProblem(f"{', '.join(wanting)} is defined on groups of rows: name the column holding each row's "
                           f"query (or batch) with --query COL (default names: {', '.join(QUERY_DEFAULTS)}).")
    names = resolve(schema, sources, query, Role("query", "query key", defaults=QUERY_DEFAULTS), "--query")
    if len(names) != 1:
        raise InputDataError(f"--query {query!r} names {len(names)} columns ({', '.join(names)}); give exactly one.")
    kind = schema.field(names[0]).type
    if is_vector(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind):
        raise InputDataError(f"--query column {names[0]!r} holds {kind} values, which cannot be query keys.")
    return names[0]


def parse_inputs(items: tuple[str, ...]) -> dict[str, str]:
    """``--input var=sigma2 --input anchor=a_*`` to {"var": "sigma2", "anchor": "a_*"}."""
    roles: dict[str, str] = {}
    for item in items:
        role, eq, spec = item.partition("=")
        if not eq or not role.strip() or not spec.strip():
            raise UsageProblem(f"--input {item!r}: expected ROLE=COLS, for example --input var=variance.")
        if role.strip() in roles:
            raise UsageProblem(f"--input {role.strip()}= was given twice ({roles[role.strip()]}, {spec.strip()}); "
                               f"give it once (one loss's own columns go in its spec: -l 'LOSS:{role.strip()}=COL').")
        roles[role.strip()] = spec.strip()
    return roles
