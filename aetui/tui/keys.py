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
    Key("n", "step", "step", "train one mini-batch while paused"),
    Key("s", "snapshot", "snap", "snapshot the current weights"),
    Key("a", "restart", "restart", "restart under another activation (from current weights or a snapshot)"),
    Key("plus,equals_sign", "lr_up", "lr+", f"learning rate x{LR_FACTOR:g}", display="+"),
    Key("minus,underscore", "lr_down", "lr-", f"learning rate /{LR_FACTOR:g}", display="-", bar=False),
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
    Key("t", "toggle_history", "history", "history view: every pane shows a past report point (filters and "
        "reconstructions from the weights stored nearest it); t or esc: back to live; a click on the loss chart "
        "opens it there"),
    Key("comma", "history_back", "step", "history: one stored point back (. forward)", display=", ."),
    Key("full_stop", "history_forward", "step", "history: one stored point forward", display=".", bar=False),
    Key("home", "history_first", "first", "history: the first point (end: the last)", display="home", bar=False),
    Key("end", "history_last", "last", "history: the last point", bar=False),
    Key("less_than_sign", "history_prev_event", "event", "history: the previous event (segment start, lr change, "
        "snapshot, pause, divergence; > the next)", display="< >"),
    Key("greater_than_sign", "history_next_event", "event", "history: the next event", display=">", bar=False),
    Key("e", "export", "export", "export, into the session's exports/ folder: p pictures of this moment (filters, "
        "bias development and loss as PNG, this screen as SVG), s the strip (units x stored snapshots, PNG) or f the "
        "film (a frame per stored snapshot, GIF); in the history view the strip and the film end at the cursor"),
    Key("ctrl+s", "save", "save", "save the session now (it also autosaves every minute and on quit)", display="^s",
        bar=False),
    Key("o", "open_session", "open", "open another session (the current one is stopped and saved)"),
    Key("c", "compare", "compare", "compare runs: pick 2 to 6 sessions (running ones update live); in the restart "
        "dialog (a), Fork runs a new session from these weights beside this one and compares the two"),
    Key("question_mark", "help", "help", "this help", display="?"),
    Key("d", "detach", "detach", "detach: leave the dashboard, training goes on (come back with aetui attach NAME; "
        "a closed terminal or SSH link detaches too)"),
    Key("q", "quit", "quit", "quit: stop training, save the session and leave (ctrl+c too)"),
    Key("1,2,3,4,5", "show_pane_key", "pane", "show a pane: 1 loss, 2 bias, 3 filters, 4 reconstructions, "
        "5 snapshots (small terminals: switch tab; large: that pane alone, again or esc: all panes)", display="1-5", bar=False),
    Key("escape", "back", "back", "leave the history view, the zoom, the enlarged pane, or the comparison",
        display="esc", bar=False),
)

# Inside the filters pane (when it has focus).
FILTER_KEYS: tuple[Key, ...] = (
    Key("left", "move(-1, 0)", "", "filters: move the selection (a click on a tile too)", display="arrows"),
    Key("right", "move(1, 0)", "", "filters: select the unit to the right"),
    Key("up", "move(0, -1)", "", "filters: select the unit above"),
    Key("down", "move(0, 1)", "", "filters: select the unit below"),
    Key("enter", "zoom", "", "filters: zoom on the selected unit; snapshots: compare the chosen one"),
)


# In the comparison (c, aetui compare, a fork).
COMPARE_KEYS: tuple[Key, ...] = (
    Key("1,2,3,4", "tab", "tab", "comparison, small terminals: show the loss, filters, biases or metrics", display="1-4"),
    Key("x", "log_x", "log-x", "comparison: log-x axis of the loss on/off"),
    Key("y", "log_y", "log-y", "comparison: log-y axis of the loss on/off"),
    Key("l", "loss_kind", "own loss/mse", "comparison: each run's held-out loss in its own loss / the held-out "
        "mse at its snapshots (and now), which compares across losses"),
    Key("p", "pairing", "pair units", "comparison: filters unit beside unit / beside its best cosine match"),
    Key("left_square_bracket", "pair(-1)", "", "comparison: filters and biases of the previous two runs", display="["),
    Key("right_square_bracket", "pair(1)", "other runs", "comparison: filters and biases of the next two runs",
        display="]"),
    Key("escape,q", "close", "back", "leave the comparison (running runs go on training)", display="esc"),
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
