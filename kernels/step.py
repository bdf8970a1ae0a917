"""One mini-batch: forward pass, loss, and gradients of the training objective.

Objective J = (1/B) sum_s L_s + (wd/2) (|W|^2 [+ |W_dec|^2]) + beta sum_j KL(rho || rho_hat_j),
L_s = sum_i l(y_si, x_si), l = cross-entropy (sigmoid output) or (y - x)^2 / 2.
Gradients come out summed over the batch (not divided by B; the update applies lr / B).
The reported loss is the mean per pixel of cross-entropy, or of (y - x)^2.

Work buffers, allocated once by the caller in W's float type T (B batch, H hidden, V visible).
Hidden-layer buffers are unit-major, (H, B): A = W X^T and dH = W dZ^T are then products of
rows with rows (kernels/products.py).
  A (H, B) pre-activations, Hh (H, B) code before dropout, M (H, B) dropout multipliers,
  Hd (H, B) code after dropout, dHd (H, B) (becomes dA), kl (H,), P (2B, H) = [dA | Hd]^T,
  Q (2, B, V) = [noisy input, dZ], Xc (B, V) clean targets, Yb (B, V) outputs (squared error).
P^T [X; dZ] = [dA | Hd] [X; dZ] is the tied gradient dA X + Hd dZ as one matrix product with
K = 2B instead of two with K = B (untied: P[:B]^T X and P[B:]^T dZ). Random draw indices stay
sample-major (s * H + j).
The decoder comes as its rows Wd (H, V): W itself when tied, W_dec^T when untied (the engine
keeps that transposed copy), so both tyings run the same products and compile the same code.
`lut` (256,) maps a uint8 pixel to its input value in type T; `one` is 1 in type T. Both keep
float32 maths float32 (Numba widens uint8 * float32 to float64).
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import numpy as np
from numba import njit

from kernels.activations import activate_all, scale_by_derivative
from kernels.blas import gemm
from kernels.fastmath import FASTMATH, fast_exp, log1p_unit
from kernels.products import combine_rows, rows_dot_rows
from kernels.rng import DROPOUT_STREAM, NOISE_STREAM, draw32, stream_key

RHO_EPS = 1e-6  # keeps KL finite for codes at exactly 0 or 1
# Below this batch the products are matrix-vector shaped and bound by memory, where BLAS beats
# the 4-row blocks of kernels/products.py (measured at batch 1: W X^T 1.4x, the update 2x).
SMALL_BATCH = 4


@njit(nogil=True, cache=True)
def times_batch_rows(W, X, out, one, threads):
    """out = W X^T."""
    if X.shape[0] < SMALL_BATCH:
        gemm(one, W, False, X, True, one - one, out)
    else:
        rows_dot_rows(W, X, out, threads)


@njit(nogil=True, cache=True)
def _update_product(alpha, P, R, beta, G, batch, threads):
    """G = alpha P^T R + beta G (P (K, H) with K = the batch or twice it)."""
    if batch < SMALL_BATCH:
        gemm(alpha, P, True, R, False, beta, G)
    else:
        combine_rows(alpha, P, R, beta, G, threads)


# Copies and fills as loops: a slice assignment (a[:, :] = b) compiles Numba's broadcasting
# and its shape-mismatch error, about 3 s of a cold start for six lines.
@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def copy_into(src, dst):
    """dst = src, both C-contiguous of one shape."""
    s = src.reshape(-1)
    d = dst.reshape(-1)
    for i in range(d.size):
        d[i] = s[i]


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def fill(dst, value):
    """Every element of the C-contiguous dst = value."""
    d = dst.reshape(-1)
    for i in range(d.size):
        d[i] = value


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def gather_inputs(data, lut, rows, noise_t, seed, step, X, Xc):
    """Xc[s] = lut[data[rows[s]]]; X = Xc with each pixel zeroed where its draw < noise_t."""
    B, V = X.shape
    for s in range(B):
        src = data[rows[s]]
        for i in range(V):
            Xc[s, i] = lut[src[i]]
    if noise_t == 0:
        copy_into(Xc, X)
        return
    zero = lut[0] * 0
    key = stream_key(seed, NOISE_STREAM, step)
    for s in range(B):
        base = np.uint64(s * V)
        for i in range(V):
            X[s, i] = Xc[s, i] if draw32(key, base + np.uint64(i)) >= noise_t else zero


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def hidden_layer(A, b, act, drop_t, seed, step, Hh, M, Hd, one):
    """A += b; Hh = f(A); M = dropout multipliers (0 or 1/(1-q)); Hd = Hh * M. All (H, B)."""
    H, B = A.shape
    for j in range(H):
        for s in range(B):
            A[j, s] += b[j]
    activate_all(act, A, Hh, one)
    if drop_t == 0:
        fill(M, one)
        copy_into(Hh, Hd)
        return
    keep = one / (one - one * np.float32(drop_t / 2.0**32))
    zero = one - one
    key = stream_key(seed, DROPOUT_STREAM, step)
    for j in range(H):
        for s in range(B):
            M[j, s] = zero if draw32(key, np.uint64(s * H + j)) < drop_t else keep
            Hd[j, s] = Hh[j, s] * M[j, s]


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def output_layer(Z, c, Xc, out_act, ce, Yb, one):
    """Z holds W_dec h: overwrite it with dZ and return the summed loss. Xc and Yb are used up."""
    B, V = Z.shape
    zero = one - one
    total = 0.0
    if ce:
        # Sigmoid output with cross-entropy, fused: one exp and one log1p per pixel, dZ = y - x.
        for s in range(B):
            row_loss = zero
            for i in range(V):
                z = Z[s, i] + c[i]
                x = Xc[s, i]
                e = fast_exp(-abs(z))
                inv = one / (one + e)
                y = inv if z >= zero else e * inv
                row_loss += max(z, zero) - x * z + log1p_unit(e)
                Z[s, i] = y - x
            total += row_loss
        return total
    for s in range(B):
        for i in range(V):
            Z[s, i] += c[i]
    activate_all(out_act, Z, Yb, one)
    for s in range(B):
        row_loss = zero
        for i in range(V):
            d = Yb[s, i] - Xc[s, i]
            row_loss += d * d
            Xc[s, i] = d  # the target is used up; keep y - x in its place
        total += row_loss
    scale_by_derivative(out_act, Z, Yb, Xc, one)  # dZ = (y - x) * g'(z)
    copy_into(Xc, Z)
    return total


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def hidden_delta(dHd, M, A, Hh, act, rho, beta, kl, one):
    """dHd becomes dA = (dHd * M + beta * KL'(rho_hat)) * f'(A); rho_hat = mean of Hh per unit.

    All (H, B); kl (H,) scratch. rho_hat is clipped to [eps, 1 - eps], so a unit whose mean code
    is outside gets no KL term (the clipped objective is flat there).
    """
    H, B = A.shape
    fill(kl, one - one)
    if beta > 0:
        lo = one * np.float32(RHO_EPS)
        r = one * np.float32(rho)
        wt = one * np.float32(beta)
        inv_b = one / B
        for j in range(H):
            total = one - one
            for s in range(B):
                total += Hh[j, s]
            p = total * inv_b
            kl[j] = wt * ((one - r) / (one - p) - r / p) if lo < p < one - lo else one - one
    for j in range(H):
        for s in range(B):
            dHd[j, s] = dHd[j, s] * M[j, s] + kl[j]
    scale_by_derivative(act, A, Hh, dHd, one)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def column_sums(X, out):
    """out[j] = sum_s X[s, j]."""
    for j in range(X.shape[1]):
        out[j] = X[0, j]
    for s in range(1, X.shape[0]):
        for j in range(X.shape[1]):
            out[j] += X[s, j]


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def row_sums(X, out):
    """out[j] = sum_s X[j, s]."""
    for j in range(X.shape[0]):
        total = X[j, 0]
        for s in range(1, X.shape[1]):
            total += X[j, s]
        out[j] = total


# Inlined into its callers (train_chunk) at Numba's level: compiled on its own first, its code
# would be optimised and compiled again inside train_chunk, about a second of a cold start.
@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def forward_backward(data, lut, rows, W, b, c, Wd, act, out_act, ce, noise_t, drop_t,
                     rho, beta, seed, step, A, Hh, M, Hd, dHd, kl, P, Q, Xc, Yb, gb, gc, one, threads):
    """Forward and backward for one batch, up to the weight gradients; Wd the decoder's rows.

    Leaves dA in dHd, Hd, Q = [X, dZ] and P = [dA | Hd]^T (the factors of the weight
    gradients); fills gb, gc. Returns the summed reported loss of the batch (float64).
    """
    X = Q[0]
    Z = Q[1]
    B = X.shape[0]
    gather_inputs(data, lut, rows, noise_t, seed, step, X, Xc)
    times_batch_rows(W, X, A, one, threads)  # A = W X^T
    hidden_layer(A, b, act, drop_t, seed, step, Hh, M, Hd, one)
    combine_rows(one, Hd, Wd, one - one, Z, threads)  # Z = Hd^T Wd
    loss = output_layer(Z, c, Xc, out_act, ce, Yb, one)
    times_batch_rows(Wd, Z, dHd, one, threads)  # dHd = Wd dZ^T
    hidden_delta(dHd, M, A, Hh, act, rho, beta, kl, one)
    row_sums(dHd, gb)
    column_sums(Z, gc)
    for j in range(dHd.shape[0]):
        for s in range(B):
            P[s, j] = dHd[j, s]
            P[B + s, j] = Hd[j, s]
    return loss


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def weight_gradient_product(alpha, P, Q, tied, beta, Gw, Gwd, threads):
    """Gw = alpha (dA X [+ Hd dZ when tied]) + beta Gw; untied also Gwd = alpha Hd dZ + beta Gwd.

    P = [dA | Hd]^T (2B, H) and Q = [X, dZ] as forward_backward leaves them; Gwd is (H, V), in
    the decoder's rows like Wd. With alpha = -lr/B and beta = 1, Gw can be W itself (and Gwd
    Wd): the SGD step in one product.
    """
    B = Q.shape[1]
    if tied:
        _update_product(alpha, P, Q.reshape(2 * B, Q.shape[2]), beta, Gw, B, threads)
    else:
        _update_product(alpha, P[:B], Q[0], beta, Gw, B, threads)
        _update_product(alpha, P[B:], Q[1], beta, Gwd, B, threads)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def batch_gradients(data, lut, rows, W, b, c, Wd, tied, act, out_act, ce, noise_t, drop_t,
                    rho, beta, seed, step, A, Hh, M, Hd, dHd, kl, P, Q, Xc, Yb, Gw, Gwd, gb, gc, one):
    """Forward and backward for one batch: fills Gw (H, V), Gwd (H, V, the decoder's rows;
    untied), gb, gc. Wd is W when tied. Returns the summed reported loss of the batch (float64).
    """
    loss = forward_backward(data, lut, rows, W, b, c, Wd, act, out_act, ce, noise_t, drop_t,
                            rho, beta, seed, step, A, Hh, M, Hd, dHd, kl, P, Q, Xc, Yb, gb, gc, one, None)
    weight_gradient_product(one, P, Q, tied, one - one, Gw, Gwd, None)
    return loss
