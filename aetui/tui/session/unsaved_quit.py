"""Asked when quitting and the session cannot be saved: retry, keep training, or quit and lose it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

RETRY = "retry"
KEEP = "keep"
DISCARD = "discard"


class UnsavedQuit(ModalScreen[str]):
    """The save at quit failed: the work since the last save would be lost. Retry is the default."""

    BINDINGS = [Binding("escape", "keep", "keep running", show=False)]

    def __init__(self, error: str, unsaved_samples: int) -> None:
        super().__init__()
        self.error = error
        self.unsaved_samples = unsaved_samples

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger") as box:
            box.border_title = "The session could not be saved"
            yield Static(self.error, id="message")
            yield Static(f"Quitting now loses the {self.unsaved_samples:,} samples trained since then. Free some "
                         f"space (or make the folder writable) and retry, or keep training: aetui retries at every "
                         f"autosave and on ctrl+s.", id="suggestion")
            with Horizontal(id="buttons"):
                yield Button("Retry", id="retry", variant="primary", compact=True)
                yield Button("Keep running", id="keep", compact=True)
                yield Button("Quit without saving", id="discard", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#retry", Button).focus()

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        self.dismiss(RETRY)

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss(KEEP)

    @on(Button.Pressed, "#discard")
    def _discard(self) -> None:
        self.dismiss(DISCARD)
