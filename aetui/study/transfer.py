"""The transfer experiment: the study's question as a plan, built from `experiment transfer`'s options.

Five conditions, each a session in the store with its lineage recorded:

1. PREFIX-sigmoid               sigmoid from random init (its final weights: the others' start)
2. PREFIX-sigmoid-sigmoid       sigmoid from (1), biases reset
3. PREFIX-sigmoid-relu-x0.1     relu from (1), weights x0.1, biases reset
4. PREFIX-sigmoid-relu-x1       relu from (1), weights x1, biases reset
5. PREFIX-relu                  relu from random init (the control)

Several activations add conditions 3-5 for each; several seeds repeat every condition per seed
(sessions PREFIX-...-seedS). The defaults are the shipped plan file plans/transfer.toml, which
`aetui study run transfer` runs; TransferPlan builds the same StudyPlan for other activations,
scales, budgets and seeds, and aetui/study/runner.py runs it like any plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from aetui.errors import ConfigError, SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.format import check_name
from aetui.study.claims import BIAS_PATTERN, KEPT_COSINE, ClaimSpec
from aetui.study.plan import PlanCondition, StudyPlan
from aetui.study.runner import StudyResult, run_study

TITLE = "transfer experiment"


@dataclass(frozen=True)
class TransferPlan:
    """What to run: the budget per condition, the activations, the scales and the shared config."""

    samples: int = 300_000
    prefix: str = "transfer"
    activation: str | tuple[str, ...] = "relu"  # the activation(s) the learned weights are moved to
    base: str = "sigmoid"  # the activation they are learned under
    scales: tuple[float, ...] = (0.1, 1.0)
    config: TrainConfig = field(default_factory=TrainConfig)  # data, hidden, seed...; activation is set per condition
    seeds: int = 1  # every condition runs with seeds config.seed, config.seed + 1, ...

    @property
    def activations(self) -> tuple[str, ...]:
        return (self.activation,) if isinstance(self.activation, str) else tuple(self.activation)

    def validated(self) -> TransferPlan:
        if not (isinstance(self.samples, int) and self.samples >= 1):
            raise ConfigError(f"--samples must be a whole number >= 1, not {self.samples}")
        if not (isinstance(self.seeds, int) and self.seeds >= 1):
            raise ConfigError(f"--seeds must be a whole number >= 1, not {self.seeds}")
        if not self.activations:
            raise ConfigError("--activation needs at least one activation")
        for act in (*self.activations, self.base):
            self.config.replace(activation=act)  # ConfigError for an unknown activation
        if self.base in self.activations:
            raise ConfigError(f"--activation must differ from {self.base}, the activation the weights are learned under")
        if len(set(self.activations)) != len(self.activations):
            raise ConfigError(f"--activation names an activation twice: {','.join(self.activations)}")
        if not self.scales or not all(isinstance(s, (int, float)) and math.isfinite(s) and s > 0 for s in self.scales):
            raise ConfigError(f"weight scales must be positive numbers, not {self.scales}")
        if len({f"{s:g}" for s in self.scales}) != len(self.scales):
            raise ConfigError(f"--weight-scale names a scale twice: {','.join(f'{s:g}' for s in self.scales)}")
        try:
            check_name(self.prefix, "experiment prefix")
            for cond in self.study_plan().units():
                check_name(cond.session)
        except SessionError as exc:
            raise ConfigError(f"--name {self.prefix!r}: {exc}") from None
        return self

    def study_plan(self) -> StudyPlan:
        """The plan: conditions in the study's order (base, base again, then per activation its
        scales and its control) and the study's claims over them."""
        b = self.base
        config = self.config.replace(activation=b)
        conditions = [PlanCondition(b, config), PlanCondition(f"{b}-{b}", config, source=b)]
        for a in self.activations:
            moved = config.replace(activation=a)
            conditions += [PlanCondition(f"{b}-{a}-x{s:g}", moved, source=b, weight_scale=float(s)) for s in self.scales]
            conditions.append(PlanCondition(a, moved))
        return StudyPlan(self.prefix, self.samples, tuple(conditions), tuple(self.claims()), self.seeds,
                         self.config.seed, TITLE)

    def claims(self) -> list[ClaimSpec]:
        """The study's observations (DESIGN.md "The study") for each activation the weights move to."""
        b = self.base
        same, first = f"{b}-{b}", b
        out = [
            ClaimSpec.parse(f"{b} -> {b} keeps learning", f"heldout_loss({same}) < heldout_loss({first})"),
            ClaimSpec.parse(f"{b} -> {b}: filters sharpen", f"contrast({same}) > contrast({first})"),
            ClaimSpec.parse("the reset hidden bias grows back (to its old pattern)", f"bias_corr({same}) > {BIAS_PATTERN:g}"),
            ClaimSpec.parse("learned weights beat random init (early)",
                            f"heldout_at_tenth({same}) < heldout_at_tenth({first})"),
        ]
        small, big = min(self.scales), max(self.scales)
        for a in self.activations:
            moved, control = f"{b}-{a}-x{small:g}", a
            out += [
                ClaimSpec.parse("learned weights beat random init (early)",
                                f"heldout_at_tenth({moved}) < heldout_at_tenth({control})"),
                ClaimSpec.parse(f"{b} -> {a}: filters do not collapse", f"start_cosine({moved}) > {KEPT_COSINE:g}"),
                ClaimSpec.parse(f"{b} -> {a}: filters thin out", f"spread({moved}) < spread({first})"),
                ClaimSpec.parse(f"{b} gives more local filters than {a}", f"locality({first}) > locality({control})"),
                ClaimSpec.parse(f"{b} gives filters with more contrast than {a}", f"contrast({first}) > contrast({control})"),
            ]
            if big != small:
                out.append(ClaimSpec.parse(f"reusing weights under {a} diverges unless they are scaled down",
                                           f"diverged({b}-{a}-x{big:g}) and not diverged({moved})"))
        return out


def run_transfer(store, plan: TransferPlan, **how) -> StudyResult:
    """Run (or finish) the transfer experiment `plan` in `store`: run_study on its StudyPlan."""
    return run_study(store, plan.validated().study_plan(), **how)
