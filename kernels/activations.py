"""Activation functions: value f(a) and derivative f'(a) given a and y = f(a), and whole-array versions.

Each activation's value and derivative is a small function of its own, which LLVM inlines into
the loops below. Numba types each once; the earlier single `activate(code, ...)` inlined at
Numba's level carried all ten branches into each of twenty loops, ~5 s of a cold start. The
loops are typed for one activation at a time (below), so a run compiles only its own.
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import numpy as np
from numba import njit
from numba.extending import overload

from kernels.activation_type import ActivationType
from kernels.fastmath import FASTMATH, fast_exp, log1p_unit

from kernels.activation_codes import ACTIVATIONS, LEAK


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


@njit(**_SCALAR)
def _linear(a, one):
    return a


# Indexed by activation code (kernels/activation_codes.py); linear has no derivative to apply.
_VALUES = (_sigmoid, _tanh, _relu, _leaky_relu, _step_relu, _leaky_step_relu, _linear, _abs, _softplus, _elu)
_DERIVATIVES = (_d_sigmoid, _d_tanh, _d_relu, _d_leaky_relu, _d_step_relu, _d_leaky_step_relu, None, _d_abs,
                _d_softplus, _d_elu)
assert len(_VALUES) == len(_DERIVATIVES) == len(ACTIVATIONS)


# Whole-array versions, for compiled code only. The activation is an Activation
# (kernels/activation_type.py), whose Numba type names it, so each is typed with that one
# activation's function: a kernel compiles the activations it is called with, not all ten.
# Each loop has a fixed body LLVM can vectorise (a branch on the activation inside the loop
# kept it scalar, ~4x slower).
def activate_all(act, a, y, one):
    """y = f(a) elementwise; a and y C-contiguous of one shape (may be the same array)."""
    raise TypeError("activate_all runs in compiled kernels only")


def scale_by_derivative(act, a, y, d, one):
    """d *= f'(a) elementwise, given y = f(a); all C-contiguous of one shape."""
    raise TypeError("scale_by_derivative runs in compiled kernels only")


@overload(activate_all, jit_options=_SCALAR)
def _activate_all_typed(act, a, y, one):
    if not isinstance(act, ActivationType):
        return None
    f = _VALUES[act.code]

    def impl(act, a, y, one):
        a = a.reshape(-1)
        y = y.reshape(-1)
        for i in range(a.size):
            y[i] = f(a[i], one)
    return impl


@overload(scale_by_derivative, jit_options=_SCALAR)
def _scale_by_derivative_typed(act, a, y, d, one):
    if not isinstance(act, ActivationType):
        return None
    df = _DERIVATIVES[act.code]
    if df is None:  # linear: f' = 1
        return lambda act, a, y, d, one: None

    def impl(act, a, y, d, one):
        a = a.reshape(-1)
        y = y.reshape(-1)
        d = d.reshape(-1)
        for i in range(a.size):
            d[i] *= df(a[i], y[i], one)
    return impl
