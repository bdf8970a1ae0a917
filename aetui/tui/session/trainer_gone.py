"""Shown when the session's trainer is gone: killed or crashed, or stopped from another dashboard.

The session on disk holds the last save; the dashboard offers to start a trainer from it.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

RESUME = "resume"
QUIT = "quit"


class TrainerGone(ModalScreen[str]):
    """Resume from the last save (a new trainer process), or quit. Resume is the default."""

    BINDINGS = [Binding("r", "resume", "resume", show=False), Binding("q", "quit", "quit", show=False)]

    def __init__(self, title: str, message: str, saved_samples: int | None) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.saved_samples = saved_samples

    def compose(self) -> ComposeResult:
        saved = ("The session was never saved: resuming starts it afresh." if self.saved_samples is None else
                 f"The session on disk holds the last save: {self.saved_samples:,} samples.")
        with Vertical(id="dialog", classes="danger") as box:
            box.border_title = self.title_text
            yield Static(self.message, id="message")
            yield Static(saved, id="suggestion")
            with Horizontal(id="buttons"):
                yield Button("Resume from it (r)", id="resume", variant="primary", compact=True)
                yield Button("Quit (q)", id="quit", compact=True)

    def on_mount(self) -> None:
        self.query_one("#resume", Button).focus()

    @on(Button.Pressed, "#resume")
    def action_resume(self) -> None:
        self.dismiss(RESUME)

    @on(Button.Pressed, "#quit")
    def action_quit(self) -> None:
        self.dismiss(QUIT)
