"""Compilation says which kernel is compiling (warm_up says how far: tests/model/test_warm_up.py)."""

from __future__ import annotations

import numpy as np
from numba import njit

from aetui.model.compile_progress import compile_progress


def _fake_kernel(module: str):
    def double(a):
        return a * 2

    double.__module__ = module  # as if it lived in the kernels package
    double.__qualname__ = f"double_{module.replace('.', '_')}"
    return njit(double)


def test_each_kernel_is_reported_once_as_it_starts_compiling():
    seen = []
    kernel, other = _fake_kernel("kernels.fake"), _fake_kernel("somewhere.else")
    with compile_progress(seen.append):
        kernel(np.ones(3))
        kernel(np.ones(3, np.float32))  # a second specialisation of the same kernel: not counted again
        other(np.ones(3))  # not a kernel of aetui
    assert seen == ["double_kernels_fake"]
    kernel(np.ones(3, np.int64))  # outside the block: nobody is told
    assert len(seen) == 1
