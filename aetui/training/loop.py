"""The one training loop: warm-up, chunks, commands between chunks, autosave, stop.

The headless command, the transfer experiment and the dashboard's runner thread all train
through `run_loop`. What differs between them is a Steering: what happens before the kernels
are ready, between chunks (commands, pause, a stop request), after each chunk (progress, a
frame) and when an autosave fails.
"""

from __future__ import annotations

import math
import time
from enum import Enum

from aetui.errors import AetuiError
from aetui.model.config import TrainConfig
from aetui.model.warm_up import is_warm, warm_up
from aetui.model.threads import compute_threads
from aetui.training.trainer import Trainer

AUTOSAVE_SECONDS = 60.0  # a running session is saved at least this often (if it changed)
IDLE_SECONDS = 0.05  # a paused loop looks for commands this often


class Action(Enum):
    """What the loop does next, as the steering decides between chunks."""

    TRAIN = "train"  # one chunk
    STEP = "step"  # one mini-batch (a step while paused)
    IDLE = "idle"  # nothing now: wait for a command
    STOP = "stop"  # leave the loop


class Steering:
    """The default: train without pause until the target, a divergence or a stop request."""

    def compiling(self, config: TrainConfig) -> None:
        """config's kernels are about to be compiled (or loaded from Numba's cache)."""

    def compile_progress(self, what: str, part: int, parts: int) -> None:
        """A kernel started compiling (a first use only): `what` names it and the part of the
        warm-up it is in, the part-th of `parts` (aetui/model/warm_up.py)."""

    def compiled(self) -> None:
        """The kernels are ready."""

    def between_chunks(self, trainer: Trainer) -> Action:
        """Apply whatever was asked meanwhile and say what to do next."""
        return Action.STOP if trainer.diverged else Action.TRAIN

    def idle(self) -> None:
        """Wait a moment (the loop has nothing to do)."""
        time.sleep(IDLE_SECONDS)

    def after_chunk(self, trainer: Trainer) -> None:
        """One chunk was trained (progress displays, frames)."""

    def saved(self, trainer: Trainer) -> None:
        """An autosave wrote the session."""

    def save_failed(self, trainer: Trainer, error: Exception) -> None:
        """An autosave failed (an AetuiError or OSError); the default gives up."""
        raise error


def run_loop(trainer: Trainer, steering: Steering | None = None, *, samples: int | None = None,
             threads: int = 1, autosave_seconds: float | None = AUTOSAVE_SECONDS, warm: bool = True) -> int:
    """Train until `samples` more samples are done (rounded up to whole batches; None: no target)
    or the steering stops it; returns the batches trained.

    Runs in the calling thread with `threads` compute threads. The session is autosaved every
    `autosave_seconds` (None or 0: never); the final save is the caller's (release_trainer).
    """
    steering = steering if steering is not None else Steering()
    session = trainer.session
    start = session.step
    first_config = trainer.config
    with compute_threads(threads):
        if warm:
            _warm_up(steering, trainer.config, threads)
        target = None if samples is None else session.step + math.ceil(samples / trainer.config.batch)
        last_save = time.monotonic()
        while target is None or session.step < target:
            action = steering.between_chunks(trainer)
            if action is Action.STOP:
                break
            if action in (Action.TRAIN, Action.STEP) and not trainer.diverged:
                # A restart under an activation this process has not compiled for: compile
                # it before the chunk, saying so, rather than silently inside it.
                if warm or trainer.config != first_config:
                    warm_up_for(trainer.config, steering, threads)
                trainer.train_chunk(1 if action is Action.STEP else None if target is None else target - session.step)
                steering.after_chunk(trainer)
            else:
                steering.idle()
            if autosave_seconds and time.monotonic() - last_save >= autosave_seconds:
                last_save = time.monotonic()
                if session.dirty:
                    try:
                        trainer.save()
                    except (AetuiError, OSError) as exc:
                        steering.save_failed(trainer, exc)
                    else:
                        steering.saved(trainer)
    return session.step - start


def warm_up_for(config: TrainConfig, steering: Steering, threads: int) -> None:
    """Compile (or load) config's kernels, saying so through the steering, unless this process
    has them: before training or evaluating under an activation not used here yet (a restart)."""
    if not is_warm(config, threads):
        _warm_up(steering, config, threads)


def _warm_up(steering: Steering, config: TrainConfig, threads: int) -> None:
    steering.compiling(config)
    warm_up(steering.compile_progress, threads, config)
    steering.compiled()
