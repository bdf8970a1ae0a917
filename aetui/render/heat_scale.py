"""Colour scales for signed heatmaps (the hidden bias b over time) and the legend that writes them.

A plain max-|b| scale lets a few runaway units wash the rest out to the neutral colour. The
scales (`b` in the dashboard cycles them):

- robust: the 2nd and 98th percentiles are the ends; negatives are scaled by the one, positives
  by the other, so zero stays neutral and the values beyond the ends show at full colour.
- symlog: sign(v) log(1 + |v|/c) / log(1 + max|v|/c) with c = max|v| / SYMLOG_DECADES_RANGE:
  linear near zero, logarithmic beyond, so small and large biases both show.
- full: symmetric by max |v| (linear; every value within the scale).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text

from .chart import format_tick
from .image import pixels_to_text
from .modes import DisplayMode

__all__ = ["HEAT_SCALES", "HeatScale", "fit_heat_scale", "heat_legend"]

HEAT_SCALES = ("robust", "symlog", "full")  # the order `b` steps through
ROBUST_PERCENTILES = (2.0, 98.0)
SYMLOG_DECADES_RANGE = 100.0  # symlog is linear within max|v| / this
MIN_BAR, MAX_BAR = 7, 21  # cells of the legend's colour bar


@dataclass(frozen=True)
class HeatScale:
    """How values map to [-1, 1]: kind, the values drawn at the two ends, symlog's linear range."""

    kind: str
    lo: float  # value at -1 (<= 0)
    hi: float  # value at +1 (>= 0)
    linear_within: float = 0.0  # symlog only
    beyond: float = 0.0  # share of finite values outside [lo, hi] (robust only)

    def apply(self, M: np.ndarray) -> np.ndarray:
        """M mapped to [-1, 1] (float64, same shape); NaN stays NaN, +-inf go to the ends."""
        M = np.asarray(M, dtype=np.float64)
        nan = np.isnan(M)
        v = np.where(nan, 0.0, M)
        with np.errstate(all="ignore"):
            if self.kind == "symlog" and self.linear_within > 0:
                top = np.log1p(max(-self.lo, self.hi) / self.linear_within)
                out = np.sign(v) * np.log1p(np.abs(v) / self.linear_within) / top
            else:
                neg = -self.lo if self.lo < 0 else self.hi
                pos = self.hi if self.hi > 0 else neg
                if neg <= 0 and pos <= 0:
                    out = np.sign(v) * np.isinf(v)
                else:
                    out = np.where(v < 0, v / neg, v / pos)
        out = np.clip(np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
        out[nan] = np.nan
        return out

    def words(self) -> str:
        """What the scale is, shortly: 'robust 2-98%, 4% beyond', 'symlog, lin +-0.02', 'full range'."""
        if self.kind == "robust":
            beyond = f", {self.beyond:.0%} beyond" if self.beyond >= 0.005 else ""
            return f"robust {ROBUST_PERCENTILES[0]:g}-{ROBUST_PERCENTILES[1]:g}%{beyond}"
        if self.kind == "symlog":
            return f"symlog, lin +-{_value(self.linear_within)[1:]}"
        return "full range"


def _value(v: float) -> str:
    """An end of the scale, signed, three digits: -0.293, +1.87, +2e-3."""
    if v == 0:
        return "0"
    return ("+" if v > 0 else "-") + format_tick(float(f"{abs(v):.3g}"))


def fit_heat_scale(M: np.ndarray, kind: str) -> HeatScale:
    """The scale of `kind` (one of HEAT_SCALES) fitted to the finite values of M."""
    if kind not in HEAT_SCALES:
        raise ValueError(f"unknown heat scale {kind!r}; expected one of {HEAT_SCALES}")
    a = np.asarray(M, dtype=np.float64)
    finite = a[np.isfinite(a)]
    if not finite.size:
        return HeatScale(kind, 0.0, 0.0)
    peak = float(np.max(np.abs(finite)))
    if kind == "robust":
        p_lo, p_hi = (float(v) for v in np.percentile(finite, ROBUST_PERCENTILES))
        lo, hi = min(p_lo, 0.0), max(p_hi, 0.0)
        beyond = float(np.mean((finite < lo) | (finite > hi)))
        return HeatScale(kind, lo, hi, beyond=beyond)
    lo, hi = -peak, peak
    if kind == "symlog":
        return HeatScale(kind, lo, hi, linear_within=peak / SYMLOG_DECADES_RANGE)
    return HeatScale(kind, lo, hi)


def heat_legend(scale: HeatScale, *, mode: DisplayMode, width: int) -> Text:
    """One line: the lower end's value, a colour (or shading) bar, the upper end's value, the words.

    To fit `width` cells the words are cut (to the scale's name at least), then dropped, then the bar shortened.
    """
    lo, hi = _value(scale.lo), _value(scale.hi)
    ends = len(lo) + len(hi) + 2
    words = ""
    for candidate in (scale.words(), scale.words().split(",")[0], scale.kind):
        if width - ends - 2 - len(candidate) >= MIN_BAR:
            words = candidate
            break
    bar_w = max(0, min(MAX_BAR, width - ends - (len(words) + 2 if words else 0)))
    text = Text(no_wrap=True, end="")
    text.append(lo + " ")
    if bar_w:
        ramp = np.linspace(-1.0, 1.0, bar_w)[None, :].repeat(2, axis=0)  # two pixel rows: one line
        text.append_text(pixels_to_text(ramp, mode=mode, cmap="diverging"))
    text.append(" " + hi + ("  " + words if words else ""))
    text.truncate(max(0, width))
    return text
