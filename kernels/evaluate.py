"""Noise-free, dropout-free passes for reporting: the one kernel they need of their own.

The engine (aetui/model/engine.py) evaluates with BLAS products (NumPy's matmul) and the
training step's own kernels for the inputs and the loss (gather_inputs, output_layer), which a
start compiles anyway. Only applying a layer's bias and activation to a (rows, units) block is
left for here; at eval sizes BLAS beats kernels/products.py, which is made for skinny batches.
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
from numba import njit

from kernels.activations import activate_all
from kernels.fastmath import FASTMATH


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def add_bias_and_activate(Y, bias, act, one):
    """Y = f(Y + bias) in place, bias added to every row; returns Y."""
    for s in range(Y.shape[0]):
        for i in range(Y.shape[1]):
            Y[s, i] += bias[i]
    activate_all(act, Y, Y, one)
    return Y
