"""The base of the dashboard's panes: a titled Canvas that redraws itself from a Frame."""

from __future__ import annotations

from textual.geometry import Size

from aetui.render import DisplayMode
from aetui.training.frame import Frame
from aetui.tui.blocks import Block
from aetui.tui.panes.canvas import Canvas


class Pane(Canvas):
    """A titled pane that redraws itself from a Frame when its data, size or view changed.

    Subclasses define `data_key(frame)` (what in the frame they show, e.g. its version) and
    `draw(frame, size)`. `update_view` is called by the app's timers and on any view change;
    a hidden pane (another tab) or one whose key is unchanged does nothing.
    """

    TITLE = ""
    SHOWS_WEIGHTS = False  # the history view names, in the title, which stored weights it draws
    painter = None  # an ImagePainter when pictures are drawn as images (kitty, sixel), else cells

    def __init__(self, mode: DisplayMode, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.mode = mode
        self.frame: Frame | None = None
        self._key: tuple | None = None
        self._subtitle_text = ""
        self.border_title = self.TITLE
        self.point = None  # the history view's ViewedPoint; None: the live view

    def set_subtitle(self, text: str) -> None:
        """Set the border subtitle only when it changed (setting it repaints the whole pane)."""
        if text != self._subtitle_text:
            self._subtitle_text = text
            self.border_subtitle = text

    def data_key(self, frame: Frame) -> tuple:
        return (frame.version,)

    def follow(self, point) -> None:
        """Show the history view's point (a ViewedPoint), or the live view (None)."""
        self.point = point
        if not self.SHOWS_WEIGHTS:
            return  # its title stays its own (the loss chart's says how it is drawn)
        note = point.note if point is not None else ""
        if note and len(self.TITLE) + len(note) + 8 > self.size.width:  # the border and its corners
            note = point.short_note
        title = f"{self.TITLE}: {note}" if note else self.TITLE
        if title != self.border_title:  # setting it repaints the whole pane
            self.border_title = title

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
        key = (self.data_key(frame), self.size, self.view_key(), self.point)
        if key == self._key and not force:
            return False
        self._key = key
        self.show(self.draw(frame, self.size))
        if self.painter is not None:
            self.painter.frame_done(self)  # the images of the frame before can go
        return True

    def on_resize(self) -> None:
        if self.point is not None:
            self.follow(self.point)  # the title's note, long or short for the new width
        self.update_view()

    def on_show(self) -> None:
        self.update_view()
