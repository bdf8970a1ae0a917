"""A widget that shows a Block of pre-rendered lines, sending only the lines that changed."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from aetui.tui.blocks import EMPTY, Block


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as [start, stop) runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for y in rows:
        if runs and runs[-1][1] == y:
            runs[-1] = (runs[-1][0], y + 1)
        else:
            runs.append((y, y + 1))
    return runs


class Canvas(Widget):
    """Draws a Block line by line (`render_line`): no Text -> Content conversion, no wrapping."""

    DEFAULT_CSS = """
    Canvas { width: 1fr; height: 1fr; overflow: hidden hidden; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.block: Block = EMPTY
        self._strips: list[Strip] = []
        self._strips_for: tuple | None = None  # (width, base style) the strips were made for

    def show(self, block: Block) -> bool:
        """Show `block`; repaints (and sends bytes to the terminal) only the lines that changed."""
        old = self.block
        if block.width == old.width and block.lines == old.lines:
            return False
        self.block = block
        if self._strips_for is None or block.width != old.width or len(block.lines) != len(old.lines):
            self._strips_for = None
            self.refresh()
            return True
        # Same shape: rebuild and repaint just the changed lines (a converged filter grid
        # changes little between frames; over SSH every unchanged line is bytes saved).
        width, base = self._strips_for
        changed = [y for y, (a, b) in enumerate(zip(old.lines, block.lines)) if a != b]
        for y in changed:
            self._strips[y] = self._strip(block.lines[y], width, base)
        for start, stop in _runs(changed):
            self.refresh(Region(0, start, width, stop - start))
        return True

    def _strip(self, line, width: int, base: Style) -> Strip:
        segs = list(Segment.apply_style(line, base))
        if self.block.width != width:
            segs = list(Segment.adjust_line_length(segs, width, base))
        return Strip(segs, width)

    def _make_strips(self, width: int, base: Style) -> list[Strip]:
        self._blank = Strip([Segment(" " * width, base)], width)
        return [self._strip(line, width, base) for line in self.block.lines]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.visual_style.rich_style
        if self._strips_for != (width, base):
            self._strips = self._make_strips(width, base)
            self._strips_for = (width, base)
        return self._strips[y] if y < len(self._strips) else self._blank

    @property
    def text(self) -> str:
        """What the canvas shows, as plain text (for tests and debugging)."""
        return self.block.text
