"""`aetui compare`: the comparison screen as an app of its own (esc or q leaves)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from aetui.render import DisplayMode
from aetui.tui.compare.compare_state import CompareState
from aetui.tui.compare.compare_screen import CompareScreen
from aetui.tui.graphics.terminal import display_mode, use_ascii_widgets


class CompareApp(App[int]):
    """Shows one CompareState until the comparison is left."""

    CSS_PATH = Path(__file__).parent.parent / "app.tcss"
    TITLE = "aetui compare"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, state: CompareState, *, force_ascii: bool = False, mode: DisplayMode | None = None,
                 note: str = "") -> None:
        self.mode = mode if mode is not None else display_mode(force_ascii)  # before App.__init__ drops NO_COLOR
        super().__init__()
        self.state = state
        self.note = note
        if not self.mode.unicode:
            self.add_class("-ascii")
            use_ascii_widgets()

    def on_mount(self) -> None:
        self.push_screen(CompareScreen(self.state, self.mode, self.note), lambda _: self.exit(0))
