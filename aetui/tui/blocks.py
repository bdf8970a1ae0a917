"""Rendered text as blocks of equal-width lines of Segments that panes stack side by side.

The renderers return one rich Text per picture; a pane often shows several (a heatmap beside
an image, two filter grids). Stacking lines of Segments avoids Textual's slow Text -> Content
conversion (see aetui.render.segments); Strips (costly to create: each carries seven caches)
are made once per line, when a Canvas shows the finished block.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from aetui.render import segment_lines

Line = list[Segment]


@dataclass(frozen=True, eq=False)
class Block:
    """Lines of Segments, each exactly `width` cells."""

    lines: tuple[Line, ...]
    width: int

    @property
    def height(self) -> int:
        return len(self.lines)

    @property
    def text(self) -> str:
        """What the lines show (control segments, such as sixel image data, left out)."""
        return "\n".join("".join(seg.text for seg in line if not seg.control) for line in self.lines)


EMPTY = Block((), 0)


def _length(line: Line) -> int:
    return sum(seg.cell_length for seg in line)  # control segments (image data) take no cells


def _fit(line: Line, width: int) -> Line:
    """`line` padded with spaces or cut to exactly `width` cells."""
    n = _length(line)
    if n == width:
        return line
    if n < width:
        return line + [Segment(" " * (width - n))]
    return list(Segment.adjust_line_length(line, width))


def block(text: Text | str, style: Style | str | None = None, width: int | None = None) -> Block:
    """A Block of `text` (split at newlines), padded to its widest line or to `width` (cropped)."""
    if isinstance(text, str):
        text = Text(text, style=style or "", no_wrap=True, end="")
    elif style:
        text = text.copy()
        text.stylize_before(style)
    lines = segment_lines(text) if text.plain else []
    w = max((_length(line) for line in lines), default=0) if width is None else width
    return Block(tuple(_fit(line, w) for line in lines), w)


def lines(*rows: Text | str, width: int | None = None) -> Block:
    """One Block of several single-line texts."""
    return vstack([block(r) for r in rows], width=width)


def hstack(blocks: list[Block], gap: int = 1) -> Block:
    """Blocks side by side, top-aligned, `gap` blank cells apart."""
    blocks = [b for b in blocks if b.width > 0]
    if not blocks:
        return EMPTY
    height = max(b.height for b in blocks)
    spacer = Segment(" " * gap)
    out = []
    for y in range(height):
        parts: Line = []
        for i, b in enumerate(blocks):
            if i and gap:
                parts.append(spacer)
            parts.extend(b.lines[y] if y < b.height else [Segment(" " * b.width)])
        out.append(parts)
    width = sum(b.width for b in blocks) + gap * (len(blocks) - 1)
    return Block(tuple(out), width)


def vstack(blocks: list[Block], gap: int = 0, width: int | None = None) -> Block:
    """Blocks one below the other, `gap` blank lines apart, padded to the widest (or `width`)."""
    w = max((b.width for b in blocks), default=0) if width is None else width
    out: list[Line] = []
    for i, b in enumerate(blocks):
        if i and gap:
            out.extend([Segment(" " * w)] for _ in range(gap))
        out.extend(line if b.width == w else _fit(line, w) for line in b.lines)
    return Block(tuple(out), w)


def crop(b: Block, width: int) -> Block:
    """`b` cut or padded to `width` cells."""
    return Block(tuple(_fit(line, width) for line in b.lines), width)
