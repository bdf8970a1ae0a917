"""The study's figure: a strip of filters, units as rows and stored snapshots as columns in time order.

Columns are a session's stored snapshots (by default the period snapshots, 2^n mini-batches into
each segment, and the user snapshots; `all` adds the thin-stored ones; a number N takes N spread
evenly over all of them), read through `aetui.open_session`. Segment boundaries are drawn between
columns and labelled with the segment (`sigmoid`, `relu x0.1`); under each column its samples
seen and which snapshot it is. Every tile shows all of the filter's pixels (zoomed by a whole
number, nearest neighbour), normalised per tile (each by its own max |w|) or `global` (every unit
of a column by that snapshot's max |w| over all units), as the dashboard's `f`.

Weights are read one snapshot at a time and only the rows of the chosen units are kept, so a
strip of a hidden-2000 session with all its thin snapshots needs a few MB, not the 64 MB they take.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aetui.errors import ConfigError, SessionError
from aetui.sessions.lineage import segment_label
from aetui.sessions.reading import SessionRecord, Snapshot

AUTO_UNITS = 10  # units `auto` picks
ZOOM = 2  # a 28x28 filter becomes a 56x56 tile: every pixel, twice
GAP = 2  # px between tiles
SEGMENT_GAP = 8  # px between the last column of a segment and the first of the next (the boundary line in it)
LEFT = 58  # px for the unit labels
TITLE = 18  # px for the title line
SEGMENT_BAND = 16  # px for the segment labels above the columns
BOTTOM = 30  # px for two lines under each column: samples, snapshot
RUN_GAP = 10  # px between stacked strips
NORMALISATIONS = ("tile", "global")
COLUMN_CHOICES = ("period", "all")


@dataclass(frozen=True)
class StripColumn:
    """One column: a stored snapshot and the segment it belongs to (`key` tells segments apart,
    across runs too)."""

    snapshot: Snapshot
    key: tuple[str, int]  # (run, segment)
    segment: str  # its label: 'sigmoid', 'relu x0.1'
    samples: int  # shown under the column

    @property
    def tag(self) -> str:
        """Which snapshot, in a few characters: 2^12 for a period, the name of a user one, 'thin'."""
        s = self.snapshot
        if s.kind == "period":
            return f"2^{s.name.rsplit('period', 1)[-1].lstrip('0') or '0'}"
        return "thin" if s.kind == "thin" else s.name


def strip_columns(record: SessionRecord, columns: str | int = "period", *, samples_offset: int = 0,
                  run: str | None = None) -> list[StripColumn]:
    """The columns of a strip of `record`: 'period' (period and user snapshots), 'all' (thin too) or N
    (N of all snapshots, spread evenly over their order, first and last included), in time order."""
    snaps = list(record.snapshots)
    if columns == "period":
        snaps = [s for s in snaps if s.kind in ("period", "user")]
    elif isinstance(columns, int):
        if columns < 1:
            raise ConfigError(f"--columns must be period, all or a number >= 1, not {columns}")
        if columns < len(snaps):
            picks = np.unique(np.round(np.linspace(0, len(snaps) - 1, columns)).astype(int))
            snaps = [snaps[i] for i in picks]
    elif columns != "all":
        raise ConfigError(f"--columns must be period, all or a number, not {columns!r}")
    lineage = record.lineage
    run = record.name if run is None else run
    return [StripColumn(s, (run, s.segment), segment_label(lineage[s.segment]), s.samples + samples_offset)
            for s in snaps]


def parse_columns(text: str) -> str | int:
    """--columns: 'period', 'all' or a whole number."""
    if text in COLUMN_CHOICES:
        return text
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--columns must be period, all or a number, not {text!r}") from None


def parse_units(text: str | None, n_hidden: int) -> list[int] | str:
    """--units: 'auto' (the default) or a list like '0,3,10-14'; every unit must exist."""
    if text is None or text == "auto":
        return "auto"
    units: list[int] = []
    try:
        for part in text.split(","):
            lo, dash, hi = part.strip().partition("-")
            units += list(range(int(lo), int(hi) + 1)) if dash else [int(lo)]
    except ValueError:
        raise ConfigError(f"--units must be auto or a list like 0,3,10-14, not {text!r}") from None
    bad = [u for u in units if not 0 <= u < n_hidden]
    if not units or bad:
        raise ConfigError(f"--units: the session has units 0..{n_hidden - 1}" + (f", not {bad[0]}" if bad else ""))
    return list(dict.fromkeys(units))


def auto_units(columns: Sequence[StripColumn], n: int = AUTO_UNITS) -> list[int]:
    """The n units whose filters changed most across the strip's segment starts, in unit order.

    A unit's change at a boundary is 1 - cos(its filter in the last column before the boundary, its
    filter in the last column of the segment after it) (cosine: a weight scale such as x0.1 is no
    change); summed over the boundaries. A strip of one segment: between its first and last columns.
    Ties go to the lower unit.
    """
    if not columns:
        return []
    pairs = [(i - 1, max(k for k in range(i, len(columns)) if columns[k].key == columns[i].key))
             for i in range(1, len(columns)) if columns[i].key != columns[i - 1].key]
    if not pairs:
        pairs = [(0, len(columns) - 1)]
    change = None
    for a, b in pairs:
        Wa, Wb = (np.asarray(columns[k].snapshot.weights()["W"], np.float64) for k in (a, b))
        na, nb = np.linalg.norm(Wa, axis=1), np.linalg.norm(Wb, axis=1)
        cos = np.einsum("ij,ij->i", Wa, Wb) / np.where(na * nb > 0, na * nb, 1.0)
        step = 1.0 - np.where(na * nb > 0, cos, 0.0)
        change = step if change is None else change + step
    order = np.lexsort((np.arange(change.size), -change))
    return sorted(int(u) for u in order[:min(n, change.size)])


@dataclass(frozen=True)
class StripLayout:
    """Where everything of a strip is, in px."""

    n_units: int
    columns: tuple[StripColumn, ...]
    image_shape: tuple[int, int]
    zoom: int = ZOOM
    title: bool = True

    @property
    def tile(self) -> tuple[int, int]:
        """(height, width) of a tile."""
        return self.image_shape[0] * self.zoom, self.image_shape[1] * self.zoom

    def column_x(self, k: int) -> int:
        """x of column k's tiles' left edge."""
        starts = sum(1 for i in range(1, k + 1) if self.columns[i].key != self.columns[i - 1].key)
        return LEFT + GAP + k * (self.tile[1] + GAP) + starts * (SEGMENT_GAP - GAP)

    def row_y(self, r: int) -> int:
        """y of row r's tiles' top edge."""
        return self.top + GAP + r * (self.tile[0] + GAP)

    @property
    def top(self) -> int:
        return (TITLE if self.title else 0) + SEGMENT_BAND

    @property
    def size(self) -> tuple[int, int]:
        n = len(self.columns)
        width = (self.column_x(n - 1) + self.tile[1] + GAP) if n else LEFT + 200
        height = self.row_y(self.n_units) + BOTTOM
        return max(width, 320), height

    def tile_origin(self, row: int, column: int) -> tuple[int, int]:
        """(x, y) of the top-left pixel of the tile of row `row` (the row-th unit shown) and column `column`."""
        return self.column_x(column), self.row_y(row)


def strip_image(columns: Sequence[StripColumn], units: Sequence[int], image_shape: tuple[int, int], *,
                normalise: str = "tile", zoom: int = ZOOM, title: str | None = None):
    """The strip as a PIL RGB image: one row per unit of `units`, one column per StripColumn."""
    from PIL import Image, ImageDraw

    from aetui.study.pictures import GAP_RGB, INK_RGB, PAPER_RGB, SEGMENT_RGB, _font, diverging_rgb, format_samples

    if normalise not in NORMALISATIONS:
        raise ConfigError(f"normalisation must be tile or global, not {normalise!r}")
    columns, units = tuple(columns), list(units)
    layout = StripLayout(len(units), columns, tuple(image_shape), zoom, title is not None)
    width, height = layout.size
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[...] = PAPER_RGB
    th, tw = layout.tile
    if columns and units:  # the grey behind the tiles: gaps between them
        y0, y1 = layout.row_y(0) - GAP, layout.row_y(len(units))
        canvas[y0:y1, LEFT:layout.column_x(len(columns) - 1) + tw + GAP] = GAP_RGB
    for k, col in enumerate(columns):
        W = col.snapshot.weights()["W"]
        rows = np.asarray(W[units], np.float64)
        if normalise == "tile":
            peak = np.abs(rows).max(axis=1, keepdims=True)
        else:
            peak = np.full((len(units), 1), float(np.abs(W).max()) if W.size else 0.0)
        del W
        tiles = diverging_rgb(rows / np.where(peak > 0, peak, 1.0)).reshape(len(units), *image_shape, 3)
        tiles = tiles.repeat(zoom, axis=1).repeat(zoom, axis=2)
        for r in range(len(units)):
            x, y = layout.tile_origin(r, k)
            canvas[y:y + th, x:x + tw] = tiles[r]
    img = Image.fromarray(canvas, "RGB")
    draw = ImageDraw.Draw(img)
    font = _font()
    if title is not None:
        draw.text((4, 3), title, fill=INK_RGB, font=font)
    for r, u in enumerate(units):
        y = layout.row_y(r) + th // 2 - 6
        text = f"unit {u}"
        draw.text((LEFT - 4 - draw.textlength(text, font=font), y), text, fill=INK_RGB, font=font)
    band = layout.top - SEGMENT_BAND
    for k, col in enumerate(columns):
        x = layout.column_x(k)
        if k == 0 or col.key != columns[k - 1].key:
            if k > 0:  # the boundary, in the middle of the wider gap
                bx = x - SEGMENT_GAP // 2 - 1
                draw.rectangle((bx, band, bx + 1, layout.row_y(len(units)) + BOTTOM - 2), fill=SEGMENT_RGB)
            draw.text((x + 1, band + 2), col.segment, fill=SEGMENT_RGB, font=font)
        yb = layout.row_y(len(units))
        for i, text in enumerate((format_samples(col.samples), col.tag)):
            cut = text
            while cut and draw.textlength(cut, font=font) > tw + GAP:
                cut = cut[:-1]
            draw.text((x + (tw - draw.textlength(cut, font=font)) / 2, yb + 2 + 13 * i), cut, fill=INK_RGB, font=font)
    return img


def record_strip(record: SessionRecord, *, units: Sequence[int] | str = "auto", columns: str | int = "period",
                 normalise: str = "tile", zoom: int = ZOOM, until: int | None = None, title: bool = True):
    """The strip of one session (`until`: only snapshots at or before that many samples); returns
    (image, the units shown, the columns)."""
    cols = strip_columns(record, columns)
    if until is not None:
        cols = [c for c in cols if c.snapshot.samples <= until]
    if not cols:
        raise SessionError(f"session {record.name} has no stored snapshots to draw a strip of")
    shown = auto_units(cols) if units == "auto" else list(units)
    label = (f"{record.name}: {record.lineage_label}, units {', '.join(map(str, shown))}; "
             f"{len(cols)} snapshots, {normalise} normalisation") if title else None
    return strip_image(cols, shown, record.image_shape, normalise=normalise, zoom=zoom, title=label), shown, cols


def stacked_strip(records: Sequence[SessionRecord], *, units: Sequence[int] | str = "auto",
                  columns: str | int = "period", normalise: str = "tile", zoom: int = ZOOM):
    """Strips of several runs one above the other with the same units in each (auto: chosen on the
    last run, e.g. the one restarted under relu), as the study drew them; returns (image, units)."""
    if not records:
        raise ValueError("stacked_strip needs at least one session")
    if units == "auto":
        cols = strip_columns(records[-1], columns)
        if not cols:
            raise SessionError(f"session {records[-1].name} has no stored snapshots to draw a strip of")
        units = auto_units(cols)
    images = []
    for record in records:
        image, _, _ = record_strip(record, units=units, columns=columns, normalise=normalise, zoom=zoom, title=False)
        from PIL import ImageDraw

        from aetui.study.pictures import INK_RGB, PAPER_RGB, _font

        titled = image.crop((0, -TITLE, image.width, image.height))  # room above for the run's name
        draw = ImageDraw.Draw(titled)
        draw.rectangle((0, 0, titled.width, TITLE - 1), fill=PAPER_RGB)
        draw.text((4, 3), f"{record.name}: {record.lineage_label}", fill=INK_RGB, font=_font())
        images.append(titled)
    return stack_images(images), list(units)


def stack_images(images: Sequence, gap: int = RUN_GAP):
    """Images one above the other on white, left-aligned."""
    from PIL import Image

    from aetui.study.pictures import PAPER_RGB

    width = max(im.width for im in images)
    height = sum(im.height for im in images) + gap * (len(images) - 1)
    out = Image.new("RGB", (width, height), PAPER_RGB)
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height + gap
    return out


def export_strip(record: SessionRecord, path: str | Path, *, units: Sequence[int] | str = "auto",
                 columns: str | int = "period", normalise: str = "tile", until: int | None = None) -> Path:
    """Write the strip of `record` to `path` (PNG, atomically); returns the path."""
    from aetui.study.pictures import write_png

    image, _, _ = record_strip(record, units=units, columns=columns, normalise=normalise, until=until)
    return write_png(image, path)


__all__ = ["StripColumn", "StripLayout", "auto_units", "export_strip", "parse_columns", "parse_units",
           "record_strip", "stack_images", "stacked_strip", "strip_columns", "strip_image"]
