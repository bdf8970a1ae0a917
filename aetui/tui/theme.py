"""Rich styles of the text the dashboard draws itself (status line, captions, key bar).

Pane borders and backgrounds are in app.tcss (Textual theme variables only); image and chart
colours are aetui.render's. aetui.render.palette.style_for parses them (without colours outside
COLOR mode: NO_COLOR forbids colour, not emphasis).
"""

from __future__ import annotations

from rich.style import Style

from aetui.render import DisplayMode
from aetui.render.palette import style_for

STATE_STYLES = {
    "COMPILING": "bold black on yellow",
    "RUNNING": "bold black on green",
    "PAUSED": "bold black on cyan",
    "DIVERGED": "bold white on red",
    "STOPPED": "bold reverse",
    "ERROR": "bold white on red",
    "OPENING": "bold black on yellow",
    "HISTORY": "bold black on magenta",  # a past point in view (training goes on)
}
LABEL = "dim"  # "hidden", "lr", ... in the status line
VALUE = "bold"
LINEAGE = "bold magenta"
UNSAVED = "yellow"
SAVE_FAILED = "bold white on red"  # a save that failed (disk full, read-only), until one works
SAVED = "green"
CAPTION = "dim"  # captions inside panes
HEADING = "bold"
KEY = "bold reverse"  # a key in the key bar and help
TAB_ACTIVE = "bold reverse"  # the shown pane in the tab line
TAB = "dim"
TITLE = "bold underline"  # section titles in the help
DEAD = "bold red"
SATURATED = "bold yellow"
SELECTED = "reverse bold"  # current choice in lists drawn as text
SERIES_TRAIN_RAW = "cyan dim"
SERIES_TRAIN = "bright_cyan"
SERIES_TRAIN_MAX = "magenta dim"  # the highest training loss of thinned points (spikes)
SERIES_HELDOUT = "bright_white"
SERIES_HELDOUT_SUBSET = "white dim"  # held-out loss of report points over a fixed subset
SERIES_B_MIN = "blue"
SERIES_B_MEAN = "bright_white"
SERIES_B_MAX = "red"
SERIES_UNIT_BIAS = "bright_yellow"


def state_style(mode: DisplayMode, state: str) -> Style:
    spec = STATE_STYLES.get(state, "bold reverse")
    if mode is not DisplayMode.COLOR:
        return Style(bold=True, reverse=True)
    return style_for(mode, spec)
