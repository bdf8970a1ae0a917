"""The dashboard's history view: keys t , . home end < > esc, the mouse on the loss chart, and
the panes following the viewed point. A mixin of AetuiApp (it uses the app's link, frame,
panes and notices); training goes on while a point of the past is in view.
"""

from __future__ import annotations

from textual import work

from aetui.errors import AetuiError
from aetui.training.client import TrainerClient
from aetui.training.frame import COMPILING, RUNNING, Frame
from aetui.tui.history.history_view import HistoryCursor, StoredWeights, ViewedPoint, stored_weights, viewed_frame
from aetui.tui.panes.key_bar import KeyBar
from aetui.tui.panes.status_bar import StatusBar

HISTORY = "HISTORY"  # the state word while a past point is in view


class HistoryViewActions:
    """Actions and state of the history view (see the module doc)."""

    history_cursor: HistoryCursor | None = None
    history_weights: StoredWeights | None = None
    _viewed: tuple | None = None  # (key, frame shown to the panes)
    _weights_failed: str | None = None  # the last reason there were no weights (said once)

    @property
    def in_history(self) -> bool:
        return self.history_cursor is not None

    # -- keys -------------------------------------------------------------------------------------
    def action_toggle_history(self) -> None:
        if self.in_history:
            self.leave_history()
            return
        self.open_history()

    def open_history(self, samples: int | None = None) -> bool:
        """Open the view at the point nearest `samples` (default: the last); False (and why) if
        there is no point yet."""
        frame = self.frame
        if self.switching or frame is None or self.link is None:
            return False
        if frame.history.samples.size == 0:
            self._refuse("history: no report points yet" + (" (the kernels are compiling)"
                                                             if frame.state == COMPILING else ""))
            return False
        view = frame.history
        self.history_cursor = HistoryCursor(int(view.samples[-1]) if samples is None else samples)
        self.history_cursor.go(view, self.history_cursor.index(view))
        self.query_one(KeyBar).show_history_keys(True)
        self._history_moved()
        return True

    def leave_history(self) -> bool:
        """Back to the live view; False when it was live already."""
        if not self.in_history:
            return False
        self.history_cursor = None
        self.history_weights = None
        self._viewed = None
        self._weights_failed = None
        self.query_one(KeyBar).show_history_keys(False)
        for pane in self._pane_map.values():
            pane.follow(None)
        self._show_status()
        self._draw_all()
        return True

    def _history_only(self, what: str) -> bool:
        """True when the history view is open; else says how to open it."""
        if self.in_history:
            return True
        self._refuse(f"{what} moves through the history: press t to open the history view first")
        return False

    def action_history_back(self) -> None:
        self._history_step(-1)

    def action_history_forward(self) -> None:
        self._history_step(1)

    def action_history_first(self) -> None:
        self._history_end(last=False)

    def action_history_last(self) -> None:
        self._history_end(last=True)

    def action_history_prev_event(self) -> None:
        self._history_event(-1)

    def action_history_next_event(self) -> None:
        self._history_event(1)

    def _history_step(self, delta: int) -> None:
        if not self._history_only(", and ."):
            return
        view = self.frame.history
        cursor = self.history_cursor
        if cursor.go(view, cursor.index(view) + int(delta)):
            self._history_moved()
        else:
            self._refuse("history: this is the " + ("first" if delta < 0 else "last") + " point")

    def _history_end(self, last: bool) -> None:
        if not self._history_only("home and end"):
            return
        view = self.frame.history
        if self.history_cursor.go(view, view.samples.size - 1 if last else 0):
            self._history_moved()

    def _history_event(self, direction: int) -> None:
        if not self._history_only("< and >"):
            return
        view = self.frame.history
        target = self.history_cursor.event_target(view, int(direction))
        if target is None:
            self._refuse(f"history: no event {'before' if direction < 0 else 'after'} this point "
                         f"(events: segment starts, lr changes, snapshots, pauses, divergences)")
            return
        self.history_cursor.go(view, target)
        self._history_moved()

    def on_loss_pane_picked(self, message) -> None:
        """A click on the loss chart: view the point clicked (opening the view if need be)."""
        if self.in_history:
            view = self.frame.history
            self.history_cursor.samples = int(message.samples)
            self.history_cursor.go(view, self.history_cursor.index(view))
            self._history_moved()
        else:
            self.open_history(int(message.samples))

    # -- following the cursor ------------------------------------------------------------------------
    def _history_moved(self) -> None:
        self._show_status()
        self._draw_all()
        link, frame = self.link, self.frame
        if link is not None and frame is not None:
            point = self.viewed_point()
            held = None if self.history_weights is None else self.history_weights.name
            self._fetch_weights(link, point.samples, point.segment, held, frame.recon_inputs,
                                frame.config.output_activation)

    @work(thread=True, exclusive=True, group="history")
    def _fetch_weights(self, link: TrainerClient, samples: int, segment: int, held: str | None, inputs,
                       output_activation: str) -> None:
        # Off the UI thread: the trainer may take a moment to read a snapshot from disk.
        try:
            record, arrays = link.weights_near(samples, segment, held)
        except AetuiError as exc:
            self.call_from_thread(self._weights_missing, str(exc))
            return
        weights = None if arrays is None else stored_weights(record, arrays, inputs, output_activation)
        self.call_from_thread(self._weights_arrived, samples, weights)

    def _weights_arrived(self, samples: int, weights: StoredWeights | None) -> None:
        if self.history_cursor is None or self.history_cursor.samples != samples:
            return  # the cursor moved on meanwhile: its own request follows
        self._weights_failed = None
        if weights is not None:
            self.history_weights = weights
        self._draw_all()

    def _weights_missing(self, why: str) -> None:
        if self.in_history and why != self._weights_failed:
            self._weights_failed = why
            self.notify(f"history: no stored weights near this point ({why}); the pictures show the last ones",
                        severity="warning", timeout=4)

    def viewed_point(self) -> ViewedPoint:
        return self.history_cursor.point(self.frame.history, self.history_weights)

    def pane_frame(self) -> Frame | None:
        """The frame the panes draw: the live one, or in the history view the live one with the
        stored weights' pictures (each pane also told the viewed point)."""
        frame = self.frame
        if frame is None or not self.in_history:
            return frame
        key = (frame.version, frame.history.version, self.history_cursor.samples,
               None if self.history_weights is None else id(self.history_weights))
        if self._viewed is None or self._viewed[0] != key:
            point = self.viewed_point()
            for pane in self._pane_map.values():
                pane.follow(point)
            self._viewed = (key, viewed_frame(frame, self.history_weights))
        return self._viewed[1]

    def history_status(self) -> str:
        """'viewing sample N/M' (N the viewed point's samples seen, M the live count), or ''."""
        if not self.in_history or self.frame is None:
            return ""
        point = self.viewed_point()
        where = f" ({point.events})" if point.events else ""
        state = self.frame.state
        live = "" if state == RUNNING else f", training {state.lower()}"
        return f"viewing sample {point.samples:,}/{self.frame.samples:,}{where}{live}"

    def _show_status(self, frame: Frame | None = None) -> None:
        frame = frame or self.frame
        if frame is not None:
            self.query_one(StatusBar).update_status(frame, self.state_word(), note=self.history_status())
