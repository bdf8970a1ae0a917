"""A widget that shows a Block of pre-rendered lines, and the pane base class built on it."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from aetui.training.frame import Frame
from aetui.render import DisplayMode
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


class Pane(Canvas):
    """A titled pane that redraws itself from a Frame when its data, size or view changed.

    Subclasses define `data_key(frame)` (what in the frame they show, e.g. its version) and
    `draw(frame, size)`. `update_view` is called by the app's timers and on any view change;
    a hidden pane (another tab) or one whose key is unchanged does nothing.
    """

    TITLE = ""

    def __init__(self, mode: DisplayMode, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.mode = mode
        self.frame: Frame | None = None
        self._key: tuple | None = None
        self._subtitle_text = ""
        self.border_title = self.TITLE

    def set_subtitle(self, text: str) -> None:
        """Set the border subtitle only when it changed (setting it repaints the whole pane)."""
        if text != self._subtitle_text:
            self._subtitle_text = text
            self.border_subtitle = text

    def data_key(self, frame: Frame) -> tuple:
        return (frame.version,)

    def view_key(self) -> tuple:
        return ()

    def draw(self, frame: Frame, size: Size) -> Block:
        raise NotImplementedError

    @property
    def drawable(self) -> bool:
        """Displayed (not in a hidden tab) and of non-zero size."""
        return self.display and self.size.width > 0 and self.size.height > 0

    def update_view(self, frame: Frame | None = None, *, force: bool = False) -> bool:
        """Redraw from `frame` (default: the last one) if anything it shows changed; True if drawn."""
        if frame is not None:
            self.frame = frame
        frame = self.frame
        if frame is None or not self.drawable:
            return False
        key = (self.data_key(frame), self.size, self.view_key())
        if key == self._key and not force:
            return False
        self._key = key
        self.show(self.draw(frame, self.size))
        return True

    def on_resize(self) -> None:
        self.update_view()

    def on_show(self) -> None:
        self.update_view()
