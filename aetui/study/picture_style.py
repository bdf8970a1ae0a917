"""The pictures' palette and the words of their axes, shared by the Pillow drawings (pictures.py)
and the matplotlib charts (charts.py)."""

from __future__ import annotations

import math

import numpy as np

# -- colours (the PNGs' only palette) ------------------------------------------------------------
ZERO_RGB = (255, 255, 255)  # zero
NEGATIVE_RGB = (33, 102, 172)  # -max
POSITIVE_RGB = (178, 24, 43)  # +max
GAP_RGB = (128, 128, 128)  # between tiles and for empty tile slots
PAPER_RGB = (255, 255, 255)  # background of titles and charts
INK_RGB = (0, 0, 0)  # text, axes
GRID_RGB = (225, 225, 225)  # chart tick lines
TRAIN_RGB = (120, 140, 170)  # training loss
HELDOUT_RGB = (230, 120, 0)  # held-out loss
SEGMENT_RGB = (120, 40, 170)  # segment starts (restarts)
DIVERGED_RGB = (220, 0, 0)  # divergence events


def diverging_rgb(v: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] (clipped; NaN as 0) -> uint8 RGB (..., 3); 0 is exactly ZERO_RGB."""
    v = np.nan_to_num(np.clip(np.asarray(v, dtype=np.float64), -1.0, 1.0), nan=0.0)
    neutral = np.array(ZERO_RGB, np.float64)
    end = np.where((v >= 0)[..., None], np.array(POSITIVE_RGB, np.float64), np.array(NEGATIVE_RGB, np.float64))
    rgb = neutral + np.abs(v)[..., None] * (end - neutral)
    return np.round(rgb).astype(np.uint8)


def format_samples(n: float) -> str:
    """100000 -> 100k, 1500000 -> 1.5M."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:g}{suffix}"
    return f"{n:g}"


def log_axis_ticks(lo: float, hi: float) -> list[float]:
    """Tick values inside [lo, hi] on a log axis: decades, else 1-2-5, else 1..9 per decade."""
    for mantissas in ((1,), (1, 2, 5), tuple(range(1, 10))):
        ticks = [m * 10.0 ** k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
                 for m in mantissas if lo <= m * 10.0 ** k <= hi]
        if len(ticks) >= 3:
            return ticks
    return ticks
