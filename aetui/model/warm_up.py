"""Compile (or load from Numba's cache) every kernel the trainer uses, before training."""

from __future__ import annotations

import numpy as np

from aetui.model.compile_progress import Progress, compile_progress
from aetui.model.config import TrainConfig
from aetui.model.engine import Engine
from aetui.model.state import DTYPE, ModelState


def warm_up(progress: Progress | None = None) -> None:
    """Compile (or load from Numba's cache) every kernel the trainer uses, on a tiny problem.

    Types, not sizes, select a compiled version, so this leaves nothing to compile for real runs
    while touching no real state: a quit during compilation cannot catch a session half-written.
    progress(kernel, begun, total) hears of each kernel as it starts compiling.
    """
    config = TrainConfig(hidden=2, batch=1).validated()
    state = ModelState.initial(2, 4, True, 0)
    engine = Engine(config, state, max_batches=1)
    data = np.zeros((2, 4), np.uint8)
    with compile_progress(progress):
        engine.train(data, 1 / 255, np.arange(2, dtype=np.int64), 0, 1, 0, 0)
        engine.loss_on(data, 1 / 255)
        engine.reconstruct(np.zeros((1, 4), DTYPE))
