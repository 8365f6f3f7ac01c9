"""The plan of a run: every role, weight, group and key column resolved once against the schema, before reading.

A column spec is a name (``pred``), a comma-separated list (``p0,p1,p2``) or a glob (``logit_*``);
columns matched by a glob keep the order they have in the file. A spec that is exactly a column's
name names it whatever it holds, and a name in double quotes is always literal (``'"a,b",p[0]'``). A list column (Parquet, or a 2-D
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


def spec_names(spec: str) -> list[tuple[str, bool]]:
    """The names of a column spec, split at commas, each with whether it was written in double quotes.

    A quoted name is literal: commas, spaces at either end and * ? [ in it are part of the name
    (``"a,b"``, ``" target"``, ``"p[0]"``); a doubled quote inside stands for one quote.
    """
    names: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = inside = False
    i = 0
    while i < len(spec):
        ch = spec[i]
        if inside:
            if ch == '"' and spec[i + 1: i + 2] == '"':
                current.append('"')
                i += 1
            elif ch == '"':
                inside = False
            else:
                current.append(ch)
        elif ch == '"' and not "".join(current).strip():
            current, inside, quoted = [], True, True
        elif ch == ",":
            names.append(("".join(current), True) if quoted else ("".join(current).strip(), False))
            current, quoted = [], False
        elif not (quoted and ch.isspace()):
            current.append(ch)
        i += 1
    if inside:
        raise UsageProblem(f"Column spec {spec!r} opens a double quote it does not close.")
    names.append(("".join(current), True) if quoted else ("".join(current).strip(), False))
    return [(name, literal) for name, literal in names if name or literal]


def match(columns: list[str], spec: str, exclude=frozenset()) -> list[str]:
    """The columns a spec names, in spec order for lists and file order for globs; [] if any part matches none.

    A spec that is exactly a column's name names that column, whatever characters it holds; so does
    a part that is exactly a name, before it is taken for a glob. Globs skip the ``exclude`` columns
    (those another role names).
    """
    if spec in columns:
        return [spec]
    chosen: list[str] = []
    for part, literal in spec_names(spec):
        found = _matching(columns, part, literal, exclude)
        if not found:
            return []
        chosen.extend(c for c in found if c not in chosen)
    return chosen


def _matching(columns: list[str], part: str, literal: bool, exclude=frozenset()) -> list[str]:
    if literal or part in columns:
        return [part] if part in columns else []
    if any(ch in part for ch in "*?["):
        return [c for c in columns if fnmatch.fnmatchcase(c, part) and c not in exclude]
    return []


def resolve(schema: pa.Schema, sources: list[str], spec: str | None, role: Role, option: str,
            given: str | None = None, exclude=frozenset()) -> list[str]:
    """Columns for one role: the user's spec, else the first default that exists and no other role takes.

    ``option`` is how the user names these columns (``--pred``), ``given`` how they did (``--pred 'p'``,
    by default the option and the spec), for the messages; ``exclude`` the columns other roles name.
    """
    columns = schema.names
    if spec:
        chosen = match(columns, spec, exclude)
        if chosen:
            return chosen
        missing = [p for p, literal in spec_names(spec) if not _matching(columns, p, literal, exclude)]
        hint = _did_you_mean(missing[0] if missing else spec, columns)
        raise InputDataError(
            f"{given or f'{option} {spec!r}'}: no column {', '.join(repr(m) for m in missing) or repr(spec)} "
            f"in {', '.join(sources)}.{hint} The columns are: {shown_names(columns)}.{column_hints(columns, option)}"
        )
    taken = []
    for default in role.defaults:
        chosen = match(columns, default, exclude)
        if chosen and not set(chosen) & set(exclude):
            return chosen
        taken += [c for c in chosen if c in exclude]
    if taken:
        raise UsageProblem(f"Column {taken[0]!r}, the default {role.name} column, is named for another role: a column "
                           f"serves one role only. Name the {role.name} column with {option} COLS.")
    looked = ", ".join(role.defaults) if role.defaults else "(no default names)"
    raise InputDataError(
        f"No {role.name} column: {option} was not given and none of the default names exists ({looked}) "
        f"in {', '.join(sources)}. The columns are: {shown_names(columns)}. "
        f"Name them with {option}{'' if option.endswith('=') else ' '}COLS.{column_hints(columns, option)}"
    )


def _did_you_mean(name: str, columns: list[str]) -> str:
    """' Did you mean y?' for a column name that is off by letter case or a few letters."""
    folded = {c.casefold(): c for c in reversed(columns)}
    guesses = [folded[g] for g in difflib.get_close_matches(name.casefold(), list(folded), n=3)]
    return f" Did you mean {', '.join(guesses)}?" if guesses else ""


def shown_names(columns: list[str]) -> str:
    """Column names for a message, quoted only where a plain list would hide where a name starts or ends."""
    return ", ".join(c if c and c == c.strip() and "," not in c else repr(c) for c in columns)


def column_hints(columns: list[str], option: str) -> str:
    """What to do when the columns themselves look wrong: a file read with the wrong separator, names that need quoting."""
    if len(columns) == 1:
        for sep, word in ((";", "semicolon"), ("|", "pipe"), ("\t", "tab")):
            if sep in columns[0]:
                return f" The file reads as one column: it looks {word}-separated; pass --sep '{sep}'."
    odd = next((c for c in columns if c != c.strip() or any(ch in c for ch in ',*?["')), None)
    if odd is not None:
        quoted = '"' + odd.replace('"', '""') + '"'
        return f" Names with commas, * ? [ \" or spaces at either end are named in double quotes: {option} '{quoted}'."
    return ""


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
    classes: dict[str, "ClassNames"] = field(default_factory=dict)  # target column of class names -> its classes
    keep_as: dict[str, str] = field(default_factory=dict)  # --keep column -> its name in per-row outputs

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
              reduction: str = "mean", query: str | None = None,
              classes: list[str] | tuple[str, ...] | None = None) -> Plan:
    """Resolve every column the run needs against the schema; nothing is read yet.

    A column serves one role: names written out claim their column, so no glob or default of
    another role takes it, and one column named for two roles is a usage error.
    """
    columns = columns or {}
    check_roles([s.loss for s in specs], columns)
    plan = Plan(losses=[], sources=list(sources))
    picked: dict[str, list[str]] = {}  # loss label -> "role=columns" picked from the default names
    names = schema.names
    claimed = {role: literal_names(names, spec) for role, spec in columns.items() if spec}
    claimed["weight"] = literal_names(names, weight) if weight else []
    claimed["group"] = [c for spec in group_by for c in literal_names(names, spec)]

    def others(role: str) -> frozenset[str]:
        return frozenset(c for r, cols in claimed.items() if r != role for c in cols)

    if weight:
        found = resolve(schema, sources, weight, Role("weight", "sample weights"), "--weight", exclude=others("weight"))
        if len(found) != 1:
            raise InputDataError(f"--weight {weight!r} names {len(found)} columns ({', '.join(found)}); give exactly one.")
        plan.weight = found[0]
    plan.group_by = list(dict.fromkeys(
        c for spec in group_by for c in resolve(schema, sources, spec, Role("group", "group key"), "--group-by",
                                                exclude=others("group"))))
    shared = {"--weight": [plan.weight] if plan.weight else [], "--group-by": plan.group_by}
    for spec in specs:
        roles: dict[str, list[str]] = {}
        # named roles first (in the loss's own spec or globally), so no default or glob of another role takes them
        for role in sorted(spec.loss.inputs, key=lambda r: not (spec.columns.get(r.name) or columns.get(r.name))):
            own = spec.columns.get(role.name)
            given = f"--loss {spec.label!r} ({role.name}={own.replace(',', ';')})" if own else None
            taken = (others(role.name) | {c for cols in roles.values() for c in cols}
                     | {c for cols in shared.values() for c in cols})
            roles[role.name] = resolve(schema, sources, own or columns.get(role.name), role, option_for(role.name),
                                       given, taken)
            # a column named like its role (pred, target) is no guess; any other default pick is said on stderr
            if not own and not columns.get(role.name) and roles[role.name] != [role.name]:
                picked.setdefault(spec.label, []).append(f"{role.name}={','.join(roles[role.name])}")
        roles = {role.name: roles[role.name] for role in spec.loss.inputs}
        check_one_role_each({**{option_for(r): cols for r, cols in roles.items()}, **shared})
        plan.losses.append(LossPlan(spec=spec, columns=roles))
        if weight and not spec.loss.sample_weights:
            plan.warnings.append(f"Loss {spec.label!r} cannot take sample weights; --weight is ignored for it.")
        if spec.loss.per == "set" and reduction != "mean":
            plan.warnings.append(f"Loss {spec.label!r} is defined on the whole set; --reduction {reduction} does not change it.")
    if picked:
        plan.warnings.append(default_columns_notice(picked, specs[0].loss.name))
    plan.query = resolve_query(schema, sources, specs, query, plan.warnings)
    if keep:
        specs_ = [keep] if isinstance(keep, str) else list(keep)
        plan.keep = list(dict.fromkeys(
            c for spec in specs_ for c in resolve(schema, sources, spec, Role("keep", "key columns"), "--keep")))
    check_unique_names(names, plan.projection, sources)
    for name in plan.group_by:
        kind = schema.field(name).type
        if is_vector(kind) or pa.types.is_struct(kind) or pa.types.is_map(kind) or pa.types.is_union(kind):
            raise InputDataError(f"--group-by column {name!r} holds {kind} values, which cannot be group keys. "
                                 "Group by a column of numbers, text or dates.")
    plan.classes = class_names(schema, plan, classes)
    plan.keep_as = keep_names(plan)
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


def literal_names(columns: list[str], spec: str) -> list[str]:
    """The columns a spec names outright (not through a glob)."""
    if spec in columns:
        return [spec]
    return [name for name, _ in spec_names(spec) if name in columns]


def check_one_role_each(roles: dict[str, list[str]]) -> None:
    """Refuse a column named for two roles (exit 2): --pred y --target y would compare y with itself."""
    owner: dict[str, str] = {}
    for option, cols in roles.items():
        for column in cols:
            if column in owner and owner[column] != option:
                raise UsageProblem(f"Column {column!r} is named for two roles, {owner[column]} and {option}: a column "
                                   "serves one role only. Name another column for one of them.")
            owner[column] = option


def check_unique_names(columns: list[str], used: list[str], sources: list[str]) -> None:
    """Refuse a used column whose name the file gives to several columns (exit 3): which one is meant is unknown."""
    for name in used:
        where = [i + 1 for i, c in enumerate(columns) if c == name]
        if len(where) > 1:
            numbers = ", ".join(map(str, where[:-1])) + f" and {where[-1]}"
            raise InputDataError(f"{', '.join(sources)} has {len(where)} columns named {name!r} (columns {numbers}). "
                                 "Rename them so that each column has its own name.")


@dataclass(frozen=True)
class ClassNames:
    """The class names of a target column of text, in class-index order, and where they come from."""

    names: tuple[str, ...]
    origin: str


def is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return any(test(kind) for test in (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
                                       pa.types.is_large_binary))


def class_names(schema: pa.Schema, plan: Plan, given) -> dict[str, ClassNames]:
    """For each target column of class names (text): the classes, from --classes or the pred columns' suffixes
    (prob_cat, prob_dog -> cat, dog). Found nowhere, the classes are empty and reading names the problem."""
    given = [c.strip() for c in given] if given else None
    if given is not None:
        if len(set(given)) != len(given) or "" in given:
            raise UsageProblem(f"--classes {','.join(given)!r}: every class needs a name, once.")
    found: dict[str, ClassNames] = {}
    for lp in plan.losses:
        targets = lp.columns.get("target")
        if not targets or len(targets) != 1 or not is_text(schema.field(targets[0]).type):
            continue
        preds = lp.columns[lp.first]
        scalar = not any(is_vector(schema.field(c).type) for c in preds)
        if given is not None:
            count = len(preds) if len(preds) > 1 else 2
            if scalar and len(given) != count:
                raise UsageProblem(f"--classes names {len(given)} classes, but loss {lp.label!r} has "
                                   f"{len(preds)} pred column{'s' if len(preds) > 1 else ''} ({', '.join(preds)}), "
                                   f"so it needs {count}.")
            found[targets[0]] = ClassNames(tuple(given), "given by --classes")
        elif lp.loss.role("target").width in (1, "1|pred"):
            found[targets[0]] = _suffix_classes(preds) if scalar else ClassNames((), "pred is a vector column")
    if given is not None and not found:
        plan.warnings.append("--classes is used only for a target column of class names; "
                             "the target columns here hold numbers, read as class indices.")
    return found


def _suffix_classes(preds: list[str]) -> ClassNames:
    """prob_cat, prob_dog, prob_fox -> cat, dog, fox: what follows the columns' shared prefix, cut at a separator."""
    import os

    prefix = os.path.commonprefix(preds) if len(preds) > 1 else ""
    cut = max(prefix.rfind(sep) for sep in "_-.: ")
    suffixes = [c[cut + 1:] for c in preds]
    if cut < 0 or "" in suffixes or len(set(suffixes)) != len(suffixes):
        return ClassNames((), f"the pred columns {', '.join(preds)} do not end in class names after a shared prefix "
                              "such as prob_")
    return ClassNames(tuple(suffixes), f"the suffixes of the pred columns {', '.join(preds)}")


def keep_names(plan: Plan) -> dict[str, str]:
    """The name each --keep column gets in per-row outputs: its own, unless losscli's row, loss or a loss label
    already has it; then input_NAME."""
    reserved = {"row", "loss"} | {lp.label for lp in plan.losses}
    out: dict[str, str] = {}
    for name in plan.keep:
        new = name
        while new in reserved or new in out.values():
            new = f"input_{new}"
        if new != name:
            plan.warnings.append(f"--keep column {name!r} is written as {new!r}: losscli's own {name!r} column has "
                                 "its name.")
        out[name] = new
    return out


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
