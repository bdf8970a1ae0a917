"""The dashboard app: a client of the session's trainer, which trains in a process of its own.

The UI thread never waits for the trainer: it reads `link.frame` (replaced whole by the
client's polling thread) and `link.notices()` on a timer and queues commands. The app lays out
the panes, polls the link and routes the keys; each feature's actions are a mixin in that
feature's folder: opening, quitting and detaching (session/), restarting (restart/), comparing
and forking (compare/), the history view (history/), the export (export_actions.py) and the
view settings (view_actions.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from textual import on, work
from textual.app import App, ComposeResult
from textual.screen import ModalScreen

from aetui.errors import AetuiError
from aetui.training.client import TrainerClient
from aetui.training.frame import COMPILING, DIVERGED, STOPPED, Frame
from aetui.render import DisplayMode
from aetui.sessions.store import SessionStore
from aetui.tui import keys, refresh_rates as rates
from aetui.tui.compare.compare_actions import CompareActions
from aetui.tui.export_actions import ExportActions
from aetui.tui.history.history_actions import HISTORY, HistoryViewActions
from aetui.tui.help_screen import HelpScreen
from aetui.tui.restart.restart_actions import RestartActions
from aetui.tui.session.session_actions import DETACHED, GONE, STOPPED_BY_US, SessionActions
from aetui.tui.graphics.terminal import display_mode, use_ascii_widgets
from aetui.tui.view_actions import ViewActions
from aetui.tui.graphics_setup import GraphicsSetup, setup_graphics
from aetui.tui.panes.bias_pane import BiasPane
from aetui.tui.panes.filters_pane import Comparison, FiltersPane
from aetui.tui.panes.key_bar import KeyBar
from aetui.tui.panes.loss_pane import LossPane
from aetui.tui.panes.pane_area import PaneArea
from aetui.tui.panes.pane_tabs import PaneTabs
from aetui.tui.panes.recon_pane import ReconPane
from aetui.tui.panes.snapshots_pane import SnapshotsPane
from aetui.tui.panes.status_bar import StatusBar

PANES = ("loss", "bias", "filters", "recon", "snapshots")  # order of the tabs and of keys 1-5
PANE_TITLES = ("loss", "biases", "filters", "reconstructions", "snapshots")
WIDE = (100, 36)  # at least this many columns and lines show all panes at once; else tabs
# (at 100x30 the grid left the filters pane one label line: seen over ssh)

# Actions that act on the training or the panes: not while a dialog is open.
DASHBOARD_ACTIONS = {k.action.split("(")[0] for k in keys.KEYS} | {"show_pane", "next_page", "prev_page"}


class AetuiApp(SessionActions, RestartActions, CompareActions, ExportActions, HistoryViewActions, ViewActions,
               App[int]):
    """The dashboard for one trainer at a time (`o` switches to another session of `store`)."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "aetui"
    BINDINGS = keys.bindings()
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, link: TrainerClient, *, store: SessionStore, open_trainer: Callable[[str], TrainerClient],
                 force_ascii: bool = False, mode: DisplayMode | None = None, stop_on_hangup: bool = False,
                 graphics: GraphicsSetup | None = None) -> None:
        # Before App.__init__, which removes NO_COLOR from the environment.
        self.mode = mode if mode is not None else display_mode(force_ascii)
        super().__init__()
        self.link: TrainerClient | None = link
        self.store = store
        self.open_trainer = open_trainer  # name -> a client of that session's trainer (started if need be)
        self.stop_on_hangup = stop_on_hangup
        self.session = link.session
        self.trainer_pid = link.hello.pid
        self.frame: Frame | None = None
        self.narrow = False
        self.active_pane = PANES.index("filters")
        self._pane_map: dict = {}
        self._tick_timers: list = []
        self._ticks = 0
        self._zoom_enlarged = False  # the zoom made the filters pane the only one shown
        self.solo: str | None = None  # large terminals: the one pane shown enlarged (keys 1-5)
        self._drawn_at: dict[str, float] = {}  # pane -> time.monotonic() of its last redraw
        self._lr_target: tuple[float, float] | None = None  # (lr, time requested)
        if not self.mode.unicode:
            self.add_class("-ascii")
            use_ascii_widgets()
        self.graphics = graphics  # how pictures are drawn (None: cells, as the display mode says)
        if graphics is not None:
            self.graphics_request = graphics.request

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(self.mode, id="status")
        yield PaneTabs(list(PANE_TITLES), id="tabs")
        with PaneArea(id="panes"):
            yield LossPane(self.mode, id="loss", classes="pane")
            yield BiasPane(self.mode, id="bias", classes="pane")
            yield FiltersPane(self.mode, id="filters", classes="pane")
            yield SnapshotsPane(self.mode, id="snapshots", classes="pane")
            yield ReconPane(self.mode, id="recon", classes="pane")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self._pane_map = {name: self.query_one(f"#{name}") for name in PANES}
        if self.graphics is not None and self.graphics.painter is not None:
            for name in ("filters", "recon"):  # the panes whose pictures are images
                self._pane_map[name].painter = self.graphics.painter
        self._attach(self.link)
        self._apply_layout()
        self.load_view_settings()
        self.filters.focus()
        self._catch_hangup()
        self._poll()
        self._draw_all()

    def on_pane_area_resized(self) -> None:
        self._apply_layout()

    def _apply_layout(self) -> None:
        if not self._pane_map:
            return
        width, height = self.size
        narrow = width < WIDE[0] or height < WIDE[1]
        self.narrow = narrow
        one = narrow or self.solo  # one pane at a time (small terminal, or one pane enlarged)
        panes = self.query_one("#panes")
        panes.set_class(one, "-narrow")
        if not narrow:
            # Taller terminals give the charts and the reconstruction strip more lines.
            top = 11 if height < 45 else 14
            bottom = 11 if height < 50 else 17
            panes.styles.grid_rows = f"{top} 1fr {bottom}"
        tabs = self.query_one(PaneTabs)
        tabs.set_class(one, "-narrow")
        for i, name in enumerate(PANES):
            self.query_one(f"#{name}").set_class(i == self.active_pane, "-active")
        tabs.set_active(self.active_pane, "" if narrow else "esc: all panes")
        self.call_after_refresh(self._draw_all)

    def _draw_all(self) -> None:
        """Redraw every visible pane whose data or view changed (after layout changes, switches)."""
        if self.frame is None:
            return
        now = time.monotonic()
        for name, pane in self._pane_map.items():
            if pane.update_view(self.pane_frame()):
                self._drawn_at[name] = now

    # -- panes -------------------------------------------------------------------------------------
    @property
    def filters(self) -> FiltersPane:
        return self._pane_map["filters"]

    def pane(self, name: str):
        return self._pane_map[name]

    def _tick(self) -> None:
        """Poll the link; then redraw at most one pane: the most overdue one that changed."""
        self._ticks += 1
        self._poll(status=self._ticks % rates.STATUS_EVERY == 0)
        if self.frame is None:
            return
        now = time.monotonic()
        due = sorted((now - self._drawn_at.get(name, 0.0) - interval, name)
                     for name, interval in rates.PANE_INTERVAL.items())
        for late, name in reversed(due):
            if late < 0:
                break
            if self._pane_map[name].update_view(self.pane_frame()):
                self._drawn_at[name] = now
                break

    # -- the trainer -----------------------------------------------------------------------------------
    def _attach(self, link: TrainerClient) -> None:
        self.link = link
        self.session = link.session
        self.trainer_pid = link.hello.pid
        self._gone_shown = False
        if link.frame is not None:
            self.frame = link.frame
        if not self._tick_timers:
            self._tick_timers = [self.set_interval(1 / rates.TICK_HZ, self._tick)]

    def _detach(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            link.close()

    def state_word(self) -> str:
        if self.switching:
            return "OPENING"
        link = self.link
        if link is not None and link.stopped is not None:
            return STOPPED
        if link is None or link.gone is not None:
            return "GONE"
        if link.error is not None:
            return "ERROR"
        if self.in_history:
            return HISTORY
        return self.frame.state if self.frame is not None else COMPILING

    def _poll(self, status: bool = True) -> None:
        link = self.link
        if link is None:
            return
        frame = link.frame
        for notice in link.notices():
            self.notify(notice.text, severity=notice.severity, timeout=8 if notice.severity == "error" else 4)
        if frame is None:
            return
        state_changed = self.frame is None or frame.state != self.frame.state
        self.frame = frame
        if status or state_changed:
            self._show_status(frame)
        self._offer_divergence(frame)
        self._offer_resume(link)

    # -- guards ----------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in DASHBOARD_ACTIONS and isinstance(self.screen, ModalScreen):
            return False
        return True

    def _refuse(self, why: str) -> None:
        self.notify(why, severity="warning", timeout=3)

    def _busy(self, what: str, *, compiling_ok: bool = False, diverged_ok: bool = True) -> bool:
        """True (and says why) when `what` cannot be done now."""
        if self.switching:
            self._refuse(f"{what}: opening session {self.switching}, wait a moment")
            return True
        link = self.link
        if link is None or self.frame is None:
            return True
        if link.gone is not None or link.stopped is not None:
            self._refuse(f"{what}: the trainer is gone; q quits")
            return True
        if link.error is not None:
            self._refuse(f"{what}: the training thread stopped after an error; q quits (and saves)")
            return True
        if not compiling_ok and self.frame.state == COMPILING:
            self._refuse(f"{what}: the kernels are still compiling (first use only), wait a moment")
            return True
        if not diverged_ok and self.frame.state == DIVERGED:
            self._refuse(f"{what}: training diverged; press a to restart it (smaller weights or learning rate)")
            return True
        return False

    # -- actions: training ---------------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        if self._busy("pause", compiling_ok=True, diverged_ok=False):
            return
        pause = not self.link.paused
        if pause:
            self.link.pause()
        else:
            self.link.resume()
        if self.frame.state == COMPILING:
            self.notify("training will start paused" if pause else "training will start when compiled",
                        timeout=3)

    def action_step(self) -> None:
        if self._busy("step", diverged_ok=False):
            return
        if not self.link.paused:
            self._refuse("n trains one mini-batch while paused: press space to pause first")
            return
        self.link.step()

    def action_snapshot(self) -> None:
        if self._busy("snapshot"):
            return
        self.link.snapshot()

    def _change_lr(self, factor: float) -> None:
        if self._busy("learning rate", diverged_ok=False):
            return
        base = self.frame.lr
        if self._lr_target is not None and time.monotonic() - self._lr_target[1] < rates.LR_PENDING_SECONDS:
            base = self._lr_target[0]  # a change not yet in a frame
        lr = base * factor
        self._lr_target = (lr, time.monotonic())
        self.link.set_lr(lr)

    def action_lr_up(self) -> None:
        self._change_lr(keys.LR_FACTOR)

    def action_lr_down(self) -> None:
        self._change_lr(1 / keys.LR_FACTOR)

    def action_save(self) -> None:
        if self._busy("save", compiling_ok=True):
            return
        self.link.save()

    # -- actions: view ------------------------------------------------------------------------------------
    def action_toggle_normalization(self) -> None:
        how = self.filters.toggle_normalization()
        self.notify(f"filters: {'each tile on its own scale' if how == 'tile' else 'all tiles on one scale'}",
                    timeout=2)
        self.save_view_settings()

    def action_toggle_zoom(self) -> None:
        self._show_filters()
        filters = self.filters
        zoomed = filters.toggle_zoom()
        # Large terminals: the zoom takes the whole screen when its pane is too small for the
        # filter at full resolution; leaving the zoom gives the screen back.
        if zoomed and not self.narrow and not filters.zoom_fits() and not self.solo:
            self._zoom_enlarged = True  # first: the enlargement is the zoom's, not a view setting to keep
            self._set_solo("filters")
        elif not zoomed and self._zoom_enlarged:
            self._zoom_enlarged = False
            if self.solo == "filters":
                self._set_solo(None)

    def action_prev_page(self) -> None:
        self._show_filters()
        self.filters.page(-1)

    def action_next_page(self) -> None:
        self._show_filters()
        self.filters.page(1)

    def _show_filters(self) -> None:
        """Make sure the filters pane is on screen (another tab or an enlarged pane hides it)."""
        if self.narrow and PANES[self.active_pane] != "filters":
            self.action_show_pane(PANES.index("filters") + 1)
        elif not self.narrow and self.solo not in (None, "filters"):
            self._set_solo(None)

    def action_show_pane(self, number: int) -> None:
        index = int(number) - 1
        if not 0 <= index < len(PANES):
            return
        pane = self.pane(PANES[index])
        if self.narrow:
            self.active_pane = index
            self._apply_layout()
        else:
            self._set_solo(None if self.solo == PANES[index] else PANES[index])
        if pane.focusable:
            pane.focus()
        self.call_after_refresh(lambda: pane.update_view(self.pane_frame(), force=True))

    def _set_solo(self, name: str | None) -> None:
        """Large terminals: show pane `name` alone (with status and keys), or all panes (None)."""
        self.solo = name
        if name is not None:
            self.active_pane = PANES.index(name)
        self._apply_layout()
        self.save_view_settings()

    def action_back(self) -> None:
        if self.leave_history():
            return
        if self.filters.zoom and self.filters.display:
            self.action_toggle_zoom()
        elif self.solo is not None:
            self._set_solo(None)
        elif self.filters.compare is not None:
            self._set_comparison(None)

    def action_help(self) -> None:
        choice = self.graphics.choice if self.graphics is not None else None
        pictures = f"{choice.graphics.value} ({choice.why})" if choice is not None else ""
        self.push_screen(HelpScreen(self.mode, pictures))

    # -- snapshots compared ------------------------------------------------------------------------------
    @on(SnapshotsPane.Picked)
    def _snapshot_picked(self, event: SnapshotsPane.Picked) -> None:
        current = self.filters.compare
        if current is not None and current.name == event.name:
            self._set_comparison(None)
            return
        if self.link is not None:
            self._load_snapshot(self.link, event.name)

    @work(thread=True, exclusive=True, group="snapshot")
    def _load_snapshot(self, link: TrainerClient, name: str) -> None:
        # The trainer reads it: a snapshot just taken may not be on disk yet.
        try:
            record, W, b = link.snapshot_weights(name)
        except AetuiError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        cmp = Comparison(name, int(record.get("samples", 0)), record.get("activation", "?"), link.session, W, b)
        self.call_from_thread(self._set_comparison, cmp)

    def _set_comparison(self, cmp: Comparison | None) -> None:
        if cmp is not None and self.frame is not None and cmp.session != self.frame.session:
            return  # the session was switched while it loaded
        self.filters.set_comparison(cmp)
        self.pane("snapshots").set_compared(None if cmp is None else cmp.name)
        if cmp is not None:
            self._show_filters()
            self.notify(f"filters: now (left) beside {cmp.name} (right); esc or pick it again to stop", timeout=3)


def one_blas_thread() -> None:
    """Keep this process's BLAS to one thread. The dashboard's NumPy work is small (codes of a
    dozen inputs, pictures), and a second BLAS thread only fights the trainer for a core: the
    codes' 12x784 by 784x100 product took 37 ms instead of 0.1 ms with a trainer on the other
    core, a third of the time to the first frame."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def run_dashboard(link: TrainerClient, *, store: SessionStore, open_trainer: Callable[[str], TrainerClient],
                  force_ascii: bool = False, stop_on_hangup: bool = False, graphics: str | None = None) -> AetuiApp:
    """Run the dashboard on `link` until the user quits or detaches; returns the finished app
    (its `ended` says what became of the training, `session` which session it was). `graphics`
    is --graphics (None: as the settings file says, else auto)."""
    one_blas_thread()
    setup = setup_graphics(graphics, force_ascii)  # before Textual: it may ask the terminal
    app = AetuiApp(link, store=store, open_trainer=open_trainer, force_ascii=force_ascii, mode=setup.mode,
                   stop_on_hangup=stop_on_hangup, graphics=setup)
    try:
        app.run()
    finally:
        if app.ended is None:  # the app failed: leave the training running, as a detach would
            app.ended = DETACHED
        app._detach()
    return app


__all__ = ["AetuiApp", "run_dashboard", "DETACHED", "GONE", "STOPPED_BY_US"]
