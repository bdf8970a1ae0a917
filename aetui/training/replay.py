"""Replay: a session rebuilt from its record alone (config, lineage, events, seed).

Training is a pure function of the record: the data order is a function of (seed, epoch), the
noise and dropout draws of (seed, step, position), and chunk boundaries do not change a bit. So
training a new session to each recorded intervention's step and applying it there (an lr
change, a snapshot, a restart) must end with weights bit-identical to the original's. That is
the proof that the record is complete, and `aetui replay` checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from aetui.errors import AetuiError, SaveError, SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.session import Session
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer
from aetui.training.loop import Steering, run_loop
from aetui.training.origin import ORIGIN_KEYS
from aetui.training.trainer import Trainer

REPLAYED = ("lr", "snapshot", "restart")  # the events that change what is trained


@dataclass(frozen=True)
class ReplayResult:
    """The replayed trainer (still locked: release it) and how its weights compare."""

    trainer: Trainer
    identical: bool
    max_difference: float  # largest |a - b| over the weights (0.0 when identical)
    interventions: int


def interventions(source: Session) -> list[dict]:
    """The events to apply, in order; SessionError saying what is missing when the record cannot
    be replayed."""
    name = source.name
    if source.record_gap is not None:
        raise SessionError(f"session {name} cannot be replayed: it was {source.record_gap}")
    if "config" not in source.lineage[0]:
        raise SessionError(f"session {name} cannot be replayed: its lineage does not keep each segment's settings")
    events = [e for e in source.history.events if e["kind"] in REPLAYED]
    made: set[str] = set()
    periods = {s["name"] for s in source.snapshots if s["kind"] == "period"}
    for e in events:
        if e["kind"] == "snapshot":
            made.add(e["name"])
        if e["kind"] == "restart" and e["source"]["kind"] == "snapshot":
            snap = e["source"]["name"]
            if snap not in made and snap not in periods:
                raise SessionError(f"session {name} cannot be replayed: the restart at sample {e['samples']:,} starts "
                                   f"from snapshot {snap}, and the record does not say how that snapshot was made")
    steps = [e["step"] for e in events]
    if steps != sorted(steps) or (steps and steps[-1] > source.step):
        raise SessionError(f"session {name} cannot be replayed: its events are not in the order they happened")
    return events


def replay(source: Session, store: SessionStore, name: str, *, threads: int = 1,
           progress: Callable[[Trainer], None] | None = None) -> ReplayResult:
    """Rebuild `source` as the new session `name` in `store`, headless, and compare the weights."""
    events = interventions(source)
    if store.exists(name):
        raise SessionError(f"session {name} already exists in {store.root}; choose another --session for the replay")
    config = TrainConfig.from_dict(source.lineage[0]["config"])
    trainer = acquire_trainer(store, name, config, {})
    try:
        steering = _Progress(progress)
        for event in events:
            _train_to(trainer, event["step"], steering, threads)
            try:
                _apply(trainer, event)
            except SaveError:  # the new session's disk, not the record
                raise
            except AetuiError as exc:  # a damaged event: an unknown activation, an lr of -1, ...
                raise SessionError(f"session {source.name} cannot be replayed: its {event['kind']} event at sample "
                                   f"{event['samples']:,} in {source.path / 'session.json'} is refused: {exc}") from None
        _train_to(trainer, source.step, steering, threads)
        if source.diverged and not trainer.diverged:
            # The original's last chunk went non-finite and was rolled back to this very step.
            trainer.session.diverged = True
            trainer.session.dirty = True
        same, diff = compare(source, trainer.session)
        return ReplayResult(trainer, same, diff, len(events))
    except BaseException:  # Ctrl-C too: no partly built session is left behind
        trainer.session.unlock()
        store.discard_new(trainer.session)
        raise


def _apply(trainer: Trainer, event: dict) -> None:
    """Apply one recorded intervention (lr, snapshot or restart) as it was made."""
    if event["kind"] == "lr":
        trainer.set_lr(event["lr"])
    elif event["kind"] == "snapshot":
        trainer.snapshot(event["name"])
    else:
        src = event["source"]
        origin = {k: src[k] for k in ORIGIN_KEYS if k in src}  # a branch's: the session its weights came from
        trainer.restart(event["activation"], None if src["kind"] == "current" else src["name"],
                        event["weight_scale"], event["reset_biases"], event["lr"], origin=origin or None)


def compare(a: Session, b: Session) -> tuple[bool, float]:
    """Whether two sessions' weights are bit-identical, and their largest difference."""
    diff = 0.0
    same = a.step == b.step
    theirs = b.state.arrays()
    for key, x in a.state.arrays().items():
        y = theirs.get(key)
        if y is None or x.shape != y.shape:
            return False, float("inf")
        same = same and np.array_equal(x, y)
        if x.size:
            diff = max(diff, float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64)))))
    return same, diff


def _train_to(trainer: Trainer, step: int, steering: Steering, threads: int) -> None:
    batches = step - trainer.session.step
    if batches > 0:
        run_loop(trainer, steering, samples=batches * trainer.config.batch, threads=threads, autosave_seconds=None)


class _Progress(Steering):
    def __init__(self, progress: Callable[[Trainer], None] | None):
        self.progress = progress

    def after_chunk(self, trainer: Trainer) -> None:
        if self.progress is not None:
            self.progress(trainer)
