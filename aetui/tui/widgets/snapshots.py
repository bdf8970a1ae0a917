"""The session's snapshots (user and the study's 2^n periods); picking one compares its filters."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from aetui.frame import Frame
from aetui.render import DisplayMode, format_si
from aetui.tui import theme


def snapshot_label(snap: dict, mode: DisplayMode, compared: bool = False) -> Text:
    """One line: name, samples, activation; user snapshots stand out, '=' marks the compared one."""
    st = lambda spec: theme.style(mode, spec)  # noqa: E731
    user = snap.get("kind") == "user"
    return Text.assemble(
        ("=" if compared else " ", st(theme.HEADING)),
        (f"{snap['name']:<15}", st(theme.VALUE if user else theme.CAPTION)),
        (f"{format_si(snap.get('samples', 0)):>7}", st(theme.VALUE if user else theme.CAPTION)),
        (f"  {snap.get('activation', '?')}", st(theme.LINEAGE if user else theme.CAPTION)),
    )


class SnapshotsPane(Vertical):
    """Newest first; enter or a click compares that snapshot's filters with the current ones."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    SnapshotsPane OptionList { height: 1fr; border: none; padding: 0; scrollbar-size-vertical: 1; }
    """

    class Picked(Message):
        """The user picked snapshot `name` to compare (again: stop comparing)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, mode: DisplayMode, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.mode = mode
        self.frame: Frame | None = None
        self.compared: str | None = None
        self._shown: tuple | None = None
        self.border_title = "snapshots"

    def compose(self) -> ComposeResult:
        yield OptionList(id="snapshot-list")

    @property
    def names(self) -> list[str]:
        """Snapshot names in list order (newest first)."""
        return [] if self.frame is None else [s["name"] for s in reversed(self.frame.snapshots)]

    def update_view(self, frame: Frame | None = None, *, force: bool = False) -> bool:
        if frame is not None:
            self.frame = frame
        if self.frame is None:
            return False
        snaps = self.frame.snapshots
        key = (self.frame.session, tuple(s["name"] for s in snaps), self.compared)
        if key == self._shown and not force:
            return False
        self._shown = key
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        old_name = None
        if highlighted is not None and highlighted < options.option_count:
            old_name = options.get_option_at_index(highlighted).id
        options.clear_options()
        ordered = list(reversed(snaps))
        options.add_options([Option(snapshot_label(s, self.mode, s["name"] == self.compared), id=s["name"])
                             for s in ordered])
        if ordered:
            names = [s["name"] for s in ordered]
            options.highlighted = names.index(old_name) if old_name in names else 0
        users = sum(1 for s in snaps if s.get("kind") == "user")
        self.border_subtitle = f"{users} user, {len(snaps) - users} periodic" + (
            f"  comparing {self.compared}" if self.compared else "  enter: compare")
        return True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Picked(event.option.id))
