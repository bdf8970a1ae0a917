"""The autoencoder's parameters and optimiser state, and their initialisation."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aetui.model.aligned import aligned, aligned_copy

DTYPE = np.float32


@dataclass
class ModelState:
    """Parameters (W (hidden, visible): row j is unit j's filter; b (hidden); c (visible);
    W_dec (visible, hidden) when untied) and momentum velocities of the same shapes."""

    W: np.ndarray
    b: np.ndarray
    c: np.ndarray
    W_dec: np.ndarray | None
    vW: np.ndarray
    vb: np.ndarray
    vc: np.ndarray
    vWd: np.ndarray | None

    def __post_init__(self):
        # C-contiguous and cache-line aligned, as the kernels read them fastest (dtype kept: the
        # tests' float64 reference uses this class too)
        for name in ("W", "b", "c", "W_dec", "vW", "vb", "vc", "vWd"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, aligned(value, value.dtype))

    @property
    def tied(self) -> bool:
        return self.W_dec is None

    @property
    def n_hidden(self) -> int:
        return self.W.shape[0]

    @property
    def n_visible(self) -> int:
        return self.W.shape[1]

    @classmethod
    def initial(cls, n_hidden: int, n_visible: int, tied: bool, seed: int) -> ModelState:
        """W ~ U(-r, r), r = sqrt(6 / (hidden + visible + 1)); biases zero; velocities zero."""
        rng = np.random.default_rng([seed, 0])
        r = math.sqrt(6.0 / (n_hidden + n_visible + 1))
        W = rng.uniform(-r, r, size=(n_hidden, n_visible)).astype(DTYPE)
        W_dec = None if tied else np.ascontiguousarray(rng.uniform(-r, r, size=(n_hidden, n_visible)).astype(DTYPE).T)
        return cls.from_weights(W, np.zeros(n_hidden, DTYPE), np.zeros(n_visible, DTYPE), W_dec)

    @classmethod
    def from_weights(cls, W, b, c, W_dec) -> ModelState:
        """A state with fresh (zero) optimiser velocities."""
        W = aligned(W, DTYPE)  # converts and aligns in one copy (__post_init__ keeps the dtype)
        W_dec = None if W_dec is None else aligned(W_dec, DTYPE)
        return cls(W, aligned(b, DTYPE), aligned(c, DTYPE), W_dec,
                   np.zeros_like(W), np.zeros(W.shape[0], DTYPE), np.zeros(W.shape[1], DTYPE),
                   None if W_dec is None else np.zeros_like(W_dec))

    def copy(self) -> ModelState:
        dup = lambda a: None if a is None else aligned_copy(a)  # noqa: E731  (a.copy() would need realigning)
        return ModelState(dup(self.W), dup(self.b), dup(self.c), dup(self.W_dec),
                          dup(self.vW), dup(self.vb), dup(self.vc), dup(self.vWd))

    def restore(self, other: ModelState) -> None:
        """Copy other's values into these arrays in place (the engine keeps references)."""
        for name in ("W", "b", "c", "W_dec", "vW", "vb", "vc", "vWd"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None:
                mine[...] = theirs

    def arrays(self) -> dict[str, np.ndarray]:
        """Named arrays as saved in state.npz (W_dec and vWd only when untied)."""
        out = {"W": self.W, "b": self.b, "c": self.c, "vW": self.vW, "vb": self.vb, "vc": self.vc}
        if self.W_dec is not None:
            out["W_dec"] = self.W_dec
            out["vWd"] = self.vWd
        return out
