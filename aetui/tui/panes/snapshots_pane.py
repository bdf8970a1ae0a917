"""The session's snapshots (user and the study's 2^n periods); picking one compares its filters.

Drawn as text lines (no OptionList): a list that grows while training must not make Textual
lay the screen out again each time (measured: ~100 ms per layout with training running).
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message

from aetui.training.frame import Frame
from aetui.render import DisplayMode, format_si, glyphs
from aetui.render.palette import style_for
from aetui.tui import theme
from aetui.tui.blocks import Block, block, vstack
from aetui.tui.panes.pane import Pane


def snapshot_label(snap: dict, mode: DisplayMode, width: int, *, cursor: bool = False,
                   compared: bool = False) -> Text:
    """One line: name, samples, activation, segment; user snapshots stand out, '=' marks the compared one."""
    st = lambda spec: style_for(mode, spec)  # noqa: E731
    user = snap.get("kind") == "user"
    line = Text.assemble(
        (glyphs(mode).cursor if cursor else " ", st(theme.HEADING)),
        ("=" if compared else " ", st(theme.HEADING)),
        (f"{snap['name']:<15}", st(theme.VALUE if user else theme.CAPTION)),
        (f"{format_si(snap.get('samples', 0)):>7}", st(theme.VALUE if user else theme.CAPTION)),
        (f"  {snap.get('activation', '?')}", st(theme.LINEAGE if user else theme.CAPTION)),
        (f"  segment {snap.get('segment', 0)}", st(theme.CAPTION)),
        ("  DAMAGED: " + snap["problem"] if snap.get("problem") else "", st(theme.DEAD)),
        no_wrap=True, end="",
    )
    line.truncate(width, pad=True)
    if cursor:
        line.stylize(st(theme.SELECTED))
    return line


def listed(snapshots: tuple[dict, ...]) -> list[dict]:
    """User snapshots first (they would drown among the 2^n periods), each group newest first."""
    newest = list(reversed(snapshots))
    return [s for s in newest if s.get("kind") == "user"] + [s for s in newest if s.get("kind") != "user"]


class SnapshotsPane(Pane, can_focus=True):
    """User snapshots, then periodic ones, newest first; up/down (or a click) choose, enter compares."""

    TITLE = "snapshots"
    BINDINGS = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "cursor(-10)", show=False),
        Binding("pagedown", "cursor(10)", show=False),
        Binding("enter", "pick", show=False),
    ]

    class Picked(Message):
        """The user picked snapshot `name` to compare (again: stop comparing)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, mode: DisplayMode, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(mode, id=id, classes=classes)
        self.compared: str | None = None
        self.cursor = 0
        self.top = 0  # first row shown

    @property
    def names(self) -> list[str]:
        """Snapshot names in list order (user snapshots first, newest first)."""
        return [] if self.frame is None else [s["name"] for s in listed(self.frame.snapshots)]

    def data_key(self, frame: Frame) -> tuple:
        return (frame.session, tuple(s["name"] for s in frame.snapshots))

    def view_key(self) -> tuple:
        return (self.cursor, self.top, self.compared)

    def draw(self, frame: Frame, size: Size) -> Block:
        snaps = listed(frame.snapshots)
        users = sum(1 for s in snaps if s.get("kind") == "user")
        self.set_subtitle(f"{users} user, {len(snaps) - users} periodic"
                          + (f"  comparing {self.compared}" if self.compared else "  enter: compare"))
        if not snaps:
            return block(Text("no snapshots yet: press s", style=style_for(self.mode, theme.CAPTION)))
        self.cursor = min(max(0, self.cursor), len(snaps) - 1)
        rows = max(1, size.height)
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + rows:
            self.top = self.cursor - rows + 1
        self.top = min(self.top, max(0, len(snaps) - rows))
        shown = snaps[self.top:self.top + rows]
        focused = self.has_focus
        return vstack([block(snapshot_label(s, self.mode, size.width, cursor=focused and self.top + i == self.cursor,
                                            compared=s["name"] == self.compared), width=size.width)
                       for i, s in enumerate(shown)])

    def set_compared(self, name: str | None) -> None:
        self.compared = name
        self.update_view()

    def action_cursor(self, delta: int) -> None:
        self.cursor = min(max(0, self.cursor + int(delta)), max(0, len(self.names) - 1))
        self.update_view()

    def action_pick(self) -> None:
        names = self.names
        if names:
            self.post_message(self.Picked(names[min(self.cursor, len(names) - 1)]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = self.top + offset.y
        if 0 <= row < len(self.names):
            self.cursor = row
            self.update_view()
            if event.chain >= 2 or self.has_focus:
                self.action_pick()

    def on_focus(self) -> None:
        self.update_view(force=True)

    def on_blur(self) -> None:
        self.update_view(force=True)
