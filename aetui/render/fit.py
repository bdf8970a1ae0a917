"""Images scaled by whole factors to fit a number of cells: block means down, repeats up."""

from __future__ import annotations

import numpy as np


def pool(images: np.ndarray, shape: tuple[int, int], factor: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Block means of rows of `images` (n, h*w) seen as (h, w): (n, h2*w2) and (h2, w2).

    Edges that do not fill a block are padded by repeating the last row/column, so the mean of
    a block is always over real pixels' values.
    """
    h, w = shape
    if factor <= 1:
        return images, shape
    h2, w2 = -(-h // factor), -(-w // factor)
    a = np.asarray(images, dtype=np.float64).reshape(-1, h, w)
    a = np.pad(a, ((0, 0), (0, h2 * factor - h), (0, w2 * factor - w)), mode="edge")
    a = a.reshape(-1, h2, factor, w2, factor).mean(axis=(2, 4))
    return a.reshape(a.shape[0], h2 * w2), (h2, w2)


def pool_factors(shape: tuple[int, int], smallest_side: int = 7) -> list[int]:
    """Block sizes that keep at least `smallest_side` pixels on each side (1 first)."""
    side = min(shape)
    return [f for f in range(1, 5) if f == 1 or -(-side // f) >= smallest_side]


def fit_image(img: np.ndarray, max_width: int, max_lines: int, max_up: int = 4) -> np.ndarray:
    """An (h, w) image scaled by a whole factor to fit max_width cells x max_lines lines.

    One cell is one pixel wide and two tall (aetui.render's footprint): enlarged by repeating
    pixels when there is room (at most x max_up), else shrunk by block means.
    """
    h, w = img.shape
    if h == 0 or w == 0 or max_width <= 0 or max_lines <= 0:
        return img[:0, :0]
    up = min(max_width // w, (2 * max_lines) // h, max_up)
    if up >= 1:
        return np.repeat(np.repeat(img, up, axis=0), up, axis=1) if up > 1 else img
    f = 2
    while -(-w // f) > max_width or -(-h // f) > 2 * max_lines:
        f += 1
    pooled, shape = pool(img.reshape(1, -1), (h, w), f)
    return pooled.reshape(shape)
