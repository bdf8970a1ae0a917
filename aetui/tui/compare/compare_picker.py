"""Pick the sessions to compare (key c): the one shown now is ticked; 2 to 6 of them."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from aetui.sessions.store import SessionSummary
from aetui.study.comparison import MAX_RUNS
from aetui.tui.session.session_picker import summary_label


class ComparePicker(ModalScreen[list[str] | None]):
    """space ticks a session, enter (or the button) compares the ticked ones."""

    BINDINGS = [Binding("escape", "cancel", "cancel", show=False)]

    def __init__(self, summaries: list[SessionSummary], current: str, root: str) -> None:
        super().__init__()
        self.summaries = [s for s in summaries if not s.problem]
        self.current = current
        self.root = root

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Compare sessions"
            yield Label(f"sessions in {self.root}: tick 2 to {MAX_RUNS} (space), then enter")
            yield SelectionList(*[Selection(summary_label(s, self.current), s.name, s.name == self.current)
                                  for s in self.summaries], id="runs", compact=True)
            yield Static("", id="why")
            with Horizontal(id="buttons"):
                yield Button("Compare", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#runs", SelectionList).focus()

    def chosen(self) -> list[str]:
        picked = set(self.query_one("#runs", SelectionList).selected)
        return [s.name for s in self.summaries if s.name in picked]  # in the store's order

    @on(Button.Pressed, "#ok")
    def action_compare(self) -> None:
        names = self.chosen()
        if not 2 <= len(names) <= MAX_RUNS:
            self.query_one("#why", Static).update(f"tick 2 to {MAX_RUNS} sessions ({len(names)} ticked)")
            return
        self.dismiss(names)

    def key_enter(self) -> None:
        self.action_compare()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
