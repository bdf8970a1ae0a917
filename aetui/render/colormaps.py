"""Colour maps: normalised float arrays -> uint8 RGB, quantised to a few levels.

Values are quantised (gray: GRAY_LEVELS, diverging: 2 * DIVERGING_STEPS + 1 levels, so zero is
exactly one level) because a terminal cannot show more distinct colours than that anyway, and
few distinct colours means few Rich Style objects per frame.

NaN handling: `normalize` keeps NaN as NaN and maps +inf/-inf to the ends of the range; the
maps draw NaN as NAN_RGB (magenta, a hue neither map uses). SHADE/ASCII images draw NaN as
`glyphs(mode).nan`.

The diverging map is "ice/fire": dark grey at zero, getting darker-saturated then lighter
towards blue (-1) and yellow-orange (+1). Lightness grows with |v| on both sides, so magnitude
reads without colour, and the anchors sit near 256-colour cube colours so the usual SSH
downgrade to 256 colours keeps neighbouring magnitudes apart.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = [
    "CMAPS",
    "DIVERGING_STEPS",
    "GRAY_LEVELS",
    "NAN_CODE",
    "NAN_RGB",
    "NEUTRAL_RGB",
    "NONE_CODE",
    "Cmap",
    "codes",
    "diverging",
    "gray",
    "lut",
    "normalize",
    "to_rgb",
]

Cmap = Literal["diverging", "gray"]

GRAY_LEVELS = 64
DIVERGING_STEPS = 32  # per side; 65 levels in all

NEUTRAL_RGB = (40, 40, 40)
NAN_RGB = (255, 0, 255)

# |v| -> RGB anchors for each side of the diverging map, interpolated linearly.
# The anchors at 1/8 are tinted just below Rich's 15% saturation limit for grey, so after a
# 256-colour downgrade values under ~1/8 of the scale read as neutral instead of as speckle.
_ANCHOR_T = np.array([0.0, 0.125, 0.25, 0.5, 0.75, 1.0])
_NEGATIVE = np.array(
    [NEUTRAL_RGB, (36, 40, 48), (20, 40, 120), (10, 90, 200), (50, 160, 240), (150, 225, 255)],
    float,
)
_POSITIVE = np.array(
    [NEUTRAL_RGB, (49, 39, 38), (120, 25, 30), (200, 50, 25), (245, 130, 40), (255, 215, 130)],
    float,
)


def _interp(anchors: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.stack([np.interp(t, _ANCHOR_T, anchors[:, k]) for k in range(3)], axis=-1)


def _build_luts() -> dict[str, np.ndarray]:
    g = np.round(np.linspace(0.0, 255.0, GRAY_LEVELS)).astype(np.uint8)
    gray_lut = np.stack([g, g, g], axis=-1)
    t = np.linspace(0.0, 1.0, DIVERGING_STEPS + 1)
    neg = _interp(_NEGATIVE, t[::-1][:-1])  # -1 .. just below 0
    pos = _interp(_POSITIVE, t)  # 0 .. +1
    div_lut = np.round(np.concatenate([neg, pos])).astype(np.uint8)
    for table in (gray_lut, div_lut):
        table.setflags(write=False)
    return {"gray": gray_lut, "diverging": div_lut}


_LUTS = _build_luts()
CMAPS: tuple[str, ...] = tuple(_LUTS)

# Codes beyond the LUT: NaN, and "no pixel" (padding, gaps between tiles).
NAN_CODE = -1
NONE_CODE = -2


def lut(cmap: Cmap) -> np.ndarray:
    """The read-only (levels, 3) uint8 table of `cmap`; `codes` indexes into it."""
    try:
        return _LUTS[cmap]
    except KeyError:
        raise ValueError(f"unknown colour map {cmap!r}; expected one of {CMAPS}") from None


def codes(v: np.ndarray, cmap: Cmap) -> np.ndarray:
    """Quantise normalised values to LUT indices (int16, same shape); NaN -> NAN_CODE.

    `v` is in [0, 1] for "gray" and [-1, 1] for "diverging"; values outside are clipped.
    """
    v = np.asarray(v, dtype=np.float64)
    nan = np.isnan(v)
    safe = np.where(nan, 0.0, v)
    if cmap == "gray":
        idx = np.rint(np.clip(safe, 0.0, 1.0) * (GRAY_LEVELS - 1))
    elif cmap == "diverging":
        idx = np.rint(np.clip(safe, -1.0, 1.0) * DIVERGING_STEPS) + DIVERGING_STEPS
    else:
        lut(cmap)  # raises the error
        raise AssertionError
    out = idx.astype(np.int16)
    out[nan] = NAN_CODE
    return out


def _apply(v: np.ndarray, cmap: Cmap) -> np.ndarray:
    c = codes(v, cmap)
    table = np.concatenate([lut(cmap), np.array([NAN_RGB], np.uint8)])
    return table[np.where(c == NAN_CODE, len(table) - 1, c)]


def gray(v: np.ndarray) -> np.ndarray:
    """Sequential grey map: v in [0, 1] (0 black, 1 white) -> uint8 RGB, shape (..., 3)."""
    return _apply(v, "gray")


def diverging(v: np.ndarray) -> np.ndarray:
    """Signed map: v in [-1, 1] (-1 blue, 0 exactly NEUTRAL_RGB, +1 red-yellow) -> uint8 RGB."""
    return _apply(v, "diverging")


def normalize(
    a: np.ndarray,
    *,
    how: Literal["symmetric", "minmax"] = "symmetric",
    lo: float | None = None,
    hi: float | None = None,
) -> np.ndarray:
    """Scale `a` to [-1, 1] ("symmetric", zero stays zero) or [0, 1] ("minmax"), float64.

    symmetric: divides by max(|lo|, |hi|) when either is given, else by max |a| over finite
    values; an all-zero (or all-NaN) array gives zeros. minmax: maps [lo, hi] (default: the
    finite min and max) to [0, 1]; a constant array gives 0.5. Results are clipped to the range,
    +-inf go to the ends, NaN stays NaN. Never warns.
    """
    a = np.asarray(a, dtype=np.float64)
    finite = np.isfinite(a)
    nan = np.isnan(a)
    if how == "symmetric":
        if lo is not None or hi is not None:
            scale = max(abs(lo or 0.0), abs(hi or 0.0))
        else:
            scale = float(np.max(np.abs(a), where=finite, initial=0.0))
        if not np.isfinite(scale) or scale <= 0.0:
            out = np.where(np.isinf(a), np.sign(a), 0.0)
        else:
            with np.errstate(all="ignore"):
                out = np.clip(a / scale, -1.0, 1.0)
    elif how == "minmax":
        if lo is None:
            lo = float(np.min(a, where=finite, initial=np.inf))
        if hi is None:
            hi = float(np.max(a, where=finite, initial=-np.inf))
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            out = np.where(a == np.inf, 1.0, np.where(a == -np.inf, 0.0, 0.5))
        else:
            with np.errstate(all="ignore"):
                out = np.clip((a - lo) / (hi - lo), 0.0, 1.0)
    else:
        raise ValueError(f"unknown normalisation {how!r}; expected 'symmetric' or 'minmax'")
    out = np.asarray(out, dtype=np.float64)
    out[nan] = np.nan
    return out


def normalize_for(cmap: Cmap, a: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    """`normalize` with the range a colour map expects: symmetric for diverging, minmax for gray."""
    return normalize(a, how="symmetric" if cmap == "diverging" else "minmax", lo=lo, hi=hi)


def to_rgb(a: np.ndarray, cmap: Cmap, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """`a` normalised as `normalize_for` does and coloured by `cmap`: uint8 RGB, shape (..., 3)."""
    v = normalize_for(cmap, a, lo, hi)
    return diverging(v) if cmap == "diverging" else gray(v)
