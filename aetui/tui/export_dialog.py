"""The export dialog (e): the pictures of this moment, or the session's strip or film."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

PICTURES, STRIP, FILM = "pictures", "strip", "film"


class ExportDialog(ModalScreen[str | None]):
    """Pick what to export; dismissed with PICTURES, STRIP, FILM or None (esc)."""

    BINDINGS = [Binding("escape,q", "close", "close", show=False),
                Binding("p", "pick('pictures')", show=False), Binding("s", "pick('strip')", show=False),
                Binding("f", "pick('film')", show=False)]

    def __init__(self, until: int | None, samples: int) -> None:
        super().__init__()
        self.until = until  # the history view's cursor (samples), None in the live view
        self.samples = samples

    def compose(self) -> ComposeResult:
        end = f"up to the cursor, {self.until:,}" if self.until is not None else "as stored now (saved first)"
        with Vertical(id="dialog") as box:
            box.border_title = "export"
            yield OptionList(
                Option("p  pictures of this moment: filters, bias, loss (PNG) and the screen (SVG)", id=PICTURES),
                Option(f"s  strip (PNG): units x stored snapshots, {end}", id=STRIP),
                Option(f"f  film (GIF): a frame per stored snapshot, {end}", id=FILM),
                id="export-choices")
            yield Label("into the session's exports/ folder; esc: cancel", classes="caption")

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_pick(self, what: str) -> None:
        self.dismiss(what)

    def action_close(self) -> None:
        self.dismiss(None)
