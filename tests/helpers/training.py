"""Training in tests: the one training loop, without warm-up or autosave."""

from __future__ import annotations

from aetui.training.loop import run_loop


def train(trainer, samples: int) -> int:
    """Train `samples` more samples (whole batches) in this thread; returns the session's samples."""
    run_loop(trainer, samples=samples, autosave_seconds=None, warm=False)
    return trainer.session.samples


def every_point(trainer):
    """Let `trainer` afford every history point: for tests of what the history holds, on runs of
    a few ms, where the time budget (tests/training/test_report_budget.py) would make the points
    depend on how loaded the machine is."""
    trainer.budget.share = 0.99
    return trainer
