"""A chunk: several mini-batches in one call, so the caller can pause or cancel in between."""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import math

import numpy as np
from numba import njit

from kernels.denormals import flush_denormals, restore_denormals
from kernels.fastmath import FASTMATH
from kernels.step import forward_backward, weight_gradient_product
from kernels.types import as_type_of
from kernels.update import finish_momentum_step, sgd_update

OK = 0
NONFINITE_LOSS = 1
NONFINITE_WEIGHTS = 2


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def all_finite(a):
    """True when every element of a is finite."""
    flat = a.reshape(-1)
    acc = flat[0] * 0
    for i in range(flat.size):
        acc += flat[i] * 0  # inf * 0 and nan * 0 are nan, so one nan anywhere poisons acc
    return math.isfinite(acc)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def train_chunk(data, lut, order, start, n_batches, W, b, c, Wd, tied, act, out_act, ce,
                lr, bias_lr, momentum, weight_decay, noise_t, drop_t, rho, beta, seed, step0,
                vW, vb, vc, vWd, A, Hh, M, Hd, dHd, kl, P, Q, Xc, Yb, Gw, Gwd, gb, gc, losses, one, threads):
    """Train n_batches mini-batches taken from order[start:]; batch size is Q.shape[1].

    Wd is the decoder's rows (H, V): W itself when tied, else W_dec^T, with its velocity vWd
    and gradient buffer Gwd in the same layout (kernels/step.py).
    Batch k uses rows order[start + k*B : start + (k+1)*B] and random step step0 + k.
    losses[k] receives batch k's mean reported loss per pixel. Returns (batches done, status):
    on a non-finite loss the chunk stops before updating with that batch (status 1); status 2
    means the weights went non-finite by the end of the chunk. Denormals are flushed to zero
    for the call (kernels/denormals.py). One function rather than a wrapper around the loop:
    Numba re-optimises everything a function calls when it compiles it, so each level of
    calls costs a cold start seconds.
    """
    old_denormals = flush_denormals()
    B = Q.shape[1]
    V = Q.shape[2]
    inv_b = as_type_of(W, 1.0 / B)  # one / B would widen to float64
    lr_t = one * lr
    blr_t = one * bias_lr
    mu = one * momentum
    wd = one * weight_decay
    zero = one - one
    done = n_batches
    status = OK
    for k in range(n_batches):
        rows = order[start + k * B : start + (k + 1) * B]
        loss = forward_backward(data, lut, rows, W, b, c, Wd, act, out_act, ce, noise_t,
                                drop_t, rho, beta, seed, step0 + k, A, Hh, M, Hd, dHd, kl, P, Q, Xc, Yb,
                                gb, gc, one, threads)
        if not math.isfinite(loss):
            losses[k] = np.nan
            done = k
            status = NONFINITE_LOSS
            break
        losses[k] = loss / (B * V)
        # Weights: the SGD step is folded into the gradient product (no gradient buffer, no pass).
        if mu > zero:
            weight_gradient_product(-lr_t * inv_b, P, Q, tied, mu, vW, vWd, threads)
            finish_momentum_step(W, vW, lr_t, wd)
            if not tied:
                finish_momentum_step(Wd, vWd, lr_t, wd)
        elif wd > zero:
            # Decay must join the gradient before rounding: as gemm's beta = float32(1 - lr wd),
            # or as a pass of its own, a small lr wd rounds away (wd 1e-6 at lr 0.01 vanishes).
            weight_gradient_product(one, P, Q, tied, zero, Gw, Gwd, threads)
            sgd_update(W, Gw, vW, lr_t, inv_b, mu, wd)
            if not tied:
                sgd_update(Wd, Gwd, vWd, lr_t, inv_b, mu, wd)
        else:
            weight_gradient_product(-lr_t * inv_b, P, Q, tied, one, W, Wd, threads)
        sgd_update(b, gb, vb, blr_t, inv_b, mu, zero)
        sgd_update(c, gc, vc, blr_t, inv_b, mu, zero)
    if status == OK and not (all_finite(W) and all_finite(b) and all_finite(c) and (tied or all_finite(Wd))):
        status = NONFINITE_WEIGHTS
    restore_denormals(old_denormals)
    return done, status
