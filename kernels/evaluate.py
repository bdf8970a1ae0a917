"""Noise-free, dropout-free passes for reporting: codes, reconstructions, loss over a set."""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import numpy as np
from numba import njit

from kernels.activations import activate_all
from kernels.fastmath import FASTMATH
from kernels.step import output_layer


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _add_bias_and_activate(Y, bias, act, one):
    """Y = f(Y + bias) in place, bias added to every row."""
    for s in range(Y.shape[0]):
        for i in range(Y.shape[1]):
            Y[s, i] += bias[i]
    activate_all(act, Y, Y, one)
    return Y


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _decoder_product(Hc, W, W_dec, tied):
    """H W_dec^T (W_dec = W^T when tied): Hc (n, H) -> (n, V)."""
    return np.dot(Hc, W) if tied else np.dot(Hc, W_dec.T)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def encode(X, W, b, act, one):
    """Hidden code f(X W^T + b): X (n, V) in W's float type, W (H, V) -> (n, H)."""
    return _add_bias_and_activate(np.dot(X, W.T), b, act, one)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def decode(Hc, W, c, W_dec, tied, out_act, one):
    """Reconstruction g(H W_dec^T + c): Hc (n, H) -> (n, V)."""
    return _add_bias_and_activate(_decoder_product(Hc, W, W_dec, tied), c, out_act, one)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def dataset_loss(data, lut, W, b, c, W_dec, tied, act, out_act, ce, block, one):
    """Mean reported loss per pixel over all rows of data (uint8 (n, V)), `block` rows at a time."""
    n, V = data.shape
    total = 0.0
    for start in range(0, n, block):
        stop = min(start + block, n)
        Xc = np.empty((stop - start, V), dtype=W.dtype)
        for s in range(stop - start):
            for i in range(V):
                Xc[s, i] = lut[data[start + s, i]]
        Z = _decoder_product(encode(Xc, W, b, act, one), W, W_dec, tied)
        total += output_layer(Z, c, Xc, out_act, ce, np.empty_like(Z), one)
    return total / (n * V)
