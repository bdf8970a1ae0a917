"""The comparison of 2 to 6 runs: loss curves overlaid, filters and biases of two side by side, metrics.

Large terminals show the four panes at once; small ones (80x24) one at a time, chosen with 1-4.
Live runs are read from their trainers' frames twice a second; their metrics (a forward pass over
the held-out set each, in a worker thread) every METRICS_SECONDS.
"""

from __future__ import annotations

import time

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import ModalScreen
from textual.widgets import Static

from aetui.errors import AetuiError
from aetui.render import DisplayMode
from aetui.study.comparison import run_metrics, snapshot_mse
from aetui.tui.compare.compare_state import CompareState
from aetui.tui.keys import COMPARE_KEYS
from aetui.tui.compare.compare_bias_pane import CompareBiasPane
from aetui.tui.compare.compare_filters_pane import CompareFiltersPane
from aetui.tui.compare.compare_loss_pane import CompareLossPane
from aetui.tui.compare.compare_metrics_pane import CompareMetricsPane

PANES = ("loss", "filters", "biases", "metrics")  # tabs and keys 1-4
WIDE = (100, 36)  # at least this many columns and lines show the four panes at once
REFRESH_SECONDS = 0.5  # reading the runs (a trainer's pictures come twice a second)
METRICS_SECONDS = 3.0  # live runs' metrics
class CompareScreen(ModalScreen[None]):
    """The comparison; dismissed with esc (the runs it opened connections to are let go)."""

    DEFAULT_CSS = """
    CompareScreen { background: $background; layout: vertical; }
    #cmp-head { height: auto; max-height: 2; background: $panel; padding: 0 1; }
    #cmp-tabs { height: 1; padding: 0 1; background: $boost; }
    #cmp-keys { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    #cmp-panes { height: 1fr; layout: grid; grid-size: 2 2; grid-columns: 1fr 1fr; grid-rows: 1fr 1fr; }
    #cmp-panes.-narrow { layout: vertical; }
    #cmp-panes.-narrow > .pane { display: none; }
    #cmp-panes.-narrow > .pane.-active { display: block; }
    """
    BINDINGS = ([Binding(str(i + 1), f"tab({i})", show=False) for i in range(len(PANES))]
                + [Binding(k.keys, k.action, show=False) for k in COMPARE_KEYS if k.action != "tab"])

    def __init__(self, state: CompareState, mode: DisplayMode, note: str = "") -> None:
        super().__init__()
        self.state = state
        self.mode = mode
        self.note = note
        self.active = 0
        self.narrow = False
        self._metrics_at: dict[str, float] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="cmp-head")
        yield Static("", id="cmp-tabs")
        with Container(id="cmp-panes"):
            yield CompareLossPane(self.mode, id="cmp-loss", classes="pane")
            yield CompareMetricsPane(self.mode, id="cmp-metrics", classes="pane")
            yield CompareFiltersPane(self.mode, id="cmp-filters", classes="pane")
            yield CompareBiasPane(self.mode, id="cmp-biases", classes="pane")
        yield Static("  ".join(f"{k.shown} {k.short}" if k.short else k.shown for k in COMPARE_KEYS),
                     id="cmp-keys", markup=False)

    def on_mount(self) -> None:
        self._head()
        self._layout()
        self.set_interval(REFRESH_SECONDS, self.refresh_runs)
        self.refresh_runs()

    def on_resize(self) -> None:
        self._layout()

    # -- layout -------------------------------------------------------------------------------------
    def _layout(self) -> None:
        width, height = self.app.size
        self.narrow = width < WIDE[0] or height < WIDE[1]
        self.query_one("#cmp-panes").set_class(self.narrow, "-narrow")
        for i, name in enumerate(PANES):
            self.query_one(f"#cmp-{name}").set_class(i == self.active, "-active")
        tabs = self.query_one("#cmp-tabs", Static)
        tabs.display = self.narrow
        tabs.update("  ".join(f"[reverse] {i + 1} {n} [/]" if i == self.active else f" {i + 1} {n} "
                              for i, n in enumerate(PANES)))
        self.call_after_refresh(self.draw)

    def _head(self) -> None:
        n = len(self.state.runs)
        live = sum(1 for v in self.state.views if v.live)
        text = f"comparing {n} runs ({live} training)" if live else f"comparing {n} saved runs"
        self.query_one("#cmp-head", Static).update(text + (f" - {self.note}" if self.note else ""))

    def panes(self):
        return [self.query_one(f"#cmp-{name}") for name in PANES]

    def draw(self) -> None:
        for pane in self.panes():
            pane.update_view(self.state)

    # -- the runs ---------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        changed = False
        for run in self.state.runs:
            try:
                changed |= run.refresh()
            except AetuiError as exc:
                self.notify(f"{run.name}: {exc}", severity="error")
        now = time.monotonic()
        due = [v for v in self.state.views
               if v.name not in self._metrics_at or (v.live and now - self._metrics_at[v.name] >= METRICS_SECONDS)]
        if due:
            for v in due:
                self._metrics_at[v.name] = now
            self._measure([(v, run.store) for v, run in zip(self.state.views, self.state.runs) if v in due])
        if changed:
            self.state.changed()
            self._head()
            self.draw()

    @work(thread=True, group="compare-metrics")
    def _measure(self, views) -> None:
        """Metrics of the runs' weights now and, when a run was saved again, mse at its snapshots."""
        results, curves = {}, {}
        for view, store in views:
            try:
                results[view.name] = run_metrics(view)
                saved = store.load(view.name)
                if self.state.mse_curves.get(view.name, (None,))[0] != saved.generation:
                    curves[view.name] = (saved.generation, *snapshot_mse(saved))
            except AetuiError as exc:  # its data or its folder is not there any more
                results.setdefault(view.name, {})
                self.app.call_from_thread(self.notify, f"{view.name}: no metrics: {exc}", severity="warning")
        self.app.call_from_thread(self._measured, results, curves)

    def _measured(self, results: dict, curves: dict) -> None:
        self.state.metrics.update(results)
        self.state.mse_curves.update(curves)
        self.state.changed()
        self.draw()

    # -- keys ----------------------------------------------------------------------------------------------
    def action_tab(self, index: int) -> None:
        self.active = index
        self._layout()

    def _toggle(self, setting: str) -> None:
        """Flip one of the comparison's view switches and redraw."""
        setattr(self.state, setting, not getattr(self.state, setting))
        self.state.changed()
        self.draw()

    def action_log_x(self) -> None:
        self._toggle("log_x")

    def action_log_y(self) -> None:
        self._toggle("log_y")

    def action_loss_kind(self) -> None:
        self._toggle("show_mse")

    def action_pairing(self) -> None:
        self._toggle("by_cosine")

    def action_pair(self, step: int) -> None:
        self.state.next_pair(step)
        self.draw()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_unmount(self) -> None:
        self.state.close()
