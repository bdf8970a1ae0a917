"""A widget that shows a Block of pre-rendered lines, and the pane base class built on it."""

from __future__ import annotations

from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from aetui.frame import Frame
from aetui.render import DisplayMode
from aetui.tui.blocks import EMPTY, Block


class Canvas(Widget):
    """Draws a Block line by line (`render_line`): no Text -> Content conversion, no wrapping."""

    DEFAULT_CSS = """
    Canvas { width: 1fr; height: 1fr; overflow: hidden hidden; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.block: Block = EMPTY

    def show(self, block: Block) -> bool:
        """Show `block`; repaints (and sends bytes to the terminal) only if it differs."""
        if block.width == self.block.width and block.lines == self.block.lines:
            return False
        self.block = block
        self.refresh()
        return True

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self.block.lines
        strip = lines[y] if y < len(lines) else Strip.blank(width)
        return strip.crop_extend(0, width, None).apply_style(self.visual_style.rich_style)

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

    ALLOW_MAXIMIZE = True
    TITLE = ""

    def __init__(self, mode: DisplayMode, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.mode = mode
        self.frame: Frame | None = None
        self._key: tuple | None = None
        self.border_title = self.TITLE

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
