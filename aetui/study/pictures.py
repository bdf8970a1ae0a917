"""Pictures of a session as PNG files: filter grid, bias development, loss curve with segments.

Filters are drawn with Pillow (each tile pixel for pixel); the charts with axes (loss, bias) with
matplotlib, loaded only when a chart is drawn (aetui/study/charts.py). Colours: a diverging map with zero exactly
ZERO_RGB (white, as on paper), negative towards NEGATIVE_RGB, positive towards POSITIVE_RGB.
Filters are normalised per tile (each unit by its own max |w|), biases over the whole matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from aetui.sessions.atomic import write_export
from aetui.errors import SessionError
from aetui.sessions.lineage import segment_starts
from aetui.study.picture_style import (  # noqa: F401  (the palette is part of this module's surface)
    DIVERGED_RGB, GAP_RGB, GRID_RGB, HELDOUT_RGB, INK_RGB, NEGATIVE_RGB, PAPER_RGB, POSITIVE_RGB, SEGMENT_RGB,
    TRAIN_RGB, ZERO_RGB, diverging_rgb, format_samples, log_axis_ticks)

# -- layout -----------------------------------------------------------------------------------------
FILTER_ZOOM = 3  # a 28x28 filter becomes 84x84 px (nearest neighbour)
SHEET_ZOOM = 2  # the transfer sheet has five grids side by side
TILE_GAP = 2  # px between tiles and around the grid
TITLE_LINE = 14  # px per line of a grid's title
TITLE_PAD = 6  # px around the title lines
MIN_GRID_WIDTH = 300  # px: small images are zoomed more so a title fits
SHEET_GAP = 12  # px between grids in a sheet
LOSS_SIZE = (900, 420)
LOSS_MARGINS = (72, 34, 20, 48)  # left, top, right, bottom
BIAS_PLOT_WIDTH = 720
BIAS_MARGINS = (56, 30, 86, 44)  # left, top, right (colour bar), bottom
BIAS_PLOT_HEIGHT = 400  # at most; each unit gets a whole number of rows (1..8)

FILES = ("filters.png", "bias.png", "loss.png")


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()


# -- colour map ---------------------------------------------------------------------------------------
def normalise_rows(W: np.ndarray) -> np.ndarray:
    """Each row divided by its own max |w| (all-zero rows stay zero): (n, V) float64 in [-1, 1]."""
    W = np.asarray(W, dtype=np.float64)
    peak = np.abs(W).max(axis=1, keepdims=True) if W.size else np.zeros((W.shape[0], 1))
    return W / np.where(peak > 0, peak, 1.0)


# -- filter grid ---------------------------------------------------------------------------------------
def grid_shape(n_units: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns) of tiles for n_units filters: square-ish unless columns is given."""
    cols = columns or max(1, math.ceil(math.sqrt(n_units)))
    return max(1, math.ceil(n_units / cols)), cols


def grid_zoom(n_units: int, image_shape: tuple[int, int], zoom: int | None = None, columns: int | None = None,
              minimum: int = FILTER_ZOOM) -> int:
    """zoom if given, else the least zoom >= minimum that makes the grid MIN_GRID_WIDTH px wide (room for a title)."""
    if zoom is not None:
        return int(zoom)
    _, cols = grid_shape(n_units, columns)
    return max(minimum, math.ceil((MIN_GRID_WIDTH - (cols + 1) * TILE_GAP) / (cols * image_shape[1])))


def _title_height(title: str | None) -> int:
    return 0 if title is None else TITLE_PAD + TITLE_LINE * (title.count("\n") + 1)


def filter_image_size(n_units: int, image_shape: tuple[int, int], zoom: int | None = None,
                     columns: int | None = None, title: str | None = None) -> tuple[int, int]:
    """(width, height) in px of filter_image's image."""
    zoom = grid_zoom(n_units, image_shape, zoom, columns)
    rows, cols = grid_shape(n_units, columns)
    th, tw = image_shape[0] * zoom, image_shape[1] * zoom
    return cols * tw + (cols + 1) * TILE_GAP, rows * th + (rows + 1) * TILE_GAP + _title_height(title)


def tile_origin(unit: int, n_units: int, image_shape: tuple[int, int], zoom: int | None = None,
                columns: int | None = None, title: str | None = None) -> tuple[int, int]:
    """(x, y) px of the top-left pixel of `unit`'s tile in filter_image's image."""
    zoom = grid_zoom(n_units, image_shape, zoom, columns)
    _, cols = grid_shape(n_units, columns)
    r, c = divmod(unit, cols)
    th, tw = image_shape[0] * zoom, image_shape[1] * zoom
    return TILE_GAP + c * (tw + TILE_GAP), _title_height(title) + TILE_GAP + r * (th + TILE_GAP)


def filter_image(W: np.ndarray, image_shape: tuple[int, int], *, zoom: int | None = None,
                columns: int | None = None, title: str | None = None) -> Image.Image:
    """All units' filters W (hidden, rows*cols) as tiles, each normalised by its own max |w|.

    zoom None: FILTER_ZOOM (a 28x28 filter is 84 px), more for small images so the grid is at
    least MIN_GRID_WIDTH px wide. title may have several lines ("\\n").
    """
    W = np.asarray(W)
    rows, cols = (int(n) for n in image_shape)
    if W.ndim != 2 or W.shape[1] != rows * cols:
        raise ValueError(f"W must be (hidden, {rows * cols}) for {rows}x{cols} images, got {W.shape}")
    n = W.shape[0]
    zoom = grid_zoom(n, image_shape, zoom, columns)
    width, height = filter_image_size(n, image_shape, zoom, columns, title)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[...] = GAP_RGB
    tiles = diverging_rgb(normalise_rows(W)).reshape(n, rows, cols, 3)
    tiles = tiles.repeat(zoom, axis=1).repeat(zoom, axis=2)
    for j in range(n):
        x, y = tile_origin(j, n, image_shape, zoom, columns, title)
        canvas[y:y + rows * zoom, x:x + cols * zoom] = tiles[j]
    img = Image.fromarray(canvas, "RGB")
    if title is not None:
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 0, width - 1, _title_height(title) - 1), fill=PAPER_RGB)
        for i, line in enumerate(title.split("\n")):
            draw.text((TILE_GAP + 2, TITLE_PAD // 2 + i * TITLE_LINE), _fit(draw, line, width - 8), fill=INK_RGB,
                      font=_font())
    return img


def filter_sheet(panels: Sequence[tuple[str, np.ndarray]], image_shape: tuple[int, int], *,
                 zoom: int | None = None, columns: int | None = None) -> Image.Image:
    """Labelled filter grids side by side, one per (label, W) panel, on white (labels may have lines)."""
    if not panels:
        raise ValueError("filter_sheet needs at least one panel")
    lines = max(label.count("\n") + 1 for label, _ in panels)
    grids = [filter_image(W, image_shape, zoom=grid_zoom(W.shape[0], image_shape, zoom, columns, SHEET_ZOOM),
                         columns=columns, title=label + "\n" * (lines - 1 - label.count("\n")))
             for label, W in panels]
    width = sum(g.width for g in grids) + SHEET_GAP * (len(grids) + 1)
    height = max(g.height for g in grids) + 2 * SHEET_GAP
    sheet = Image.new("RGB", (width, height), PAPER_RGB)
    x = SHEET_GAP
    for g in grids:
        sheet.paste(g, (x, SHEET_GAP))
        x += g.width + SHEET_GAP
    return sheet


# -- charts: shared axes helpers ----------------------------------------------------------------------
@dataclass(frozen=True)
class Axes:
    """A plot rectangle in px and the data range it shows (x linear, y linear or log10)."""

    left: int
    top: int
    right: int
    bottom: int
    x_max: float
    y_lo: float
    y_hi: float
    log_y: bool = True

    def x(self, samples: float) -> int:
        """Pixel column of a sample count."""
        return int(round(self.left + (self.right - self.left) * samples / self.x_max))

    def y(self, value: float) -> int:
        """Pixel row of a value (log10 when log_y)."""
        v = math.log10(value) if self.log_y else value
        lo, hi = (math.log10(self.y_lo), math.log10(self.y_hi)) if self.log_y else (self.y_lo, self.y_hi)
        return int(round(self.bottom - (self.bottom - self.top) * (v - lo) / (hi - lo)))


def loss_axes(samples: np.ndarray, *curves: np.ndarray, size: tuple[int, int] = LOSS_SIZE) -> Axes:
    """The loss chart's axes for these samples and loss curves (log y, padded 5% of the range)."""
    left, top, right, bottom = LOSS_MARGINS
    s = np.asarray(samples, dtype=np.float64)
    x_max = float(np.nanmax(s)) if s.size and np.isfinite(s).any() else 1.0
    values = np.concatenate([np.asarray(c, dtype=np.float64) for c in curves]) if curves else np.zeros(0)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:
        lo, hi = math.log10(values.min()), math.log10(values.max())
    else:
        lo, hi = -1.0, 0.0
    if hi - lo < 1e-3:
        lo, hi = lo - 0.1, hi + 0.1
    pad = 0.05 * (hi - lo)
    return Axes(left, top, size[0] - right - 1, size[1] - bottom - 1, max(x_max, 1.0), 10 ** (lo - pad), 10 ** (hi + pad))


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int) -> str:
    """text, cut with an ellipsis to fit width px."""
    font = _font()
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


# -- loss chart ------------------------------------------------------------------------------------------
def loss_chart(samples: np.ndarray, train_loss: np.ndarray, heldout_loss: np.ndarray,
               segments: Sequence[tuple[float, str]] = (), events: Sequence[tuple[float, str]] = (), *,
               title: str = "", size: tuple[int, int] = LOSS_SIZE, svg: bool = False):
    """Training and held-out loss vs samples (log y), segment starts and divergences marked, drawn
    with matplotlib (aetui/study/charts.py) in the plot rectangle of loss_axes: a PIL image, or
    SVG bytes with svg=True."""
    from aetui.study import charts

    fig = charts.figure(size)
    ax = loss_axes(samples, train_loss, heldout_loss, size=size)
    charts.draw_loss(fig, size, ax, samples, ((train_loss, TRAIN_RGB, "train"), (heldout_loss, HELDOUT_RGB, "held-out")),
                     segments, events, title)
    return charts.to_svg(fig) if svg else charts.to_png_image(fig)


# -- bias development ---------------------------------------------------------------------------------------
def bias_row_height(n_units: int) -> int:
    return max(1, min(8, BIAS_PLOT_HEIGHT // max(1, n_units)))


def bias_chart_size(n_units: int) -> tuple[int, int]:
    """(width, height) in px of bias_chart's image for n_units hidden units."""
    left, top, right, bottom = BIAS_MARGINS
    return left + BIAS_PLOT_WIDTH + right, top + n_units * bias_row_height(n_units) + bottom


def bias_axes(bias: np.ndarray, samples: np.ndarray) -> Axes:
    """The bias chart's plot rectangle in px and its samples range (y: unit rows, 0 at the top)."""
    bias = np.asarray(bias)
    n_units = bias.shape[0] if bias.ndim == 2 else 0
    left, top, _, _ = BIAS_MARGINS
    s = np.asarray(samples, dtype=np.float64)
    points = bias.shape[1] if bias.ndim == 2 else 0
    x_max = float(np.nanmax(s)) if points and np.isfinite(s).any() and np.nanmax(s) > 0 else 1.0
    rows = n_units * bias_row_height(n_units)
    return Axes(left, top, left + BIAS_PLOT_WIDTH, top + max(rows, 1), x_max, 0.0, float(max(rows, 1)), log_y=False)


def bias_chart(bias: np.ndarray, samples: np.ndarray, segments: Sequence[tuple[float, str]] = (), *,
               title: str = "", svg: bool = False):
    """The hidden bias b of every unit (rows) over samples trained (columns), one colour scale,
    drawn with matplotlib around the picture (which is placed pixel for pixel): a PIL image, or
    SVG bytes with svg=True."""
    from aetui.study import charts

    bias = np.asarray(bias, dtype=np.float64)
    n_units = bias.shape[0] if bias.ndim == 2 else 0
    rowh = bias_row_height(n_units)
    ax = bias_axes(bias, samples)
    s = np.asarray(samples, dtype=np.float64)
    points = bias.shape[1] if bias.ndim == 2 else 0
    finite = bias[np.isfinite(bias)] if points else np.zeros(0)
    vmax = float(np.abs(finite).max()) if finite.size else 0.0
    rgb = np.zeros((0, 0, 3), np.uint8)
    if points and n_units:
        # Each pixel column shows the last report point at or before its sample count.
        centres = (np.arange(BIAS_PLOT_WIDTH) + 0.5) / BIAS_PLOT_WIDTH * ax.x_max
        idx = np.clip(np.searchsorted(s, centres, side="right") - 1, 0, points - 1)
        rgb = diverging_rgb(bias[:, idx] / (vmax if vmax > 0 else 1.0)).repeat(rowh, axis=0)
    size = bias_chart_size(n_units)
    fig = charts.figure(size)
    charts.draw_bias(fig, size, ax, rgb, vmax, segments, n_units, title or "hidden bias b")
    return charts.to_svg(fig) if svg else charts.to_png_image(fig)


# -- whole sessions ---------------------------------------------------------------------------------------
def export_session(session, out_dir: str | Path) -> list[Path]:
    """Write filters.png, bias.png and loss.png of a Session into out_dir; returns their paths."""
    h = session.history
    events = tuple((e["samples"], e["kind"]) for e in h.events if e["kind"] == "diverged")
    return _export_pictures(
        out_dir, session.state.W, tuple(session.image_shape), h.bias_matrix(), h.column("samples"),
        h.column("train_loss"), h.column("heldout_loss"), segment_starts(session.lineage), events,
        f"{session.name}: {session.lineage_label()}, {session.samples:,} samples")


def export_frame(frame, out_dir: str | Path) -> list[Path]:
    """The same pictures from a dashboard Frame (immutable copies: safe while training runs)."""
    v = frame.history
    return _export_pictures(out_dir, frame.W, tuple(frame.image_shape), v.bias, v.samples, v.train_loss,
                            v.heldout_loss, v.segments, tuple(e for e in v.events if e[1] == "diverged"),
                            f"{frame.session}: {frame.lineage}, {frame.samples:,} samples")


def export_record(record, out_dir: str | Path) -> list[Path]:
    """The same pictures from a SessionRecord (aetui.open_session: what the session's last save holds)."""
    h = record.history
    events = tuple((e["samples"], e["kind"]) for e in record.events if e["kind"] == "diverged")
    return _export_pictures(
        out_dir, record.weights()["W"], record.image_shape, h["b"].T, h["samples"].astype(np.float64),
        h["train_loss"], h["heldout_loss"], segment_starts(record.lineage), events,
        f"{record.name}: {record.lineage_label}, {record.samples:,} samples")


def export_named(store, name: str, out_dir: str | Path) -> list[Path]:
    """Export session NAME of a SessionStore (read-only: the session may be training elsewhere)."""
    from aetui.sessions.reading import open_session

    return export_record(open_session(name, store.root), out_dir)


def write_png(img: Image.Image, path: str | Path) -> Path:
    """Save img as PNG atomically; a folder or disk problem is a SaveError (one line)."""
    buf = BytesIO()
    img.save(buf, format="PNG")
    return write_export(path, buf.getvalue())


def _export_pictures(out_dir, W, image_shape, bias, samples, train_loss, heldout_loss, segments, events,
                     title: str) -> list[Path]:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SessionError(f"{out} exists and is not a folder")
    return [
        write_png(filter_image(W, image_shape, title=title), out / FILES[0]),
        write_png(bias_chart(bias, samples, segments, title=f"hidden bias b - {title}"), out / FILES[1]),
        write_png(loss_chart(samples, train_loss, heldout_loss, segments, events, title=title), out / FILES[2]),
    ]
