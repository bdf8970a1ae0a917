"""Comparing runs from the dashboard: c picks the runs to compare, and a fork (in the restart
dialog) starts a second session from this one's weights and compares the two. A mixin of AetuiApp
(it uses the app's link, store, session and mode); the runs are opened off the UI thread.
"""

from __future__ import annotations

from textual import work

from aetui.errors import AetuiError
from aetui.training.origin import Origin
from aetui.tui.compare.compare_picker import ComparePicker
from aetui.tui.compare.compare_screen import CompareScreen
from aetui.tui.compare.compare_state import CompareState, RunSource, open_runs
from aetui.tui.compare.fork import HALF_SPEED_NOTE, fork
from aetui.tui.restart.restart_dialog import RestartRequest


class CompareActions:
    """The c key and the live fork (see the module doc)."""

    def action_compare(self) -> None:
        if self._busy("compare", compiling_ok=True):
            return
        try:
            summaries = self.store.summaries()
        except (AetuiError, OSError) as exc:
            self.notify(f"compare: cannot list sessions in {self.store.root}: {exc}", severity="error")
            return
        self.push_screen(ComparePicker(summaries, self.session, str(self.store.root)), self._compare_chosen)

    def _compare_chosen(self, names: list[str] | None) -> None:
        if names:
            self._show_comparison(names)

    @work(thread=True, exclusive=True, group="compare")
    def _show_comparison(self, names: list[str]) -> None:
        """Open the runs (connecting to running ones takes a moment) and show their comparison."""
        try:
            runs = open_runs(self.store, names, {self.session: self.link})
        except AetuiError as exc:
            self.call_from_thread(self.notify, f"compare: {exc}", severity="error")
            return
        self.call_from_thread(self.push_screen, CompareScreen(CompareState(runs), self.mode))

    @work(thread=True, exclusive=True, group="compare")
    def _fork(self, request: RestartRequest) -> None:
        origin = Origin(self.session, request.source, request.activation, request.weight_scale,
                        request.reset_biases, request.lr)
        self.call_from_thread(self.notify, f"fork: saving {self.session}, then starting a session from it")
        try:
            client = fork(self.link, self.store, origin)
        except AetuiError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        new = client.session
        self.call_from_thread(self.notify, f"{new} trains in a process of its own: {HALF_SPEED_NOTE}; "
                              f"{self.store.command('attach', new)} to watch it alone", timeout=10)
        runs = [RunSource(self.session, self.store, self.link), RunSource(new, self.store, client, owned=True)]
        for run in runs:
            run.refresh()
        note = f"{new} forked from {self.session}; {HALF_SPEED_NOTE}"
        self.call_from_thread(self.push_screen, CompareScreen(CompareState(runs), self.mode, note))
