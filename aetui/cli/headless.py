"""Headless training: a Rich progress bar on stderr, one JSON object on stdout with --json.

The run serves the session's control socket like any trainer, so a dashboard can attach to it
(`aetui attach NAME`), steer it, detach, or stop it (which ends the run, saved).
"""

from __future__ import annotations

import json
import signal
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from aetui.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, AetuiError, SaveError
from aetui.sessions.atomic import why
from aetui.training.frame import COMPILING, DIVERGED, Frame
from aetui.training.server import TrainerServer
from aetui.training.trainer import Trainer, last_finite

WATCH_SECONDS = 0.1  # how often the progress bar looks at the trainer's frame
CLIENT_STOP_SECONDS = 30.0  # at most this long for a client's stop to finish its save


class _ProgressBar:
    """A spinner while the kernels compile, then a progress bar, both from the trainer's frames."""

    def __init__(self, console: Console, trainer: Trainer, samples: int, quiet: bool):
        self.samples = samples
        self.start = trainer.session.samples
        self.t0 = time.perf_counter()
        self._compiling = False
        self._status = console.status("loading the kernels...", spinner="dots")
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]:>9} samples/s  loss {task.fields[loss]}"), TimeRemainingColumn())
        self.bar = Progress(*columns, console=console, transient=False, disable=quiet)
        self.task = self.bar.add_task(trainer.session.name, total=samples, rate="-", loss="-")
        self._bar_started = False

    def show(self, frame: Frame) -> None:
        if frame.state == COMPILING:
            if not self._compiling:
                self._compiling = True
                self._status.start()
            if frame.compile_note:
                self._status.update(f"{frame.compile_note}...")
            return
        if not self._bar_started:
            self._status.stop()
            self.t0 = time.perf_counter()
            self.start = frame.samples
            self.bar.start()
            self._bar_started = True
        done = frame.samples - self.start
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        self.bar.update(self.task, completed=min(done, self.samples), rate=f"{rate:,.0f}",
                        loss="-" if frame.heldout_loss is None else f"{frame.heldout_loss:.4f}")

    def close(self) -> None:
        self._status.stop()
        self.bar.stop()


def _client_stop_settled(server: TrainerServer, runner) -> bool:
    """Wait until a client's stop that halted `runner` has stopped the server, or has started a new
    runner because its save failed (training goes on); False if neither came in time."""
    deadline = time.monotonic() + CLIENT_STOP_SECONDS
    while time.monotonic() < deadline:
        if server.wait(WATCH_SECONDS) or server.runner is not runner:
            return True
    return False


def _raise_crash(session, crash: BaseException) -> None:
    """The training thread's exception: one line (exit 1) when it is an expected failure, else
    the bug itself, raised again with its traceback."""
    if isinstance(crash, (AetuiError, OSError)):
        reason = why(crash) if isinstance(crash, OSError) else str(crash)
        raise AetuiError(f"training of session {session.name} stopped: {reason}; the last save "
                         f"({session.saved_samples or 0:,} samples) is intact") from None
    crash.add_note(f"aetui: the training thread of session {session.name} stopped on this bug; "
                   f"the last save ({session.saved_samples or 0:,} samples) is intact")
    raise crash


def run_headless(trainer: Trainer, *, samples: int, threads: int = 1, as_json: bool = False) -> int:
    """Train `samples` more samples; Ctrl-C stops early. Saves at the end; returns the exit code."""
    console = Console(stderr=True)
    session = trainer.session
    start_samples = session.samples
    interrupted = False
    try:
        server = TrainerServer(trainer, threads=threads, samples=samples).start()
    except BaseException:
        trainer.session.unlock()
        raise
    display = _ProgressBar(console, trainer, samples, quiet=not console.is_terminal and as_json)
    # SIGTERM (kill, timeout, systemd, docker stop) ends the run as Ctrl-C does: saved.
    terminated: list[int] = []

    def on_sigterm(signum, _frame):
        terminated.append(signum)
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        try:
            while not server.finished:
                runner = server.runner
                frame = runner.frame
                display.show(frame)
                if not runner.alive:
                    # Short of the target and no crash: a client's stop (aetui stop, q in a dashboard)
                    # halted it and is saving. Wait for that stop, so the run knows it was stopped.
                    if runner.error is None and session.samples - start_samples < samples \
                            and _client_stop_settled(server, runner):
                        continue
                    break  # the target reached, or a crash
                if frame.state == DIVERGED and server.clients == 0:  # nobody to restart it
                    break
                time.sleep(WATCH_SECONDS)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            display.close()
        began = server.runner.trained_from
        seconds = time.perf_counter() - began if began is not None else 0.0
        ready_at = time.time() - seconds if began is not None else None  # the kernels were ready, training began
    finally:
        # Ctrl-C during the save must not leave a half-written session: the save is atomic, and
        # a second Ctrl-C (or a SIGTERM) is ignored until it is done.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            stopped_elsewhere = server.finished
            if not stopped_elsewhere:
                server.runner.halt()
            crash = server.runner.error
            # Held-out loss over all of the held-out set, for the final weights (the runner is halted).
            heldout = trainer.heldout_loss() if crash is None else None
            # A training thread that died inside a chunk may have left the weights half-updated:
            # then the last save stays as it is.
            outcome = server.stop(save=crash is None, keep_training=False)
            server.close_clients()
        finally:
            signal.signal(signal.SIGINT, old)
            signal.signal(signal.SIGTERM, old_term)
    if crash is not None:
        _raise_crash(session, crash)
    if outcome.error:
        raise SaveError(outcome.error)
    done = session.samples - start_samples
    view = trainer.history_view()
    summary = {
        "session": session.name, "path": str(session.path), "lineage": session.lineage_label(),
        "samples": done, "total_samples": session.samples, "seconds": round(seconds, 3),
        "samples_per_second": round(done / seconds, 1) if seconds > 0 else None,
        "train_loss": last_finite(view.train_loss), "heldout_loss": heldout, "diverged": session.diverged,
        "interrupted": interrupted, "stopped_from_dashboard": stopped_elsewhere, "epoch": trainer.epoch,
        "heldout_samples": len(trainer.heldout_set),  # the final held-out loss is over all of them
        "report_share": round(trainer.budget.share_spent(), 4),
        "ready_at": None if ready_at is None else round(ready_at, 3),
    }
    if session.diverged:
        console.print(f"[red]{trainer.message}[/red]")
    if as_json:
        print(json.dumps(summary))
    else:
        how = "; stopped from a dashboard" if stopped_elsewhere else ""
        console.print(f"{session.name}: {summary['total_samples']:,} samples, held-out loss {heldout:.4f}, "
                      f"{summary['samples_per_second'] or 0:,.0f} samples/s; saved in {session.path}{how}")
    if interrupted:
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    return EXIT_FAILURE if session.diverged else EXIT_OK
