"""The kernels' tests compile kernels of their own (float64, every activation, threaded products)."""

from __future__ import annotations

import pytest

from aetui.model.warm_up import _CompileLock


@pytest.fixture(autouse=True)
def one_compiler_at_a_time():
    """Each test holds the compile lock of Numba's cache folder, as a warm-up does while it
    compiles: Numba's cache has no lock of its own, and two xdist workers (or a trainer process)
    saving two signatures of one kernel at once could pair one's index entry with the other's code."""
    lock = _CompileLock()
    lock.acquire()
    yield
    lock.release()
