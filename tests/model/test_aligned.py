"""Cache-line alignment of the model's arrays and the engine's buffers (aetui/aligned.py)."""

import numpy as np
import pytest

from aetui.model.aligned import ALIGNMENT, aligned, aligned_empty, is_aligned
from aetui.model.config import TrainConfig
from aetui.model.engine import Engine
from aetui.model.state import ModelState


@pytest.mark.parametrize("shape", [(100, 784), (7,), (3, 5, 2), (1,)])
def test_aligned_empty_starts_on_a_cache_line(shape):
    for _ in range(20):  # many allocations, so an unaligned malloc result would turn up
        a = aligned_empty(shape, np.float32)
        assert a.shape == shape and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
        assert a.ctypes.data % ALIGNMENT == 0


def test_aligned_copies_only_when_needed():
    raw = np.zeros(1000 + 1, np.float32)
    shifted = raw[1:].reshape(10, 100)  # 4 bytes past an allocation: never on a cache line
    assert not is_aligned(shifted)
    shifted[...] = np.arange(1000, dtype=np.float32).reshape(10, 100)
    fixed = aligned(shifted, np.float32)
    assert is_aligned(fixed) and np.array_equal(fixed, shifted)
    assert aligned(fixed, np.float32) is fixed
    as_float32 = aligned(np.arange(6, dtype=np.float64).reshape(2, 3), np.float32)
    assert as_float32.dtype == np.float32 and np.array_equal(as_float32, [[0, 1, 2], [3, 4, 5]])


def test_model_state_and_engine_buffers_are_aligned_whatever_they_are_built_from():
    raw = np.ones(100 * 784 + 1, np.float32)
    W = raw[1:].reshape(100, 784)
    state = ModelState.from_weights(W, np.zeros(100), np.zeros(784), None)  # float64 biases become float32
    arrays = [state.W, state.b, state.c, state.vW, state.vb, state.vc]
    assert all(is_aligned(a) and a.dtype == np.float32 for a in arrays)
    assert np.array_equal(state.W, W)
    dup = state.copy()
    assert all(is_aligned(a) for a in dup.arrays().values())
    assert dup.W is not state.W and np.array_equal(dup.W, state.W)
    dup.W[0, 0] = 5.0
    assert state.W[0, 0] == 1.0  # a copy, not a view
    engine = Engine(TrainConfig().validated(), state)
    for name in ("_A", "_Hh", "_M", "_Hd", "_dHd", "_P", "_Q", "_Xc", "_Yb", "_gb", "_gc"):
        assert is_aligned(getattr(engine, name)), name
