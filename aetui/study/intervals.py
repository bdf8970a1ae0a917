"""Small-sample intervals: the mean of a few seeds' values with its Student-t 95% interval.

A study reruns each condition with a handful of seeds (5 in the README), too few for a normal
approximation: with 5 values the t quantile is 2.78, not 1.96. Values that are not finite
(a diverged run's metrics) are left out and counted in `n` no more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# scipy.stats is imported where it is used: it takes 0.77 s to import, and the worker processes,
# which import the experiment to train its conditions, never compute an interval.

LEVEL = 0.95  # every interval aetui reports is a two-sided 95% interval


@dataclass(frozen=True)
class Interval:
    """A mean and its two-sided 95% Student-t interval; low/high are None below two values."""

    mean: float | None
    low: float | None
    high: float | None
    n: int  # finite values the mean is over

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    def excludes(self, value: float) -> int:
        """+1 when the whole interval is above `value`, -1 when below, 0 when it holds it (or none)."""
        if self.low is None or self.high is None:
            return 0
        return 1 if self.low > value else -1 if self.high < value else 0


def mean_interval(values) -> Interval:
    """Mean of the finite values with its Student-t 95% interval (n - 1 degrees of freedom).

    All values equal gives an interval of zero width: every seed agreed exactly.
    """
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return Interval(None, None, None, 0)
    mean = math.fsum(xs) / n
    if n == 1:
        return Interval(mean, None, None, 1)
    from scipy import stats

    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = float(stats.t.ppf((1 + LEVEL) / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def share_interval(hits: int, n: int) -> Interval:
    """A share hits/n with its exact (Clopper-Pearson) 95% interval: for yes/no outcomes per seed."""
    if n == 0:
        return Interval(None, None, None, 0)
    from scipy import stats

    ci = stats.binomtest(hits, n).proportion_ci(confidence_level=LEVEL, method="exact")
    return Interval(hits / n, float(ci.low), float(ci.high), n)
