"""The history view's state: a cursor on the report points, the weights stored near it, and
what each pane is told about the viewed point.

The cursor is kept as the viewed point's samples seen, not as an index, so it stays on the same
point while training appends points and while the history thins (then it moves to the nearest
point kept). The weights come from the trainer (`TrainerClient.weights_near`); the
reconstructions are made here with NumPy, as the filters pane makes its codes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from aetui.render import format_si
from aetui.training.frame import Frame, HistoryView
from aetui.model.numpy_pass import hidden_codes, reconstructions


@dataclass(frozen=True, eq=False)
class StoredWeights:
    """Weights the trainer stores near a point, with the reconstructions they make."""

    record: dict  # name, kind, samples, segment, activation
    W: np.ndarray
    b: np.ndarray
    c: np.ndarray
    recon: np.ndarray  # outputs for the frame's recon_inputs

    @property
    def name(self) -> str:
        return str(self.record["name"])


def stored_weights(record: dict, arrays: dict[str, np.ndarray], inputs: np.ndarray,
                   output_activation: str) -> StoredWeights:
    """StoredWeights from a weights_near reply; output_activation 'same' follows the record's."""
    W, b, c, W_dec = arrays["W"], arrays["b"], arrays["c"], arrays.get("W_dec")
    act = str(record["activation"])
    out_act = act if output_activation == "same" else output_activation
    out = reconstructions(hidden_codes(W, b, inputs, act), W, W_dec, c, out_act)
    return StoredWeights(dict(record), W, b, c, out.astype(np.float32))


def weights_note(record: dict, samples: int, short: bool = False) -> str:
    """Which weights are shown for the point at `samples`, and how far from it they are (short:
    counts as 16.19M, for a narrow pane title)."""
    at = int(record["samples"])
    count = format_si if short else (lambda n: f"{n:,}")
    name, kind = str(record["name"]), record["kind"]
    if kind == "period" and name.rsplit("period", 1)[-1].isdigit():
        what = f"weights of snapshot @2^{int(name.rsplit('period', 1)[1])} ({count(at)})"
    elif kind == "user":
        what = f"weights of snapshot {name} ({count(at)})"
    elif kind == "current":
        what = f"current weights ({count(at)})"
    else:
        what = f"weights stored at {count(at)}"
    gap = samples - at
    if gap == 0:
        return f"{what}, at the point"
    return f"{what}, {count(abs(gap))}{'' if short else ' samples'} {'before' if gap > 0 else 'after'}"


@dataclass(frozen=True)
class ViewedPoint:
    """What the panes are told about the point in view."""

    index: int  # in the history's points
    count: int  # points in the history
    samples: int
    segment: int
    train_loss: float | None
    heldout_loss: float | None
    loss_max: float | None
    b_min: float | None
    b_mean: float | None
    b_max: float | None
    note: str  # which weights the pictures are of ('' until they came)
    short_note: str  # the same with short counts
    events: str  # labels of the events at this point (since the point before), '' when none

    @property
    def label(self) -> str:
        return format_si(self.samples)


def _value(a: np.ndarray, i: int) -> float | None:
    return float(a[i]) if i < a.size and np.isfinite(a[i]) else None


def marks_of(view: HistoryView) -> list[tuple[float, str]]:
    """Every marker of the loss chart (segment starts and events), in order of samples."""
    return sorted([(float(s), label) for s, label in view.segments] + [(float(s), label) for s, label in view.events])


class HistoryCursor:
    """The viewed report point, kept by its samples seen."""

    def __init__(self, samples: int) -> None:
        self.samples = int(samples)

    def index(self, view: HistoryView) -> int:
        """The index of the point nearest the cursor (the earlier on a tie)."""
        xs = view.samples
        if not xs.size:
            return 0
        i = int(np.searchsorted(xs, self.samples))
        if i >= xs.size:
            return xs.size - 1
        if i > 0 and self.samples - xs[i - 1] <= xs[i] - self.samples:
            return i - 1
        return i

    def go(self, view: HistoryView, index: int) -> bool:
        """Move to point `index` (clamped); False when that is where it is."""
        if not view.samples.size:
            return False
        index = min(max(index, 0), view.samples.size - 1)
        before = self.samples
        self.samples = int(view.samples[index])
        return self.samples != before

    def event_target(self, view: HistoryView, direction: int) -> int | None:
        """The point of the nearest event before (direction -1) or after (+1) the cursor's point:
        the first point at or after the event. None when there is none that way."""
        xs, here = view.samples, self.index(view)
        targets = sorted({min(int(np.searchsorted(xs, at)), xs.size - 1) for at, _ in marks_of(view)})
        if direction < 0:
            before = [t for t in targets if t < here]
            return before[-1] if before else None
        after = [t for t in targets if t > here]
        return after[0] if after else None

    def point(self, view: HistoryView, weights: StoredWeights | None) -> ViewedPoint:
        i = self.index(view)
        samples = int(view.samples[i]) if view.samples.size else self.samples
        since = int(view.samples[i - 1]) if i > 0 else -1
        events = [label for at, label in marks_of(view) if since < at <= samples]
        segment = sum(1 for start, _ in view.segments[1:] if start <= samples)
        return ViewedPoint(i, int(view.samples.size), samples, segment, _value(view.train_loss, i),
                           _value(view.heldout_loss, i), _value(view.loss_max, i), _value(view.b_min, i),
                           _value(view.b_mean, i), _value(view.b_max, i),
                           weights_note(weights.record, samples) if weights is not None else "",
                           weights_note(weights.record, samples, short=True) if weights is not None else "",
                           ", ".join(events))


def viewed_frame(frame: Frame, weights: StoredWeights | None) -> Frame:
    """The live frame with the pictures (filters, biases, reconstructions) of the stored weights."""
    if weights is None:
        return frame
    config = frame.config
    if weights.record["activation"] != config.activation:
        config = replace(config, activation=str(weights.record["activation"]))  # as it was, unvalidated
    return replace(frame, W=weights.W, b=weights.b, c=weights.c, recon_outputs=weights.recon, config=config)
