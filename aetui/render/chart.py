"""Line charts of training curves (loss vs samples) as Text, drawn with braille dots or ASCII.

COLOR/SHADE draw each cell as a braille character (2 x 4 dots), series in their styles (SHADE
keeps only bold/dim); ASCII draws one series marker character per cell ('*', '.', ...).
Consecutive points are joined by straight lines. Points with a NaN/inf coordinate are skipped
(their neighbours are joined); with log_y, points with y <= 0 are skipped too, and with log_x points
(and markers) with x <= 0. Later series draw over earlier ones, so pass the raw curve before its
smoothed curve.

Layout of the `height` lines, top to bottom: legend, marker labels (only if there are markers),
plot rows, x tick labels with `x_label` at the right. Small heights drop the legend first, then
the marker labels, then the tick line. The y tick labels and axis take the left columns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text

from .modes import DisplayMode, glyphs
from .palette import AXIS_STYLE, MARKER_STYLE, SERIES_STYLES, style_for

__all__ = ["PlotArea", "Series", "format_si", "format_tick", "line_chart", "log_ticks", "nice_ticks", "smooth"]

ASCII_MARKERS = "*.o+x#"
# Bit of each dot in a braille cell, indexed [dot row 0..3][dot column 0..1].
_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


@dataclass(frozen=True, eq=False)
class Series:
    """One curve: points (xs[i], ys[i]); style is a Rich style such as "bright_cyan" or "dim".

    marker is the ASCII-mode character (default by position: '*', '.', 'o', ...). Arrays are
    copied to read-only float64; equality is identity (arrays have no single truth value).
    """

    name: str
    xs: np.ndarray
    ys: np.ndarray
    style: str = ""
    marker: str = ""

    def __post_init__(self) -> None:
        xs = np.array(self.xs, dtype=np.float64).ravel()
        ys = np.array(self.ys, dtype=np.float64).ravel()
        if xs.shape != ys.shape:
            raise ValueError(f"series {self.name!r}: {xs.size} xs but {ys.size} ys")
        xs.setflags(write=False)
        ys.setflags(write=False)
        object.__setattr__(self, "xs", xs)
        object.__setattr__(self, "ys", ys)
        if len(self.marker) > 1 or (self.marker and ord(self.marker) >= 128):
            raise ValueError("marker must be one ASCII character")


@dataclass(frozen=True, eq=False)
class PlotArea:
    """Where a chart's plot rows are in its Text, and which plot column an x value lands in
    (for mouse picks: compare the columns of the points with the clicked one)."""

    left: int  # cells before the first plot column (the y ticks and axis)
    top: int  # lines before the first plot row (legend, marker labels)
    width: int
    height: int
    column: Callable[[float], int]


def smooth(ys: Sequence[float] | np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average s = alpha * y + (1 - alpha) * s, float64, same length.

    Non-finite entries (NaN, inf) do not update the average; at those positions the previous
    average is repeated (NaN before the first finite value). alpha in (0, 1]; 1 returns ys.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    values = np.asarray(ys, dtype=np.float64).ravel().tolist()
    out = []
    state = math.nan
    keep = 1.0 - alpha
    for y in values:
        if math.isfinite(y):
            state = y if state != state else alpha * y + keep * state  # state != state: NaN
        out.append(state)
    return np.array(out, dtype=np.float64)


# ---------------------------------------------------------------- ticks and their labels


def format_tick(v: float) -> str:
    """Short y label: 0.05, 0.2, 1, 250, 2e-3, 1e5."""
    if v == 0:
        return "0"
    a = abs(v)
    if 0.01 <= a < 1e5:
        return f"{v:.4g}"
    e = math.floor(math.log10(a))
    m = v / 10.0**e
    if abs(round(m, 3)) >= 10:  # rounding carried into the next decade
        m, e = m / 10, e + 1
    return f"{m:.3g}e{e}"


def format_si(v: float) -> str:
    """Short x label with k/M/G suffixes: 500, 2.5k, 1M."""
    a = abs(v)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            return f"{v / scale:.4g}{suffix}"
    return f"{v:.4g}"


def nice_ticks(lo: float, hi: float, max_count: int) -> list[float]:
    """Round values (steps 1, 2, 5 x 10^k) in [lo, hi], at most max_count of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo or max_count < 1:
        return []
    span = hi - lo
    if span == 0:
        return [lo]
    exp = math.floor(math.log10(span / max(1, max_count)))
    for k in range(3):
        for m in (1, 2, 5):
            step = m * 10.0 ** (exp + k)
            first = math.ceil(lo / step - 1e-9)
            last = math.floor(hi / step + 1e-9)
            if last - first + 1 <= max_count:
                digits = max(0, -(exp + k)) + 1
                return [round(i * step, digits) for i in range(first, last + 1)]
    return []


def log_ticks(lo: float, hi: float, max_count: int) -> list[float]:
    """Tick values for a log axis spanning 10^lo .. 10^hi (lo, hi are log10 values).

    Prefers 1-2-5 per decade, then every decade (or every k-th); within less than a decade
    falls back to round linear values.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo or max_count < 1:
        return []
    eps = 1e-9

    def inside(vals: list[float]) -> list[float]:
        return [v for v in vals if lo - eps <= math.log10(v) <= hi + eps]

    d0, d1 = math.floor(lo), math.ceil(hi)
    one_two_five = inside([m * 10.0**d for d in range(d0, d1 + 1) for m in (1, 2, 5)])
    if 2 <= len(one_two_five) <= max_count:
        return [float(f"{v:.6g}") for v in one_two_five]
    if len(one_two_five) < 2:
        linear = nice_ticks(10.0**lo, 10.0**hi, max_count)
        return [v for v in linear if v > 0]
    for stride in range(1, d1 - d0 + 2):
        decades = inside([10.0**d for d in range(d0, d1 + 1) if d % stride == 0])
        if len(decades) <= max_count:
            return [float(f"{v:.6g}") for v in decades]
    return []


# ---------------------------------------------------------------- drawing


def _range(values: list[np.ndarray], log: bool) -> tuple[float, float] | None:
    vals = [v for v in values if v.size]
    if not vals:
        return None
    lo = min(float(v.min()) for v in vals)
    hi = max(float(v.max()) for v in vals)
    if lo == hi:  # all equal: centre the value
        pad = 0.5 if log else (abs(lo) * 0.1 if lo else 1.0)
        lo, hi = lo - pad, hi + pad
    return lo, hi


def _scale(v: np.ndarray, lo: float, hi: float, n: int) -> np.ndarray:
    """Map [lo, hi] to integer positions 0 .. n-1."""
    return np.rint((v - lo) / (hi - lo) * (n - 1)).astype(np.int64)


def _join(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All integer points on the straight segments joining consecutive (px, py)."""
    if px.size <= 1:
        return px, py
    keep = np.ones(px.size, bool)
    keep[1:] = (px[1:] != px[:-1]) | (py[1:] != py[:-1])
    px, py = px[keep], py[keep]
    if px.size <= 1:
        return px, py
    dx, dy = np.diff(px), np.diff(py)
    steps = np.maximum(np.maximum(np.abs(dx), np.abs(dy)), 1)
    seg = np.repeat(np.arange(steps.size), steps)
    k = np.arange(seg.size) - np.repeat(np.cumsum(steps) - steps, steps)
    x = px[seg] + np.rint(k * dx[seg] / steps[seg]).astype(np.int64)
    y = py[seg] + np.rint(k * dy[seg] / steps[seg]).astype(np.int64)
    return np.append(x, px[-1]), np.append(y, py[-1])


def _braille(dots: np.ndarray) -> np.ndarray:
    """(4 * rows, 2 * cols) bool dots -> (rows, cols) braille bit masks."""
    bits = np.zeros((dots.shape[0] // 4, dots.shape[1] // 2), np.int64)
    for r in range(4):
        for c in range(2):
            bits |= dots[r::4, c::2].astype(np.int64) * _BRAILLE_BITS[r][c]
    return bits


def _ascii_markers(series: Sequence[Series]) -> list[str]:
    """Each series' ASCII marker: its own, else the next default no other series claims."""
    claimed = {s.marker for s in series if s.marker}
    free = [m for m in ASCII_MARKERS if m not in claimed] or list(ASCII_MARKERS)
    out, k = [], 0
    for s in series:
        if s.marker:
            out.append(s.marker)
        else:
            out.append(free[k % len(free)])
            k += 1
    return out


def line_chart(
    series: Sequence[Series],
    *,
    width: int,
    height: int,
    mode: DisplayMode,
    log_y: bool = True,
    x_label: str = "samples",
    markers: Sequence[tuple[float, str]] = (),
    cursor: tuple[float, str] | None = None,
    area: list[PlotArea] | None = None,
    log_x: bool = False,
) -> Text:
    """Draw `series` into exactly `height` lines of `width` cells (see the module doc).

    markers: (x, label) vertical lines, e.g. segment boundaries ("relu x0.1") or divergences;
    non-finite x are ignored. The x range covers the data and the markers. cursor: (x, label)
    of one point in view, its column drawn in reverse video over the data, its label placed
    first. area: a list that gets the chart's PlotArea appended. log_x: x on a log
    scale (ticks 1-2-5 or decades, with k/M suffixes).
    """
    width, height = max(0, int(width)), max(0, int(height))
    g = glyphs(mode)
    braille = mode.unicode
    axis_style = style_for(mode, AXIS_STYLE)
    marker_style = style_for(mode, MARKER_STYLE)
    markers = [(float(x), str(label)) for x, label in markers if math.isfinite(x)]
    # On a log axis a marker at 0 (the first segment's start) goes to the left edge.
    at_left = [label for x, label in markers if log_x and x <= 0]
    if log_x:
        markers = [(math.log10(x), label) for x, label in markers if x > 0]

    show_ticks = height >= 3
    show_legend = height >= 4
    show_marker_labels = (bool(markers) or bool(at_left) or bool(cursor and cursor[1])) and height >= 5
    plot_h = max(1, height - show_ticks - show_legend - show_marker_labels)
    if height == 0 or width == 0:
        return Text("\n" * max(0, height - 1), no_wrap=True, end="")

    # Points that can be drawn, in axis space (log10 y for a log axis).
    kept = []
    for s in series:
        ok = np.isfinite(s.xs) & np.isfinite(s.ys)
        with np.errstate(invalid="ignore"):
            if log_y:
                ok &= s.ys > 0
            if log_x:
                ok &= s.xs > 0
        xs, ys = s.xs[ok], s.ys[ok]
        kept.append((np.log10(xs) if log_x else xs, np.log10(ys) if log_y else ys))
    x_range = _range([x for x, _ in kept] + [np.array([x for x, _ in markers])], log=log_x)
    y_range = _range([y for _, y in kept], log=log_y)
    has_data = any(x.size for x, _ in kept)
    xlo, xhi = x_range or (0.0, 1.0)
    ylo, yhi = y_range or (0.0, 1.0)

    dot_h = 4 * plot_h if braille else plot_h
    per_cell_y = dot_h // plot_h

    def dot_rows(ty: np.ndarray) -> np.ndarray:
        return (dot_h - 1) - _scale(ty, ylo, yhi, dot_h)  # row 0 at the top

    # Y ticks decide the gutter width, which decides the plot width.
    max_y_ticks = max(2, plot_h // 3 + 1)
    ticks: list[float] = []
    if has_data:
        ticks = log_ticks(ylo, yhi, max_y_ticks) if log_y else nice_ticks(ylo, yhi, max_y_ticks)
    tick_rows: dict[int, str] = {}
    for t in ticks:
        row = int(dot_rows(np.array([math.log10(t) if log_y else t]))[0]) // per_cell_y
        tick_rows.setdefault(row, format_tick(t))
    gutter = max((len(s) for s in tick_rows.values()), default=0)
    if width - gutter - 1 < 2:
        gutter, tick_rows = 0, {}
    plot_w = width - gutter - 1 if gutter else width
    left = width - plot_w  # gutter plus axis column
    dot_w = 2 * plot_w if braille else plot_w
    per_cell_x = dot_w // plot_w

    def axis_column(ax: float) -> int:
        """The plot column of ax in axis space (log10 x on a log axis)."""
        col = int(_scale(np.array([ax]), xlo, xhi, dot_w)[0]) // per_cell_x
        return min(max(col, 0), plot_w - 1)

    def column(x: float) -> int:
        """The plot column of a data value x (the cursor's, a mouse pick's)."""
        if log_x:
            return axis_column(math.log10(x)) if x > 0 else 0
        return axis_column(x)

    # Rasterise: each cell shows the dots of the last series that reaches it, so a smoothed
    # curve drawn after its raw curve stays a clean line inside the noisy band.
    owner = np.full((plot_h, plot_w), -1, np.int64)
    bits = np.zeros((plot_h, plot_w), np.int64)
    for i, (xs, ys) in enumerate(kept):
        if not xs.size:
            continue
        px, py = _join(_scale(xs, xlo, xhi, dot_w), dot_rows(ys))
        dots = np.zeros((dot_h, dot_w), bool)
        dots[np.clip(py, 0, dot_h - 1), np.clip(px, 0, dot_w - 1)] = True
        hit = _braille(dots) if braille else dots.astype(np.int64)
        owner[hit != 0] = i
        bits = np.where(hit != 0, hit, bits)
    marker_cols = [(0, label) for label in at_left] + [(axis_column(x), label) for x, label in markers]
    cursor_col = column(cursor[0]) if cursor is not None and math.isfinite(cursor[0]) else None
    cursor_style = Style(reverse=True, bold=True)

    styles = [
        style_for(mode, s.style or SERIES_STYLES[i % len(SERIES_STYLES)])
        for i, s in enumerate(series)
    ]
    chars_ascii = _ascii_markers(series)

    text = Text(no_wrap=True, end="")
    lines_done = 0

    def newline() -> None:
        nonlocal lines_done
        if lines_done:
            text.append("\n")
        lines_done += 1

    def append_cells(cells: list[tuple[str, Style | None]]) -> None:
        run: list[str] = []
        run_style: Style | None = None
        for ch, st in cells:
            if st is not run_style and run:
                text.append("".join(run), run_style)
                run = []
            run_style = st
            run.append(ch)
        if run:
            text.append("".join(run), run_style)

    def place(line: list[str], taken: np.ndarray, start: int, label: str) -> None:
        """Write label at start unless it would touch a label already there."""
        stop = start + len(label)
        if label and start >= 0 and not taken[max(0, start - 1) : stop + 1].any():
            line[start:stop] = list(label)
            taken[start:stop] = True

    if show_legend:
        newline()
        cells: list[tuple[str, Style | None]] = []
        for i, s in enumerate(series):
            sample = (g.hline * 2) if braille else chars_ascii[i] * 2
            entry = ("  " if cells else "") + f"{sample} {s.name}"
            if len(cells) + len(entry) > width:
                break
            cells += [(ch, None) for ch in entry[: -len(s.name) - len(sample) - 1]]
            cells += [(ch, styles[i]) for ch in sample]
            cells += [(ch, None) for ch in f" {s.name}"]
        append_cells(cells + [(" ", None)] * (width - len(cells)))

    if show_marker_labels:
        newline()
        line, taken = [" "] * plot_w, np.zeros(plot_w, bool)
        if cursor_col is not None:
            label = cursor[1][:plot_w]
            place(line, taken, min(max(cursor_col - len(label) // 2, 0), plot_w - len(label)), label)
        for col, label in sorted(marker_cols):
            label = label[:plot_w]
            place(line, taken, min(col, plot_w - len(label)), label)
        text.append(" " * left)
        text.append("".join(line), marker_style)

    if area is not None:
        area.append(PlotArea(left, int(show_legend) + int(show_marker_labels), plot_w, plot_h, column))
    marker_at = np.zeros(plot_w, bool)
    for col, _ in marker_cols:
        marker_at[col] = True
    message_row = plot_h // 2 if not has_data else -1
    message = "no data"[:plot_w]
    message_start = (plot_w - len(message)) // 2
    for r in range(plot_h):
        newline()
        if gutter:
            tick = tick_rows.get(r)
            text.append((tick or "").rjust(gutter), axis_style)
            text.append(g.tick_y if tick else g.vline, axis_style)
        cells = []
        for c in range(plot_w):
            i = int(owner[r, c])
            if c == cursor_col:
                ch = (chr(0x2800 + int(bits[r, c])) if braille else chars_ascii[i]) if i >= 0 else g.marker
                cells.append((ch, cursor_style))
            elif i >= 0:
                ch = chr(0x2800 + int(bits[r, c])) if braille else chars_ascii[i]
                cells.append((ch, styles[i]))
            elif r == message_row and message_start <= c < message_start + len(message):
                cells.append((message[c - message_start], axis_style))
            elif marker_at[c]:
                cells.append((g.marker, marker_style))
            else:
                cells.append((" ", None))
        append_cells(cells)

    if show_ticks:
        newline()
        line, taken = [" "] * plot_w, np.zeros(plot_w, bool)
        label = x_label[:plot_w]
        place(line, taken, plot_w - len(label), label)
        if has_data:
            count = max(1, plot_w // 8)
            x_ticks = log_ticks(xlo, xhi, count) if log_x else nice_ticks(xlo, xhi, count)
            for t in x_ticks:
                s = format_si(t)
                at = column(t)
                place(line, taken, min(max(at - len(s) // 2, 0), plot_w - len(s)), s)
        text.append(" " * left)
        text.append("".join(line), axis_style)

    while lines_done < height:  # only when height is too small for one plot row (never)
        newline()
        text.append(" " * width)
    return text
