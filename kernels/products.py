"""The tied step's four matrix products, faster than OpenBLAS at these skinny shapes.

Each product has W (H, V) on one side and a batch (B rows, B small) on the other:
  A = W X^T and dH = W dZ^T           rows_dot_rows: C[i, j] = sum_v L[i, v] R[j, v]
  Z = Hd^T W and W += alpha P^T [X; dZ] combine_rows: C[i] = alpha sum_k L[k, i] R[k] + beta C[i]
At B = 20 OpenBLAS spends much of each call packing W; these read W in place, in blocks that
stay in registers. Measured side by side with SciPy's sgemm at H 100, V 784, B 20, one thread,
over several runs on a noisy machine: W X^T 1.15-1.7x as fast, Hd^T W 1.4-1.8x, the update
0.9-1.2x. `aetui bench` measures the whole step.

rows_dot_rows keeps a 4 x 4 block of C in 16 accumulators over the whole v range (8 loads per
16 multiply-adds), which LLVM vectorises along v and reduces across lanes once. Both products
take 4 x 3 blocks instead where the CPU has 16 vector registers (AVX2) rather than 32. combine_rows
needs the reduction loop outside the vectorised one, which LLVM does not do by itself, so it is
written with explicit SIMD values (kernels/simd.py). Leftover rows and columns (sizes that are
not multiples of 4 or of the vector width) take narrower versions of the same loops; a single
row (batch 1) gets its own block rather than a 4-row block three quarters wasted.

With threads > 1 a big enough product shares its blocks among Numba's threads (a serial and a
threaded version of each loop; the block bodies are shared). Every block is computed the same
way whichever thread takes it, so results do not depend on the thread count, to the bit.
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
from numba import njit, prange

from kernels.fastmath import FASTMATH
from kernels.simd import VECTOR_REGISTERS, fma, lanes, load, scale_add, splat, store
from kernels.types import as_type_of

# Multiply-adds below which a product runs on one thread whatever the setting: starting the
# threads costs a few microseconds, and at batch 1 (~80k per product) threads made it slower.
THREADED_MIN_WORK = 500_000
# Small helpers are inlined at Numba's level: each compiled on its own would be optimised again
# in every caller, ~0.1-0.3 s of a cold start apiece.
_INLINED = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
# The register blocks, chosen by the CPU's vector registers: 4 x 4 accumulators (16 registers, with
# the loads 21) where there are 32 (AVX-512); 4 x 3 (12, with the loads 16) where there are 16
# (AVX2), since a 4 x 4 block there spilled to memory and ran the products at 45-58 GFLOP/s
# against a 107 GFLOP/s sgemm (now 76-102). The block changes no element's arithmetic in
# combine_rows; in rows_dot_rows LLVM's reduction order follows the vector width, as it did before.
WIDE = VECTOR_REGISTERS >= 32
DOT_COLUMNS = 4 if WIDE else 3  # rows_dot_rows: a block of 4 rows of L x this many rows of R
BLOCK_VECTORS = 4 if WIDE else 3  # combine_rows: a block of 4 rows x this many vectors of C
# combine_rows hands threads panels of this many blocks (16 vectors: at V 784, 3 per row)
PANEL_BLOCKS = 16 // BLOCK_VECTORS


@njit(**_INLINED)
def _dot(x, y, zero):
    total = zero
    for v in range(x.size):
        total += x[v] * y[v]
    return total


@njit(**_INLINED)
def _check_dot_shapes(L, R, C):
    if R.shape[1] != L.shape[1] or C.shape[0] != L.shape[0] or C.shape[1] != R.shape[0]:
        raise ValueError("rows_dot_rows: shapes do not match")


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _dot_block(L, R, C, i, zero):
    """C[i : i + 4] = L[i : i + 4] R^T."""
    V = L.shape[1]
    N = R.shape[0]
    n4 = N - N % 4
    l0 = L[i]
    l1 = L[i + 1]
    l2 = L[i + 2]
    l3 = L[i + 3]
    for j in range(0, n4, 4):
        r0 = R[j]
        r1 = R[j + 1]
        r2 = R[j + 2]
        r3 = R[j + 3]
        a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = zero
        a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = zero
        for v in range(V):
            x0 = r0[v]
            x1 = r1[v]
            x2 = r2[v]
            x3 = r3[v]
            w = l0[v]
            a00 += w * x0
            a01 += w * x1
            a02 += w * x2
            a03 += w * x3
            w = l1[v]
            a10 += w * x0
            a11 += w * x1
            a12 += w * x2
            a13 += w * x3
            w = l2[v]
            a20 += w * x0
            a21 += w * x1
            a22 += w * x2
            a23 += w * x3
            w = l3[v]
            a30 += w * x0
            a31 += w * x1
            a32 += w * x2
            a33 += w * x3
        C[i, j], C[i, j + 1], C[i, j + 2], C[i, j + 3] = a00, a01, a02, a03
        C[i + 1, j], C[i + 1, j + 1], C[i + 1, j + 2], C[i + 1, j + 3] = a10, a11, a12, a13
        C[i + 2, j], C[i + 2, j + 1], C[i + 2, j + 2], C[i + 2, j + 3] = a20, a21, a22, a23
        C[i + 3, j], C[i + 3, j + 1], C[i + 3, j + 2], C[i + 3, j + 3] = a30, a31, a32, a33
    for j in range(n4, N):
        r0 = R[j]
        a0 = a1 = a2 = a3 = zero
        for v in range(V):
            x0 = r0[v]
            a0 += l0[v] * x0
            a1 += l1[v] * x0
            a2 += l2[v] * x0
            a3 += l3[v] * x0
        C[i, j], C[i + 1, j], C[i + 2, j], C[i + 3, j] = a0, a1, a2, a3


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _dot_block_4x3(L, R, C, i, zero):
    """C[i : i + 4] = L[i : i + 4] R^T with 4 x 3 accumulators (16 vector registers)."""
    V = L.shape[1]
    N = R.shape[0]
    n3 = N - N % 3
    l0 = L[i]
    l1 = L[i + 1]
    l2 = L[i + 2]
    l3 = L[i + 3]
    for j in range(0, n3, 3):
        r0 = R[j]
        r1 = R[j + 1]
        r2 = R[j + 2]
        a00 = a01 = a02 = a10 = a11 = a12 = a20 = a21 = a22 = a30 = a31 = a32 = zero
        for v in range(V):
            x0 = r0[v]
            x1 = r1[v]
            x2 = r2[v]
            w = l0[v]
            a00 += w * x0
            a01 += w * x1
            a02 += w * x2
            w = l1[v]
            a10 += w * x0
            a11 += w * x1
            a12 += w * x2
            w = l2[v]
            a20 += w * x0
            a21 += w * x1
            a22 += w * x2
            w = l3[v]
            a30 += w * x0
            a31 += w * x1
            a32 += w * x2
        C[i, j], C[i, j + 1], C[i, j + 2] = a00, a01, a02
        C[i + 1, j], C[i + 1, j + 1], C[i + 1, j + 2] = a10, a11, a12
        C[i + 2, j], C[i + 2, j + 1], C[i + 2, j + 2] = a20, a21, a22
        C[i + 3, j], C[i + 3, j + 1], C[i + 3, j + 2] = a30, a31, a32
    for j in range(n3, N):
        r0 = R[j]
        a0 = a1 = a2 = a3 = zero
        for v in range(V):
            x0 = r0[v]
            a0 += l0[v] * x0
            a1 += l1[v] * x0
            a2 += l2[v] * x0
            a3 += l3[v] * x0
        C[i, j], C[i + 1, j], C[i + 2, j], C[i + 3, j] = a0, a1, a2, a3


_DOT_BLOCK = _dot_block if DOT_COLUMNS == 4 else _dot_block_4x3  # resolved when compiled: only one is


@njit(**_INLINED)
def _dot_leftover_rows(L, R, C, zero):
    for i in range(L.shape[0] - L.shape[0] % 4, L.shape[0]):
        for j in range(R.shape[0]):
            C[i, j] = _dot(L[i], R[j], zero)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _rows_dot_rows_serial(L, R, C):
    _check_dot_shapes(L, R, C)
    zero = as_type_of(C, 0.0)
    for block in range(L.shape[0] // 4):
        _DOT_BLOCK(L, R, C, 4 * block, zero)
    _dot_leftover_rows(L, R, C, zero)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy", parallel=True)
def _rows_dot_rows_threaded(L, R, C):
    _check_dot_shapes(L, R, C)
    zero = as_type_of(C, 0.0)
    for block in prange(L.shape[0] // 4):
        _DOT_BLOCK(L, R, C, 4 * block, zero)
    _dot_leftover_rows(L, R, C, zero)


@njit(nogil=True, cache=True)
def rows_dot_rows(L, R, C, threads):
    """C = L R^T: C[i, j] = sum_v L[i, v] R[j, v]; L (M, V), R (N, V), C (M, N), C-contiguous.

    With threads > 1, blocks of 4 rows of L are shared among Numba's threads (as many as
    numba.set_num_threads allows) if the product is big enough to repay starting them. The
    caller passes numba.get_num_threads(): read in a kernel, it would keep it from caching.
    threads=None means one thread and is typed apart: Numba prunes the threaded branch before
    typing it, so a one-thread run never compiles the threaded loops (~6 s of a cold start).
    """
    if threads is None:  # one thread: pruned at compile time, so the threaded loop never compiles
        _rows_dot_rows_serial(L, R, C)
    elif threads > 1 and L.size * R.shape[0] >= THREADED_MIN_WORK:
        _rows_dot_rows_threaded(L, R, C)
    else:
        _rows_dot_rows_serial(L, R, C)


@njit(nogil=True, cache=True, inline="always")
def _finish(alpha, acc, beta, C, i, v):
    row = C[i]
    store(row, v, scale_add(alpha, acc, beta, load(row, v)))


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _combine_4x4(alpha, L, R, beta, C, i, rows, v, zero):
    """C[i : i + rows, v : v + 4w] (w lanes), rows <= 4; a missing row repeats the last and is dropped."""
    w = lanes(C)
    i1 = i + min(1, rows - 1)
    i2 = i + min(2, rows - 1)
    i3 = i + min(3, rows - 1)
    a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = splat(zero)
    a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = splat(zero)
    for k in range(R.shape[0]):
        r = R[k]
        x0 = load(r, v)
        x1 = load(r, v + w)
        x2 = load(r, v + 2 * w)
        x3 = load(r, v + 3 * w)
        c = splat(L[k, i])
        a00 = fma(c, x0, a00)
        a01 = fma(c, x1, a01)
        a02 = fma(c, x2, a02)
        a03 = fma(c, x3, a03)
        c = splat(L[k, i1])
        a10 = fma(c, x0, a10)
        a11 = fma(c, x1, a11)
        a12 = fma(c, x2, a12)
        a13 = fma(c, x3, a13)
        c = splat(L[k, i2])
        a20 = fma(c, x0, a20)
        a21 = fma(c, x1, a21)
        a22 = fma(c, x2, a22)
        a23 = fma(c, x3, a23)
        c = splat(L[k, i3])
        a30 = fma(c, x0, a30)
        a31 = fma(c, x1, a31)
        a32 = fma(c, x2, a32)
        a33 = fma(c, x3, a33)
    _finish(alpha, a00, beta, C, i, v)
    _finish(alpha, a01, beta, C, i, v + w)
    _finish(alpha, a02, beta, C, i, v + 2 * w)
    _finish(alpha, a03, beta, C, i, v + 3 * w)
    if rows > 1:
        _finish(alpha, a10, beta, C, i1, v)
        _finish(alpha, a11, beta, C, i1, v + w)
        _finish(alpha, a12, beta, C, i1, v + 2 * w)
        _finish(alpha, a13, beta, C, i1, v + 3 * w)
    if rows > 2:
        _finish(alpha, a20, beta, C, i2, v)
        _finish(alpha, a21, beta, C, i2, v + w)
        _finish(alpha, a22, beta, C, i2, v + 2 * w)
        _finish(alpha, a23, beta, C, i2, v + 3 * w)
    if rows > 3:
        _finish(alpha, a30, beta, C, i3, v)
        _finish(alpha, a31, beta, C, i3, v + w)
        _finish(alpha, a32, beta, C, i3, v + 2 * w)
        _finish(alpha, a33, beta, C, i3, v + 3 * w)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _combine_1x4(alpha, L, R, beta, C, i, v, zero):
    """C[i, v : v + 4w] alone: a batch of one would waste three quarters of a 4-row block."""
    w = lanes(C)
    a0 = a1 = a2 = a3 = splat(zero)
    for k in range(R.shape[0]):
        r = R[k]
        c = splat(L[k, i])
        a0 = fma(c, load(r, v), a0)
        a1 = fma(c, load(r, v + w), a1)
        a2 = fma(c, load(r, v + 2 * w), a2)
        a3 = fma(c, load(r, v + 3 * w), a3)
    _finish(alpha, a0, beta, C, i, v)
    _finish(alpha, a1, beta, C, i, v + w)
    _finish(alpha, a2, beta, C, i, v + 2 * w)
    _finish(alpha, a3, beta, C, i, v + 3 * w)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _combine_4x3(alpha, L, R, beta, C, i, rows, v, zero):
    """C[i : i + rows, v : v + 3w], as _combine_4x4 with 4 x 3 accumulators (16 vector registers)."""
    w = lanes(C)
    i1 = i + min(1, rows - 1)
    i2 = i + min(2, rows - 1)
    i3 = i + min(3, rows - 1)
    a00 = a01 = a02 = a10 = a11 = a12 = a20 = a21 = a22 = a30 = a31 = a32 = splat(zero)
    for k in range(R.shape[0]):
        r = R[k]
        x0 = load(r, v)
        x1 = load(r, v + w)
        x2 = load(r, v + 2 * w)
        c = splat(L[k, i])
        a00 = fma(c, x0, a00)
        a01 = fma(c, x1, a01)
        a02 = fma(c, x2, a02)
        c = splat(L[k, i1])
        a10 = fma(c, x0, a10)
        a11 = fma(c, x1, a11)
        a12 = fma(c, x2, a12)
        c = splat(L[k, i2])
        a20 = fma(c, x0, a20)
        a21 = fma(c, x1, a21)
        a22 = fma(c, x2, a22)
        c = splat(L[k, i3])
        a30 = fma(c, x0, a30)
        a31 = fma(c, x1, a31)
        a32 = fma(c, x2, a32)
    _finish(alpha, a00, beta, C, i, v)
    _finish(alpha, a01, beta, C, i, v + w)
    _finish(alpha, a02, beta, C, i, v + 2 * w)
    if rows > 1:
        _finish(alpha, a10, beta, C, i1, v)
        _finish(alpha, a11, beta, C, i1, v + w)
        _finish(alpha, a12, beta, C, i1, v + 2 * w)
    if rows > 2:
        _finish(alpha, a20, beta, C, i2, v)
        _finish(alpha, a21, beta, C, i2, v + w)
        _finish(alpha, a22, beta, C, i2, v + 2 * w)
    if rows > 3:
        _finish(alpha, a30, beta, C, i3, v)
        _finish(alpha, a31, beta, C, i3, v + w)
        _finish(alpha, a32, beta, C, i3, v + 2 * w)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _combine_1x3(alpha, L, R, beta, C, i, v, zero):
    """C[i, v : v + 3w] alone, as _combine_1x4."""
    w = lanes(C)
    a0 = a1 = a2 = splat(zero)
    for k in range(R.shape[0]):
        r = R[k]
        c = splat(L[k, i])
        a0 = fma(c, load(r, v), a0)
        a1 = fma(c, load(r, v + w), a1)
        a2 = fma(c, load(r, v + 2 * w), a2)
    _finish(alpha, a0, beta, C, i, v)
    _finish(alpha, a1, beta, C, i, v + w)
    _finish(alpha, a2, beta, C, i, v + 2 * w)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _combine_4x1(alpha, L, R, beta, C, i, rows, v, zero):
    """C[i : i + rows, v : v + w], as _combine_4x4 for one vector of columns."""
    i1 = i + min(1, rows - 1)
    i2 = i + min(2, rows - 1)
    i3 = i + min(3, rows - 1)
    a0 = a1 = a2 = a3 = splat(zero)
    for k in range(R.shape[0]):
        x = load(R[k], v)
        a0 = fma(splat(L[k, i]), x, a0)
        a1 = fma(splat(L[k, i1]), x, a1)
        a2 = fma(splat(L[k, i2]), x, a2)
        a3 = fma(splat(L[k, i3]), x, a3)
    _finish(alpha, a0, beta, C, i, v)
    if rows > 1:
        _finish(alpha, a1, beta, C, i1, v)
    if rows > 2:
        _finish(alpha, a2, beta, C, i2, v)
    if rows > 3:
        _finish(alpha, a3, beta, C, i3, v)


_BLOCK = _combine_4x4 if BLOCK_VECTORS == 4 else _combine_4x3  # resolved when compiled: only one is
_ROW_BLOCK = _combine_1x4 if BLOCK_VECTORS == 4 else _combine_1x3


@njit(**_INLINED)
def _combine_panel(alpha, L, R, beta, C, i, first_block, stop_block, zero):
    """Rows i .. i + 3 of C, in column blocks first_block .. stop_block - 1 of BLOCK_VECTORS vectors each."""
    rows = min(4, C.shape[0] - i)
    for block in range(first_block, stop_block):
        if rows == 1:
            _ROW_BLOCK(alpha, L, R, beta, C, i, BLOCK_VECTORS * lanes(C) * block, zero)
        else:
            _BLOCK(alpha, L, R, beta, C, i, rows, BLOCK_VECTORS * lanes(C) * block, zero)


@njit(**_INLINED)
def _combine_leftover_columns(alpha, L, R, beta, C, i, zero):
    """Rows i .. i + 3 of C past the last block of vectors: whole vectors, then one by one."""
    M, N = C.shape
    w = lanes(C)
    rows = min(4, M - i)
    for v in range(N - N % (BLOCK_VECTORS * w), N - N % w, w):
        _combine_4x1(alpha, L, R, beta, C, i, rows, v, zero)
    for r in range(i, i + rows):
        for v in range(N - N % w, N):
            total = zero
            for k in range(R.shape[0]):
                total += L[k, r] * R[k, v]
            C[r, v] = alpha * total + beta * C[r, v] if beta != 0 else alpha * total


@njit(**_INLINED)
def _check_combine_shapes(L, R, C):
    if L.shape[0] != R.shape[0] or L.shape[1] != C.shape[0] or R.shape[1] != C.shape[1]:
        raise ValueError("combine_rows: shapes do not match")


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
def _combine_rows_serial(alpha, L, R, beta, C):
    _check_combine_shapes(L, R, C)
    zero = as_type_of(C, 0.0)
    column_blocks = C.shape[1] // (BLOCK_VECTORS * lanes(C))
    for i in range(0, C.shape[0], 4):
        _combine_panel(alpha, L, R, beta, C, i, 0, column_blocks, zero)
        _combine_leftover_columns(alpha, L, R, beta, C, i, zero)


@njit(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy", parallel=True)
def _combine_rows_threaded(alpha, L, R, beta, C):
    _check_combine_shapes(L, R, C)
    zero = as_type_of(C, 0.0)
    row_blocks = (C.shape[0] + 3) // 4
    column_blocks = C.shape[1] // (BLOCK_VECTORS * lanes(C))
    panels = (column_blocks + PANEL_BLOCKS - 1) // PANEL_BLOCKS
    for unit in prange(row_blocks * panels):
        i = 4 * (unit // panels)
        first = PANEL_BLOCKS * (unit % panels)
        _combine_panel(alpha, L, R, beta, C, i, first, min(first + PANEL_BLOCKS, column_blocks), zero)
    for row_block in prange(row_blocks):
        _combine_leftover_columns(alpha, L, R, beta, C, 4 * row_block, zero)


@njit(nogil=True, cache=True)
def combine_rows(alpha, L, R, beta, C, threads):
    """C = alpha L^T R + beta C: each row of C a combination of the rows of R, weighted by L.

    L (K, M), R (K, N) and C (M, N) C-contiguous; alpha and beta scalars of C's type. beta = 0
    ignores C's old values (even NaN). A block of 4 rows x 4 vectors of C stays in 16
    registers over the whole k loop (4 loads and 4 broadcasts per 16 fused multiply-adds) and
    joins C once, so each element is rounded once as with BLAS. Columns past the last whole
    vector are summed one by one. Threads as for rows_dot_rows; they take panels of blocks.
    """
    if threads is None:  # one thread, as for rows_dot_rows
        _combine_rows_serial(alpha, L, R, beta, C)
    elif threads > 1 and C.size * R.shape[0] >= THREADED_MIN_WORK:
        _combine_rows_threaded(alpha, L, R, beta, C)
    else:
        _combine_rows_serial(alpha, L, R, beta, C)
