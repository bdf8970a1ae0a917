"""How many threads the computation may use: the kernels' own (Numba's) and BLAS's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import kernels.numba_setup  # noqa: F401  (Numba's set-up, before Numba is imported)
import numba
from threadpoolctl import threadpool_limits


def available() -> int:
    """The most threads the kernels can run: Numba's pool (NUMBA_NUM_THREADS, else the CPUs)."""
    return numba.config.NUMBA_NUM_THREADS


@contextmanager
def compute_threads(n: int) -> Iterator[None]:
    """Within the block, work started from this thread uses at most n threads.

    Numba's setting is per calling thread, so enter this in the thread that trains.
    """
    if not 1 <= n <= available():
        raise ValueError(f"threads must be between 1 and {available()}, not {n}")
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(previous)
