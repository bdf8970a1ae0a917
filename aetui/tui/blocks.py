"""Rendered text as blocks of equal-width lines (Textual Strips) that panes stack side by side.

The renderers return one rich Text per picture; a pane often shows several (a heatmap beside
an image, two filter grids). Stacking lines of Segments avoids Textual's slow Text -> Content
conversion (see aetui.render.segments) and keeps every picture exactly where it was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from aetui.render import segment_lines


@dataclass(frozen=True)
class Block:
    """Lines of exactly `width` cells."""

    lines: tuple[Strip, ...]
    width: int

    @property
    def height(self) -> int:
        return len(self.lines)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


EMPTY = Block((), 0)


def block(text: Text | str, style: Style | str | None = None, width: int | None = None) -> Block:
    """A Block of `text` (split at newlines), padded to its widest line or to `width` (cropped)."""
    if isinstance(text, str):
        text = Text(text, style=style or "", no_wrap=True, end="")
    elif style:
        text = text.copy()
        text.stylize_before(style)
    strips = [Strip(segments) for segments in segment_lines(text)] if text.plain else []
    w = max((s.cell_length for s in strips), default=0) if width is None else width
    return Block(tuple(s.adjust_cell_length(w) for s in strips), w)


def lines(*rows: Text | str, width: int | None = None) -> Block:
    """One Block of several single-line texts."""
    return vstack([block(r) for r in rows], width=width)


def hstack(blocks: list[Block], gap: int = 1) -> Block:
    """Blocks side by side, top-aligned, `gap` blank cells apart."""
    blocks = [b for b in blocks if b.width > 0]
    if not blocks:
        return EMPTY
    height = max(b.height for b in blocks)
    out = []
    spacer = Segment(" " * gap)
    for y in range(height):
        parts: list[Segment] = []
        for i, b in enumerate(blocks):
            if i and gap:
                parts.append(spacer)
            line = b.lines[y] if y < b.height else Strip.blank(b.width)
            parts.extend(line)
        out.append(Strip(parts))
    width = sum(b.width for b in blocks) + gap * (len(blocks) - 1)
    return Block(tuple(s.adjust_cell_length(width) for s in out), width)


def vstack(blocks: list[Block], gap: int = 0, width: int | None = None) -> Block:
    """Blocks one below the other, `gap` blank lines apart, padded to the widest (or `width`)."""
    w = max((b.width for b in blocks), default=0) if width is None else width
    out: list[Strip] = []
    for i, b in enumerate(blocks):
        if i and gap:
            out.extend(Strip.blank(w) for _ in range(gap))
        out.extend(s.adjust_cell_length(w) for s in b.lines)
    return Block(tuple(out), w)


def crop(b: Block, width: int, height: int) -> Block:
    """At most width x height of `b` (top-left)."""
    lines_ = b.lines[: max(0, height)]
    w = min(b.width, max(0, width))
    return Block(tuple(s.crop(0, w) for s in lines_), w)


def center(b: Block, width: int) -> Block:
    """`b` moved right to be centred in `width` cells."""
    pad = max(0, (width - b.width) // 2)
    if not pad:
        return b
    return hstack([Block(tuple(Strip.blank(pad) for _ in b.lines), pad), b], gap=0)
