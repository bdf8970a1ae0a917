"""Pick another session of the store to open (the current one is saved and closed)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList
from textual.widgets.option_list import Option

from aetui.render import format_si
from aetui.sessions.store import SessionSummary
from aetui.tui import theme


def summary_label(s: SessionSummary, current: str) -> Text:
    """Two lines: the name (and whether it is open now), then lineage, samples, loss, saved."""
    if s.problem:
        return Text.assemble((s.name, theme.CAPTION), ("\n  cannot open: ", theme.CAPTION), (s.problem, theme.CAPTION))
    loss = "-" if s.heldout_loss is None else f"{s.heldout_loss:.4g}"
    saved = (s.saved or "")[:16].replace("T", " ")
    return Text.assemble(
        (s.name, theme.HEADING), ("  (open now)" if s.name == current else "", theme.CAPTION),
        ("\n  ", ""), (s.lineage, theme.LINEAGE), (f"  {format_si(s.samples)} samples", ""),
        (f"  held-out {loss}", theme.CAPTION), (f"  saved {saved}" if saved else "", theme.CAPTION),
    )


class SessionPicker(ModalScreen[str | None]):
    """Lists store.summaries(); returns the chosen name (None: cancelled or the current one)."""

    BINDINGS = [Binding("escape", "cancel", "cancel", show=False)]

    def __init__(self, summaries: list[SessionSummary], current: str, root: str) -> None:
        super().__init__()
        self.summaries = summaries
        self.current = current
        self.root = root

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Open a session"
            yield Label(f"sessions in {self.root}  (enter or click to open)")
            options = [Option(summary_label(s, self.current), id=s.name, disabled=bool(s.problem))
                       for s in self.summaries]
            yield OptionList(*options, id="sessions", compact=True)
            with Horizontal(id="buttons"):
                yield Button("Open", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        options = self.query_one("#sessions", OptionList)
        names = [s.name for s in self.summaries]
        others = [i for i, s in enumerate(self.summaries) if s.name != self.current and not s.problem]
        if others:
            options.highlighted = others[0]
        elif self.current in names:
            options.highlighted = names.index(self.current)
        options.focus()

    def _choose(self, name: str | None) -> None:
        self.dismiss(None if name in (None, self.current) else name)

    @on(OptionList.OptionSelected, "#sessions")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        options = self.query_one("#sessions", OptionList)
        if options.highlighted is None:
            self.dismiss(None)
            return
        option = options.get_option_at_index(options.highlighted)
        self._choose(None if option.disabled else option.id)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
