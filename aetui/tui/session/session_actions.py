"""The session the dashboard watches: opening another (o), quitting (q), detaching (d or a hang-up),
and what is offered when its trainer is gone. A mixin of AetuiApp (it uses the app's link, store,
frame and notices).

Only stopping (q, opening another session) waits for the trainer's answer, because it saves the
session; detaching leaves the training going on in its own process.
"""

from __future__ import annotations

import asyncio
import os
import signal

from textual import work
from textual.screen import ModalScreen

from aetui.errors import AetuiError
from aetui.training.client import TrainerClient
from aetui.training.process import trainer_log
from aetui.tui.session.session_picker import SessionPicker
from aetui.tui.session.trainer_gone import RESUME, TrainerGone
from aetui.tui.session.unsaved_quit import DISCARD, RETRY, UnsavedQuit

# How the dashboard ended, for the command to say what became of the training.
STOPPED_BY_US = "stopped"  # q: training stopped and saved (or the user chose to lose it)
DETACHED = "detached"  # d or a hang-up: training goes on
GONE = "gone"  # the trainer was already gone (killed, crashed or stopped elsewhere)


class SessionActions:
    """Opening, leaving and losing the session (see the module doc)."""

    ended: str | None = None  # STOPPED_BY_US, DETACHED or GONE once the app exits
    stopped_at: int | None = None  # samples of the session q stopped, and whether it was saved
    stopped_saved = False
    switching: str | None = None  # name of the session being opened
    training_error: str | None = None  # the training thread's failure, as the trainer said
    _gone_shown = False  # the trainer-gone dialog was offered for this link

    # -- the trainer gone ---------------------------------------------------------------------------
    def _offer_resume(self, link: TrainerClient) -> None:
        """The trainer is gone (killed, crashed, stopped elsewhere): say so, offer to resume."""
        if self._gone_shown or self.switching or (link.gone is None and link.stopped is None):
            return
        if isinstance(self.screen, ModalScreen):
            return
        self._gone_shown = True
        self._show_status()
        if link.stopped is not None:
            title, message = "Training was stopped", f"Session {self.session} was stopped from another dashboard."
            saved = link.stopped.get("saved_samples")
        else:
            title = "The trainer is gone"
            trained = f" after {self.frame.samples:,} samples" if self.frame is not None else ""
            message = (f"The trainer of session {self.session} (pid {link.hello.pid}) ended unexpectedly{trained}: "
                       f"killed, or a bug (its log: {trainer_log()}).")
            saved = self._saved_on_disk()
        self.push_screen(TrainerGone(title, message, saved), self._gone_choice)

    def _saved_on_disk(self) -> int | None:
        try:
            summary = next((s for s in self.store.summaries() if s.name == self.session), None)
        except OSError:
            return None
        return None if summary is None or summary.problem else summary.samples

    def _gone_choice(self, choice: str | None) -> None:
        if choice == RESUME:
            self._open_chosen(self.session, stop_current=False)
        else:
            self._end(GONE)

    # -- opening another session --------------------------------------------------------------------
    def action_open_session(self) -> None:
        if self._busy("open", compiling_ok=True):
            return
        try:
            summaries = self.store.summaries()
        except OSError as exc:
            self.notify(f"cannot list sessions in {self.store.root}: {exc}", severity="error")
            return
        self.push_screen(SessionPicker(summaries, self.session, str(self.store.root)), self._open_chosen)

    def _open_chosen(self, name: str | None, stop_current: bool = True) -> None:
        if not name or (stop_current and name == self.session):
            return
        self.switching = name
        if self.frame is not None:
            self._show_status()
        self._switch_session(name, stop_current)

    @work(thread=True, exclusive=True, group="switch")
    def _switch_session(self, name: str, stop_current: bool) -> None:
        # The other session's trainer first: when it cannot start, the current one goes on.
        try:
            link = self.open_trainer(name)
        except (AetuiError, OSError) as exc:
            self.call_from_thread(self._switch_failed, f"cannot open {name}: {exc}")
            return
        link.wait_frame()
        self.call_from_thread(self._switched, link, stop_current)

    def _switch_failed(self, message: str) -> None:
        self.switching = None
        self.notify(message, severity="error", timeout=8)

    def _switched(self, link: TrainerClient, stop_current: bool) -> None:
        self.switching = None
        if self.ended is not None:  # the user quit while the session was opening
            link.close()
            return
        if stop_current and self.link is not None and self.link.gone is None:
            outcome = self.stop_training(save=True)
            if outcome is not None and not outcome["stopped"]:  # this one stays; the other goes on alone
                link.close()
                self.notify(f"cannot leave {self.session}: {outcome['error']}; session {link.session} trains in the "
                            f"background ({self.store.command('attach', link.session)})", severity="error", timeout=10)
                return
        self._detach()
        self.leave_history()
        self._offered = 0
        self._lr_target = None
        self.filters.set_comparison(None)
        self.filters.zoom = False
        self.filters.selected = 0
        self.pane("snapshots").set_compared(None)
        self._attach(link)
        if link.frame is not None:
            self.notify(f"opened session {link.session} ({link.frame.lineage})", timeout=4)
        self._poll()
        self._draw_all()

    # -- leaving ------------------------------------------------------------------------------------
    def stop_training(self, save: bool = True) -> dict | None:
        """Ask the trainer to stop and save; its outcome, or None when it is gone already.

        Once it stopped, the dashboard is detached from it; when the save failed, training goes
        on and the outcome says why.
        """
        link = self.link
        if link is None:
            return None
        try:
            outcome = link.stop(save=save)
        except AetuiError as exc:  # gone meanwhile: the last save on disk is what there is
            self.notify(str(exc), severity="error")
            return None
        if outcome["stopped"]:
            self._detach()
        return outcome

    def action_quit(self) -> None:
        """Stop training (saved) and quit; when the save fails, ask what to do."""
        if self.switching:
            self._refuse(f"quit: opening session {self.switching}, wait a moment")
            return
        link = self.link
        if link is None or link.gone is not None:
            self._end(GONE)
            return
        self.training_error = link.error
        outcome = self.stop_training(save=True)
        if outcome is not None and not outcome["stopped"]:
            unsaved = (outcome["samples"] or 0) - (outcome["saved_samples"] or 0)
            self.push_screen(UnsavedQuit(str(outcome["error"]), max(unsaved, 0)), self._unsaved_choice)
            return
        if outcome is not None:
            self.stopped_at, self.stopped_saved = outcome["samples"], True
        self._end(STOPPED_BY_US if outcome is not None else GONE)

    def _unsaved_choice(self, choice: str | None) -> None:
        if choice == RETRY:
            self.action_quit()
        elif choice == DISCARD:
            outcome = self.stop_training(save=False)
            if outcome is not None:
                self.stopped_at, self.stopped_saved = outcome["samples"], False
            self._end(STOPPED_BY_US)
        else:  # the trainer went on training when its save failed
            self.notify("training goes on; aetui retries the save at every autosave and on ctrl+s", timeout=6)

    def action_force_quit(self) -> None:
        self.action_quit()

    def action_detach(self) -> None:
        """Leave the dashboard; training goes on in its own process."""
        if self.link is None or self.link.gone is not None or self.link.stopped is not None:
            self.action_quit()
            return
        self._end(DETACHED)

    def _end(self, how: str) -> None:
        """The dashboard ends (`how`: STOPPED_BY_US, DETACHED or GONE): off the link, out of the app."""
        self.ended = how
        self._detach()
        self.exit(0)

    def _catch_hangup(self) -> None:
        """A closed terminal or SSH link (SIGHUP) or a kill (SIGTERM): detach (or stop, if asked)."""
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._hang_up, True)
            loop.add_signal_handler(signal.SIGTERM, self._hang_up, False)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):
            pass  # not the main thread, or a platform without these signals

    def _hang_up(self, terminal_gone: bool) -> None:
        """A closed terminal or SSH link (terminal_gone), or a kill: detach (training goes on), or
        stop if asked to.

        Without a terminal the process leaves at once: nothing can be drawn or restored, and
        Textual's output thread dies at its first failed write, after which its queue fills and
        the app's own shutdown writes wait for it forever (seen as a dashboard that outlived its
        terminal).
        """
        if self.stop_on_hangup and self.link is not None and self.link.gone is None:
            outcome = self.stop_training(save=True)
            self.ended = STOPPED_BY_US if outcome is not None and outcome["stopped"] else DETACHED
        else:
            self.ended = DETACHED
        self._detach()
        if terminal_gone:
            os._exit(0)
        self.exit(0)
