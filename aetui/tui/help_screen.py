"""The keys and what the panes show."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from aetui.study.metrics import METRIC_DEFINITIONS
from aetui.render import DisplayMode, glyphs
from aetui.tui import theme
from aetui.tui.keys import COMPARE_KEYS, FILTER_KEYS, KEYS

PANES = (
    ("status", "state, lineage (activations of the segments, with weight scales), settings, progress, session"),
    ("loss", "training loss (raw, and smoothed) and held-out loss vs samples; the title says the axes (log or "
             "linear: x, y) and the smoothing (m); marks: segment starts with their activation, divergences"),
    ("biases", "hidden bias b per unit over time (blue < 0 < red; the first line is the colour scale with the "
               "values at its ends, b switches it), its min/mean/max; visible bias c as an image"),
    ("filters", "row j of W as an image per hidden unit (blue < 0 < red); marks on the reconstruction "
                "inputs: dead (" + METRIC_DEFINITIONS["dead_units"].split(": ", 1)[-1] + "), saturated (at the "
                "activation's upper bound on every input)"),
    ("reconstructions", "one held-out sample per class, an all-zero and the mean input, each above its output"),
    ("snapshots", "the session's snapshots; pick one to show its filters beside the current ones"),
)


def help_text(mode: DisplayMode, pictures: str = "") -> Group:
    """Keys, panes and marks as two-column grids (descriptions wrap in their column)."""
    g = glyphs(mode)
    keys = Table.grid(padding=(0, 2))
    keys.add_column(justify="right", style=theme.KEY, no_wrap=True)
    keys.add_column()
    seen = set()
    for k in KEYS + FILTER_KEYS + COMPARE_KEYS:
        if k.action in ("move(1, 0)", "move(0, -1)", "move(0, 1)") or (k.shown, k.help) in seen:
            continue
        seen.add((k.shown, k.help))
        keys.add_row(f" {k.shown} ", k.help)
    panes = Table.grid(padding=(0, 2))
    panes.add_column(justify="right", style=theme.HEADING, no_wrap=True)
    panes.add_column()
    for name, what in PANES:
        panes.add_row(name, what)
    marks = Text(f"{g.dead} dead unit   {g.saturated} saturated unit   {g.marker} chart marker (segment start, "
                 "divergence)")
    mode_line = Text(f"Display mode: {mode.value} (--ascii, NO_COLOR, TERM=dumb and non-UTF-8 locales choose "
                     "simpler ones). Escape, ? or q closes this help.", style=theme.CAPTION)
    lines = [mode_line]
    if pictures:
        lines.insert(0, Text(f"Pictures: {pictures} (--graphics auto|kitty|sixel|cells|ascii chooses; the view "
                             "settings are kept in the settings file of your config folder).", style=theme.CAPTION))
    return Group(Text("Keys", style=theme.TITLE), keys, Text(""), Text("Panes", style=theme.TITLE), panes,
                 Text(""), Text("Marks", style=theme.TITLE), marks, Text(""), *lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "close", show=False)]

    def __init__(self, mode: DisplayMode, pictures: str = "") -> None:
        super().__init__()
        self.mode = mode
        self.pictures = pictures  # how pictures are drawn and why, e.g. "sixel (the terminal draws sixel)"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "aetui help"
            with VerticalScroll(id="help-scroll"):
                yield Static(help_text(self.mode, self.pictures), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
