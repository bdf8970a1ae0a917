"""Text -> one list of Rich Segments per line, for widgets that draw their own lines.

Why: Textual turns a Rich Text into its own Content span by span (measured here: ~1 s for a
100-filter grid with ~39,000 colour spans), while a widget whose `render_line(y)` returns
`Strip(lines[y])` skips that conversion. This walks the spans once; it needs no Console.
"""

from __future__ import annotations

from itertools import repeat
from operator import ge, gt, itemgetter

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from .gc_paused import gc_paused

__all__ = ["segment_lines"]


def _style(style: str | Style | None) -> Style | None:
    if isinstance(style, str):
        return Style.parse(style) if style else None
    return style


def segment_lines(text: Text) -> list[list[Segment]]:
    """Split `text` at '\\n' into lines of styled Segments (base style combined with spans).

    The spans this package makes never overlap and take the fast path; a Text with overlapping
    spans is rendered line by line by Rich instead (slower, same result).
    """
    plain = text.plain
    base = _style(text.style)
    # C-level map/itemgetter loops: this runs on every frame over tens of thousands of spans.
    spans = sorted(text.spans, key=itemgetter(0))
    starts = list(map(itemgetter(0), spans))
    ends = list(map(itemgetter(1), spans))
    if any(map(ge, starts, ends)):  # empty spans style nothing
        spans = [span for span in spans if span.start < span.end]
        starts = list(map(itemgetter(0), spans))
        ends = list(map(itemgetter(1), spans))
    if any(map(gt, ends[:-1], starts[1:])):
        return _slow_lines(text)
    if base is not None or not all(map(isinstance, map(itemgetter(2), spans), repeat(Style))):
        spans = [(start, end, _combine(base, _style(style))) for start, end, style in spans]

    # Cut the text at every span edge and around every newline; each piece then has one style.
    n = len(plain)
    codes = np.frombuffer(plain.encode("utf-32-le"), dtype="<u4")
    newlines = np.flatnonzero(codes == 10)
    span_starts = np.array([span[0] for span in spans] if base is not None else starts, np.int64)
    span_ends = np.array([span[1] for span in spans] if base is not None else ends, np.int64)
    bounds = np.sort(np.concatenate([[0, n], span_starts, span_ends, newlines, newlines + 1]))
    bounds = bounds[np.append(True, bounds[1:] != bounds[:-1])]  # np.unique, without its cost
    piece_starts, piece_ends = bounds[:-1], bounds[1:]
    owner = np.searchsorted(span_starts, piece_starts, side="right") - 1
    inside = owner >= 0
    inside[inside] = piece_starts[inside] < span_ends[owner[inside]]
    style_table = [span[2] for span in spans] + [base]
    piece_styles = list(map(style_table.__getitem__, np.where(inside, owner, -1).tolist()))
    with gc_paused():
        texts = list(map(plain.__getitem__, map(slice, piece_starts.tolist(), piece_ends.tolist())))
        segments = list(map(tuple.__new__, repeat(Segment), zip(texts, piece_styles, repeat(None))))
    # Newline pieces are exactly "\n": cut the segment list there.
    breaks = np.flatnonzero(np.isin(piece_starts, newlines)).tolist()
    lines = []
    prev = 0
    for k in breaks:
        lines.append(segments[prev:k])
        prev = k + 1
    lines.append(segments[prev:])
    return lines


def _combine(base: Style | None, style: Style | None) -> Style | None:
    if base is None:
        return style
    return base if style is None else base + style


def _slow_lines(text: Text) -> list[list[Segment]]:
    from rich.console import Console

    console = Console(width=max(1, text.cell_len), color_system="truecolor", no_color=False)
    out = []
    for line in text.split("\n", allow_blank=True):
        line.end = ""
        out.append([s for s in line.render(console) if s.text])
    return out
