"""What happened during training: report points, study periods and events, kept bounded."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MAX_POINTS = 2000  # report points kept; beyond this every other one is dropped (history thins)

_SCALARS = ("samples", "step", "segment", "train_loss", "heldout_loss", "b_min", "b_mean", "b_max",
            "w_min", "w_mean", "w_max", "samples_per_second", "time")


@dataclass
class History:
    """Report points as parallel columns, the hidden bias b at each point, periods and events."""

    columns: dict[str, list] = field(default_factory=lambda: {k: [] for k in _SCALARS})
    bias: list[np.ndarray] = field(default_factory=list)  # b (hidden,) at each report point
    periods: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    version: int = 0  # bumped on every change, so views can be cached

    def __len__(self) -> int:
        return len(self.columns["samples"])

    def add_point(self, b: np.ndarray, **values) -> None:
        """Append one report point; values has every scalar column."""
        for key in _SCALARS:
            v = values[key]
            self.columns[key].append(None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v)
        self.bias.append(np.array(b, dtype=np.float32))
        if len(self) > MAX_POINTS:
            self._thin()
        self.version += 1

    def _thin(self) -> None:
        # Keep the last point and every other one before it: resolution halves, range stays.
        n = len(self)
        keep = list(range(n - 2, -1, -2))[::-1] + [n - 1]
        for key in _SCALARS:
            col = self.columns[key]
            self.columns[key] = [col[i] for i in keep]
        self.bias = [self.bias[i] for i in keep]

    def add_period(self, record: dict) -> None:
        self.periods.append(record)
        self.version += 1

    def add_event(self, record: dict) -> None:
        self.events.append(record)
        self.version += 1

    def column(self, key: str) -> np.ndarray:
        """One scalar column as float64 with NaN for missing values."""
        return np.array([np.nan if v is None else v for v in self.columns[key]], dtype=np.float64)

    def bias_matrix(self) -> np.ndarray:
        """(hidden, points) float32: the hidden bias at every report point (units x time)."""
        if not self.bias:
            return np.zeros((0, 0), np.float32)
        return np.stack(self.bias, axis=1)

    # -- persistence: scalars to JSON, the bias matrix to the state file ------------------------
    def to_json(self) -> dict:
        return {"points": {k: list(v) for k, v in self.columns.items()}, "periods": self.periods, "events": self.events}

    @classmethod
    def from_json(cls, raw: dict, bias_matrix: np.ndarray) -> History:
        """Rebuild from session.json's history and the (points, hidden) bias array; raises ValueError."""
        points = raw["points"]
        n = len(points["samples"])
        if set(points) != set(_SCALARS) or any(len(points[k]) != n for k in _SCALARS):
            raise ValueError("history columns are missing or of unequal length")
        if bias_matrix.shape[0] != n:
            raise ValueError(f"history has {n} points but the bias history has {bias_matrix.shape[0]}")
        h = cls({k: list(points[k]) for k in _SCALARS}, [row.astype(np.float32) for row in bias_matrix],
                list(raw["periods"]), list(raw["events"]))
        return h

    def bias_array(self, n_hidden: int) -> np.ndarray:
        """(points, hidden) float32 for the state file."""
        if not self.bias:
            return np.zeros((0, n_hidden), np.float32)
        return np.stack(self.bias, axis=0)
