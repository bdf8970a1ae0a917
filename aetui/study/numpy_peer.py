"""The autoencoder as a user would write it in plain NumPy: the peer `aetui bench` compares with.

Batched float32, tied or untied weights, sigmoid units with a cross-entropy output (the study's
model), masking noise and inverted dropout drawn from a NumPy Generator as NumPy users draw
them, SciPy's expit for the sigmoid, plain SGD. No preallocation or fusing: the products are
BLAS calls (NumPy's OpenBLAS), each elementwise step its own pass, as such code reads. The
data is converted to float32 once, as a user with it in memory does (converting every
mini-batch made this peer ~1.3x slower than such code).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from aetui.model.config import TrainConfig
from aetui.model.state import ModelState


class PlainNumpyTrainer:
    """Sigmoid hidden and output layers, cross-entropy loss; lr per the config."""

    def __init__(self, config: TrainConfig, state: ModelState):
        if config.activation != "sigmoid" or config.loss_name != "cross_entropy":
            raise ValueError("the plain NumPy peer is the study's model: sigmoid units, cross-entropy")
        self.config = config
        self.W = state.W.astype(np.float32)  # (hidden, visible)
        self.b = state.b.astype(np.float32)
        self.c = state.c.astype(np.float32)
        self.W_dec = None if state.W_dec is None else state.W_dec.T.astype(np.float32)  # (hidden, visible)
        self.lr = np.float32(config.learning_rate)
        self.bias_lr = np.float32(config.bias_learning_rate)
        self.rng = np.random.default_rng(config.seed)
        self._data: tuple[np.ndarray, np.ndarray] | None = None  # (the uint8 data, it as float32 in [0, 1])

    def train(self, data: np.ndarray, order: np.ndarray, start: int, n_batches: int) -> None:
        cfg, rng = self.config, self.rng
        B = cfg.batch
        W, W_dec = self.W, self.W if self.W_dec is None else self.W_dec
        if self._data is None or self._data[0] is not data:
            self._data = (data, data.astype(np.float32) / np.float32(255))
        images = self._data[1]
        for k in range(n_batches):
            x = images[order[start + k * B:start + (k + 1) * B]]
            x_in = x * (rng.random(x.shape, dtype=np.float32) >= cfg.noise) if cfg.noise else x
            h = expit(x_in @ W.T + self.b)
            if cfg.dropout:
                keep = (rng.random(h.shape, dtype=np.float32) >= cfg.dropout) / np.float32(1 - cfg.dropout)
                h_used = h * keep
            else:
                h_used = h
            y = expit(h_used @ W_dec + self.c)
            dz = (y - x) / np.float32(B)  # sigmoid output with cross-entropy
            dh = dz @ W_dec.T
            if cfg.dropout:
                dh *= keep
            da = dh * h * (1 - h)
            if self.W_dec is None:
                W -= self.lr * (da.T @ x_in + h_used.T @ dz)
            else:
                W -= self.lr * (da.T @ x_in)
                W_dec -= self.lr * (h_used.T @ dz)
            self.b -= self.bias_lr * da.sum(axis=0)
            self.c -= self.bias_lr * dz.sum(axis=0)
