"""Frames on the channel: a Frame as a wire message, and back.

The pictures (W, b, c, reconstructions) and the history are the bulk of a frame; the client
asks for them only as often as it draws them, and the trainer sends the history only when it
changed. The assembler on the client keeps the last ones it got and builds whole Frames.
"""

from __future__ import annotations

import numpy as np

from aetui.errors import AetuiError
from aetui.model.config import TrainConfig
from aetui.training.frame import Frame, HistoryView
from aetui.training.wire import ProtocolError

# Frame fields sent as JSON in every frame (the rest are arrays, the config and the history).
SCALARS = ("version", "state", "message", "session", "saved", "lineage", "segment", "samples", "step", "epoch",
           "samples_per_second", "lr", "train_loss", "heldout_loss", "data_name", "path", "saved_samples",
           "save_error", "compile_note")
PICTURES = ("W", "b", "c", "recon_inputs", "recon_outputs")
HISTORY_ARRAYS = ("samples", "train_loss", "heldout_loss", "heldout_n", "bias", "b_min", "b_mean", "b_max",
                  "loss_min", "loss_max")


def frame_message(frame: Frame, *, pictures: bool, history: bool,
                  history_from: int = 0) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) for `frame`; the pictures and the history only when asked for. With
    history_from > 0 only the report points from that index on go (the receiver holds the ones
    before, of the same base): the history grows by a few points, it is not resent whole."""
    header = {name: getattr(frame, name) for name in SCALARS}
    header.update(config=frame.config.to_dict(), image_shape=list(frame.image_shape),
                  snapshots=list(frame.snapshots), history_version=frame.history.version)
    arrays = {}
    if pictures:
        header["recon_labels"] = list(frame.recon_labels)
        arrays.update({name: getattr(frame, name) for name in PICTURES})
    if history:
        h = frame.history
        header["history"] = {"segments": [list(s) for s in h.segments], "events": [list(e) for e in h.events],
                             "periods": list(h.periods), "base": h.base, "from": history_from}
        arrays.update({f"h_{name}": _points(getattr(h, name), history_from) for name in HISTORY_ARRAYS})
    return header, arrays


def _points(column: np.ndarray, start: int) -> np.ndarray:
    """Report points start.. of a history column (the bias matrix has them along its last axis)."""
    return column[..., start:] if start else column


class FrameAssembler:
    """Builds Frames from frame messages, filling in the pictures and history last received."""

    def __init__(self) -> None:
        self.pictures: dict | None = None
        self.history: HistoryView | None = None

    @property
    def history_version(self) -> int:
        return -1 if self.history is None else self.history.version

    @property
    def history_held(self) -> list[int] | None:
        """[base, points] of the history held, for the trainer to send only what is new."""
        return None if self.history is None else [self.history.base, len(self.history.samples)]

    def build(self, header: dict, arrays: dict[str, np.ndarray]) -> Frame:
        """The Frame a message describes; ProtocolError when it is incomplete or malformed."""
        try:
            if "recon_labels" in header:
                self.pictures = {name: arrays[name] for name in PICTURES}
                self.pictures["recon_labels"] = tuple(str(x) for x in header["recon_labels"])
            if "history" in header:
                self.history = _history(int(header["history_version"]), header["history"], arrays, self.history)
            if self.pictures is None or self.history is None:
                raise ProtocolError("the first frame must carry the pictures and the history")
            return Frame(**{name: header[name] for name in SCALARS}, config=TrainConfig.from_dict(header["config"]),
                         image_shape=tuple(int(n) for n in header["image_shape"]),
                         snapshots=tuple(dict(x) for x in header["snapshots"]), history=self.history,
                         **self.pictures)
        except ProtocolError:
            raise
        except (AetuiError, KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed frame: {type(exc).__name__}: {exc}") from None


def _history(version: int, raw: dict, arrays: dict[str, np.ndarray], held: HistoryView | None) -> HistoryView:
    columns = {name: arrays[f"h_{name}"] for name in HISTORY_ARRAYS}
    start, base = int(raw.get("from", 0)), int(raw.get("base", 0))
    if start:  # new points only: they extend the ones held, which must be the same base and count
        if held is None or held.base != base or len(held.samples) != start:
            raise ProtocolError(f"history points from {start} do not extend the {0 if held is None else len(held.samples)} held")
        columns = {name: np.concatenate([getattr(held, name), columns[name]], axis=-1) for name in HISTORY_ARRAYS}
    return HistoryView(version=version, **columns,
                       segments=tuple((int(s), str(label)) for s, label in raw["segments"]),
                       events=tuple((int(s), str(label)) for s, label in raw["events"]),
                       periods=tuple(dict(p) for p in raw["periods"]), base=base)

