"""Noise-free, dropout-free passes for reporting: codes, reconstructions, loss over a set."""

import numpy as np
from numba import njit

from kernels.activations import activate_all
from kernels.fastmath import FASTMATH
from kernels.step import output_layer


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def encode(X, W, b, act, one):
    """Hidden code f(X W^T + b): X (n, V) in W's float type, W (H, V) -> (n, H)."""
    A = np.dot(X, W.T)
    for s in range(A.shape[0]):
        for j in range(A.shape[1]):
            A[s, j] += b[j]
    activate_all(act, A, A, one)
    return A


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def decode(Hc, W, c, W_dec, tied, out_act, one):
    """Reconstruction g(H W_dec^T + c): Hc (n, H) -> (n, V)."""
    Y = np.dot(Hc, W) if tied else np.dot(Hc, W_dec.T)
    for s in range(Y.shape[0]):
        for i in range(Y.shape[1]):
            Y[s, i] += c[i]
    activate_all(out_act, Y, Y, one)
    return Y


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
        Z = np.dot(encode(Xc, W, b, act, one), W) if tied else np.dot(encode(Xc, W, b, act, one), W_dec.T)
        total += output_layer(Z, c, Xc, out_act, ce, np.empty_like(Z), one)
    return total / (n * V)
