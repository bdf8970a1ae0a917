"""The container of the panes: a grid on large terminals, one pane at a time on small ones."""

from __future__ import annotations

from textual.containers import Container
from textual.message import Message


class PaneArea(Container):
    """Tells the app when its size changed, after layout (App.on_resize comes before it)."""

    class Resized(Message):
        pass

    def on_resize(self) -> None:
        self.post_message(self.Resized())
