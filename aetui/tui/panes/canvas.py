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
        self._control_rows: set[int] = set()  # lines whose strips carry control segments (sixel)

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
            self._strips[y] = self._strip(block.lines[y], width, base, y)
        if changed and self._control_rows:
            # Repainted blanks erase the part of a sixel image they cover (the zoom's filter beside
            # a chart that moved), and a repaint of part of a line carries no image data: repaint
            # the whole pane, whose images' last lines draw them again (seen in xterm: black bands).
            self.refresh()
            return True
        for start, stop in _runs(changed):
            self.refresh(Region(0, start, width, stop - start))
        return True

    def _strip(self, line, width: int, base: Style, y: int) -> Strip:
        segs = list(Segment.apply_style(line, base))
        if any(seg.control for seg in segs):  # image data (sixel) in this line
            self._control_rows.add(y)
        else:
            self._control_rows.discard(y)
        if self.block.width != width:
            segs = list(Segment.adjust_line_length(segs, width, base))
        return Strip(segs, width)

    def _make_strips(self, width: int, base: Style) -> list[Strip]:
        self._blank = Strip([Segment(" " * width, base)], width)
        self._control_rows = set()
        return [self._strip(line, width, base, y) for y, line in enumerate(self.block.lines)]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.visual_style.rich_style
        if self._strips_for != (width, base):
            self._strips = self._make_strips(width, base)
            self._strips_for = (width, base)
        strip = self._strips[y] if y < len(self._strips) else self._blank
        if y in self._control_rows and not self._on_active_screen():
            # Sixel image data would draw over whatever is on top (a dialog): only the blank cells then.
            return Strip([seg for seg in strip if not seg.control], width)
        return strip

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def _screen_changed(self, _screen) -> None:
        """A dialog opened or closed: lines with image data are drawn again, with or without it
        (Textual keeps the lines it drew of a screen that a dialog covers)."""
        if self._control_rows:
            self.refresh()

    def _on_active_screen(self) -> bool:
        try:
            return self.screen.is_active
        except Exception:  # noqa: BLE001 - not mounted on a screen (yet): nothing is shown anyway
            return False

    @property
    def text(self) -> str:
        """What the canvas shows, as plain text (for tests and debugging)."""
        return self.block.text
