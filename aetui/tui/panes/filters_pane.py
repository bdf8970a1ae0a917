"""Every hidden unit's filter (row j of W as an image): paged grid, zoom on one unit, snapshot beside."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.text import Text
from textual import events
from textual.geometry import Size

from aetui.training.frame import Frame
from aetui.render import Series, filter_grid, format_si, glyphs, grid_geometry, image_text, line_chart
from aetui.render.palette import style_for
from aetui.tui import theme
from aetui.tui.blocks import Block, block, crop, hstack, lines, vstack
from aetui.tui.keys import FILTER_KEYS, bindings
from aetui.render.fit import fit_image, pool, pool_factors
from aetui.model.numpy_pass import hidden_codes
from aetui.tui.panes.unit_marks import unit_marks
from aetui.tui.panes.pane import Pane
from aetui.tui.graphics.grid_images import grid_images
from aetui.render.colormaps import to_rgb

MIN_TILES = 12  # shrink tiles (2x2, 3x3, ... block means) until at least this many fit a page
COMPARE_GAP = 3


@dataclass(frozen=True, eq=False)
class Comparison:
    """A snapshot's weights shown beside the current ones."""

    name: str
    samples: int
    activation: str
    session: str
    W: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class Tile:
    """Where unit `unit` is drawn (content coordinates), for mouse clicks."""

    x: int
    y: int
    width: int
    height: int
    unit: int

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


class FiltersPane(Pane, can_focus=True):
    """Grid of filters (f: normalisation, [ ]: pages, arrows/click: select, z/enter: zoom)."""

    TITLE = "filters"
    SHOWS_WEIGHTS = True
    BINDINGS = bindings(FILTER_KEYS)

    def __init__(self, mode, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(mode, id=id, classes=classes)
        self.normalization = "tile"  # or "global"
        self.selected = 0
        self.start = 0  # first unit of the page
        self.zoom = False
        self.compare: Comparison | None = None
        self.per_page = 1
        self.columns = 1
        self.factor = 1
        self.marks: dict[int, str] = {}
        self.tiles: list[Tile] = []

    # -- view state (called by the app's key actions) -----------------------------------------
    def view_key(self) -> tuple:
        return (self.normalization, self.selected, self.start, self.zoom,
                None if self.compare is None else self.compare.name)

    @property
    def n_units(self) -> int:
        return 0 if self.frame is None else self.frame.W.shape[0]

    def toggle_normalization(self) -> str:
        self.normalization = "global" if self.normalization == "tile" else "tile"
        self.update_view()
        return self.normalization

    def toggle_zoom(self) -> bool:
        self.zoom = not self.zoom
        self.update_view()
        return self.zoom

    def zoom_fits(self) -> bool:
        """True when the zoom shows the selected filter at full resolution in this pane's size."""
        if self.frame is None:
            return True
        rows, cols = self.frame.image_shape
        return self.size.height - 1 >= (rows + 1) // 2 and self.size.width >= cols

    def page(self, delta: int) -> None:
        n = self.n_units
        if n == 0:
            return
        per = max(1, self.per_page)
        last = (n - 1) // per * per
        start = min(max(0, self.start + delta * per), last)
        if self.zoom:  # in the zoom, pages step one unit
            self.select(self.selected + delta)
            return
        self.start = start
        if not self.start <= self.selected < self.start + per:
            self.selected = self.start
        self.update_view()

    def select(self, unit: int) -> None:
        n = self.n_units
        if n == 0:
            return
        self.selected = min(max(0, unit), n - 1)
        per = max(1, self.per_page)
        if not self.start <= self.selected < self.start + per:
            self.start = self.selected // per * per
        self.update_view()

    def set_comparison(self, comparison: Comparison | None) -> None:
        self.compare = comparison
        self.update_view()

    def action_move(self, dx: int, dy: int) -> None:
        self.select(self.selected + dx + dy * (1 if self.zoom else self.columns))

    def action_zoom(self) -> None:
        self.toggle_zoom()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or self.zoom:
            return
        for tile in self.tiles:
            if tile.contains(offset.x, offset.y):
                if tile.unit == self.selected and event.chain >= 2:
                    self.toggle_zoom()
                else:
                    self.select(tile.unit)
                return

    # -- drawing ----------------------------------------------------------------------------------
    def draw(self, frame: Frame, size: Size) -> Block:
        W = frame.W
        n = W.shape[0]
        if n == 0:
            return block("no hidden units")
        self.selected = min(self.selected, n - 1)
        codes = hidden_codes(W, frame.b, frame.recon_inputs, frame.config.activation)
        self.marks = unit_marks(codes, frame.config.activation)
        if self.zoom:
            out = self._draw_zoom(frame, size, codes)
        else:
            out = self._draw_grid(frame, size)
        self._subtitle(n)
        return out

    def _subtitle(self, n: int) -> None:
        g = glyphs(self.mode)
        dead = sum(1 for m in self.marks.values() if m == "dead")
        sat = sum(1 for m in self.marks.values() if m == "saturated")
        parts = []
        if self.zoom:
            parts.append(f"unit {self.selected}/{n}")
        else:
            stop = min(n, self.start + self.per_page)
            parts.append(f"units {self.start}-{stop - 1} of {n}")
            if self.factor > 1:
                parts.append(f"1:{self.factor}")
        parts.append("per-tile" if self.normalization == "tile" else "global")
        if dead:
            parts.append(f"{g.dead} dead {dead}")
        if sat:
            parts.append(f"{g.saturated} saturated {sat}")
        self.set_subtitle("  ".join(parts))

    def _layout(self, n: int, width: int, height: int, shape: tuple[int, int]) -> None:
        best = None
        for f in pool_factors(shape):
            h2, w2 = -(-shape[0] // f), -(-shape[1] // f)
            cols, rows, per = grid_geometry(width, height, (h2, w2), self.mode, n)
            fits = (w2 <= width) and ((h2 + 1) // 2 + 1 <= height)
            if best is None or (fits and per > best[3]):
                best = (f, cols, rows, per)
            if fits and per >= min(n, MIN_TILES):
                best = (f, cols, rows, per)
                break
        self.factor, self.columns, _, self.per_page = best
        self.start = self.selected // self.per_page * self.per_page

    def _draw_grid(self, frame: Frame, size: Size) -> Block:
        W, n, shape = frame.W, frame.W.shape[0], frame.image_shape
        cmp = self.compare
        grid_w = (size.width - COMPARE_GAP) // 2 if cmp else size.width
        grid_h = size.height - 1 if cmp else size.height
        self._layout(n, max(1, grid_w), max(1, grid_h), shape)
        Wp, pshape = pool(W, shape, self.factor)
        grid = filter_grid(Wp, pshape, mode=self.mode, columns=self.columns, normalization=self.normalization,
                           start=self.start, count=self.per_page, marks=self.marks, selected=self.selected)
        tile_w, tile_h = pshape[1], (pshape[0] + 1) // 2 + 1
        top = 1 if cmp else 0
        self.tiles = [Tile((k % self.columns) * (tile_w + 1), top + (k // self.columns) * tile_h, tile_w, tile_h,
                           self.start + k) for k in range(min(self.per_page, n - self.start))]
        now = block(grid)
        if self.painter is not None:
            now = grid_images(self.painter, now, W, shape, pshape, self.columns, self.start, self.per_page,
                              self.normalization, owner=self)
        if cmp is None:
            return now
        st = lambda spec: style_for(self.mode, spec)  # noqa: E731
        Sp, _ = pool(cmp.W, shape, self.factor)
        snap = block(filter_grid(Sp, pshape, mode=self.mode, columns=self.columns, normalization=self.normalization,
                                 start=self.start, count=self.per_page, selected=self.selected))
        if self.painter is not None:
            snap = grid_images(self.painter, snap, cmp.W, shape, pshape, self.columns, self.start, self.per_page,
                               self.normalization, owner=self)
        left = vstack([block(Text(f"now  {frame.lineage}  @ {format_si(frame.samples)}", style=st(theme.HEADING))),
                       now], width=max(now.width, 1))
        right = vstack([block(Text(f"{cmp.name}  {cmp.activation}  @ {format_si(cmp.samples)}",
                                   style=st(theme.HEADING))), snap], width=max(snap.width, 1))
        return hstack([crop(left, grid_w), crop(right, grid_w)], gap=COMPARE_GAP)

    def _unit_image(self, W: np.ndarray, j: int, shape, width: int, lines_: int) -> Block:
        img = fit_image(W[j].reshape(shape).astype(np.float64), width, lines_)
        scale = float(np.max(np.abs(W))) if self.normalization == "global" else None
        lo = None if scale is None else -scale
        if self.painter is not None:  # the filter at its own resolution over the same cells
            rgb = to_rgb(W[j].reshape(shape).astype(np.float64), "diverging", lo, scale)
            return self.painter.block(rgb, img.shape[1], (img.shape[0] + 1) // 2, owner=self)
        return block(image_text(img, mode=self.mode, cmap="diverging", lo=lo, hi=scale))

    def _draw_zoom(self, frame: Frame, size: Size, codes: np.ndarray) -> Block:
        j, W, shape = self.selected, frame.W, frame.image_shape
        st = lambda spec: style_for(self.mode, spec)  # noqa: E731
        g = glyphs(self.mode)
        cmp = self.compare
        info_w = 34
        side = size.width - info_w - 2 >= shape[1]  # info beside the image(s), else below
        img_area_w = size.width - info_w - 2 if side else size.width
        img_lines = size.height - (0 if side else 8)
        if cmp is not None:
            img_area_w = (img_area_w - COMPARE_GAP) // 2
        img_lines -= 1  # caption above each image
        now = vstack([block(Text(f"unit {j} now", style=st(theme.HEADING))),
                      self._unit_image(W, j, shape, max(1, img_area_w), max(1, img_lines))])
        images = [now]
        if cmp is not None:
            images.append(vstack([block(Text(f"unit {j} in {cmp.name}", style=st(theme.HEADING))),
                                  self._unit_image(cmp.W, j, shape, max(1, img_area_w), max(1, img_lines))]))
        pictures = hstack(images, gap=COMPARE_GAP)
        row = W[j]
        code = codes[:, j] if codes.size else np.zeros(0)
        mark = self.marks.get(j)
        info = [
            Text.assemble((f"unit {j}", st(theme.HEADING)), (f" of {W.shape[0]}", st(theme.CAPTION))),
            Text.assemble(("b ", st(theme.LABEL)), (f"{float(frame.b[j]):+.4g}", st(theme.VALUE))),
            Text.assemble(("W ", st(theme.LABEL)), (f"[{float(row.min()):+.3g}, {float(row.max()):+.3g}]", st(theme.VALUE))),
            Text.assemble(("|w| ", st(theme.LABEL)), (f"{float(np.linalg.norm(row)):.3g}", st(theme.VALUE))),
            Text.assemble(("code ", st(theme.LABEL)),
                          (f"max {float(np.max(code)):.3g} mean {float(np.mean(code)):.3g}" if code.size else "-",
                           st(theme.VALUE)), (f" ({code.size} inputs)", st(theme.CAPTION))),
        ]
        if cmp is not None:
            srow = cmp.W[j]
            info.append(Text.assemble((f"{cmp.name}: ", st(theme.LABEL)),
                                      (f"b {float(cmp.b[j]):+.3g} W [{float(srow.min()):+.3g}, {float(srow.max()):+.3g}]",
                                       st(theme.VALUE))))
        if mark:
            info.append(Text(f"{g.mark(mark)} {mark}", style=st(theme.DEAD if mark == "dead" else theme.SATURATED)))
        if side:
            info_w = max(info_w, size.width - pictures.width - 2)
        info_block = lines(*info, width=info_w if side else size.width)
        bias = frame.history.bias
        chart_w = info_w if side else size.width
        chart_h = (size.height - info_block.height - 1) if side else max(0, size.height - pictures.height - info_block.height)
        parts = [info_block]
        if chart_h >= 4 and bias.ndim == 2 and bias.shape[0] > j and bias.shape[1] > 1:
            series = [Series(f"b[{j}]", frame.history.samples, bias[j], style=theme.SERIES_UNIT_BIAS, marker="*")]
            parts.append(block(line_chart(series, width=chart_w, height=min(chart_h, 12), mode=self.mode,
                                          log_y=False, x_label="samples"), width=chart_w))
        details = vstack(parts, gap=1)
        self.tiles = []
        if side:
            return hstack([pictures, details], gap=2)
        return vstack([pictures, details])
