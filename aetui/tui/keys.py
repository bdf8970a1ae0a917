"""Every key the dashboard answers to, with its action and the words shown in the key bar and help."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

LR_FACTOR = 1.25  # `+` multiplies the learning rate by this, `-` divides by it


@dataclass(frozen=True)
class Key:
    """One binding: Textual key names (comma-separated), the app action, a short and a long label."""

    keys: str
    action: str
    short: str  # key bar
    help: str  # help screen
    display: str = ""  # how the key is written; default: the first key name
    bar: bool = True  # shown in the key bar

    @property
    def shown(self) -> str:
        return self.display or self.keys.split(",")[0]


KEYS: tuple[Key, ...] = (
    Key("space", "toggle_pause", "pause", "pause / resume training"),
    Key("n", "step", "step", "train one chunk (~30 ms) while paused"),
    Key("s", "snapshot", "snap", "snapshot the current weights"),
    Key("a", "restart", "restart", "restart under another activation (from current weights or a snapshot)"),
    Key("plus,equals_sign", "lr_up", "lr+", f"learning rate x{LR_FACTOR:g}", display="+"),
    Key("minus,underscore", "lr_down", "lr-", f"learning rate /{LR_FACTOR:g}", display="-"),
    Key("f", "toggle_normalization", "norm", "filters: normalise each tile / all tiles together"),
    Key("z", "toggle_zoom", "zoom", "filters: zoom on the selected unit (arrows or a click pick it)"),
    Key("x", "toggle_log_x", "log-x", "loss chart: x axis log / linear (automatic until chosen: log when the run "
        "spans two decades of samples or more)"),
    Key("y", "toggle_log_y", "log-y", "loss chart: y axis log / linear"),
    Key("m", "cycle_smoothing", "smooth", "loss chart: smoothing of the training loss: off, EMA 0.6, 0.9, 0.97 "
        "(the raw curve stays, dimmer)"),
    Key("b", "cycle_heat_scale", "b-scale", "bias heatmap: colour scale robust (2nd-98th percentile) / symlog / "
        "full range"),
    Key("left_square_bracket", "prev_page", "page", "filters: previous page (in the zoom: previous unit)", display="["),
    Key("right_square_bracket", "next_page", "page", "filters: next page (in the zoom: next unit)", display="]", bar=False),
    Key("e", "export", "export", "export pictures: filters, bias development and loss (PNG) and this screen (SVG), "
        "into the session's exports/ folder"),
    Key("ctrl+s", "save", "save", "save the session now (it also autosaves every minute and on quit)", display="^s"),
    Key("o", "open_session", "open", "open another session (the current one is stopped and saved)"),
    Key("question_mark", "help", "help", "this help", display="?"),
    Key("d", "detach", "detach", "detach: leave the dashboard, training goes on (come back with aetui attach NAME; "
        "a closed terminal or SSH link detaches too)"),
    Key("q", "quit", "quit", "quit: stop training, save the session and leave (ctrl+c too)"),
    Key("1,2,3,4,5", "show_pane_key", "pane", "show a pane: 1 loss, 2 bias, 3 filters, 4 reconstructions, "
        "5 snapshots (small terminals: switch tab; large: that pane alone, again or esc: all panes)", display="1-5", bar=False),
    Key("escape", "back", "back", "leave the zoom, the enlarged pane, or the comparison", display="esc", bar=False),
)

# Inside the filters pane (when it has focus).
FILTER_KEYS: tuple[Key, ...] = (
    Key("left", "move(-1, 0)", "", "filters: move the selection (a click on a tile too)", display="arrows"),
    Key("right", "move(1, 0)", "", "filters: select the unit to the right"),
    Key("up", "move(0, -1)", "", "filters: select the unit above"),
    Key("down", "move(0, 1)", "", "filters: select the unit below"),
    Key("enter", "zoom", "", "filters: zoom on the selected unit; snapshots: compare the chosen one"),
)


def bindings(keys: tuple[Key, ...] = KEYS) -> list[Binding]:
    out = []
    for k in keys:
        if k.action == "show_pane_key":
            out += [Binding(str(i), f"show_pane({i})", k.short, show=False) for i in range(1, 6)]
        else:
            out.append(Binding(k.keys, k.action, k.short, show=False, key_display=k.shown))
    # ctrl+c quits even from a dialog or a text field (priority), as in any terminal program.
    out.append(Binding("ctrl+c", "force_quit", "quit", show=False, priority=True))
    return out
