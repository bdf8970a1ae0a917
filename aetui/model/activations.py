"""The activations in NumPy, the kernels' twins (tested against them): the reference trainer's
and the dashboard's, which draws hidden codes without loading Numba."""

from __future__ import annotations

import numpy as np

from kernels.activation_codes import LEAK


def _sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def activate(name: str, a: np.ndarray) -> np.ndarray:
    """f(a) elementwise, in a's float type."""
    leak = a.dtype.type(np.float32(LEAK))
    if name == "sigmoid":
        return _sigmoid(a)
    if name == "tanh":
        return np.tanh(a)
    if name == "relu":
        return np.maximum(a, 0)
    if name == "leaky_relu":
        return np.where(a > 0, a, a * leak)
    if name == "step_relu":
        return np.clip(a, 0, 1)
    if name == "leaky_step_relu":
        return np.where(a < 0, a * leak, np.where(a > 1, 1 + (a - 1) * leak, a))
    if name == "linear":
        return a.copy()
    if name == "abs":
        return np.abs(a)
    if name == "softplus":
        return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))
    if name == "elu":
        return np.where(a > 0, a, np.exp(np.minimum(a, 0)) - 1)
    raise ValueError(f"unknown activation {name!r}")


def derivative(name: str, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """f'(a) elementwise given y = f(a); at kinks the kernels' one-sided choice (a > 0 etc.)."""
    dt = a.dtype.type
    leak = dt(np.float32(LEAK))
    if name == "sigmoid":
        return y * (1 - y)
    if name == "tanh":
        return 1 - y * y
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "leaky_relu":
        return np.where(a > 0, dt(1), leak)
    if name == "step_relu":
        return ((a > 0) & (a < 1)).astype(a.dtype)
    if name == "leaky_step_relu":
        return np.where((a > 0) & (a < 1), dt(1), leak)
    if name == "linear":
        return np.ones_like(a)
    if name == "abs":
        return np.sign(a)
    if name == "softplus":
        return _sigmoid(a)
    if name == "elu":
        return np.where(a > 0, dt(1), y + 1)
    raise ValueError(f"unknown activation {name!r}")
