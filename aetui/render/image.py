"""One 2-D array -> Rich Text; also the pixel-canvas renderer that grid and heatmap share.

Layout (every mode): one text cell is one pixel wide and two pixels tall, so an (h, w) image
takes ceil(h / 2) lines of w cells and looks square on a terminal whose cells are about twice as
tall as wide.
- COLOR: '▀' with fg = upper pixel, bg = lower pixel. An odd last row is drawn with no
  background (the terminal's own shows through).
- SHADE/ASCII: one character from the mode's grey ramp for the mean of the two pixels (half the
  vertical resolution of COLOR, same footprint). For signed data the ramp runs -1 .. +1 with
  zero on its middle character; NaN is `glyphs(mode).nan`.

Canvas convention: a normalised float array in which +inf means "no pixel" (tile gaps, padding);
`normalize` never returns inf, so the sentinel cannot clash with data.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Span, Text

from .gc_paused import gc_paused
from .colormaps import NAN_RGB, NONE_CODE, Cmap, codes, lut, normalize_for
from .modes import DisplayMode, glyphs

__all__ = ["image_text", "pixels_to_text"]

_UPPER = 0x2580  # '▀'
_LOWER = 0x2584  # '▄'
_SPACE = 0x20
_NEWLINE = 0x0A


class _StyleCache(dict):
    """(upper, lower) code pair -> Style, built once per pair: Style objects are slow to make.

    Keys are upper * base + lower on codes shifted by 2 (0 = no pixel, 1 = NaN, 2.. = LUT level).
    """

    def __init__(self, cmap: Cmap) -> None:
        super().__init__()
        table = lut(cmap)
        self.colors: list[Color | None] = [None, Color.from_rgb(*NAN_RGB)]
        self.colors += [Color.from_rgb(int(r), int(g), int(b)) for r, g, b in table]
        self.base = len(self.colors)

    def __missing__(self, key: int) -> Style | None:
        upper, lower = divmod(key, self.base)
        if upper == 0 and lower == 0:
            style = None
        elif upper == 0:  # drawn as '▄'
            style = Style(color=self.colors[lower])
        else:
            style = Style(color=self.colors[upper], bgcolor=self.colors[lower])
        self[key] = style
        return style


_STYLE_CACHES: dict[str, _StyleCache] = {}


def _style_cache(cmap: Cmap) -> _StyleCache:
    cache = _STYLE_CACHES.get(cmap)
    if cache is None:
        cache = _STYLE_CACHES[cmap] = _StyleCache(cmap)
    return cache


def _decode(codepoints: np.ndarray) -> str:
    return np.ascontiguousarray(codepoints, dtype="<u4").tobytes().decode("utf-32-le")


def _with_newlines(a: np.ndarray, fill: int) -> np.ndarray:
    """Append a column of `fill` to every row and flatten, dropping the very last one."""
    rows = a.shape[0]
    return np.concatenate([a, np.full((rows, 1), fill, a.dtype)], axis=1).ravel()[:-1]


def _render_color(v: np.ndarray, cmap: Cmap, offset: int) -> tuple[str, list[Span]]:
    none = np.isposinf(v)
    c = codes(np.where(none, 0.0, v), cmap)
    c[none] = NONE_CODE
    if c.shape[0] % 2:
        c = np.concatenate([c, np.full((1, c.shape[1]), NONE_CODE, c.dtype)])
    cache = _style_cache(cmap)
    upper = c[0::2].astype(np.int32) + 2
    lower = c[1::2].astype(np.int32) + 2
    key = upper * cache.base + lower
    chars = np.where(upper == 0, np.where(lower == 0, _SPACE, _LOWER), _UPPER)
    plain = _decode(_with_newlines(chars, _NEWLINE))
    key = _with_newlines(key, 0)
    if key.size == 0:
        return plain, []
    # One span per run of equal colours: far fewer spans than cells.
    starts = np.concatenate([[0], np.flatnonzero(key[1:] != key[:-1]) + 1])
    ends = np.append(starts[1:], key.size)
    run_keys = key[starts]
    keep = run_keys != 0
    starts = (starts[keep] + offset).tolist()
    ends = (ends[keep] + offset).tolist()
    styles = map(cache.__getitem__, run_keys[keep].tolist())
    # tuple.__new__ skips Span's generated __new__: this loop is most of the cost of a frame.
    with gc_paused():
        spans = list(map(tuple.__new__, repeat(Span), zip(starts, ends, styles)))
    return plain, spans


def _pair_mean(v: np.ndarray) -> np.ndarray:
    """Mean of vertically adjacent pixel pairs; a missing (inf) partner is ignored."""
    if v.shape[0] % 2:
        v = np.concatenate([v, np.full((1, v.shape[1]), np.inf)])
    upper, lower = v[0::2], v[1::2]
    with np.errstate(invalid="ignore"):
        mean = (upper + lower) / 2.0
    mean = np.where(np.isposinf(upper), lower, np.where(np.isposinf(lower), upper, mean))
    return mean  # NaN if either is NaN; inf only if both are missing


def _render_ramp(v: np.ndarray, mode: DisplayMode, cmap: Cmap) -> str:
    g = glyphs(mode)
    ramp = np.array([ord(ch) for ch in g.ramp] + [ord(g.nan), _SPACE], dtype=np.uint32)
    n = len(g.ramp)
    m = _pair_mean(v)
    nan, none = np.isnan(m), np.isposinf(m)
    safe = np.where(nan | none, 0.0, m)
    if cmap == "diverging":
        unit = (np.clip(safe, -1.0, 1.0) + 1.0) / 2.0
    else:
        unit = np.clip(safe, 0.0, 1.0)
    idx = np.rint(unit * (n - 1)).astype(np.intp)
    idx[nan] = n
    idx[none] = n + 1
    return _decode(_with_newlines(ramp[idx], _NEWLINE))


def render_pixels(
    v: np.ndarray, *, mode: DisplayMode, cmap: Cmap, offset: int = 0
) -> tuple[str, list[Span]]:
    """Canvas (P, W) -> (plain text of ceil(P/2) lines joined by '\\n', spans shifted by offset)."""
    v = np.asarray(v, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {v.shape}")
    if v.shape[0] == 0 or v.shape[1] == 0:
        return "", []
    if mode is DisplayMode.COLOR:
        return _render_color(v, cmap, offset)
    return _render_ramp(v, mode, cmap), []


def pixels_to_text(v: np.ndarray, *, mode: DisplayMode, cmap: Cmap) -> Text:
    """Normalised canvas (P, W) (+inf = no pixel) -> Text of ceil(P/2) lines x W cells."""
    plain, spans = render_pixels(v, mode=mode, cmap=cmap)
    return Text(plain, spans=spans, no_wrap=True, end="")


def image_text(
    img: np.ndarray,
    *,
    mode: DisplayMode,
    cmap: Cmap = "diverging",
    lo: float | None = None,
    hi: float | None = None,
) -> Text:
    """Draw an (h, w) float image: ceil(h / 2) lines of w cells.

    diverging: symmetric scale by max(|lo|, |hi|) or max |img|, zero neutral; gray: [lo, hi]
    (default min..max) -> black..white. NaN is magenta (COLOR) or `glyphs(mode).nan`.
    """
    img = np.asarray(img, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"image_text expects a 2-D array, got shape {img.shape}")
    lut(cmap)  # reject an unknown map early
    return pixels_to_text(normalize_for(cmap, img, lo, hi), mode=mode, cmap=cmap)
