"""Charts with axes (the loss curve, the bias development) drawn with matplotlib, as PNG pixels or SVG.

matplotlib is imported here only, when a chart is drawn, and through its object API (Figure
and the Agg canvas, never pyplot): no display, no global figure state, nothing for the
dashboard process to load at start (tests/test_layers.py holds that). The plot rectangle is
placed at fixed pixels (pictures.Axes), so a sample count has a known pixel column: the film
puts its cursor there and the tests look for the segment lines there.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

DPI = 100
FONT_SIZE = 8.0  # pt
LINE_PX = 2.0  # the curves' width in px


def _pt(px: float) -> float:
    """px -> points at DPI."""
    return px * 72.0 / DPI


def _rgb(c) -> tuple[float, float, float]:
    return tuple(v / 255 for v in c)


def figure(size: tuple[int, int]):
    """A matplotlib Figure of `size` px on an Agg canvas (no pyplot, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def plot_axes(fig, size: tuple[int, int], ax) -> object:
    """Axes whose plot area covers the pixels ax.left..ax.right x ax.top..ax.bottom of the image,
    data x 0..ax.x_max landing on the pixel centres of ax.left..ax.right (pictures.Axes.x)."""
    w, h = size
    left, right, top, bottom = ax.left, ax.right, ax.top, ax.bottom
    a = fig.add_axes((left / w, 1 - bottom / h, (right - left) / w, (bottom - top) / h))
    a.set_xlim(0, ax.x_max)
    a.margins(0)
    for side in a.spines.values():
        side.set_linewidth(_pt(1))
    a.tick_params(labelsize=FONT_SIZE, width=_pt(1), length=4 * 72 / DPI)
    return a


def to_png_image(fig):
    """The figure's pixels as a PIL RGB image."""
    from PIL import Image

    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB")


def to_svg(fig) -> bytes:
    """The figure as an SVG document (text as paths: it looks the same in every browser)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "aetui"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return buf.getvalue()


def sample_formatter():
    from matplotlib.ticker import FuncFormatter

    from aetui.study.picture_style import format_samples

    return FuncFormatter(lambda v, _pos: format_samples(v))


def draw_loss(fig, size, ax, samples: np.ndarray, curves: Sequence[tuple[np.ndarray, tuple, str]],
              segments: Sequence[tuple[float, str]], events: Sequence[tuple[float, str]], title: str) -> None:
    """The loss chart into `fig`: curves (values, colour, label) on a log y axis at ax's pixels,
    segment starts as lines with labels, divergences as crosses."""
    from matplotlib.ticker import FixedLocator, NullLocator

    from aetui.study.picture_style import DIVERGED_RGB, GRID_RGB, INK_RGB, SEGMENT_RGB, log_axis_ticks

    a = plot_axes(fig, size, ax)
    a.set_yscale("log")
    a.set_ylim(ax.y_lo, ax.y_hi)
    ticks = log_axis_ticks(ax.y_lo, ax.y_hi)
    a.yaxis.set_major_locator(FixedLocator(ticks))
    a.yaxis.set_minor_locator(NullLocator())
    a.yaxis.set_major_formatter(lambda v, _pos: f"{v:.3g}")
    a.xaxis.set_major_formatter(sample_formatter())
    a.grid(True, axis="y", color=_rgb(GRID_RGB), linewidth=_pt(1))
    a.set_axisbelow(True)
    s = np.asarray(samples, dtype=np.float64)
    drawn = False
    for values, colour, label in curves:
        v = np.asarray(values, dtype=np.float64)
        ok = np.isfinite(s) & np.isfinite(v) & (v > 0)
        if ok.any():
            drawn = drawn or label == "held-out"
            # gaps where there is no value: a line between two points with a gap would invent one
            y = np.where(ok, v, np.nan)
            a.plot(s, y, color=_rgb(colour), linewidth=_pt(LINE_PX), label=label)
            lone = ok & ~np.roll(ok, 1) & ~np.roll(ok, -1)
            if lone.any():
                a.plot(s[lone], v[lone], "o", color=_rgb(colour), markersize=_pt(5))
    for start, label in segments:
        x = _pixel_x(ax, start)
        if start > 0:
            a.axvline(x, color=_rgb(SEGMENT_RGB), linewidth=_pt(1), antialiased=False)
        a.annotate(label, (x, 1), xycoords=("data", "axes fraction"), xytext=(3, -3), textcoords="offset points",
                   va="top", color=_rgb(SEGMENT_RGB), fontsize=FONT_SIZE)
    for at, _kind in events:
        x = _pixel_x(ax, at)
        a.plot([x], [1 - 22 / max(1, ax.bottom - ax.top)], marker="x", markersize=_pt(11), markeredgewidth=_pt(2.5),
               color=_rgb(DIVERGED_RGB), transform=a.get_xaxis_transform(), antialiased=False, clip_on=False)
        a.annotate("diverged", (x, 1), xycoords=("data", "axes fraction"), xytext=(8, -16), textcoords="offset points",
                   va="center", color=_rgb(DIVERGED_RGB), fontsize=FONT_SIZE)
    a.set_xlabel("samples", fontsize=FONT_SIZE, color=_rgb(INK_RGB))
    a.set_ylabel("loss (log)", fontsize=FONT_SIZE, color=_rgb(INK_RGB))
    if curves:
        a.legend(loc="lower left", bbox_to_anchor=(1, 1), fontsize=FONT_SIZE, frameon=False, ncol=len(curves),
                 borderaxespad=0.2)
        a.get_legend().set_loc("lower right")
        a.get_legend().set_bbox_to_anchor((1, 1))
    if title:
        fig.text(ax.left / size[0], 1 - 4 / size[1], title, fontsize=FONT_SIZE, va="top", color=_rgb(INK_RGB))
    if not drawn:
        a.text(0.02, 0.5, "no loss recorded yet", transform=a.transAxes, fontsize=FONT_SIZE)


def draw_bias(fig, size, ax, rgb: np.ndarray, vmax: float, segments: Sequence[tuple[float, str]],
              n_units: int, title: str) -> None:
    """The bias chart into `fig`: the (rows, columns, 3) picture placed unresampled at ax's pixels,
    unit ticks, segment lines and a colour bar from -vmax to +vmax."""
    from matplotlib.colors import ListedColormap, Normalize

    from aetui.study.picture_style import INK_RGB, SEGMENT_RGB, diverging_rgb

    w, h = size
    if rgb.size:
        # under the axes (a figure draws its images after its axes unless told)
        fig.figimage(rgb, xo=ax.left, yo=h - ax.top - rgb.shape[0], origin="upper", resize=False, zorder=-1)
    a = plot_axes(fig, size, ax)
    a.patch.set_alpha(0.0)
    a.set_ylim(ax.y_hi, ax.y_lo)  # units down the chart: unit 0 at the top
    a.xaxis.set_major_formatter(sample_formatter())
    if n_units:
        rowh = (ax.bottom - ax.top) / n_units
        ticks = sorted({0, n_units // 2, n_units - 1})
        a.set_yticks([(u + 0.5) * rowh for u in ticks], [str(u) for u in ticks])
    else:
        a.set_yticks([])
        a.text(0.02, 0.9, "no history yet", transform=a.transAxes, fontsize=FONT_SIZE)
    for start, label in segments:
        x = _pixel_x(ax, start)
        if start > 0:
            a.axvline(x, color=_rgb(SEGMENT_RGB), linewidth=_pt(1), antialiased=False)
        a.annotate(label, (x, 1), xycoords=("data", "axes fraction"), xytext=(3, 2), textcoords="offset points",
                   va="bottom", color=_rgb(SEGMENT_RGB), fontsize=FONT_SIZE)
    a.set_xlabel("samples", fontsize=FONT_SIZE, color=_rgb(INK_RGB))
    a.set_ylabel("unit", fontsize=FONT_SIZE, color=_rgb(INK_RGB))
    bar = fig.add_axes(((ax.right + 12.5) / w, 1 - (ax.bottom + 0.5) / h, 12 / w, (ax.bottom - ax.top) / h))
    cmap = ListedColormap(diverging_rgb(np.linspace(-1, 1, 255)) / 255.0)
    from matplotlib.cm import ScalarMappable

    top = vmax if vmax > 0 else 1.0
    cb = fig.colorbar(ScalarMappable(Normalize(-top, top), cmap), cax=bar)
    cb.set_ticks([-top, 0, top], labels=[f"{-vmax:+.3g}", "0", f"{vmax:+.3g}"])
    cb.ax.tick_params(labelsize=FONT_SIZE, width=_pt(1))
    cb.outline.set_linewidth(_pt(1))
    fig.text(ax.left / w, 1 - 4 / h, title, fontsize=FONT_SIZE, va="top", color=_rgb(INK_RGB))


def _pixel_x(ax, samples: float) -> float:
    """The data x of the pixel centre pictures.Axes.x gives for `samples` (lines land on that column)."""
    if ax.right == ax.left:
        return 0.0
    return (ax.x(samples) - ax.left) * ax.x_max / (ax.right - ax.left)


__all__ = ["draw_bias", "draw_loss", "figure", "to_png_image", "to_svg"]
