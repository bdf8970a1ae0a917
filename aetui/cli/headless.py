"""Headless training: a Rich progress bar on stderr, one JSON object on stdout with --json."""

from __future__ import annotations

import json
import signal
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from aetui.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK
from aetui.model.engine import warm_up
from aetui.training.launch import close_trainer
from aetui.model.threads import compute_threads
from aetui.training.trainer import Trainer, last_finite

AUTOSAVE_SECONDS = 60.0


def run_headless(trainer: Trainer, *, samples: int, threads: int = 1, as_json: bool = False) -> int:
    """Train `samples` more samples; Ctrl-C stops early. Saves at the end; returns the exit code."""
    console = Console(stderr=True)
    session = trainer.session
    interrupted = False
    try:
        with compute_threads(threads):
            with console.status("compiling kernels (cached after the first run)...", spinner="dots"):
                warm_up()
            start_samples = session.samples
            t0 = time.perf_counter()
            last_save = time.monotonic()
            columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[rate]:>9} samples/s  loss {task.fields[loss]}"), TimeRemainingColumn())
            with Progress(*columns, console=console, transient=False, disable=not console.is_terminal and as_json) as bar:
                task = bar.add_task(session.name, total=samples, rate="-", loss="-")

                def progress(t: Trainer) -> None:
                    nonlocal last_save
                    done = session.samples - start_samples
                    rate = done / max(time.perf_counter() - t0, 1e-9)
                    held = t.history_view().heldout_loss
                    bar.update(task, completed=min(done, samples), rate=f"{rate:,.0f}",
                               loss=f"{held[-1]:.4f}" if held.size else "-")
                    if time.monotonic() - last_save > AUTOSAVE_SECONDS:
                        t.save()
                        last_save = time.monotonic()

                try:
                    trainer.train_samples(samples, progress=progress)
                except KeyboardInterrupt:
                    interrupted = True
            seconds = time.perf_counter() - t0
            done = session.samples - start_samples
            # Final report point so the summary's held-out loss is for the final weights.
            heldout = trainer.heldout_loss()
    finally:
        # Ctrl-C during the save must not leave a half-written session: the save is atomic, and
        # a second Ctrl-C is ignored until it is done.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            close_trainer(trainer)
        finally:
            signal.signal(signal.SIGINT, old)
    view = trainer.history_view()
    train_loss = last_finite(view.train_loss)
    summary = {
        "session": session.name, "path": str(session.path), "lineage": session.lineage_label(),
        "samples": done, "total_samples": session.samples, "seconds": round(seconds, 3),
        "samples_per_second": round(done / seconds, 1) if seconds > 0 else None,
        "train_loss": train_loss, "heldout_loss": heldout, "diverged": session.diverged,
        "interrupted": interrupted, "epoch": trainer.epoch,
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
