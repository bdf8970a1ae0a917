"""The study's model in PyTorch (CPU), for `aetui bench` when torch is installed: with autograd, and
with the gradients written out (the peer a user who knows the model would write)."""

from __future__ import annotations

import numpy as np
import torch

from aetui.model.config import TrainConfig
from aetui.model.state import ModelState

_ACT = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a,
    "leaky_relu": lambda a: torch.nn.functional.leaky_relu(a, 0.2), "softplus": torch.nn.functional.softplus,
    "elu": torch.nn.functional.elu, "abs": torch.abs, "step_relu": lambda a: torch.clamp(a, 0.0, 1.0),
}


class TorchAutogradTrainer:
    """Tied or untied AE with masking noise, dropout, CE or squared error; plain SGD via autograd."""

    def __init__(self, config: TrainConfig, state: ModelState, threads: int = 1):
        torch.set_num_threads(threads)  # its own thread pool: threadpoolctl does not reach it
        self.config = config
        self.W = torch.tensor(state.W, requires_grad=True)
        self.b = torch.tensor(state.b, requires_grad=True)
        self.c = torch.tensor(state.c, requires_grad=True)
        self.W_dec = None if state.W_dec is None else torch.tensor(state.W_dec, requires_grad=True)
        self.f = _ACT[config.activation]
        self.g = _ACT[config.out_activation]
        self.params = [p for p in (self.W, self.b, self.c, self.W_dec) if p is not None]
        self.lrs = [config.learning_rate, config.bias_learning_rate, config.bias_learning_rate, config.learning_rate]
        self.gen = torch.Generator().manual_seed(config.seed)

    def train(self, data: np.ndarray, order: np.ndarray, start: int, n_batches: int) -> None:
        cfg = self.config
        B = cfg.batch
        rows = torch.from_numpy(order[start:start + n_batches * B])
        images = float_images(data)
        for k in range(n_batches):
            x = images[rows[k * B:(k + 1) * B]]
            x_in = x * (torch.rand(x.shape, generator=self.gen) >= cfg.noise) if cfg.noise else x
            h = self.f(x_in @ self.W.T + self.b)
            if cfg.dropout:
                h = h * (torch.rand(h.shape, generator=self.gen) >= cfg.dropout) / (1.0 - cfg.dropout)
            z = h @ (self.W if self.W_dec is None else self.W_dec.T) + self.c
            if cfg.loss_name == "cross_entropy":
                loss = torch.nn.functional.binary_cross_entropy_with_logits(z, x, reduction="sum") / B
            else:
                loss = 0.5 * ((self.g(z) - x) ** 2).sum() / B
            for p in self.params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p, lr in zip(self.params, self.lrs):
                    p -= lr * p.grad


class TorchManualTrainer:
    """The study's model in PyTorch with the gradients written out (no autograd), as a user who
    knows the model writes it: float32 on the CPU, masks from a torch.Generator, plain SGD."""

    def __init__(self, config: TrainConfig, state: ModelState, threads: int = 1):
        if config.activation != "sigmoid" or config.loss_name != "cross_entropy":
            raise ValueError("the manual-gradient PyTorch peer is the study's model: sigmoid units, cross-entropy")
        torch.set_num_threads(threads)
        self.config = config
        self.W = torch.tensor(state.W)  # (hidden, visible)
        self.b = torch.tensor(state.b)
        self.c = torch.tensor(state.c)
        self.W_dec = None if state.W_dec is None else torch.tensor(np.ascontiguousarray(state.W_dec.T))
        self.lr = config.learning_rate
        self.bias_lr = config.bias_learning_rate
        self.gen = torch.Generator().manual_seed(config.seed)

    @torch.no_grad()
    def train(self, data: np.ndarray, order: np.ndarray, start: int, n_batches: int) -> None:
        cfg = self.config
        B = cfg.batch
        rows = torch.from_numpy(order[start:start + n_batches * B])
        images = float_images(data)
        W = self.W
        W_dec = W if self.W_dec is None else self.W_dec
        for k in range(n_batches):
            x = images[rows[k * B:(k + 1) * B]]
            x_in = x * (torch.rand(x.shape, generator=self.gen) >= cfg.noise) if cfg.noise else x
            h = torch.sigmoid(x_in @ W.T + self.b)
            if cfg.dropout:
                keep = (torch.rand(h.shape, generator=self.gen) >= cfg.dropout) / (1.0 - cfg.dropout)
                h_used = h * keep
            else:
                h_used = h
            y = torch.sigmoid(h_used @ W_dec + self.c)
            dz = (y - x) / B
            dh = dz @ W_dec.T
            if cfg.dropout:
                dh *= keep
            da = dh * h * (1 - h)
            if self.W_dec is None:
                W -= self.lr * (da.T @ x_in + h_used.T @ dz)
            else:
                W -= self.lr * (da.T @ x_in)
                W_dec -= self.lr * (h_used.T @ dz)
            self.b -= self.bias_lr * da.sum(dim=0)
            self.c -= self.bias_lr * dz.sum(dim=0)


_FLOAT: dict = {}  # id of the uint8 data -> (the data, its float32 tensor in [0, 1])


def float_images(data: np.ndarray):
    """The data as a float32 tensor in [0, 1], converted once per data set, as a user with the data in
    memory converts it (converting every mini-batch made the peers ~1.3x slower than such code)."""
    held = _FLOAT.get(id(data))
    if held is None or held[0] is not data:
        _FLOAT.clear()
        held = _FLOAT[id(data)] = (data, torch.from_numpy(data).to(torch.float32) / 255.0)
    return held[1]
