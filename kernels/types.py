"""Scalars in an array's own float type, for kernels written once for float32 and float64."""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import numpy as np
from numba import njit


@njit(nogil=True, cache=True, inline="always")
def as_type_of(a, value):
    """value converted to a's float type (Numba widens float32 * int to float64)."""
    out = np.empty(1, a.dtype)
    out[0] = value
    return out[0]
