"""Synthetic horizontal/vertical bars: a toy set whose ideal filters are known exactly.

Each image is the union of independent bars (each of the N rows and N columns is on with
probability 1/N; empty images are drawn again), so a good autoencoder's filters should
become the single bars of bar_patterns.
"""

from __future__ import annotations

import numpy as np

from aetui.data.dataset import Dataset

BARS_COUNT = 2000
BARS_MIN_SIZE, BARS_MAX_SIZE = 4, 32
ONLY_HORIZONTAL, ONLY_VERTICAL, BOTH = 0, 1, 2  # the labels


def bar_patterns(size: int) -> np.ndarray:
    """The 2*size single-bar images, size horizontal then size vertical: (2*size, size*size) uint8, 0/255."""
    if size < 1:
        raise ValueError(f"bar size must be >= 1, got {size}")
    eye = np.eye(size, dtype=bool)
    rows = np.repeat(eye[:, :, None], size, axis=2)  # pattern r lights row r
    cols = np.repeat(eye[:, None, :], size, axis=1)  # pattern c lights column c
    patterns = np.concatenate([rows, cols]).reshape(2 * size, size * size)
    return np.where(patterns, np.uint8(255), np.uint8(0))


def _draw_bars(size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 2*size) bool: which bars are on; no all-off rows."""
    on = rng.random((count, 2 * size)) < 1.0 / size
    empty = ~on.any(axis=1)
    while empty.any():  # redraw only the empty ones, in order, so the result is fixed by the seed
        on[empty] = rng.random((int(empty.sum()), 2 * size)) < 1.0 / size
        empty = ~on.any(axis=1)
    return on


def make_bars(size: int = 8, seed: int = 0, count: int = BARS_COUNT) -> Dataset:
    """count random bar images of size x size, labelled 0 only horizontal, 1 only vertical, 2 both."""
    if not BARS_MIN_SIZE <= size <= BARS_MAX_SIZE:
        raise ValueError(f"bar size must be {BARS_MIN_SIZE}..{BARS_MAX_SIZE}, got {size}")
    on = _draw_bars(size, count, np.random.default_rng(seed))
    rows_on, cols_on = on[:, :size], on[:, size:]
    lit = rows_on[:, :, None] | cols_on[:, None, :]  # (count, size, size)
    images = np.where(lit, np.uint8(255), np.uint8(0)).reshape(count, size * size)
    any_row, any_col = rows_on.any(axis=1), cols_on.any(axis=1)
    labels = np.where(any_row & any_col, BOTH, np.where(any_row, ONLY_HORIZONTAL, ONLY_VERTICAL))
    return Dataset(
        name=f"bars{size}",
        images=images,
        labels=labels.astype(np.int64),
        shape=(size, size),
        scale=1.0 / 255,
        source=f"synthetic bars {size}x{size}, seed {seed}",
    )
