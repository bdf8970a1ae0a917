"""How the loss chart is drawn: x log or linear (automatic by default), y log or linear, smoothing.

Smoothing is an exponential moving average written as the weight of the past, as TensorBoard's
slider is: s = w * s + (1 - w) * y, so 0.9 averages over about the last 10 report points and 0
is off. The x axis is automatic until the user picks one: log when the run spans at least
AUTO_LOG_X_DECADES decades of samples (the study's periods after 2^n mini-batches do: from the
first report point at a few hundred samples to millions), linear otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["AUTO", "AUTO_LOG_X_DECADES", "SMOOTHING_LEVELS", "ChartModes", "spans_decades"]

AUTO = "auto"
LOG, LINEAR = "log", "linear"
X_SCALES = (AUTO, LOG, LINEAR)
SMOOTHING_LEVELS = (0.0, 0.6, 0.9, 0.97)  # `m` steps through these, off first
AUTO_LOG_X_DECADES = 2.0


def spans_decades(xs: np.ndarray, decades: float = AUTO_LOG_X_DECADES) -> bool:
    """True when the positive finite values of xs span at least `decades` powers of ten."""
    xs = np.asarray(xs, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        pos = xs[np.isfinite(xs) & (xs > 0)]
    return pos.size >= 2 and math.log10(float(pos.max()) / float(pos.min())) >= decades


@dataclass(frozen=True)
class ChartModes:
    """x scale (AUTO, "log" or "linear"), whether y is logarithmic, the smoothing weight (0: off)."""

    x_scale: str = AUTO
    log_y: bool = True
    smoothing: float = 0.9

    def log_x(self, xs: np.ndarray) -> bool:
        """Whether x is drawn on a log scale for these x values."""
        if self.x_scale == AUTO:
            return spans_decades(xs)
        return self.x_scale == LOG

    def toggle_x(self, xs: np.ndarray) -> ChartModes:
        """The other x scale; back to AUTO when that is what automatic would pick anyway."""
        want_log = not self.log_x(xs)
        automatic = replace(self, x_scale=AUTO).log_x(xs)
        return replace(self, x_scale=AUTO if want_log == automatic else (LOG if want_log else LINEAR))

    def toggle_y(self) -> ChartModes:
        return replace(self, log_y=not self.log_y)

    def next_smoothing(self) -> ChartModes:
        """The next level of SMOOTHING_LEVELS (after the last: off)."""
        later = [w for w in SMOOTHING_LEVELS if w > self.smoothing + 1e-9]
        return replace(self, smoothing=later[0] if later else SMOOTHING_LEVELS[0])

    def smoothing_words(self) -> str:
        return "smoothing off" if self.smoothing <= 0 else f"EMA {self.smoothing:g}"

    def words(self, xs: np.ndarray) -> str:
        """The modes as the chart writes them, e.g. 'y log  x log (auto)  EMA 0.9'."""
        x = (LOG if self.log_x(xs) else LINEAR) + (" (auto)" if self.x_scale == AUTO else "")
        return f"y {LOG if self.log_y else LINEAR}  x {x}  {self.smoothing_words()}"

    @classmethod
    def checked(cls, x_scale: object, log_y: object, smoothing: object) -> ChartModes:
        """From stored values; anything unknown becomes the default (for the settings file)."""
        d = cls()
        return cls(x_scale=x_scale if x_scale in X_SCALES else d.x_scale,
                   log_y=log_y if isinstance(log_y, bool) else d.log_y,
                   smoothing=smoothing if smoothing in SMOOTHING_LEVELS else d.smoothing)
