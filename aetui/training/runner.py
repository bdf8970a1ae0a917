"""Runs a Trainer in one background thread; the UI sends commands and polls frames.

Commands are queued and applied between chunks, so the kernels never race with a change of
weights. Results come back as notices the UI polls; nothing here calls into the UI.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections import deque


from aetui.errors import AetuiError
from aetui.training.frame import COMPILING, PAUSED, RUNNING, STOPPED, Frame, Notice
from aetui.training.loop import AUTOSAVE_SECONDS, Action, Steering, run_loop, warm_up_for
from aetui.training.trainer import Trainer

RECONSTRUCT_EVERY = 0.25  # seconds between reconstruction refreshes in frames
IDLE_WAIT = 0.05  # seconds the paused thread waits for a command before looking again
MAX_NOTICES = 200  # notices kept for the UI when nobody reads them (a headless run)


class TrainingRunner:
    """Owns the training thread for one Trainer."""

    def __init__(self, trainer: Trainer, *, threads: int = 1, autosave_seconds: float = AUTOSAVE_SECONDS,
                 paused: bool = False, compile_first: bool = True, samples: int | None = None):
        self.trainer = trainer
        self.threads = threads
        self.autosave_seconds = autosave_seconds
        self.samples = samples  # train this many more samples, then end (None: until stopped)
        self._paused = paused
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._notices: deque[Notice] = deque(maxlen=MAX_NOTICES)
        self._stop = threading.Event()
        # The stop request and the thread's acknowledgement of it, under one lock: once `_leaving`,
        # the thread trains no more and a stop can no longer be withdrawn (withdraw_stop).
        self._stop_lock = threading.Lock()
        self._leaving = False
        self._wake = threading.Event()
        self._compiling = compile_first
        self._version = 0
        self._last_recon = 0.0
        self._recon = None
        self._thread = threading.Thread(target=self._run, name="aetui-trainer", daemon=True)
        self.error: BaseException | None = None
        self.save_error: str | None = None  # why the last save failed; None once one works
        self.compile_note = ""  # which kernel is compiling, how far (a first use only)
        self.trained_from: float | None = None  # time.perf_counter() when training could begin
        self.frame: Frame = self._make_frame()

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def compiling(self) -> bool:
        return self._compiling

    @property
    def paused(self) -> bool:
        return self._paused

    def halt(self, timeout: float = 0.4) -> bool:
        """Stop the thread (waiting at most `timeout` s, and up to 1 s more while inside a chunk).

        True when the session is this thread's caller's now: the thread has ended, or it is
        compiling on dummy arrays. False when it is still inside a chunk: leave the state alone.
        """
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive() and not self._compiling:
            self._thread.join(1.0)
        return not self._thread.is_alive() or self._compiling

    def withdraw_stop(self) -> bool:
        """Take back a stop that halt() asked for and that timed out (the thread is inside a long
        chunk): True when the thread had not seen it yet and trains on; False when it has seen it
        (or ended), so it is leaving and will not train again."""
        with self._stop_lock:
            if self._leaving or not self._thread.is_alive():
                return False
            self._stop.clear()
            return True

    def stop(self, timeout: float = 0.4, save: bool = True) -> bool:
        """halt(), then save if anything changed; True when the session is saved (or clean).

        A save that fails raises SaveError (the last save on disk is intact).
        """
        if not self.halt(timeout) or not save:
            return False
        if self.trainer.session.dirty:
            self.trainer.save()
        return True

    # -- commands (any thread) ---------------------------------------------------------------------
    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def step(self) -> None:
        self._send("step")

    # `origin` (any value, e.g. a client's number) is carried by the notices a command produces,
    # so that whoever asked can be told apart from those who only watch.
    def set_lr(self, lr: float, origin=None) -> None:
        self._send("set_lr", lr, origin=origin)

    def snapshot(self, name: str | None = None, origin=None) -> None:
        self._send("snapshot", name, origin=origin)

    def restart(self, activation: str, source: str | None = None, weight_scale: float | None = None,
                reset_biases: bool = True, lr: float | None = None, origin=None) -> None:
        self._send("restart", activation, source, weight_scale, reset_biases, lr, origin=origin)

    def save(self, origin=None) -> None:
        self._send("save", origin=origin)

    def notices(self) -> list[Notice]:
        """Notices since the last call, oldest first."""
        out = []
        while self._notices:
            out.append(self._notices.popleft())
        return out

    def _send(self, name: str, *args, origin=None) -> None:
        self._commands.put((name, args, origin))
        self._wake.set()

    # -- the thread ----------------------------------------------------------------------------------
    def _run(self) -> None:
        if not self._compiling:
            self.trained_from = time.perf_counter()
        try:
            run_loop(self.trainer, _RunnerSteering(self), samples=self.samples, threads=self.threads,
                     autosave_seconds=self.autosave_seconds, warm=self._compiling)
        except BaseException as exc:  # a bug: keep it for the UI to report, don't die silently
            self.error = exc
            self._notices.append(Notice(f"training thread stopped: {type(exc).__name__}: {exc}", "error"))
            self._publish()
        finally:
            with self._stop_lock:
                self._leaving = True

    def _apply_commands(self) -> bool:
        """Apply queued commands; True when a single step was requested."""
        stepped = False
        while True:
            try:
                name, args, origin = self._commands.get_nowait()
            except queue.Empty:
                return stepped
            t = self.trainer
            if name == "pause":
                if not self._paused:
                    self._paused = True
                    t.note("pause")
            elif name == "resume":
                if self._paused:
                    self._paused = False
                    t.note("resume")
            elif name == "step":
                stepped = True
            elif name == "set_lr":
                if self._guarded(origin, t.set_lr, *args):
                    self._notices.append(Notice(f"learning rate {t.lr:.4g}", origin=origin))
            elif name == "snapshot":
                rec = self._guarded(origin, t.snapshot, *args)
                if rec:
                    self._notices.append(Notice(f"snapshot {rec['name']} at sample {rec['samples']:,}", origin=origin))
            elif name == "restart":
                self._warm_up_for(args[0])
                if self._guarded(origin, t.restart, *args):
                    self._notices.append(Notice(t.message, origin=origin))
            elif name == "save":
                self._save(origin)
            self._publish()

    def _warm_up_for(self, activation: str) -> None:
        """The kernels of a restart's activation, compiled (COMPILING, with progress) before the
        restart evaluates its first held-out loss under it."""
        try:
            config = self.trainer.config.replace(activation=activation)
        except AetuiError:
            return  # not an activation: the restart itself says so
        warm_up_for(config, _RunnerSteering(self), self.threads)

    def _save(self, origin=None) -> None:
        """Save now (ctrl+s); a failure is a notice, an event and the frame's save_error."""
        try:
            self.trainer.save()
        except (AetuiError, OSError) as exc:
            self._save_failed(_save_failure(exc))
            return
        self.save_error = None
        self._notices.append(Notice(f"saved session {self.trainer.session.name}", origin=origin))
        self._publish()

    def _save_failed(self, message: str) -> None:
        self.save_error = message
        self.trainer.note("save_failed", error=message)
        self._notices.append(Notice(message, "error"))
        self._publish()

    def _guarded(self, origin, fn, *args):
        """Run a command; an expected failure becomes an error notice for `origin` (returns False)."""
        try:
            result = fn(*args)
        except AetuiError as exc:
            self._notices.append(Notice(str(exc), "error", origin))
            return False
        except OSError as exc:
            self._notices.append(Notice(_save_failure(exc), "error", origin))
            return False
        return True if result is None else result

    def _publish(self) -> None:
        self._version += 1
        self.frame = self._make_frame()

    def _make_frame(self) -> Frame:
        if self._compiling:
            state = COMPILING
        elif self._stop.is_set():
            state = STOPPED
        else:
            state = PAUSED if self._paused else RUNNING
        now = time.monotonic()
        fresh = not self._compiling and (self._recon is None or now - self._last_recon >= RECONSTRUCT_EVERY or self._paused)
        frame = self.trainer.frame(self._version, state, with_reconstructions=fresh)
        if fresh:
            self._recon = frame.recon_outputs
            self._last_recon = now
        elif self._recon is not None:
            frame = dataclasses.replace(frame, recon_outputs=self._recon)
        if self.save_error or self.compile_note:
            frame = dataclasses.replace(frame, save_error=self.save_error, compile_note=self.compile_note)
        return frame


class _RunnerSteering(Steering):
    """The loop's steering in the runner's thread: queued commands, pause and step, frames."""

    def __init__(self, runner: TrainingRunner):
        self.runner = runner
        self._activation = runner.trainer.config.activation  # whose kernels compile (see compiling)

    def compiling(self, config) -> None:
        self.runner._compiling = True  # also before a restart under activations not compiled yet
        self._activation = config.activation
        self.runner._publish()

    def compile_progress(self, what: str, part: int, parts: int) -> None:
        self.runner.compile_note = f"compiling {self._activation} kernels (first use) {part}/{parts}: {what}"
        self.runner._publish()

    def compiled(self) -> None:
        self.runner.trained_from = time.perf_counter()
        self.runner._compiling = False
        self.runner.compile_note = ""
        self.runner._publish()

    def between_chunks(self, trainer: Trainer) -> Action:
        r = self.runner
        stepped = r._apply_commands()
        with r._stop_lock:
            if r._stop.is_set():
                r._leaving = True
                return Action.STOP
        if r.frame.state == STOPPED:  # published while a stop was asked, then withdrawn
            r._publish()
        if trainer.diverged:
            return Action.IDLE
        return Action.TRAIN if not r._paused else Action.STEP if stepped else Action.IDLE

    def idle(self) -> None:
        self.runner._wake.wait(IDLE_WAIT)
        self.runner._wake.clear()

    def after_chunk(self, trainer: Trainer) -> None:
        self.runner._publish()
        if trainer.diverged:
            self.runner._notices.append(Notice(trainer.message, "error"))

    def saved(self, trainer: Trainer) -> None:
        self.runner.save_error = None
        self.runner._publish()

    def save_failed(self, trainer: Trainer, error: Exception) -> None:
        self.runner._save_failed(_save_failure(error))


def _save_failure(error: Exception) -> str:
    if isinstance(error, OSError):
        return f"could not write the session: {error}"
    return str(error)
