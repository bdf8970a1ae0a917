"""Many filters (rows of W) tiled into one Text, and the geometry a widget needs to page them.

Layout: tiles of w cells x ceil(h / 2) lines (see image.py), `columns` per tile row, one blank
cell between tiles. With labels, a label line above each tile row carries each tile's unit
number and marks; without labels, one blank line separates tile rows. Every line is padded to
the full grid width.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

import numpy as np
from rich.text import Span, Text

from .colormaps import Cmap, lut, normalize
from .image import render_pixels
from .modes import DisplayMode, glyphs
from .palette import LABEL_STYLE, MARK_STYLES, OTHER_MARK_STYLE, SELECTED_STYLE, style_for

__all__ = ["filter_grid", "grid_geometry", "grid_size"]

GAP = 1  # blank cells between tiles


def _tile_cells(shape: tuple[int, int]) -> tuple[int, int]:
    rows, cols = shape
    return cols, (rows + 1) // 2


def grid_size(
    columns: int, rows_of_tiles: int, shape: tuple[int, int], *, labels: bool = True
) -> tuple[int, int]:
    """(width, height) in cells of a grid of `rows_of_tiles` x `columns` tiles of `shape`."""
    tile_w, tile_h = _tile_cells(shape)
    if columns <= 0 or rows_of_tiles <= 0:
        return 0, 0
    width = columns * tile_w + (columns - 1) * GAP
    if labels:
        height = rows_of_tiles * (tile_h + 1)
    else:
        height = rows_of_tiles * tile_h + (rows_of_tiles - 1)
    return width, height


def grid_geometry(
    width_cells: int,
    height_cells: int,
    shape: tuple[int, int],
    mode: DisplayMode,
    n: int,
    *,
    labels: bool = True,
) -> tuple[int, int, int]:
    """(columns, rows_of_tiles, per_page) for n tiles of `shape` in a width x height cell area.

    The footprint is the same in every mode (`mode` is accepted so callers need not know).
    Never fewer than one column and one row, even if one tile does not fit (the widget crops);
    never more columns or rows than n tiles need. per_page = min(n, columns * rows_of_tiles).
    """
    del mode  # same footprint in every mode, see image.py
    tile_w, tile_h = _tile_cells(shape)
    columns = max(1, (width_cells + GAP) // (tile_w + GAP))
    if labels:
        rows = max(1, height_cells // (tile_h + 1))
    else:
        rows = max(1, (height_cells + 1) // (tile_h + 1))
    if n > 0:
        columns = min(columns, n)
        rows = min(rows, math.ceil(n / columns))
    return columns, rows, min(max(n, 0), columns * rows)


def _label(
    unit: int, mark: str | None, width: int, mode: DisplayMode, selected: bool
) -> tuple[str, list[tuple[int, int, str]]]:
    """A tile's label padded to `width`, and (start, end, style spec) pieces to style."""
    g = glyphs(mode)
    # The cursor glyph keeps the selection visible where reverse video is not shown.
    number = (g.cursor if selected else "") + str(unit)
    if mark:
        glyph = g.mark(mark)
        candidates = [f"{number} {glyph}{mark}", f"{number}{glyph}", glyph]
        text = next((c for c in candidates if len(c) <= width), glyph[:width])
    else:
        text = number if len(number) <= width else number[: max(0, width - 1)] + g.ellipsis
        text = text[:width]
    text = text.ljust(width)
    pieces: list[tuple[int, int, str]] = []
    num_end = len(number) if text.startswith(number) else 0
    if selected:
        pieces.append((0, width, SELECTED_STYLE))
    elif num_end:
        pieces.append((0, num_end, LABEL_STYLE))
    if mark:
        mark_end = len(text.rstrip())
        if mark_end > num_end:
            pieces.append((num_end, mark_end, MARK_STYLES.get(mark, OTHER_MARK_STYLE)))
    return text, pieces


def filter_grid(
    W: np.ndarray,
    shape: tuple[int, int],
    *,
    mode: DisplayMode,
    columns: int,
    normalization: Literal["tile", "global"] = "tile",
    start: int = 0,
    count: int | None = None,
    marks: Mapping[int, str] | None = None,
    labels: bool = True,
    selected: int | None = None,
    cmap: Cmap = "diverging",
) -> Text:
    """Tile rows start .. start+count-1 of W (n, V), each reshaped to `shape` (V = rows * cols).

    normalization "tile": each tile by its own max |w|; "global": every tile by max |w| over all
    of W (not just this page), so tiles compare. marks {unit: "dead" | "saturated" | any} are
    drawn in the label with a glyph; the selected unit's label is reversed. Size: `grid_size`.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"filter_grid expects W of shape (n, V), got {W.shape}")
    rows_px, cols_px = shape
    if rows_px * cols_px != W.shape[1]:
        raise ValueError(f"shape {shape} does not hold {W.shape[1]} weights per unit")
    if columns < 1:
        raise ValueError("columns must be at least 1")
    lut(cmap)
    n = W.shape[0]
    start = max(0, start)
    stop = n if count is None else min(n, start + max(0, count))
    units = list(range(start, stop))
    if not units:
        return Text("", no_wrap=True, end="")

    how = "symmetric" if cmap == "diverging" else "minmax"
    if normalization == "global":
        finite = np.isfinite(W)
        if how == "symmetric":
            scale = float(np.max(np.abs(W), where=finite, initial=0.0))
            tiles = normalize(W[start:stop], how=how, lo=-scale, hi=scale)
        else:
            lo = float(np.min(W, where=finite, initial=np.inf))
            hi = float(np.max(W, where=finite, initial=-np.inf))
            tiles = normalize(
                W[start:stop],
                how=how,
                lo=lo if np.isfinite(lo) else None,
                hi=hi if np.isfinite(hi) else None,
            )
    elif normalization == "tile":
        tiles = np.stack([normalize(W[j], how=how) for j in units])
    else:
        raise ValueError(f"unknown normalization {normalization!r}; expected 'tile' or 'global'")

    marks = marks or {}
    tile_w, tile_h = _tile_cells(shape)
    width, _ = grid_size(columns, 1, shape, labels=labels)
    parts: list[str] = []
    spans: list[Span] = []
    pos = 0
    for row_start in range(0, len(units), columns):
        row_units = units[row_start : row_start + columns]
        if parts:
            parts.append("\n")
            pos += 1
        if labels:
            label_parts = []
            for k, unit in enumerate(row_units):
                text, pieces = _label(unit, marks.get(unit), tile_w, mode, unit == selected)
                x0 = k * (tile_w + GAP)
                label_parts.append(text)
                spans.extend(
                    Span(pos + x0 + a, pos + x0 + b, style_for(mode, spec)) for a, b, spec in pieces
                )
            line = (" " * GAP).join(label_parts).ljust(width) + "\n"
            parts.append(line)
            pos += len(line)
        elif row_start:
            line = " " * width + "\n"  # blank separator line
            parts.append(line)
            pos += len(line)
        canvas = np.full((2 * tile_h, width), np.inf)
        for k, unit in enumerate(row_units):
            x0 = k * (tile_w + GAP)
            canvas[:rows_px, x0 : x0 + tile_w] = tiles[unit - start].reshape(shape)
        plain, tile_spans = render_pixels(canvas, mode=mode, cmap=cmap, offset=pos)
        parts.append(plain)
        spans.extend(tile_spans)
        pos += len(plain)
    return Text("".join(parts), spans=spans, no_wrap=True, end="")
