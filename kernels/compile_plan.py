"""The kernels train_chunk calls, in shares that two processes can compile at the same time.

A cold start is nearly all Numba typing and lowering kernels, one after another on one core.
The matrix products (kernels/products.py, and BLAS for small batches) and the updates call
nothing the layers call, so a second process can compile them into the on-disk cache while the
first compiles the layers; forward_backward, which calls both, comes once both are cached, and
train_chunk then finds everything below it in the cache. Shares compiled at the same time have
no kernel in common, so two processes never save one kernel at once: Numba's cache has no lock,
and two signatures of one kernel saved at once could pair one's index entry with the other's
code. (aetui/model/warm_up.py runs the shares.)

Types, not sizes, select what Numba compiles: each call uses tiny arrays of the engine's types
(float32 C-contiguous buffers, uint8 data, int64 rows and steps, uint64 seeds and thresholds,
float64 sparsity settings) and `threads` as the engine passes it (None for one thread).
tests/model/test_warm_up.py checks that after the shares train_chunk compiles only itself; a
call whose types drift from the chunk's only costs time, never results.
"""

import numpy as np

from kernels.chunk import all_finite
from kernels.denormals import flush_denormals, restore_denormals
from kernels.products import combine_rows
from kernels.step import (column_sums, forward_backward, gather_inputs, hidden_delta, hidden_layer,
                          output_layer, row_sums, times_batch_rows, weight_gradient_product)
from kernels.update import finish_momentum_step, sgd_update

_H, _B, _V = 2, 1, 4
_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)


def _f32(*shape):
    return np.zeros(shape, np.float32)


def compile_products(threads) -> None:
    """The matrix products of the step."""
    W, A, Hd, P, Q = _f32(_H, _V), _f32(_H, _B), _f32(_H, _B), _f32(2 * _B, _H), _f32(2, _B, _V)
    times_batch_rows(W, Q[0], A, _ONE, threads)
    combine_rows(_ONE, Hd, W, _ZERO, Q[1], threads)
    weight_gradient_product(_ONE, P, Hd, Q, True, _ONE, W, _f32(0, 0), threads)


def compile_updates() -> None:
    """The SGD and momentum updates, the finiteness check and the denormal switch."""
    W, vW, b, vb = _f32(_H, _V), _f32(_H, _V), _f32(_H), _f32(_H)
    sgd_update(b, vb, vb, _ONE, _ONE, _ZERO, _ZERO)
    sgd_update(W, vW, vW, _ONE, _ONE, _ZERO, _ZERO)
    finish_momentum_step(W, vW, _ONE, _ZERO)
    all_finite(W)
    all_finite(b)
    restore_denormals(np.uint32(flush_denormals()))


def compile_layers() -> None:
    """Inputs, the hidden and output layers, the hidden delta and the bias sums."""
    data, lut, rows = np.zeros((2, _V), np.uint8), _f32(256), np.zeros(_B, np.int64)
    b, c, A, Hh, M, Hd = _f32(_H), _f32(_V), _f32(_H, _B), _f32(_H, _B), _f32(_H, _B), _f32(_H, _B)
    dHd, kl, Q, Xc, Yb, gb, gc = _f32(_H, _B), _f32(_H), _f32(2, _B, _V), _f32(_B, _V), _f32(_B, _V), _f32(_H), _f32(_V)
    seed, step, code = np.uint64(0), np.int64(0), np.int64(0)
    gather_inputs(data, lut, rows, np.uint64(0), seed, step, Q[0], Xc)
    hidden_layer(A, b, code, np.uint64(0), seed, step, Hh, M, Hd, _ONE)
    output_layer(Q[1], c, Xc, code, True, Yb, _ONE)
    hidden_delta(dHd, M, A, Hh, code, 0.05, 0.0, kl, _ONE)
    row_sums(dHd, gb)
    column_sums(Q[1], gc)


def compile_forward_backward(threads) -> None:
    """forward_backward itself: quick once the products and the layers are in the cache."""
    data, lut, rows = np.zeros((2, _V), np.uint8), _f32(256), np.zeros(_B, np.int64)
    W, b, c, P, Q = _f32(_H, _V), _f32(_H), _f32(_V), _f32(2 * _B, _H), _f32(2, _B, _V)
    A, Hh, M, Hd, dHd, kl = _f32(_H, _B), _f32(_H, _B), _f32(_H, _B), _f32(_H, _B), _f32(_H, _B), _f32(_H)
    Xc, Yb, gb, gc = _f32(_B, _V), _f32(_B, _V), _f32(_H), _f32(_V)
    forward_backward(data, lut, rows, W, b, c, _f32(0, 0), True, np.int64(0), np.int64(0), True,
                     np.uint64(0), np.uint64(0), 0.05, 0.0, np.uint64(0), np.int64(0),
                     A, Hh, M, Hd, dHd, kl, P, Q, Xc, Yb, gb, gc, _ONE, threads)
