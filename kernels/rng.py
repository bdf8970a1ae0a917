"""Counter-based random bits: draw i of stream s at step t is a pure hash of (seed, s, t, i).

No hidden generator state, so a run resumed from disk at step t draws exactly what the
uninterrupted run drew, and the gradient checks can replay the same masks.
"""

import kernels.numba_setup  # noqa: F401  (before Numba is imported)
import numpy as np
from numba import njit

NOISE_STREAM = np.uint64(1)
DROPOUT_STREAM = np.uint64(2)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit(nogil=True, cache=True, inline="always")
def mix64(x):
    """splitmix64's finaliser: a bijective, well-mixed hash of a uint64."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


@njit(nogil=True, cache=True, inline="always")
def stream_key(seed, stream, step):
    """The key of one (seed, stream, step); draws of that step are mix64(key + i * golden)."""
    return mix64(mix64(np.uint64(seed) ^ (np.uint64(stream) * _GOLDEN)) + np.uint64(step) * _M1)


@njit(nogil=True, cache=True, inline="always")
def draw32(key, i):
    """32 uniform bits (as uint64) for index i under `key`."""
    return mix64(key + np.uint64(i) * _GOLDEN) >> np.uint64(32)


def keep_threshold(probability):
    """Integer threshold t: a draw d is dropped when d < t, i.e. with the given probability."""
    return np.uint64(min(int(round(float(probability) * 2.0**32)), 2**32))
