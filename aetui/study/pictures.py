"""Pictures of a session as PNG files: filter grid, bias development, loss curve with segments.

Drawn with Pillow alone (no plotting stack). Colours: a diverging map with zero exactly
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

from aetui.sessions.atomic import why, write_bytes
from aetui.errors import SaveError, SessionError
from aetui.sessions.lineage import segment_starts

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
def diverging_rgb(v: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] (clipped; NaN as 0) -> uint8 RGB (..., 3); 0 is exactly ZERO_RGB."""
    v = np.nan_to_num(np.clip(np.asarray(v, dtype=np.float64), -1.0, 1.0), nan=0.0)
    neutral = np.array(ZERO_RGB, np.float64)
    end = np.where((v >= 0)[..., None], np.array(POSITIVE_RGB, np.float64), np.array(NEGATIVE_RGB, np.float64))
    rgb = neutral + np.abs(v)[..., None] * (end - neutral)
    return np.round(rgb).astype(np.uint8)


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


def nice_step(span: float, target: int = 5) -> float:
    """A 1-2-5 step giving about `target` ticks over span."""
    if span <= 0:
        return 1.0
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


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


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int) -> str:
    """text, cut with an ellipsis to fit width px."""
    font = _font()
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def _x_ticks(draw: ImageDraw.ImageDraw, ax: Axes, label: str) -> None:
    font = _font()
    step = nice_step(ax.x_max)
    k = 0
    while k * step <= ax.x_max * 1.0001:
        x = ax.x(k * step)
        draw.line((x, ax.bottom, x, ax.bottom + 4), fill=INK_RGB)
        text = format_samples(k * step)
        draw.text((x - draw.textlength(text, font=font) / 2, ax.bottom + 6), text, fill=INK_RGB, font=font)
        k += 1
    draw.text(((ax.left + ax.right) / 2 - draw.textlength(label, font=font) / 2, ax.bottom + 24), label,
              fill=INK_RGB, font=font)


def _segment_marks(draw: ImageDraw.ImageDraw, ax: Axes, segments: Sequence[tuple[float, str]],
                   events: Sequence[tuple[float, str]]) -> None:
    font = _font()
    for start, label in segments:
        x = ax.x(start)
        if start > 0:
            draw.line((x, ax.top, x, ax.bottom), fill=SEGMENT_RGB, width=1)
        draw.text((x + 3, ax.top + 2), label, fill=SEGMENT_RGB, font=font)
    for at, _kind in events:
        x = ax.x(at)
        r = 5
        y = ax.top + 22
        draw.line((x - r, y - r, x + r, y + r), fill=DIVERGED_RGB, width=2)
        draw.line((x - r, y + r, x + r, y - r), fill=DIVERGED_RGB, width=2)
        draw.text((x + r + 3, y - 6), "diverged", fill=DIVERGED_RGB, font=font)


# -- loss chart ------------------------------------------------------------------------------------------
def loss_chart(samples: np.ndarray, train_loss: np.ndarray, heldout_loss: np.ndarray,
               segments: Sequence[tuple[float, str]] = (), events: Sequence[tuple[float, str]] = (), *,
               title: str = "", size: tuple[int, int] = LOSS_SIZE) -> Image.Image:
    """Training and held-out loss vs samples (log y), segment starts and divergences marked."""
    img = Image.new("RGB", size, PAPER_RGB)
    draw = ImageDraw.Draw(img)
    font = _font()
    ax = loss_axes(samples, train_loss, heldout_loss, size=size)
    for t in log_axis_ticks(ax.y_lo, ax.y_hi):
        y = ax.y(t)
        draw.line((ax.left, y, ax.right, y), fill=GRID_RGB)
        draw.line((ax.left - 4, y, ax.left, y), fill=INK_RGB)
        text = f"{t:.3g}"
        draw.text((ax.left - 7 - draw.textlength(text, font=font), y - 6), text, fill=INK_RGB, font=font)
    _segment_marks(draw, ax, segments, ())
    s = np.asarray(samples, dtype=np.float64)
    for curve, colour in ((train_loss, TRAIN_RGB), (heldout_loss, HELDOUT_RGB)):
        _polyline(draw, ax, s, np.asarray(curve, dtype=np.float64), colour)
    _segment_marks(draw, ax, (), events)
    draw.rectangle((ax.left, ax.top, ax.right, ax.bottom), outline=INK_RGB)
    _x_ticks(draw, ax, "samples")
    draw.text((4, ax.top - 16), "loss (log)", fill=INK_RGB, font=font)
    if title:
        draw.text((ax.left, 4), _fit(draw, title, ax.right - ax.left - 180), fill=INK_RGB, font=font)
    # Legend, top right above the plot.
    x = ax.right - 170
    for label, colour in (("train", TRAIN_RGB), ("held-out", HELDOUT_RGB)):
        draw.line((x, 11, x + 18, 11), fill=colour, width=2)
        draw.text((x + 22, 5), label, fill=INK_RGB, font=font)
        x += 80
    if not np.isfinite(np.asarray(heldout_loss, dtype=np.float64)).any():
        draw.text((ax.left + 10, (ax.top + ax.bottom) // 2), "no loss recorded yet", fill=INK_RGB, font=font)
    return img


def _polyline(draw: ImageDraw.ImageDraw, ax: Axes, s: np.ndarray, v: np.ndarray, colour) -> None:
    run: list[tuple[int, int]] = []
    for x, y in zip(s, v):
        if math.isfinite(x) and math.isfinite(y) and y > 0:
            run.append((ax.x(x), ax.y(y)))
            continue
        _draw_run(draw, run, colour)
        run = []
    _draw_run(draw, run, colour)


def _draw_run(draw: ImageDraw.ImageDraw, run: list[tuple[int, int]], colour) -> None:
    if len(run) > 1:
        draw.line(run, fill=colour, width=2)
    elif run:
        x, y = run[0]
        draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=colour)


# -- bias development ---------------------------------------------------------------------------------------
def bias_row_height(n_units: int) -> int:
    return max(1, min(8, BIAS_PLOT_HEIGHT // max(1, n_units)))


def bias_chart_size(n_units: int) -> tuple[int, int]:
    """(width, height) in px of bias_chart's image for n_units hidden units."""
    left, top, right, bottom = BIAS_MARGINS
    return left + BIAS_PLOT_WIDTH + right, top + n_units * bias_row_height(n_units) + bottom


def bias_chart(bias: np.ndarray, samples: np.ndarray, segments: Sequence[tuple[float, str]] = (), *,
               title: str = "") -> Image.Image:
    """The hidden bias b of every unit (rows) over samples trained (columns), one colour scale."""
    bias = np.asarray(bias, dtype=np.float64)
    n_units = bias.shape[0] if bias.ndim == 2 else 0
    left, top, right, bottom = BIAS_MARGINS
    width, height = bias_chart_size(n_units)
    rowh = bias_row_height(n_units)
    img = Image.new("RGB", (width, height), PAPER_RGB)
    draw = ImageDraw.Draw(img)
    font = _font()
    s = np.asarray(samples, dtype=np.float64)
    points = bias.shape[1] if bias.ndim == 2 else 0
    x_max = float(np.nanmax(s)) if points and np.isfinite(s).any() and np.nanmax(s) > 0 else 1.0
    ax = Axes(left, top, left + BIAS_PLOT_WIDTH, top + n_units * rowh, x_max, 0.0, 1.0, log_y=False)
    finite = bias[np.isfinite(bias)] if points else np.zeros(0)
    vmax = float(np.abs(finite).max()) if finite.size else 0.0
    if points and n_units:
        # Each pixel column shows the last report point at or before its sample count.
        centres = (np.arange(BIAS_PLOT_WIDTH) + 0.5) / BIAS_PLOT_WIDTH * x_max
        idx = np.clip(np.searchsorted(s, centres, side="right") - 1, 0, points - 1)
        rgb = diverging_rgb(bias[:, idx] / (vmax if vmax > 0 else 1.0)).repeat(rowh, axis=0)
        img.paste(Image.fromarray(rgb, "RGB"), (left, top))
    else:
        draw.text((left + 10, top + 4), "no history yet", fill=INK_RGB, font=font)
    for start, label in segments:
        x = ax.x(start)
        if start > 0:
            draw.line((x, top, x, ax.bottom), fill=SEGMENT_RGB, width=1)
        draw.text((x + 3, top - 14), label, fill=SEGMENT_RGB, font=font)
    draw.rectangle((left - 1, top - 1, ax.right, ax.bottom), outline=INK_RGB)
    # Unit ticks on the left: first, middle, last.
    for unit in sorted({0, n_units // 2, n_units - 1}) if n_units else ():
        y = top + unit * rowh + rowh // 2
        text = str(unit)
        draw.text((left - 6 - draw.textlength(text, font=font), y - 6), text, fill=INK_RGB, font=font)
    draw.text((4, top + ax.bottom // 2 - top // 2), "unit", fill=INK_RGB, font=font)
    _x_ticks(draw, Axes(left, top, ax.right, ax.bottom, x_max, 0, 1, False), "samples")
    # Colour bar: +vmax at the top, -vmax at the bottom.
    bar_x, bar_h = ax.right + 12, max(2, ax.bottom - top)
    ramp = diverging_rgb(np.linspace(1.0, -1.0, bar_h))[:, None, :].repeat(12, axis=1)
    img.paste(Image.fromarray(np.ascontiguousarray(ramp), "RGB"), (bar_x, top))
    draw.rectangle((bar_x - 1, top - 1, bar_x + 12, top + bar_h), outline=INK_RGB)
    for text, y in ((f"{vmax:+.3g}", top - 2), ("0", top + bar_h // 2 - 6), (f"{-vmax:+.3g}", top + bar_h - 10)):
        draw.text((bar_x + 16, y), text, fill=INK_RGB, font=font)
    draw.text((left, 4), _fit(draw, title or "hidden bias b", BIAS_PLOT_WIDTH), fill=INK_RGB, font=font)
    return img


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
    """Save img as PNG atomically; a folder or disk problem is a SessionError (one line)."""
    path = Path(path)
    buf = BytesIO()
    img.save(buf, format="PNG")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, buf.getvalue())
    except OSError as exc:
        raise SaveError(f"cannot write {path}: {why(exc)}") from None
    return path


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
