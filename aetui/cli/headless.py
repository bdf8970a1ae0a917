"""Headless training: a Rich progress bar on stderr, one JSON object on stdout with --json."""

from __future__ import annotations

import json
import signal
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from aetui.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK
from aetui.training.launch import release_trainer
from aetui.training.loop import Steering, run_loop
from aetui.training.trainer import Trainer, last_finite


class _ProgressBar(Steering):
    """The loop's steering for a headless run: a spinner while compiling, then a progress bar."""

    def __init__(self, console: Console, trainer: Trainer, samples: int, quiet: bool):
        self.console = console
        self.samples = samples
        self.start = trainer.session.samples
        self.t0 = time.perf_counter()
        self._status = console.status("loading the kernels...", spinner="dots")
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]:>9} samples/s  loss {task.fields[loss]}"), TimeRemainingColumn())
        self.bar = Progress(*columns, console=console, transient=False, disable=quiet)
        self.task = self.bar.add_task(trainer.session.name, total=samples, rate="-", loss="-")

    def compiling(self) -> None:
        self._status.start()

    def compile_progress(self, kernel: str, begun: int, total: int) -> None:
        self._status.update(f"compiling kernels, first run only ({begun} of about {total}: {kernel})...")

    def compiled(self) -> None:
        self._status.stop()
        self.t0 = time.perf_counter()
        self.bar.start()

    def after_chunk(self, trainer: Trainer) -> None:
        done = trainer.session.samples - self.start
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        held = trainer.history_view().heldout_loss
        self.bar.update(self.task, completed=min(done, self.samples), rate=f"{rate:,.0f}",
                        loss=f"{held[-1]:.4f}" if held.size else "-")

    def close(self) -> None:
        self._status.stop()
        self.bar.stop()


def run_headless(trainer: Trainer, *, samples: int, threads: int = 1, as_json: bool = False) -> int:
    """Train `samples` more samples; Ctrl-C stops early. Saves at the end; returns the exit code."""
    console = Console(stderr=True)
    session = trainer.session
    interrupted = False
    display = _ProgressBar(console, trainer, samples, quiet=not console.is_terminal and as_json)
    start_samples = session.samples
    try:
        try:
            run_loop(trainer, display, samples=samples, threads=threads)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            display.close()
        seconds = time.perf_counter() - display.t0
        done = session.samples - start_samples
        # Final report point so the summary's held-out loss is for the final weights.
        heldout = trainer.heldout_loss()
    finally:
        # Ctrl-C during the save must not leave a half-written session: the save is atomic, and
        # a second Ctrl-C is ignored until it is done.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            release_trainer(trainer)
        finally:
            signal.signal(signal.SIGINT, old)
    view = trainer.history_view()
    summary = {
        "session": session.name, "path": str(session.path), "lineage": session.lineage_label(),
        "samples": done, "total_samples": session.samples, "seconds": round(seconds, 3),
        "samples_per_second": round(done / seconds, 1) if seconds > 0 else None,
        "train_loss": last_finite(view.train_loss), "heldout_loss": heldout, "diverged": session.diverged,
        "interrupted": interrupted, "epoch": trainer.epoch,
        "heldout_samples": len(trainer.heldout_set),  # the final held-out loss is over all of them
        "report_share": round(trainer.budget.share_spent(), 4),
    }
    if session.diverged:
        console.print(f"[red]{trainer.message}[/red]")
    if as_json:
        print(json.dumps(summary))
    else:
        console.print(f"{session.name}: {summary['total_samples']:,} samples, held-out loss {heldout:.4f}, "
                      f"{summary['samples_per_second'] or 0:,.0f} samples/s; saved in {session.path}")
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILURE if session.diverged else EXIT_OK
