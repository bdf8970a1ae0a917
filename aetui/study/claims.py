"""The study's observations as stated comparisons, each judged from paired seeds.

Pure computation on plain numbers: `runs[label][seed]` holds one finished condition's metrics
(`heldout_loss`, `heldout_at_tenth`, `locality`, `spread`, `contrast`, `start_cosine`,
`bias_corr`, `diverged` as 0/1). A comparison of two conditions takes, seed by seed, the
difference between them (the reuse runs of seed k start from the sigmoid run of seed k, so the
pairs share their start and their random streams), and the Student-t 95% interval of the mean
difference decides the verdict: `holds` when the interval lies wholly on the claimed side,
`contradicted` when wholly on the other, `not shown` otherwise (so always with one seed). A
yes/no claim (divergence) is judged on the share of seeds where it happened, with an exact
interval that must lie above one half.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from aetui.study.intervals import Interval, mean_interval, share_interval

HOLDS, NOT_SHOWN, CONTRADICTED = "holds", "not shown", "contradicted"
KEPT_COSINE = 0.5  # filters "kept": the mean cosine with the start stays above this
BIAS_PATTERN = 0.5  # the reset bias "grows back": correlation with the old b above this
MOST = 0.5  # a yes/no claim holds when it happens in more than this share of the seeds

Runs = dict[str, dict[int, dict[str, float]]]
Label = Callable[[str, str | None, float], str]  # (activation, source or None, weight scale) -> condition label


@dataclass(frozen=True)
class Claim:
    """One observation as a comparison: `effect` is mean(a - b) over paired seeds (or mean(a),
    or a share), claimed to be above (`sign` +1) or below (-1) `reference`."""

    observation: str  # the study's wording
    statement: str  # what is compared, e.g. "contrast(sigmoid > sigmoid) > contrast(sigmoid)"
    metric: str
    a: str
    b: str | None
    sign: int
    reference: float
    interval: Interval
    kind: str = "mean difference"  # or "mean", "share of seeds"

    @property
    def verdict(self) -> str:
        side = self.interval.excludes(self.reference)
        return HOLDS if side == self.sign else CONTRADICTED if side == -self.sign else NOT_SHOWN

    def to_json(self) -> dict:
        i = self.interval
        return {"observation": self.observation, "statement": self.statement, "metric": self.metric,
                "a": self.a, "b": self.b, "kind": self.kind, "effect": _num(i.mean),
                "ci": None if i.low is None else [_num(i.low), _num(i.high)], "pairs": i.n,
                "verdict": self.verdict}


def study_claims(runs: Runs, base: str, activations: tuple[str, ...], scales: tuple[float, ...],
                 label: Label) -> list[Claim]:
    """The study's observations (DESIGN.md "The study") for each activation the weights move to."""
    same = label(base, base, 1.0)
    first = label(base, None, 1.0)
    out = [
        _paired(runs, "sigmoid -> sigmoid keeps learning", "heldout_loss", same, first, -1),
        _paired(runs, "sigmoid -> sigmoid: filters sharpen", "contrast", same, first, +1),
        _level(runs, "the reset hidden bias grows back (to its old pattern)", "bias_corr", same, +1, BIAS_PATTERN),
        _paired(runs, "learned weights beat random init (early)", "heldout_at_tenth", same, first, -1),
    ]
    small, big = min(scales), max(scales)
    for act in activations:
        moved, control = label(act, base, small), label(act, None, 1.0)
        out += [
            _paired(runs, "learned weights beat random init (early)", "heldout_at_tenth", moved, control, -1),
            _level(runs, f"{base} -> {act}: filters do not collapse", "start_cosine", moved, +1, KEPT_COSINE),
            _paired(runs, f"{base} -> {act}: filters thin out", "spread", moved, first, -1),
            _paired(runs, f"{base} gives more local filters than {act}", "locality", first, control, +1),
            _paired(runs, f"{base} gives filters with more contrast than {act}", "contrast", first, control, +1),
        ]
        if big != small:
            out.append(_diverges(runs, act, label(act, base, big), moved))
    return out


def _paired(runs: Runs, observation: str, metric: str, a: str, b: str, sign: int) -> Claim:
    """Claim: metric(a) - metric(b) is above 0 (sign +1) or below (-1), over the seeds both have."""
    seeds = sorted(set(runs.get(a, {})) & set(runs.get(b, {})))
    diffs = [runs[a][s].get(metric, math.nan) - runs[b][s].get(metric, math.nan) for s in seeds]
    rel = ">" if sign > 0 else "<"
    return Claim(observation, f"{metric}({a}) {rel} {metric}({b})", metric, a, b, sign, 0.0, mean_interval(diffs))


def _level(runs: Runs, observation: str, metric: str, a: str, sign: int, reference: float) -> Claim:
    values = [m.get(metric, math.nan) for _, m in sorted(runs.get(a, {}).items())]
    rel = ">" if sign > 0 else "<"
    return Claim(observation, f"{metric}({a}) {rel} {reference:g}", metric, a, None, sign, reference,
                 mean_interval(values), kind="mean")


def _diverges(runs: Runs, act: str, big: str, small: str) -> Claim:
    """Claim: at the larger scale the reused weights diverge, at the smaller they do not (seed by seed)."""
    seeds = sorted(set(runs.get(big, {})) & set(runs.get(small, {})))
    hits = sum(1 for s in seeds if runs[big][s]["diverged"] and not runs[small][s]["diverged"])
    return Claim(f"reusing weights under {act} diverges unless they are scaled down",
                 f"diverged({big}) and not diverged({small})", "diverged", big, small, +1, MOST,
                 share_interval(hits, len(seeds)), kind="share of seeds")


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)
