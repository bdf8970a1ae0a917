"""A plain batched-NumPy version of the engine's training step: the kernels' spec and speed baseline.

Same objective, same counter-based masks (kernels.rng's hash redone with uint64 array maths) and
the same float type throughout as the Numba engine, so the two agree to rounding. Where the
kernels make a choice (float32 constants) this copies it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from aetui.model.config import TrainConfig
from aetui.model.activations import activate, derivative  # noqa: F401  (the reference's own, re-exported)
from aetui.model.state import ModelState
from kernels.rng import DROPOUT_STREAM, NOISE_STREAM, keep_threshold
from kernels.step import RHO_EPS

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


# -- counter-based masks ---------------------------------------------------------------------
def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic, as in kernels.rng); x is kept."""
    x = x ^ (x >> np.uint64(30))
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def stream_key(seed: int, stream: int, step: int) -> np.ndarray:
    """The key of one (seed, stream, step), as a (1,) uint64 array."""
    one = np.ones(1, np.uint64)  # arrays, not scalars: uint64 scalar overflow warns
    inner = mix64(one * np.uint64(seed) ^ (one * np.uint64(stream) * _GOLDEN))
    return mix64(inner + one * np.uint64(step) * _M1)


@lru_cache(maxsize=8)
def _offsets(n: int) -> np.ndarray:
    """i * golden for i < n (uint64, wrapping), shared between steps."""
    with np.errstate(over="ignore"):
        offsets = np.arange(n, dtype=np.uint64) * _GOLDEN
    offsets.flags.writeable = False
    return offsets


def draws32(seed: int, stream: int, step: int, n: int) -> np.ndarray:
    """Draws 0..n-1 of one (seed, stream, step): 32 uniform bits each, uint64 (n,)."""
    with np.errstate(over="ignore"):
        return mix64(stream_key(seed, stream, step) + _offsets(n)) >> np.uint64(32)


def noise_keep(seed: int, step: int, shape: tuple[int, int], noise_t: np.uint64) -> np.ndarray:
    """Which input pixels survive masking noise: bool (B, V); pixel (s, i) is draw s*V + i."""
    return (draws32(seed, NOISE_STREAM, step, shape[0] * shape[1]) >= noise_t).reshape(shape)


def dropout_multipliers(seed: int, step: int, shape: tuple[int, int], drop_t: np.uint64, dtype) -> np.ndarray:
    """Dropout multipliers (B, H) in dtype: 0 where draw s*H + j < drop_t, else 1 / (1 - q)."""
    one = dtype(1)
    if drop_t == 0:
        return np.ones(shape, dtype)
    keep = one / (one - dtype(np.float32(int(drop_t) / 2.0**32)))  # the kernel rounds q to float32
    kept = draws32(seed, DROPOUT_STREAM, step, shape[0] * shape[1]).reshape(shape) >= drop_t
    return np.where(kept, keep, dtype(0))


# -- one batch ---------------------------------------------------------------------------------
def batch_gradients(Xc, X, M, W, b, c, W_dec, act, out_act, ce, rho, beta):
    """Forward and backward for one batch with given masks, like kernels.step.batch_gradients.

    Xc clean targets (B, V), X noisy inputs (B, V), M dropout multipliers (B, H), W (H, V),
    b (H,), c (V,), W_dec (V, H) or None (tied). Returns (reported loss summed over the batch,
    gradients summed over the batch: Gw (H, V), Gwd (V, H) or None, gb (H,), gc (V,), codes
    before dropout Hh (B, H)).
    """
    dt = W.dtype.type
    A = X @ W.T
    A += b
    Hh = activate(act, A)
    Hd = Hh * M
    Z = Hd @ (W if W_dec is None else W_dec.T)
    Z += c
    if ce:
        # Sigmoid output with cross-entropy: softplus(z) - x z, and dZ = y - x.
        e = np.exp(-np.abs(Z))
        loss = float((np.maximum(Z, 0) - Xc * Z + np.log1p(e)).sum())
        dZ = np.where(Z >= 0, 1 / (1 + e), e / (1 + e)) - Xc
    else:
        Y = activate(out_act, Z)
        d = Y - Xc
        loss = float((d * d).sum())  # reported without the 1/2 of the objective
        dZ = d * derivative(out_act, Z, Y)
    dHd = dZ @ (W.T if W_dec is None else W_dec)
    dA = dHd * M
    if beta > 0:
        # B * dKL/dHh: beta * ((1 - rho) / (1 - p) - rho / p), p = batch mean of Hh; where p
        # leaves (eps, 1 - eps) the clipped objective is flat, so that unit gets no KL gradient.
        lo = dt(np.float32(RHO_EPS))
        r, wt = dt(np.float32(rho)), dt(np.float32(beta))
        mean = Hh.mean(axis=0)
        p = np.clip(mean, lo, 1 - lo)
        dA += np.where(p == mean, wt * ((1 - r) / (1 - p) - r / p), dt(0))
    dA *= derivative(act, A, Hh)
    Gw = dA.T @ X
    if W_dec is None:
        Gw += Hd.T @ dZ
        Gwd = None
    else:
        Gwd = dZ.T @ Hd
    return loss, Gw, Gwd, dA.sum(axis=0), dZ.sum(axis=0), Hh


def _sgd(param, grad, velocity, lr, inv_b, momentum, weight_decay):
    """param -= lr * (grad / B + wd * param), through velocity when momentum > 0; in place."""
    step = grad * inv_b
    if weight_decay > 0:
        step += weight_decay * param
    step *= lr
    if momentum > 0:
        velocity *= momentum
        velocity -= step
        param += velocity
    else:
        param -= step


class ReferenceTrainer:
    """Trains a ModelState like aetui.model.engine.Engine, in batched NumPy (the state's float type).

    data uint8 (N, V); lut (256,) maps pixel values to inputs in the state's float type.
    exact_masks=False draws the noise and dropout masks from a NumPy Generator instead of the
    engine's hash: the same work a plain NumPy trainer does, for `aetui bench`'s baseline.
    """

    def __init__(self, config: TrainConfig, state: ModelState, lut: np.ndarray, exact_masks: bool = True):
        self.config = config
        self.state = state
        self.dtype = state.W.dtype.type
        self.lut = np.asarray(lut, self.dtype)
        self.act = config.activation
        self.out_act = config.out_activation
        self.ce = config.loss_name == "cross_entropy"
        self.noise_t = keep_threshold(config.noise)
        self.drop_t = keep_threshold(config.dropout)
        self.exact_masks = exact_masks
        self.rng = np.random.default_rng(config.seed)

    def train(self, data: np.ndarray, order: np.ndarray, start: int, n_batches: int, seed: int,
              step: int) -> np.ndarray:
        """Train n_batches batches; batch k is rows order[start + k*B:][:B] at random step step + k.

        Returns each batch's mean reported loss per pixel, float64 (k,); like the engine, stops
        before updating with a batch whose loss is not finite (that batch is left out).
        """
        cfg, s, dt = self.config, self.state, self.dtype
        B, V, H = cfg.batch, s.n_visible, s.n_hidden
        lr, bias_lr = float(cfg.learning_rate), float(cfg.bias_learning_rate)
        inv_b, mu, wd = dt(1) / dt(B), dt(cfg.momentum), dt(cfg.weight_decay)
        losses = []
        with np.errstate(over="ignore", invalid="ignore"):  # divergence shows in the loss, as in the engine
            for k in range(n_batches):
                t = step + k
                rows = order[start + k * B:start + (k + 1) * B]
                Xc = self.lut[data[rows]]
                if self.exact_masks:
                    X = Xc if self.noise_t == 0 else np.where(noise_keep(seed, t, (B, V), self.noise_t), Xc, dt(0))
                    M = dropout_multipliers(seed, t, (B, H), self.drop_t, dt)
                else:
                    X = Xc if self.noise_t == 0 else Xc * (self.rng.random((B, V), np.float32) >= cfg.noise)
                    keep = dt(1) / dt(1 - cfg.dropout)
                    M = (self.rng.random((B, H), np.float32) >= cfg.dropout) * keep if cfg.dropout else np.ones((B, H), dt)
                loss, Gw, Gwd, gb, gc, _ = batch_gradients(
                    Xc, X, M, s.W, s.b, s.c, s.W_dec, self.act, self.out_act, self.ce,
                    cfg.sparsity_target, cfg.sparsity_weight)
                if not np.isfinite(loss):
                    break
                losses.append(loss / (B * V))
                _sgd(s.W, Gw, s.vW, dt(lr), inv_b, mu, wd)
                if s.W_dec is not None:
                    _sgd(s.W_dec, Gwd, s.vWd, dt(lr), inv_b, mu, wd)
                _sgd(s.b, gb, s.vb, dt(bias_lr), inv_b, mu, dt(0))
                _sgd(s.c, gc, s.vc, dt(bias_lr), inv_b, mu, dt(0))
        return np.array(losses, np.float64)
