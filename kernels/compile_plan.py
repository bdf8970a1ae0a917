"""The kernels train_chunk calls, in shares that two processes can compile at the same time.

A cold start is nearly all Numba typing and lowering kernels, one after another on one core.
The matrix products (kernels/products.py, and BLAS for small batches) call nothing the layers
or the updates call, so a second process can compile them into the on-disk cache while the
first compiles the layers and the updates; train_chunk, which calls both (forward_backward is
inlined into it), comes once both are cached and finds everything below it there. Shares
compiled at the same time have no kernel in common, so two processes never save one kernel at
once: Numba's cache has no lock, and two signatures of one kernel saved at once could pair one's
index entry with the other's code. (aetui/model/warm_up.py runs the shares.)

Types, not sizes, select what Numba compiles: each call uses tiny arrays of the engine's types
(float32 C-contiguous buffers, uint8 data, int64 rows and steps, uint64 seeds and thresholds,
float64 sparsity settings), `threads` as the engine passes it (None for one thread) and the
run's hidden and output activations (kernels/activation_type.py: one compiled version each).
tests/model/test_warm_up.py checks that after the shares train_chunk compiles only itself; a
call whose types drift from the chunk's only costs time, never results.
"""

import numpy as np

from kernels.activation_type import Activation
from kernels.chunk import all_finite
from kernels.denormals import flush_denormals, restore_denormals
from kernels.products import combine_rows
from kernels.step import (column_sums, gather_inputs, hidden_delta, hidden_layer,
                          output_layer, row_sums, times_batch_rows, weight_gradient_product)
from kernels.update import finish_momentum_step, sgd_update

_H, _B, _V = 2, 1, 4
_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)


def _f32(*shape):
    return np.zeros(shape, np.float32)


class _TinyStep:
    """One set of tiny arrays in the engine's types and layouts (aetui/model/engine.py), for every
    share: data uint8 (rows, V), lut (256,), rows int64, hidden buffers (H, B), P (2B, H), Q (2, B, V)."""

    def __init__(self):
        self.data, self.lut, self.rows = np.zeros((2, _V), np.uint8), _f32(256), np.zeros(_B, np.int64)
        self.W, self.vW, self.empty = _f32(_H, _V), _f32(_H, _V), _f32(0, 0)
        self.b, self.vb, self.c, self.kl, self.gb, self.gc = _f32(_H), _f32(_H), _f32(_V), _f32(_H), _f32(_H), _f32(_V)
        self.A, self.Hh, self.M, self.Hd, self.dHd = (_f32(_H, _B) for _ in range(5))
        self.P, self.Q, self.Xc, self.Yb = _f32(2 * _B, _H), _f32(2, _B, _V), _f32(_B, _V), _f32(_B, _V)


_SEED, _STEP, _THRESHOLD = np.uint64(0), np.int64(0), np.uint64(0)


def compile_products(threads) -> None:
    """The matrix products of the step."""
    t = _TinyStep()
    times_batch_rows(t.W, t.Q[0], t.A, _ONE, threads)
    combine_rows(_ONE, t.Hd, t.W, _ZERO, t.Q[1], threads)
    weight_gradient_product(_ONE, t.P, t.Q, True, _ONE, t.W, t.empty, threads)


def compile_updates() -> None:
    """The SGD and momentum updates, the finiteness check and the denormal switch."""
    t = _TinyStep()
    sgd_update(t.b, t.vb, t.vb, _ONE, _ONE, _ZERO, _ZERO)
    sgd_update(t.W, t.vW, t.vW, _ONE, _ONE, _ZERO, _ZERO)
    finish_momentum_step(t.W, t.vW, _ONE, _ZERO)
    all_finite(t.W)
    all_finite(t.b)
    restore_denormals(np.uint32(flush_denormals()))


def compile_layers(act: Activation, out_act: Activation) -> None:
    """Inputs, the hidden and output layers, the hidden delta and the bias sums."""
    t = _TinyStep()
    gather_inputs(t.data, t.lut, t.rows, _THRESHOLD, _SEED, _STEP, t.Q[0], t.Xc)
    hidden_layer(t.A, t.b, act, _THRESHOLD, _SEED, _STEP, t.Hh, t.M, t.Hd, _ONE)
    output_layer(t.Q[1], t.c, t.Xc, out_act, True, t.Yb, _ONE)
    hidden_delta(t.dHd, t.M, t.A, t.Hh, act, 0.05, 0.0, t.kl, _ONE)
    row_sums(t.dHd, t.gb)
    column_sums(t.Q[1], t.gc)

