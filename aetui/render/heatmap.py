"""A units x time matrix (e.g. each hidden unit's bias over training) -> Text of a fixed size."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from .colormaps import Cmap, lut, normalize_for
from .image import pixels_to_text
from .modes import DisplayMode

__all__ = ["heatmap_text", "resample"]


def resample(a: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Resample `a` to n entries along `axis`, evenly over its whole length.

    Shrinking averages the entries of each of n equal bins (NaN ignored; an all-NaN bin is NaN);
    growing repeats the nearest entry. Zeros stay exactly zero either way.
    """
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, 0)
    m = a.shape[0]
    if m == n:
        out = a
    elif m == 0:
        out = np.full((n,) + a.shape[1:], np.nan)
    elif m < n:
        out = a[(np.arange(n) * m) // n]
    else:
        edges = (np.arange(n) * m) // n  # bin starts; bins are non-empty since m > n
        nan = np.isnan(a)
        sums = np.add.reduceat(np.where(nan, 0.0, a), edges, axis=0)
        counts = np.add.reduceat((~nan).astype(np.int64), edges, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return np.moveaxis(out, 0, axis)


def heatmap_text(
    M: np.ndarray,
    *,
    mode: DisplayMode,
    width: int,
    height: int,
    cmap: Cmap = "diverging",
    lo: float | None = None,
    hi: float | None = None,
) -> Text:
    """Draw M (units, T) as exactly `height` lines x `width` cells: time left to right.

    Time is resampled evenly over the whole history (T may be 1 or 10,000) to `width` columns;
    units to 2 * height pixel rows (half-blocks, two units per line when they fit), by bin means
    when shrinking and nearest-neighbour when stretching. Scale as in `image_text`; zero neutral.
    """
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError(f"heatmap_text expects M of shape (units, T), got {M.shape}")
    lut(cmap)
    width, height = max(0, int(width)), max(0, int(height))
    if width == 0 or height == 0:
        return Text("\n" * max(0, height - 1), no_wrap=True, end="")
    # Normalise before resampling so the scale follows the data, not the bin means.
    v = normalize_for(cmap, M, lo, hi)
    v = resample(resample(v, width, axis=1), 2 * height, axis=0)
    if M.size == 0:
        v = np.full((2 * height, width), np.inf)  # nothing to draw: blank
    return pixels_to_text(v, mode=mode, cmap=cmap)
