"""A study as data: its conditions, where each one's weights come from, its seeds and its claims.

A `StudyPlan` is what a plan file (aetui/study/plan_file.py) says, checked and expanded: every
condition with its complete training config, the condition (and snapshot) it starts from, the
restarts it makes part-way, and the claims judged on paired seeds at the end. The transfer
experiment is one such plan (aetui/study/plans/transfer.toml, and TransferPlan builds it from
its options).

Every (condition, seed) is one work unit, a `Condition`: session PREFIX-NAME (PREFIX-NAME-seedS
with several seeds); a condition started from another starts from that condition's run of the
same seed, so the pairs share their start and their random streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from aetui.model.config import TrainConfig
from aetui.study.claims import ClaimSpec

# The study's snapshots in a condition's session, keyed on the condition's first segment so a
# chain of conditions (each a copy of its source's folder) never repeats a name; a condition
# from random init (segment 0) and its first branch (segment 1) keep the names the transfer
# experiment's saved sessions have. A plan names them after '@': start, tenth, stepK.


def final_snapshot(first_segment: int) -> str:
    """A condition's final weights, when another condition starts from them."""
    return "transfer-source" if first_segment == 0 else f"transfer-source-{first_segment}"


def tenth_snapshot(first_segment: int) -> str:
    """A condition's weights after a tenth of its samples (the early held-out loss is measured on them)."""
    return f"transfer-tenth-{first_segment}"


def start_snapshot(first_segment: int) -> str:
    """A branched condition's first weights (after scaling): what start_cosine compares with."""
    return "transfer-start" if first_segment == 1 else f"transfer-start-{first_segment}"


def step_snapshot(segment: int) -> str:
    """The weights just before a restart part-way opened lineage segment `segment`."""
    return f"transfer-before-{segment}"


@dataclass(frozen=True)
class Step:
    """A restart part-way through a condition, as the `a` key does: at `at` samples into the condition."""

    at: int
    activation: str  # the activation it continues under
    weight_scale: float
    keep_biases: bool = False  # False: b and c reset to zero, as the restart key does by default
    lr: float | None = None  # None: the activation's default


@dataclass(frozen=True)
class PlanCondition:
    """One arm of a study: its training config and where its first weights come from."""

    name: str
    config: TrainConfig  # complete; its seed is the study's first seed
    source: str | None = None  # None: random init; else the condition whose weights it starts from
    snapshot: str | None = None  # of the source: None (its end), "start", "tenth" or "stepK"
    weight_scale: float = 1.0  # the source's weights times this
    keep_biases: bool = False  # a branched condition keeps the source's b and c (else both start at zero)
    steps: tuple[Step, ...] = ()
    values: tuple[tuple[str, object], ...] = field(default=(), compare=False)  # the list values that made it

    @property
    def activation(self) -> str:
        return self.config.activation

    def activations(self) -> tuple[str, ...]:
        return (self.activation, *(s.activation for s in self.steps))


@dataclass(frozen=True)
class Condition:
    """One work unit: a plan condition for one seed, trained in session `session`."""

    index: int  # the unit's place (the first seed's conditions in plan order, then the next seed's...)
    spec: PlanCondition
    session: str
    seed: int

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        """The condition's name: what tables, claims and progress call it."""
        return self.spec.name

    @property
    def activation(self) -> str:
        return self.spec.activation

    @property
    def source(self) -> str | None:
        return self.spec.source

    @property
    def weight_scale(self) -> float:
        return self.spec.weight_scale


@dataclass(frozen=True)
class StudyPlan:
    """What to run: the conditions (sources before the conditions that start from them), the budget
    per condition, the seeds, and the claims."""

    prefix: str
    samples: int
    conditions: tuple[PlanCondition, ...]
    claims: tuple[ClaimSpec, ...] = ()
    seeds: int = 1
    seed: int = 0  # the first seed: seeds seed, seed + 1, ...
    title: str = ""  # what the tables are headed with ("transfer experiment"; default: the prefix)
    source_text: str = field(default="", compare=False)  # the plan file, kept beside the sessions

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + k for k in range(self.seeds)]

    @property
    def config(self) -> TrainConfig:
        """The first condition's config: the study's data and hidden size (every condition shares them)."""
        return self.conditions[0].config

    def condition(self, name: str) -> PlanCondition:
        return next(c for c in self.conditions if c.name == name)

    def session_name(self, name: str, seed: int) -> str:
        return f"{self.prefix}-{name}" + ("" if self.seeds == 1 else f"-seed{seed}")

    def units(self) -> list[Condition]:
        """Every (condition, seed): the first seed's conditions in plan order, then the next seed's."""
        out: list[Condition] = []
        for seed in self.seed_list:
            for spec in self.conditions:
                out.append(Condition(len(out), spec, self.session_name(spec.name, seed), seed))
        return out

    def source_of(self, cond: Condition) -> Condition | None:
        """The unit whose weights `cond` starts from (its source condition, same seed), if any."""
        if cond.source is None:
            return None
        return next(c for c in self.units() if c.seed == cond.seed and c.name == cond.source)

    def first_segment(self, spec: PlanCondition) -> int:
        """The lineage index of the condition's first segment (a branch adds one to its source's)."""
        if spec.source is None:
            return 0
        source = self.condition(spec.source)
        return self.first_segment(source) + len(source.steps) + 1

    def snapshot_name(self, spec: PlanCondition) -> str | None:
        """The snapshot (in the source's session, copied with it) that condition `spec` starts from."""
        if spec.source is None:
            return None
        source = self.condition(spec.source)
        first = self.first_segment(source)
        alias = spec.snapshot
        if alias is None:
            return final_snapshot(first)
        if alias == "tenth":
            return tenth_snapshot(first)
        if alias == "start":
            return start_snapshot(first)
        return step_snapshot(first + int(alias[4:]))

    def is_source(self, spec: PlanCondition) -> bool:
        """Whether another condition starts from `spec`'s final weights."""
        return any(c.source == spec.name and c.snapshot is None for c in self.conditions)

    def start_label(self, spec: PlanCondition, steps: int = 0) -> str:
        """The lineage label of the condition's session after `steps` of its restarts, e.g. 'sigmoid > relu x0.1'."""
        # a branch's session holds its source's whole record (every segment, whichever snapshot it starts from)
        source = None if spec.source is None else self.condition(spec.source)
        parts = [] if source is None else [self.start_label(source, len(source.steps))]
        parts.append(_segment(spec.activation, spec.weight_scale, spec.source is not None))
        parts += [_segment(st.activation, st.weight_scale, True) for st in spec.steps[:steps]]
        return " > ".join(parts)

    def unexpected_lineage(self, spec: PlanCondition, label: str, segments: int) -> str | None:
        """None when a session with this lineage label and this many segments can be condition `spec`
        (started, and some of its restarts part-way made), else the label it should have."""
        applied = segments - 1 - self.first_segment(spec)
        if 0 <= applied <= len(spec.steps) and label == self.start_label(spec, applied):
            return None
        return self.start_label(spec, max(0, min(applied, len(spec.steps))))

    def activations(self) -> tuple[str, ...]:
        """Every activation the plan trains under, in first-use order (the kernels to warm up)."""
        out: list[str] = []
        for spec in self.conditions:
            out += [a for a in spec.activations() if a not in out]
        return tuple(out)

    def config_for(self, cond: Condition) -> TrainConfig:
        return cond.spec.config.replace(seed=cond.seed)

    def with_seeds(self, seeds: int) -> StudyPlan:
        return replace(self, seeds=seeds)

    def order(self) -> list[list[str]]:
        """The conditions in waves: the first needs nothing, each later one starts from an earlier wave."""
        depth: dict[str, int] = {}
        for spec in self.conditions:  # sources come first (the plan file checks it)
            depth[spec.name] = 0 if spec.source is None else depth[spec.source] + 1
        waves: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name, d in depth.items():
            waves[d].append(name)
        return waves


def _segment(activation: str, scale: float, reused: bool) -> str:
    """A segment's label as sessions/lineage.py writes it: 'relu x0.1' when it reused scaled weights."""
    return f"{activation} x{scale:g}" if reused and scale != 1.0 else activation
