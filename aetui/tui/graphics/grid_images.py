"""The filter grid with each row of tiles drawn as one real image at the filters' full resolution.

The grid keeps its text layout (a label line above each row of tiles, tiles one cell apart, see
aetui.render.grid); only the tiles' lines are replaced, one image per row of tiles, in which each
filter fills its tile's cells at its own resolution however far the half-block grid pooled it.
"""

from __future__ import annotations

import numpy as np

from rich.segment import Segment

from aetui.render.colormaps import to_rgb
from aetui.render.grid import GAP
from aetui.tui.blocks import Block
from aetui.tui.graphics.image_painter import ImagePainter, upscale

GAP_RGB = (0, 0, 0)  # between tiles: darker than any filter (zero is dark grey), so tiles stand apart


def grid_images(painter: ImagePainter, grid: Block, W: np.ndarray, shape: tuple[int, int],
                tile_shape: tuple[int, int], columns: int, start: int, count: int, normalization: str,
                owner: object = None) -> Block:
    """`grid` (a labelled filter grid of tiles of `tile_shape`) with its tiles' lines as images of
    rows start .. start+count-1 of W (n, h*w), each seen as `shape`, normalised as the grid was."""
    n = W.shape[0]
    units = list(range(start, min(n, start + count)))
    if not units:
        return grid
    tile_w, tile_h = tile_shape[1], (tile_shape[0] + 1) // 2
    cw, ch = painter.cell
    scale = float(np.max(np.abs(W), where=np.isfinite(W), initial=0.0)) if normalization == "global" else None
    lines = list(grid.lines)
    for r, row_start in enumerate(range(0, len(units), columns)):
        row_units = units[row_start:row_start + columns]
        width = len(row_units) * (tile_w + GAP) - GAP
        canvas = np.empty((tile_h * ch, width * cw, 3), np.uint8)
        canvas[:] = GAP_RGB
        for k, unit in enumerate(row_units):
            img = W[unit].reshape(shape).astype(np.float64)
            rgb = to_rgb(img, "diverging", None if scale is None else -scale, scale)
            box_h = max(1, tile_shape[0] * ch // 2)  # a tile row of pixels is half a cell tall
            x0 = k * (tile_w + GAP) * cw
            canvas[:box_h, x0:x0 + tile_w * cw] = upscale(rgb, tile_w * cw, box_h)
        picture = painter.block(canvas, width, tile_h, owner=owner)
        top = r * (tile_h + 1) + 1  # below the row's label line
        for y in range(tile_h):
            if top + y < len(lines):
                rest = grid.width - width
                lines[top + y] = list(picture.lines[y]) + ([Segment(" " * rest)] if rest > 0 else [])
    return Block(tuple(lines), grid.width)
