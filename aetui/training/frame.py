"""Immutable pictures of the trainer, published between chunks for the UI to poll."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aetui.model.config import TrainConfig
from aetui.sessions.history import History
from aetui.sessions.lineage import segment_starts

# The trainer's state, as one word.
COMPILING = "COMPILING"
RUNNING = "RUNNING"
PAUSED = "PAUSED"
DIVERGED = "DIVERGED"
STOPPED = "STOPPED"


@dataclass(frozen=True)
class Notice:
    """The outcome of a command, for the UI to show: severity is 'information', 'warning' or 'error'."""

    text: str
    severity: str = "information"
    origin: object = None  # who asked for the command it answers (the trainer's client number), if anyone


@dataclass(frozen=True, eq=False)
class HistoryView:
    """Copies of the history's columns; rebuilt only when the history changed."""

    version: int
    samples: np.ndarray  # (T,) float64
    train_loss: np.ndarray  # (T,)
    heldout_loss: np.ndarray  # (T,)
    heldout_n: np.ndarray  # (T,) held-out samples each point's loss is over (0: none; NaN: all, schema 1)
    bias: np.ndarray  # (hidden, T) float32: b at each report point
    b_min: np.ndarray
    b_mean: np.ndarray
    b_max: np.ndarray
    segments: tuple[tuple[int, str], ...]  # (start samples, label) per segment
    events: tuple[tuple[int, str], ...]  # (samples, short label): "diverged", "lr 0.32", "snap1", "pause"
    periods: tuple[dict, ...]
    base: int = 0  # changes when points were dropped (thinning); with the same base, points only grew
    # The lowest and highest training loss each point stands for once thinned (spikes survive).
    loss_min: np.ndarray = field(default_factory=lambda: np.zeros(0))
    loss_max: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def of(cls, h: History, lineage: list[dict]) -> HistoryView:
        """The view of history `h` of a session with `lineage` (a trainer's, or one read from disk)."""
        events = tuple((e["samples"], label) for e in h.events if (label := event_label(e)))
        return cls(h.version, h.column("samples"), h.column("train_loss"), h.column("heldout_loss"),
                   h.column("heldout_n"),
                   h.bias_matrix(), h.column("b_min"), h.column("b_mean"), h.column("b_max"),
                   segment_starts(lineage), events, tuple(h.periods), h.thinned,
                   h.column("loss_min"), h.column("loss_max"))


def event_label(event: dict) -> str:
    """A short label for an event marked on the loss chart ('' for events not marked: a restart
    is its segment's start, already marked; failed saves are not part of the training)."""
    kind = event["kind"]
    if kind == "diverged":
        return "diverged"  # the app counts these labels to offer a recovery once per divergence
    if kind == "lr":
        return f"lr {event['lr']:.3g}"
    if kind == "snapshot":
        return str(event["name"])
    if kind in ("pause", "resume"):
        return kind
    return ""


@dataclass(frozen=True, eq=False)
class Frame:
    """Everything the dashboard shows, consistent at one moment."""

    version: int
    state: str
    message: str  # last notice from the trainer ('' when none)
    session: str
    saved: bool
    config: TrainConfig
    lineage: str
    segment: int
    samples: int
    step: int
    epoch: int
    samples_per_second: float
    lr: float
    train_loss: float | None
    heldout_loss: float | None
    image_shape: tuple[int, int]
    data_name: str
    W: np.ndarray  # (hidden, visible) copy
    b: np.ndarray
    c: np.ndarray
    history: HistoryView
    snapshots: tuple[dict, ...]
    recon_labels: tuple[str, ...]
    recon_inputs: np.ndarray  # (k, visible) in [0, 1]
    recon_outputs: np.ndarray  # (k, visible)
    path: str = ""  # the session's folder (snapshots and exports are read and written there)
    saved_samples: int | None = None  # samples in the last save that worked (None: never saved)
    save_error: str | None = None  # why the last save failed, until one works
    compile_note: str = ""  # while COMPILING: which kernel, how far
