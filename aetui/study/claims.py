"""A study's claims: comparisons stated in a plan, each judged from paired seeds.

A claim is written `locality(sigmoid) > locality(relu)` (a paired difference),
`bias_corr(sigmoid-sigmoid) > 0.5` (a mean against a number), `diverged(a)` or
`diverged(a) and not diverged(b)` (a yes/no, seed by seed), over condition names. Judging is
pure computation on plain numbers: `runs[name][seed]` holds one finished condition's metrics
(CLAIM_METRICS, `diverged` as 0/1). A comparison of two conditions takes, seed by seed, the
difference between them (a condition started from another starts from that one's run of the
same seed, so the pairs share their start and their random streams), and the Student-t 95%
interval of the mean difference decides the verdict: `holds` when the interval lies wholly on
the claimed side, `contradicted` when wholly on the other, `not shown` otherwise (so always with
one seed). A yes/no claim is judged on the share of seeds where it happened, with an exact
interval that must lie above one half.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from aetui.study.intervals import Interval, mean_interval, share_interval

HOLDS, NOT_SHOWN, CONTRADICTED = "holds", "not shown", "contradicted"
KEPT_COSINE = 0.5  # filters "kept": the mean cosine with the start stays above this
BIAS_PATTERN = 0.5  # the reset bias "grows back": correlation with the old b above this
MOST = 0.5  # a yes/no claim holds when it happens in more than this share of the seeds

Runs = dict[str, dict[int, dict[str, float]]]


@dataclass(frozen=True)
class Claim:
    """One observation as a comparison: `effect` is mean(a - b) over paired seeds (or mean(a),
    or a share), claimed to be above (`sign` +1) or below (-1) `reference`."""

    observation: str  # the study's wording
    statement: str  # what is compared, e.g. "contrast(sigmoid-sigmoid) > contrast(sigmoid)"
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


CLAIM_METRICS = ("heldout_loss", "heldout_at_tenth", "heldout_mse", "start_heldout_loss", "locality", "spread",
                 "contrast", "max_cosine", "duplicates", "start_cosine", "bias_corr", "bias_ratio", "mean_code",
                 "lifetime_sparsity", "population_sparsity", "dead_units")  # and diverged(NAME), a yes/no
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_TERM = rf"\s*(?P<{{0}}m>[a-z_]+)\s*\(\s*(?P<{{0}}n>{_NAME})\s*\)\s*"
_PAIRED = re.compile(_TERM.format("a") + r"(?P<op>[<>])" + _TERM.format("b"))
_LEVEL = re.compile(_TERM.format("a") + r"(?P<op>[<>])\s*(?P<ref>[-+]?[0-9][0-9.]*(?:e[-+]?[0-9]+)?)\s*")
_DIVERGES = re.compile(rf"\s*diverged\s*\(\s*(?P<a>{_NAME})\s*\)\s*(?:and\s+not\s+diverged\s*\(\s*(?P<b>{_NAME})\s*\)\s*)?")


class ClaimSyntaxError(ValueError):
    """A comparison that does not parse, or names no metric; str() says what is wrong."""


@dataclass(frozen=True)
class ClaimSpec:
    """One claim as a plan states it: `metric(a) > metric(b)` (paired difference), `metric(a) > 0.5`
    (the mean against a number), `diverged(a)` or `diverged(a) and not diverged(b)` (a share of seeds)."""

    text: str  # the observation, in the plan's words
    metric: str
    a: str
    b: str | None
    sign: int
    reference: float
    kind: str  # "mean difference", "mean" or "share of seeds"

    @property
    def statement(self) -> str:
        """The comparison, written out the one way: e.g. 'locality(sigmoid) > locality(relu)'."""
        rel = ">" if self.sign > 0 else "<"
        if self.kind == "share of seeds":
            return f"diverged({self.a})" + ("" if self.b is None else f" and not diverged({self.b})")
        if self.kind == "mean":
            return f"{self.metric}({self.a}) {rel} {self.reference:g}"
        return f"{self.metric}({self.a}) {rel} {self.metric}({self.b})"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.a,) if self.b is None else (self.a, self.b)

    @classmethod
    def parse(cls, text: str, compare: str) -> ClaimSpec:
        """The claim `compare` states; ClaimSyntaxError when it is not one of the forms above."""
        if not isinstance(compare, str):
            raise ClaimSyntaxError(f"compare must be a string such as 'locality(a) > locality(b)', not {compare!r}")
        m = _DIVERGES.fullmatch(compare)
        if m is not None:
            return cls(text, "diverged", m["a"], m["b"], +1, MOST, "share of seeds")
        m = _PAIRED.fullmatch(compare) or _LEVEL.fullmatch(compare)
        if m is None:
            raise ClaimSyntaxError(f"cannot read the comparison {compare!r}: write METRIC(NAME) > METRIC(NAME), "
                                   f"METRIC(NAME) < NUMBER, diverged(NAME) or diverged(NAME) and not diverged(NAME)")
        metric, sign = m["am"], +1 if m["op"] == ">" else -1
        for side in ("am", "bm") if "bm" in m.re.groupindex else ("am",):
            if m[side] not in CLAIM_METRICS:
                raise ClaimSyntaxError(f"{compare!r}: no metric {m[side]!r} (claims compare: {', '.join(CLAIM_METRICS)}, "
                                       f"or diverged(NAME))")
        if "bm" in m.re.groupindex:
            if m["bm"] != metric:
                raise ClaimSyntaxError(f"{compare!r}: both sides must be the same metric, paired seed by seed")
            return cls(text, metric, m["an"], m["bn"], sign, 0.0, "mean difference")
        try:
            reference = float(m["ref"])
        except ValueError:
            raise ClaimSyntaxError(f"{compare!r}: {m['ref']!r} is not a number") from None
        return cls(text, metric, m["an"], None, sign, reference, "mean")

    def judge(self, runs: Runs) -> Claim:
        """The claim judged on the finished runs (paired by seed)."""
        if self.kind == "share of seeds":
            return _diverges(runs, self)
        if self.kind == "mean":
            return _level(runs, self)
        return _paired(runs, self)


def judge_claims(specs, runs: Runs) -> list[Claim]:
    return [spec.judge(runs) for spec in specs]


def _paired(runs: Runs, spec: ClaimSpec) -> Claim:
    """metric(a) - metric(b) above 0 (sign +1) or below (-1), over the seeds both have."""
    a, b, metric = spec.a, spec.b, spec.metric
    seeds = sorted(set(runs.get(a, {})) & set(runs.get(b, {})))
    diffs = [runs[a][s].get(metric, math.nan) - runs[b][s].get(metric, math.nan) for s in seeds]
    return Claim(spec.text, spec.statement, metric, a, b, spec.sign, 0.0, mean_interval(diffs))


def _level(runs: Runs, spec: ClaimSpec) -> Claim:
    values = [m.get(spec.metric, math.nan) for _, m in sorted(runs.get(spec.a, {}).items())]
    return Claim(spec.text, spec.statement, spec.metric, spec.a, None, spec.sign, spec.reference,
                 mean_interval(values), kind="mean")


def _diverges(runs: Runs, spec: ClaimSpec) -> Claim:
    """a diverged (and b, when named, did not), seed by seed: the share must lie above one half."""
    a, b = spec.a, spec.b
    seeds = sorted(set(runs.get(a, {})) & set(runs.get(b, {}))) if b is not None else sorted(runs.get(a, {}))
    hits = sum(1 for s in seeds if runs[a][s]["diverged"] and (b is None or not runs[b][s]["diverged"]))
    return Claim(spec.text, spec.statement, "diverged", a, b, +1, MOST, share_interval(hits, len(seeds)),
                 kind="share of seeds")


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)
