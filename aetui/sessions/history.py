"""What happened during training: report points, study periods and events, kept bounded."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MAX_POINTS = 2000  # report points kept; beyond this every other one is dropped (history thins)

# heldout_n: how many held-out samples the point's held-out loss is over (the whole set, a fixed
# subset, or 0 when the point could not afford one; None: schema 1, always the whole set).
# loss_min / loss_max: the lowest and highest training loss of the points a kept point stands for
# once the history thinned (the point's own train_loss until then), so a spike that thinning
# drops still shows (schema 3; older sessions get their train_loss).
_SCALARS = ("samples", "step", "segment", "train_loss", "heldout_loss", "heldout_n", "b_min", "b_mean", "b_max",
            "w_min", "w_mean", "w_max", "lr", "samples_per_second", "time", "loss_min", "loss_max")
LOSS_RANGE = ("loss_min", "loss_max")


@dataclass
class History:
    """Report points as parallel columns, vectors at each point, periods and events.

    Vectors per point: the hidden bias b (hidden,), the visible bias c (visible,) and each unit's
    W min/mean/max (hidden, 3), the study's "W range per unit".
    """

    columns: dict[str, list] = field(default_factory=lambda: {k: [] for k in _SCALARS})
    bias: list[np.ndarray] = field(default_factory=list)  # b (hidden,) at each report point
    visible_bias: list[np.ndarray] = field(default_factory=list)  # c (visible,)
    unit_w: list[np.ndarray] = field(default_factory=list)  # (hidden, 3): W min, mean, max per unit
    periods: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    version: int = 0  # bumped on every change, so views can be cached
    thinned: int = 0  # bumped when points are dropped: until then, points are only ever appended

    def __len__(self) -> int:
        return len(self.columns["samples"])

    def add_point(self, W: np.ndarray, b: np.ndarray, c: np.ndarray, **values) -> None:
        """Append one report point from the weights; values has every scalar column (loss_min and
        loss_max default to the train_loss)."""
        for key in LOSS_RANGE:
            values.setdefault(key, values["train_loss"])
        for key in _SCALARS:
            v = values[key]
            self.columns[key].append(None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v)
        self.bias.append(np.array(b, dtype=np.float32))
        self.visible_bias.append(np.array(c, dtype=np.float32))
        self.unit_w.append(np.stack([W.min(axis=1), W.mean(axis=1), W.max(axis=1)], axis=1).astype(np.float32))
        if len(self) > MAX_POINTS:
            self._thin()
        self.version += 1

    def _thin(self) -> None:
        # Keep the first and the last point and every other one between: resolution halves, range
        # stays (the first point was dropped whenever the count was odd: a run of 61M samples had
        # lost its first 10M). The trainer then reports half as often (report_stride), so the
        # points stay as dense across the run as the report schedule made them.
        n = len(self)
        keep = [0] + [i for i in range(n - 2, 0, -2)][::-1] + [n - 1]
        lows, highs = merged_loss_range(self.columns["loss_min"], self.columns["loss_max"], keep)
        for key in _SCALARS:
            col = self.columns[key]
            self.columns[key] = [col[i] for i in keep]
        self.columns["loss_min"], self.columns["loss_max"] = lows, highs
        self.bias = [self.bias[i] for i in keep]
        self.visible_bias = [self.visible_bias[i] for i in keep]
        self.unit_w = [self.unit_w[i] for i in keep]
        self.thinned += 1

    def add_period(self, record: dict) -> None:
        self.periods.append(record)
        self.version += 1

    def add_event(self, record: dict) -> None:
        self.events.append(record)
        self.version += 1

    def column(self, key: str) -> np.ndarray:
        """One scalar column as float64 with NaN for missing values."""
        return np.array([np.nan if v is None else v for v in self.columns[key]], dtype=np.float64)

    @property
    def report_stride(self) -> int:
        """How many times longer than at first the trainer waits between report points: doubled by
        every thinning, so that points added later are as sparse as the thinned ones."""
        return 1 << min(self.thinned, 30)

    def bias_matrix(self) -> np.ndarray:
        """(hidden, points) float32: the hidden bias at every report point (units x time)."""
        if not self.bias:
            return np.zeros((0, 0), np.float32)
        return np.stack(self.bias, axis=1)

    # -- persistence: scalars to JSON, per-point vectors to the state file ----------------------
    def to_json(self) -> dict:
        return {"points": {k: list(v) for k, v in self.columns.items()}, "periods": self.periods, "events": self.events,
                "thinned": self.thinned}

    @classmethod
    def from_json(cls, raw: dict, arrays: dict[str, np.ndarray], filled: dict[str, list] | None = None) -> History:
        """Rebuild from session.json's history and the state file's history arrays; raises ValueError.

        `filled` gives columns an older schema did not have (one value per point).
        """
        points = {**raw["points"], **(filled or {})}
        n = len(points["samples"])
        if set(points) != set(_SCALARS) or any(len(points[k]) != n for k in _SCALARS):
            raise ValueError("history columns are missing or of unequal length")
        for name in ARRAY_NAMES:
            if arrays[name].shape[0] != n:
                raise ValueError(f"history has {n} points but {name} has {arrays[name].shape[0]}")
        thinned = raw.get("thinned", 0)  # schema 3; before, each reopened session reported densely again
        if not (isinstance(thinned, int) and not isinstance(thinned, bool) and thinned >= 0):
            raise ValueError(f"history.thinned is {thinned!r}, expected a whole number >= 0")
        return cls({k: list(points[k]) for k in _SCALARS}, list(arrays["bias_history"]),
                   list(arrays["c_history"]), list(arrays["w_unit_history"]),
                   list(raw["periods"]), list(raw["events"]), thinned=thinned)

    def to_arrays(self, n_hidden: int, n_visible: int) -> dict[str, np.ndarray]:
        """The per-point vectors for the state file: bias_history (points, hidden), c_history
        (points, visible), w_unit_history (points, hidden, 3); float32."""
        def stacked(rows, shape):
            return np.stack(rows).astype(np.float32) if rows else np.zeros((0, *shape), np.float32)

        return {"bias_history": stacked(self.bias, (n_hidden,)),
                "c_history": stacked(self.visible_bias, (n_visible,)),
                "w_unit_history": stacked(self.unit_w, (n_hidden, 3))}


ARRAY_NAMES = ("bias_history", "c_history", "w_unit_history")


def merged_loss_range(lows: list, highs: list, keep: list[int]) -> tuple[list, list]:
    """Each kept point's loss_min / loss_max over itself and the dropped points just before it
    (the ones after the previous kept point); None where none of them had a loss."""
    out_lo, out_hi, start = [], [], 0
    for k in keep:
        lo = [v for v in lows[start:k + 1] if v is not None]
        hi = [v for v in highs[start:k + 1] if v is not None]
        out_lo.append(min(lo) if lo else None)
        out_hi.append(max(hi) if hi else None)
        start = k + 1
    return out_lo, out_hi
