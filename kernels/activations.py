"""Activation functions by integer code: value f(a) and derivative f'(a) given a and y = f(a)."""

import numpy as np
from numba import njit

from kernels.fastmath import FASTMATH, fast_exp, log1p_unit

from kernels.activation_codes import (  # noqa: F401  (re-exported: kernels name them from here)
    ABS, ACTIVATIONS, ELU, LEAK, LEAKY_RELU, LEAKY_STEP_RELU, LINEAR, RELU, SIGMOID, SOFTPLUS, STEP_RELU, TANH)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def activate(code, a, one):
    """f(a) for the activation `code`; `one` is 1 in the float type of a (keeps float32 float32)."""
    zero = one - one
    leak = one * np.float32(LEAK)
    if code == SIGMOID:
        e = fast_exp(-abs(a))
        return one / (one + e) if a >= zero else e / (one + e)
    if code == TANH:
        e = fast_exp(-(one + one) * abs(a))
        t = (one - e) / (one + e)
        return t if a >= zero else -t
    if code == RELU:
        return max(a, zero)
    if code == LEAKY_RELU:
        return a if a > zero else a * leak
    if code == STEP_RELU:
        return min(max(a, zero), one)
    if code == LEAKY_STEP_RELU:
        if a < zero:
            return a * leak
        if a > one:
            return one + (a - one) * leak
        return a
    if code == LINEAR:
        return a
    if code == ABS:
        return abs(a)
    if code == SOFTPLUS:
        return max(a, zero) + log1p_unit(fast_exp(-abs(a)))
    # ELU
    return a if a > zero else fast_exp(a) - one


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def derivative(code, a, y, one):
    """f'(a) for the activation `code`, given a, y = f(a) and `one` in their float type."""
    zero = one - one
    leak = one * np.float32(LEAK)
    if code == SIGMOID:
        return y * (one - y)
    if code == TANH:
        return one - y * y
    if code == RELU:
        return one if a > zero else zero
    if code == LEAKY_RELU:
        return one if a > zero else leak
    if code == STEP_RELU:
        return one if (a > zero and a < one) else zero
    if code == LEAKY_STEP_RELU:
        return one if (a > zero and a < one) else leak
    if code == LINEAR:
        return one
    if code == ABS:
        return one if a > zero else (-one if a < zero else zero)
    if code == SOFTPLUS:
        e = fast_exp(-abs(a))
        return one / (one + e) if a >= zero else e / (one + e)
    # ELU
    return one if a > zero else y + one


# Whole-array versions: the dispatch on `code` sits outside the loops so that each loop has a
# fixed body LLVM can vectorise (a branch on code inside the loop kept it scalar, ~4x slower).
@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def activate_all(code, a, y, one):
    """y = f(a) elementwise; a and y C-contiguous of one shape (may be the same array)."""
    a = a.reshape(-1)
    y = y.reshape(-1)
    n = a.size
    if code == SIGMOID:
        for i in range(n):
            y[i] = activate(SIGMOID, a[i], one)
    elif code == TANH:
        for i in range(n):
            y[i] = activate(TANH, a[i], one)
    elif code == RELU:
        for i in range(n):
            y[i] = activate(RELU, a[i], one)
    elif code == LEAKY_RELU:
        for i in range(n):
            y[i] = activate(LEAKY_RELU, a[i], one)
    elif code == STEP_RELU:
        for i in range(n):
            y[i] = activate(STEP_RELU, a[i], one)
    elif code == LEAKY_STEP_RELU:
        for i in range(n):
            y[i] = activate(LEAKY_STEP_RELU, a[i], one)
    elif code == LINEAR:
        for i in range(n):
            y[i] = a[i]
    else:
        for i in range(n):
            y[i] = activate(code, a[i], one)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def scale_by_derivative(code, a, y, d, one):
    """d *= f'(a) elementwise, given y = f(a); all C-contiguous of one shape."""
    a = a.reshape(-1)
    y = y.reshape(-1)
    d = d.reshape(-1)
    n = a.size
    if code == SIGMOID:
        for i in range(n):
            d[i] *= derivative(SIGMOID, a[i], y[i], one)
    elif code == TANH:
        for i in range(n):
            d[i] *= derivative(TANH, a[i], y[i], one)
    elif code == RELU:
        for i in range(n):
            d[i] *= derivative(RELU, a[i], y[i], one)
    elif code == LEAKY_RELU:
        for i in range(n):
            d[i] *= derivative(LEAKY_RELU, a[i], y[i], one)
    elif code == STEP_RELU:
        for i in range(n):
            d[i] *= derivative(STEP_RELU, a[i], y[i], one)
    elif code == LEAKY_STEP_RELU:
        for i in range(n):
            d[i] *= derivative(LEAKY_STEP_RELU, a[i], y[i], one)
    elif code == LINEAR:
        pass
    else:
        for i in range(n):
            d[i] *= derivative(code, a[i], y[i], one)
