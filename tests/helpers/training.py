"""Training in tests: the one training loop, without warm-up or autosave."""

from __future__ import annotations

from aetui.training.loop import run_loop


def train(trainer, samples: int) -> int:
    """Train `samples` more samples (whole batches) in this thread; returns the session's samples."""
    run_loop(trainer, samples=samples, autosave_seconds=None, warm=False)
    return trainer.session.samples
