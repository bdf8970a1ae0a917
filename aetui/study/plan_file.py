"""Plan files: a study written down in TOML, read into a checked StudyPlan.

    [study]                      name (the session prefix), data, hidden, samples (per condition),
                                 seeds, seed (the first), title
    [defaults]                   any training option, as `aetui train` takes it, for every condition
    [[condition]]                name; training options; from = "other" or "other@tenth|start|stepK";
                                 weight_scale, keep_biases; a list value makes one condition per value
    [[condition.then]]           at = SAMPLES; activation, weight_scale, keep_biases, lr: a restart
                                 part-way, as the `a` key does
    [[claim]]                    text = "...", compare = "locality(a) > locality(b)"

A key is an option's name without its dashes, with `-` or `_` alike (`bias-lr-scale`,
`bias_lr_scale`). Every mistake is one `PlanError` whose message is `PLAN:LINE:COL: what is
wrong`, pointing at the key (or table) that is wrong; nothing is trained or created before a
plan reads whole.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
import re
import tomllib
from pathlib import Path

import tomli_w

from aetui.errors import AetuiError, ConfigError
from aetui.model.config import TrainConfig, restart_weight_scale
from aetui.sessions.format import check_name
from aetui.study.claims import ClaimSpec, ClaimSyntaxError
from aetui.study.plan import PlanCondition, Step, StudyPlan

PLANS_DIR = Path(__file__).with_name("plans")  # the plans shipped in the package (transfer.toml)
STUDY_KEYS = ("name", "data", "hidden", "samples", "seeds", "seed", "title")
CONDITION_KEYS = ("name", "from", "weight_scale", "keep_biases", "then")
STEP_KEYS = ("at", "activation", "weight_scale", "keep_biases", "lr")
CLAIM_KEYS = ("text", "compare")
NOT_OPTIONS = ("seed", "heldout")  # config fields a plan does not set per condition ([study] seed is the first seed)
OPTIONS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in NOT_OPTIONS)
FLOAT_OPTIONS = tuple(f.name for f in dataclasses.fields(TrainConfig) if "float" in str(f.type))
BOOL_OPTIONS = ("tied", "balanced")
BRANCH_OPTIONS = ("activation", "lr")  # what a condition started from another may change (training/branch.py)
MAX_UNITS = 10_000  # conditions x seeds: a list or seed count past this is a typo, not a study


class PlanError(ConfigError):
    """A plan file that cannot be run; str() is `PLAN:LINE:COL: what is wrong` (the CLI prints it bare)."""

    located = True

    def __init__(self, path: str, line: int, col: int, message: str):
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path, self.line, self.col, self.message = path, line, col, message


def resolve_plan(spec: str) -> Path:
    """A plan file's path: SPEC itself, or the shipped plan of that name (`transfer`)."""
    path = Path(spec)
    if path.is_file():
        return path
    shipped = PLANS_DIR / f"{spec}.toml"
    if "/" not in spec and shipped.is_file():
        return shipped
    known = ", ".join(sorted(p.stem for p in PLANS_DIR.glob("*.toml")))
    raise ConfigError(f"no plan file {spec} (and no shipped plan of that name: {known})")


def read_plan(spec: str, seeds: int | None = None, data: str | None = None, name: str | None = None) -> StudyPlan:
    """The plan in file SPEC (or the shipped plan SPEC), checked; `seeds`, `data` and `name` override
    [study] seeds, data and name (the command line's --seeds, --data, --name)."""
    path = resolve_plan(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read plan file {path}: {exc}") from None
    return parse_plan(text, str(spec if path.parent != PLANS_DIR else path), seeds, data, name)


def parse_plan(text: str, where: str = "PLAN", seeds: int | None = None, data: str | None = None,
               name: str | None = None) -> StudyPlan:
    """The StudyPlan in TOML `text`; PlanError (`where:LINE:COL: ...`) for anything wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(m[1]), int(m[2])) if m else (1, 1)
        raise PlanError(where, line, col, re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)).lower()
                        if m else str(exc)) from None
    overrides = {k: v for k, v in (("data", data), ("name", name)) if v is not None}
    if overrides and isinstance(raw.get("study"), dict):
        for key, value in overrides.items():  # checked as the file's own would be, but said as the option
            try:
                check_name(value, "study") if key == "name" else TrainConfig(data=value).validated()
            except AetuiError as exc:
                raise ConfigError(f"--{key} {value!r}: {exc}") from None
        raw["study"].update(overrides)
    plan = _Reader(text, where).plan(raw, seeds)
    if overrides or seeds is not None:  # the file no longer says what runs: the plan is written out anew
        plan = dataclasses.replace(plan, source_text="")
    return plan


def plan_to_toml(plan: StudyPlan) -> str:
    """A plan file that reads back as `plan` (for a plan built in code, e.g. by `experiment transfer`)."""
    defaults = TrainConfig()
    study = {"name": plan.prefix, "title": plan.title, "data": plan.config.data, "hidden": plan.config.hidden,
             "samples": plan.samples, "seeds": plan.seeds, "seed": plan.seed}
    if not plan.title:
        del study["title"]
    conditions = []
    for c in plan.conditions:
        table: dict = {"name": c.name}
        if c.source is not None:
            table["from"] = c.source if c.snapshot is None else f"{c.source}@{c.snapshot}"
            table["weight_scale"] = c.weight_scale
            table["keep_biases"] = c.keep_biases
            keys = BRANCH_OPTIONS
        else:
            keys = tuple(k for k in OPTIONS if k not in ("data", "hidden"))
        for key in keys:
            value = getattr(c.config, key)
            if value != getattr(defaults, key) or key == "activation":
                table[key] = value
        if c.steps:
            table["then"] = [{k: v for k, v in dataclasses.asdict(st).items() if v is not None} for st in c.steps]
        conditions.append(table)
    claims = [{"text": spec.text, "compare": spec.statement} for spec in plan.claims]
    return tomli_w.dumps({"study": study, "condition": conditions, "claim": claims})


# -- where each key is --------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')\s*(?:\.\s*[A-Za-z0-9_-]+\s*)*=")


def key_positions(text: str) -> dict[tuple, tuple[int, int]]:
    """(table path..., key) -> (line, column), both from 1, for the plan's tables and keys.

    Paths: ("study",), ("study", "name"), ("condition", 0), ("condition", 0, "from"),
    ("condition", 0, "then", 1, "at"), ("claim", 2, "compare"). Lines inside multi-line strings
    are skipped; a position not found falls back to its table's (see PlanError's callers).
    """
    out: dict[tuple, tuple[int, int]] = {}
    counts: dict[tuple, int] = {}
    table: tuple = ()
    in_string = None
    for number, line in enumerate(text.splitlines(), 1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header is not None:
            parts = header[2].split(".")
            if header[1] == "[[":
                parent = _table_path(parts[:-1], table, counts)
                key = (*parent, parts[-1])
                counts[key] = counts.get(key, -1) + 1
                table = (*key, counts[key])
            else:
                table = _table_path(parts, table, counts)
            out.setdefault(table, (number, header.start(2) + 1))
            continue
        key = _KEY.match(line)
        if key is not None:
            out.setdefault((*table, key[1].strip("\"'")), (number, key.start(1) + 1))
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote
    return out


def _table_path(parts: list[str], current: tuple, counts: dict) -> tuple:
    """A dotted header's path, array tables resolved to their latest element ([[condition]] then [condition.x])."""
    path: tuple = ()
    for part in parts:
        path = (*path, part)
        if path in counts:
            path = (*path, counts[path])
    return path


class _Reader:
    """Reads one plan's raw TOML dict, raising PlanError at the first mistake."""

    def __init__(self, text: str, where: str):
        self.text, self.where = text, where
        self.positions = key_positions(text)

    def fail(self, path: tuple, message: str):
        at = path
        while at and at not in self.positions:
            at = at[:-1]
        line, col = self.positions.get(at, (1, 1))
        raise PlanError(self.where, line, col, message)

    # -- the tables ----------------------------------------------------------------------------
    def plan(self, raw: dict, seeds_override: int | None) -> StudyPlan:
        for key in raw:
            if key not in ("study", "defaults", "condition", "claim"):
                self.fail((key,), f"unknown table [{key}] (a plan has [study], [defaults], [[condition]] and [[claim]])")
        study = self.table(raw, "study", dict, required=True)
        self.known(("study",), study, STUDY_KEYS)
        prefix = self.string(study, ("study", "name"), required=True)
        try:
            check_name(prefix, "study")
        except AetuiError as exc:
            self.fail(("study", "name"), str(exc))
        samples = self.whole(study, ("study", "samples"), 1, required=True)
        seeds = self.whole(study, ("study", "seeds"), 1, default=1)
        seed = self.whole(study, ("study", "seed"), 0, default=0)
        if seeds_override is not None:
            seeds = seeds_override
        title = self.string(study, ("study", "title"), default="")
        base = {}
        for key in ("data", "hidden"):
            if key in study:
                base[key] = study[key]
        config = self.config(TrainConfig(seed=seed), {k: (("study", k), v) for k, v in base.items()})
        defaults = self.table(raw, "defaults", dict, default={})
        config = self.config(config, {self.option(("defaults", k), k): (("defaults", k), v) for k, v in defaults.items()})
        conditions = self.conditions(raw, config, samples)
        if len(conditions) * seeds > MAX_UNITS:
            self.fail(("study", "seeds"), f"{len(conditions)} conditions x {seeds} seeds is more than {MAX_UNITS:,} runs")
        for cond in conditions:
            try:
                check_name(f"{prefix}-{cond.name}" + ("" if seeds == 1 else f"-seed{seed + seeds - 1}"))
            except AetuiError as exc:
                self.fail(("study", "name"), f"condition {cond.name}: {exc}")
        claims = self.claims(raw, conditions)
        return StudyPlan(prefix, samples, tuple(conditions), tuple(claims), seeds, seed, title, self.text)

    def table(self, raw: dict, key: str, kind: type, required: bool = False, default=None):
        if key not in raw:
            if required:
                self.fail((), f"the plan has no [{key}] table" if kind is dict else f"the plan has no [[{key}]]")
            return default
        value = raw[key]
        if not isinstance(value, kind):
            self.fail((key,), f"{key} must be a table ([{key}])" if kind is dict else f"{key} must be [[{key}]] tables")
        return value

    def known(self, path: tuple, table: dict, keys: tuple[str, ...], options: bool = False) -> None:
        seen: dict[str, str] = {}
        for key in table:
            name = self.option_name(key)
            if name in seen:
                self.fail((*path, key), f"{key!r} and {seen[name]!r} are the same key, written twice")
            seen[name] = key
            if name in keys or (options and name in OPTIONS):
                continue
            choices = list(keys) + (list(OPTIONS) if options else [])
            near = difflib.get_close_matches(key.replace("-", "_"), choices, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            self.fail((*path, key), f"unknown key {key!r}{hint}")

    @staticmethod
    def option_name(key: str) -> str:
        return key.replace("-", "_")

    def normal(self, path: tuple, table: dict) -> dict[str, tuple[tuple, object]]:
        """A checked table's keys in one spelling (`_`): name -> (the key's path as written, value)."""
        return {self.option_name(k): ((*path, k), v) for k, v in table.items()}

    def option(self, path: tuple, key: str) -> str:
        name = self.option_name(key)
        if name == "seed":
            self.fail(path, "seed is the study's ([study] seed, the first of --seeds): every condition shares it")
        if name not in OPTIONS:
            near = difflib.get_close_matches(name, OPTIONS, n=1)
            self.fail(path, f"unknown training option {key!r}" + (f" (did you mean {near[0]}?)" if near else ""))
        return name

    # -- values --------------------------------------------------------------------------------
    def string(self, table: dict, path: tuple, required: bool = False, default: str | None = None) -> str | None:
        key = path[-1]
        if key not in table:
            if required:
                self.fail(path[:-1], f"{_table_name(path[:-1])} needs {key} = \"...\"")
            return default
        if not isinstance(table[key], str) or not table[key]:
            self.fail(path, f"{key} must be a non-empty string, not {table[key]!r}")
        return table[key]

    def whole(self, table: dict, path: tuple, minimum: int, required: bool = False, default: int | None = None) -> int:
        key = path[-1]
        if key not in table:
            if required:
                self.fail(path[:-1], f"{_table_name(path[:-1])} needs {key} = a whole number >= {minimum}")
            return default
        v = table[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            self.fail(path, f"{key} must be a whole number >= {minimum}, not {v!r}")
        return v

    def scale(self, path: tuple, v) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            self.fail(path, f"{path[-1]} must be a positive number, not {v!r}")
        return float(v)

    def flag(self, path: tuple, value) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"{path[-1]} must be true or false, not {value!r}")
        return value

    def config(self, config: TrainConfig, options: dict[str, tuple[tuple, object]]) -> TrainConfig:
        """config with `options` (name -> (path, value)) set, each checked as `aetui train` checks it."""
        for name, (path, value) in options.items():
            if name in BOOL_OPTIONS and not isinstance(value, bool):
                self.fail(path, f"{path[-1]} must be true or false, not {value!r}")
            if name in FLOAT_OPTIONS and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)  # a float32 kernel is compiled for floats: 1 and 1.0 are the same lr
            try:
                config = config.replace(**{name: value})
            except ConfigError as exc:
                self.fail(path, str(exc).replace("--", "", 1) if str(exc).startswith("--") else str(exc))
            except TypeError:  # pragma: no cover - a value the checks do not reach
                self.fail(path, f"{path[-1]} = {value!r} is not a valid value")
        return config

    # -- conditions ----------------------------------------------------------------------------
    def conditions(self, raw: dict, defaults: TrainConfig, samples: int) -> list[PlanCondition]:
        tables = self.table(raw, "condition", list, required=True)
        if not tables:
            self.fail(("condition",), "the plan has no [[condition]]")
        expanded: list[tuple[int, dict, tuple]] = []  # (table index, one expansion's keys, its list values)
        names: dict[str, tuple] = {}
        for i, table in enumerate(tables):
            path = ("condition", i)
            if not isinstance(table, dict):
                self.fail(("condition",), "condition must be [[condition]] tables")
            self.known(path, table, CONDITION_KEYS, options=True)
            name = self.string(table, (*path, "name"), required=True)
            lists = [(k, v) for k, v in table.items() if isinstance(v, list) and k != "then"]
            for key, values in lists:
                if not values:
                    self.fail((*path, key), f"{key} is an empty list: a list makes one condition per value")
                if len(set(map(repr, values))) != len(values):
                    self.fail((*path, key), f"{key} names a value twice: {values}")
            for combo in itertools.product(*(values for _, values in lists)):
                chosen = tuple((k, v) for (k, _), v in zip(lists, combo))
                one = {**table, **dict(chosen)}
                full = self.expanded_name(path, name, chosen)
                if full in names:
                    self.fail((*path, "name"), f"two conditions are named {full!r}")
                names[full] = path
                one["name"] = full
                expanded.append((i, one, chosen))
        by_name = {one["name"]: (i, one) for i, one, _ in expanded}
        self.check_sources(by_name)
        out: dict[str, PlanCondition] = {}
        pending = list(expanded)
        while pending:  # sources first, otherwise in file order (check_sources ruled out cycles)
            ready = next(e for e in pending if self.source_name(e[0], e[1]) in (None, *out))
            pending.remove(ready)
            i, one, chosen = ready
            out[one["name"]] = self.condition(i, one, chosen, defaults, out, samples)
        return list(out.values())

    def expanded_name(self, path: tuple, name: str, chosen: tuple) -> str:
        def word(key: str, value) -> str:
            text = f"{value:g}" if isinstance(value, float) else str(value)
            return f"x{text}" if self.option_name(key) == "weight_scale" else text

        values = {self.option_name(k): word(k, v) for k, v in chosen}
        try:
            full = name.format_map(values) if "{" in name else name
        except (KeyError, ValueError, IndexError) as exc:
            self.fail((*path, "name"), f"name {name!r}: {{{exc}}} is not a list-valued key of this condition"
                      if isinstance(exc, KeyError) else f"name {name!r}: {exc}")
        used = set(re.findall(r"\{(\w+)\}", name))
        full = "-".join([full, *(values[self.option_name(k)] for k, _ in chosen if self.option_name(k) not in used)])
        try:
            check_name(full, "condition")
        except AetuiError as exc:
            self.fail((*path, "name"), str(exc))
        return full

    def source_name(self, i: int, one: dict) -> str | None:
        spec = one.get("from")
        return None if spec is None else str(spec).partition("@")[0]

    def check_sources(self, by_name: dict[str, tuple[int, dict]]) -> None:
        for name, (i, one) in by_name.items():
            if "from" not in one:
                continue
            path = ("condition", i, "from")
            if not isinstance(one["from"], str):
                self.fail(path, f"from must be a condition's name (or NAME@SNAPSHOT), not {one['from']!r}")
            source = self.source_name(i, one)
            if source not in by_name:
                near = difflib.get_close_matches(source, list(by_name), n=1)
                self.fail(path, f"from = {one['from']!r}: there is no condition {source!r}"
                          + (f" (did you mean {near[0]}?)" if near else ""))
            seen, at = [name], source
            while at is not None:
                if at in seen:
                    self.fail(path, f"from makes a cycle: {' <- '.join([*seen, at])}")
                seen.append(at)
                at = self.source_name(*by_name[at])

    def condition(self, i: int, one: dict, chosen: tuple, defaults: TrainConfig, done: dict[str, PlanCondition],
                  samples: int) -> PlanCondition:
        path = ("condition", i)
        keys = self.normal(path, one)
        options = {self.option(p, p[-1]): (p, v) for k, (p, v) in keys.items() if k not in CONDITION_KEYS}
        source = snapshot = None
        keep = self.flag(*keys["keep_biases"]) if "keep_biases" in keys else False
        if "from" in keys:
            source, _, snapshot = keys["from"][1].partition("@")
            parent = done[source]
            others = [k for k in options if k not in BRANCH_OPTIONS]
            if others:
                p, _ = options[others[0]]
                self.fail(p, f"{p[-1]}: a condition started from {source} keeps its settings but for activation and lr")
            config = self.config(parent.config.replace(lr=None), options)
            snapshot = self.snapshot_alias(keys["from"][0], parent, snapshot or None)
            scale = (self.scale(*keys["weight_scale"]) if "weight_scale" in keys
                     else restart_weight_scale(_activation_at(parent, snapshot), config.activation))
        else:
            for key in ("keep_biases", "weight_scale"):
                if key in keys:
                    self.fail(keys[key][0], f"{keys[key][0][-1]} is for a condition started from another (from = ...)")
            config, scale = self.config(defaults, options), 1.0
        steps = self.steps(path, keys["then"] if "then" in keys else ((*path, "then"), []), config, samples)
        return PlanCondition(one["name"], config, source, snapshot, scale, keep, steps, chosen)

    def snapshot_alias(self, path: tuple, parent: PlanCondition, alias: str | None) -> str | None:
        steps = [f"step{k}" for k in range(1, len(parent.steps) + 1)]
        if alias == "start" and parent.source is None:
            self.fail(path, f"{parent.name} starts from random weights: to start there too, leave out from")
        if alias is None or alias in ("start", "tenth", *steps):
            return alias
        choices = ", ".join(["tenth", *steps] if parent.source is None else ["start", "tenth", *steps])
        self.fail(path, f"{parent.name} has no snapshot {alias!r} (its snapshots: {choices}; no @: its final weights)")

    def steps(self, path: tuple, then: tuple[tuple, object], config: TrainConfig, samples: int) -> tuple[Step, ...]:
        then_path, tables = then
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            self.fail(then_path, "then must be [[condition.then]] tables")
        out: list[Step] = []
        activation = config.activation
        last = 0
        for j, table in enumerate(tables):
            at_path = (*path, "then", j)
            self.known(at_path, table, STEP_KEYS)
            keys = self.normal(at_path, table)
            at = self.whole(table, (*at_path, "at"), 1, required=True)
            if at <= last or at >= samples:
                self.fail((*at_path, "at"), f"at = {at:,} must lie after the previous restart ({last:,}) and before "
                                            f"the condition's end ({samples:,} samples)")
            last = at
            changed = self.config(config.replace(lr=None), {k: keys[k] for k in ("activation", "lr") if k in keys})
            scale = (self.scale(*keys["weight_scale"]) if "weight_scale" in keys
                     else restart_weight_scale(activation, changed.activation))
            keep = self.flag(*keys["keep_biases"]) if "keep_biases" in keys else False
            out.append(Step(at, changed.activation, scale, keep, changed.lr))
            activation = changed.activation
        return tuple(out)

    # -- claims --------------------------------------------------------------------------------
    def claims(self, raw: dict, conditions: list[PlanCondition]) -> list[ClaimSpec]:
        tables = self.table(raw, "claim", list, default=[])
        names = [c.name for c in conditions]
        out = []
        for k, table in enumerate(tables):
            path = ("claim", k)
            if not isinstance(table, dict):
                self.fail(("claim",), "claim must be [[claim]] tables")
            self.known(path, table, CLAIM_KEYS)
            text = self.string(table, (*path, "text"), required=True)
            compare = self.string(table, (*path, "compare"), required=True)
            try:
                spec = ClaimSpec.parse(text, compare)
            except ClaimSyntaxError as exc:
                self.fail((*path, "compare"), str(exc))
            for name in spec.names:
                if name not in names:
                    near = difflib.get_close_matches(name, names, n=1)
                    self.fail((*path, "compare"), f"the claim names no condition {name!r}"
                              + (f" (did you mean {near[0]}?)" if near else f" (conditions: {', '.join(names)})"))
            out.append(spec)
        return out


def _table_name(path: tuple) -> str:
    """('condition', 0, 'then', 1) -> '[[condition.then]]'; ('study',) -> '[study]'."""
    names = [p for p in path if isinstance(p, str)]
    array = isinstance(path[-1], int) if path else False
    return f"[[{'.'.join(names)}]]" if array else f"[{'.'.join(names)}]"


def _activation_at(condition: PlanCondition, snapshot: str | None) -> str:
    """The activation condition's weights were learned under at `snapshot` (None: its end)."""
    acts = condition.activations()
    if snapshot is None:
        return acts[-1]
    if snapshot.startswith("step"):
        return acts[int(snapshot[4:]) - 1]  # just before restart K: the segment before it
    return acts[0]
