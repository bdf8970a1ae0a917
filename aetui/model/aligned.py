"""Arrays whose data starts on a cache-line boundary.

The kernels load 64-byte vectors along rows of W and of the batch buffers. NumPy only promises
16-byte alignment, and a vector load that straddles two cache lines costs about twice as much:
measured on the study's configuration, the whole step ran ~1.5x slower from an unlucky address,
so the speed of a run depended on where malloc happened to put W.
"""

from __future__ import annotations

import numpy as np

ALIGNMENT = 64  # bytes: one cache line, one AVX-512 register


def is_aligned(a: np.ndarray) -> bool:
    return a.ctypes.data % ALIGNMENT == 0


def aligned_empty(shape, dtype) -> np.ndarray:
    """An uninitialised C-contiguous array whose first element sits on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(size + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start:start + size].view(dtype).reshape(shape)


def aligned_copy(a, dtype=None) -> np.ndarray:
    """A new C-contiguous copy of a (as dtype, default a's) on a 64-byte boundary."""
    a = np.asarray(a)
    out = aligned_empty(a.shape, a.dtype if dtype is None else dtype)
    out[...] = a
    return out


def aligned(a, dtype) -> np.ndarray:
    """a as a C-contiguous array of dtype on a 64-byte boundary: a itself when it already is."""
    a = np.asarray(a)
    if a.dtype == dtype and a.flags.c_contiguous and is_aligned(a):
        return a
    return aligned_copy(a, dtype)
