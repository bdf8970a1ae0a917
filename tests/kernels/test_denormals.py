"""Denormals are flushed inside a chunk only: fast saturated training, untouched caller state."""

import numpy as np

from aetui.model.config import TrainConfig
from aetui.model.engine import Engine
from aetui.model.state import ModelState
from kernels.denormals import X86, flush_denormals, restore_denormals


def denormal_survives() -> bool:
    tiny = np.array([1e-38], np.float32)
    return bool((tiny * np.float32(0.01))[0] != 0)


def test_chunk_restores_the_callers_float_mode():
    assert denormal_survives()
    cfg = TrainConfig(data="bars8", hidden=4, batch=1, lr=5.0).validated()  # saturates at once
    data = np.random.default_rng(0).integers(0, 2, (50, 784), dtype=np.uint8) * np.uint8(255)
    out = Engine(cfg, ModelState.initial(4, 784, True, 0)).train(data, 1 / 255, np.arange(50, dtype=np.int64), 0, 50, 0, 0)
    assert out.batches == 50 and np.isfinite(out.losses).all()
    assert denormal_survives()  # the kernel put MXCSR back


def test_flush_and_restore_round_trip():
    old = flush_denormals()
    try:
        if X86:
            assert not denormal_survives()  # NumPy in this thread now flushes too
    finally:
        restore_denormals(old)
    assert denormal_survives()
