"""The keys, flowed over as many lines as the width needs; each one is clickable."""

from __future__ import annotations

from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from aetui.tui import theme
from aetui.tui.keys import KEYS, Key



CHART_KEYS = ("toggle_log_x", "toggle_log_y", "cycle_smoothing", "cycle_heat_scale")
HISTORY_KEYS = ("history_back", "history_prev_event")  # in the bar only while the history view is open


def bar_items(keys: tuple[Key, ...] = KEYS, history: bool = False) -> list[tuple[str, str, str]]:
    """(shown key, action, label) of every key in the bar (^s, which autosave makes rare, is in the
    help only); `[` and `]` share one entry, `+` and `-` one, and so do the chart keys x y m b (a
    click on it opens the help, which says what each does); the history
    view's own keys are there while it is open, `t` then saying `live`: at 80 columns the bar
    stays two lines in the live view."""
    out = []
    chart = [k for k in keys if k.action in CHART_KEYS]
    for k in keys:
        if k.action in CHART_KEYS[1:]:
            continue
        if k.action == CHART_KEYS[0]:
            out.append((" ".join(c.shown for c in chart), "help", "charts"))
            continue
        if not k.bar or (k.action in HISTORY_KEYS and not history):
            continue
        if k.action == "toggle_history" and history:
            out.append((k.shown, k.action, "live"))
            continue
        if k.action == "lr_up":  # `+` and `-` share one entry, as `[` and `]` do
            out.append(("+ -", k.action, "lr"))
            continue
        shown = "[ ]" if k.action == "prev_page" else k.shown
        out.append((shown, k.action, k.short))
    return out


def flow_keys(items: list[tuple[str, str, str]], width: int) -> list[list[tuple[str, str, str]]]:
    rows: list[list[tuple[str, str, str]]] = [[]]
    used = 0
    for item in items:
        need = len(item[0]) + 1 + len(item[2]) + (2 if rows[-1] else 0)
        if rows[-1] and used + need > width:
            rows.append([])
            used, need = 0, need - 2
        rows[-1].append(item)
        used += need
    return rows


class KeyBar(Static):
    """Docked at the bottom; `key label` pairs, wrapped between pairs only."""

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._width = -1
        self._history = False

    def show_history_keys(self, history: bool) -> None:
        """The history view opened (True) or closed: its keys join or leave the bar."""
        if history != self._history:
            self._history = history
            self._width = -1
            self.on_resize()

    def on_resize(self) -> None:
        width = self.size.width
        if width == self._width or width <= 0:
            return
        self._width = width
        rows = flow_keys(bar_items(history=self._history), width)
        markup = "\n".join("  ".join(f"[{theme.KEY} @click=app.{action}]{escape(shown)}[/] {escape(label)}"
                                     for shown, action, label in row) for row in rows)
        self.update(Content.from_markup(markup))
        self.styles.height = len(rows)

    def on_mount(self) -> None:
        self.call_after_refresh(self.on_resize)
