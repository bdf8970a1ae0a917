"""Activation functions by integer code: value f(a) and derivative f'(a) given a and y = f(a).

Each activation's value and derivative is a small function of its own, which LLVM inlines into
the loops below. Numba types each once; the earlier single `activate(code, ...)` inlined at
Numba's level carried all ten branches into each of twenty loops, ~5 s of a cold start.
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import numpy as np
from numba import njit

from kernels.fastmath import FASTMATH, fast_exp, log1p_unit

from kernels.activation_codes import (  # noqa: F401  (re-exported: kernels name them from here)
    ABS, ACTIVATIONS, ELU, LEAK, LEAKY_RELU, LEAKY_STEP_RELU, LINEAR, RELU, SIGMOID, SOFTPLUS, STEP_RELU, TANH)


_SCALAR = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")


@njit(**_SCALAR)
def _sigmoid(a, one):
    e = fast_exp(-abs(a))
    return one / (one + e) if a >= one - one else e / (one + e)


@njit(**_SCALAR)
def _tanh(a, one):
    e = fast_exp(-(one + one) * abs(a))
    t = (one - e) / (one + e)
    return t if a >= one - one else -t


@njit(**_SCALAR)
def _relu(a, one):
    return max(a, one - one)


@njit(**_SCALAR)
def _leaky_relu(a, one):
    return a if a > one - one else a * (one * np.float32(LEAK))


@njit(**_SCALAR)
def _step_relu(a, one):
    return min(max(a, one - one), one)


@njit(**_SCALAR)
def _leaky_step_relu(a, one):
    leak = one * np.float32(LEAK)
    if a < one - one:
        return a * leak
    if a > one:
        return one + (a - one) * leak
    return a


@njit(**_SCALAR)
def _abs(a, one):
    return abs(a)


@njit(**_SCALAR)
def _softplus(a, one):
    return max(a, one - one) + log1p_unit(fast_exp(-abs(a)))


@njit(**_SCALAR)
def _elu(a, one):
    return a if a > one - one else fast_exp(a) - one


# Derivatives, given a and y = f(a).
@njit(**_SCALAR)
def _d_sigmoid(a, y, one):
    return y * (one - y)


@njit(**_SCALAR)
def _d_tanh(a, y, one):
    return one - y * y


@njit(**_SCALAR)
def _d_relu(a, y, one):
    return one if a > one - one else one - one


@njit(**_SCALAR)
def _d_leaky_relu(a, y, one):
    return one if a > one - one else one * np.float32(LEAK)


@njit(**_SCALAR)
def _d_step_relu(a, y, one):
    return one if (a > one - one and a < one) else one - one


@njit(**_SCALAR)
def _d_leaky_step_relu(a, y, one):
    return one if (a > one - one and a < one) else one * np.float32(LEAK)


@njit(**_SCALAR)
def _d_abs(a, y, one):
    zero = one - one
    return one if a > zero else (-one if a < zero else zero)


@njit(**_SCALAR)
def _d_softplus(a, y, one):
    return _sigmoid(a, one)


@njit(**_SCALAR)
def _d_elu(a, y, one):
    return one if a > one - one else y + one


# Whole-array versions: the dispatch on `code` sits outside the loops so that each loop has a
# fixed body LLVM can vectorise (a branch on code inside the loop kept it scalar, ~4x slower).
@njit(**_SCALAR)
def activate_all(code, a, y, one):
    """y = f(a) elementwise; a and y C-contiguous of one shape (may be the same array)."""
    a = a.reshape(-1)
    y = y.reshape(-1)
    n = a.size
    if code == SIGMOID:
        for i in range(n):
            y[i] = _sigmoid(a[i], one)
    elif code == TANH:
        for i in range(n):
            y[i] = _tanh(a[i], one)
    elif code == RELU:
        for i in range(n):
            y[i] = _relu(a[i], one)
    elif code == LEAKY_RELU:
        for i in range(n):
            y[i] = _leaky_relu(a[i], one)
    elif code == STEP_RELU:
        for i in range(n):
            y[i] = _step_relu(a[i], one)
    elif code == LEAKY_STEP_RELU:
        for i in range(n):
            y[i] = _leaky_step_relu(a[i], one)
    elif code == LINEAR:
        for i in range(n):
            y[i] = a[i]
    elif code == ABS:
        for i in range(n):
            y[i] = _abs(a[i], one)
    elif code == SOFTPLUS:
        for i in range(n):
            y[i] = _softplus(a[i], one)
    else:  # ELU
        for i in range(n):
            y[i] = _elu(a[i], one)


@njit(**_SCALAR)
def scale_by_derivative(code, a, y, d, one):
    """d *= f'(a) elementwise, given y = f(a); all C-contiguous of one shape."""
    a = a.reshape(-1)
    y = y.reshape(-1)
    d = d.reshape(-1)
    n = a.size
    if code == SIGMOID:
        for i in range(n):
            d[i] *= _d_sigmoid(a[i], y[i], one)
    elif code == TANH:
        for i in range(n):
            d[i] *= _d_tanh(a[i], y[i], one)
    elif code == RELU:
        for i in range(n):
            d[i] *= _d_relu(a[i], y[i], one)
    elif code == LEAKY_RELU:
        for i in range(n):
            d[i] *= _d_leaky_relu(a[i], y[i], one)
    elif code == STEP_RELU:
        for i in range(n):
            d[i] *= _d_step_relu(a[i], y[i], one)
    elif code == LEAKY_STEP_RELU:
        for i in range(n):
            d[i] *= _d_leaky_step_relu(a[i], y[i], one)
    elif code == LINEAR:
        pass
    elif code == ABS:
        for i in range(n):
            d[i] *= _d_abs(a[i], y[i], one)
    elif code == SOFTPLUS:
        for i in range(n):
            d[i] *= _d_softplus(a[i], y[i], one)
    else:  # ELU
        for i in range(n):
            d[i] *= _d_elu(a[i], y[i], one)
