"""Compile (or load from Numba's cache) every kernel the trainer uses, before training.

A cold start is nearly all Numba compiling kernels one after another on one core; later starts
load them from the on-disk cache in about a second. When something has to be compiled, a helper
process compiles the matrix products (kernels/compile_plan.py) on the other core:

    this process                          helper process
    layers, evaluation, updates           matrix products
    waits for it <----------------------- exits
    train_chunk (finds everything below it in the cache; forward_backward is inlined into it)

The two shares have no kernel in common and neither calls the other's. If the helper cannot
start, fails or is slow, this process compiles what is missing itself: slower, never different.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time

import numpy as np

import kernels.numba_setup  # noqa: F401  (Numba's set-up, before Numba is imported)
from aetui.model.compile_progress import Progress, compile_progress, log_compile_times
from aetui.model.config import TrainConfig
from aetui.model.engine import Engine, kernel_threads
from aetui.model.state import DTYPE, ModelState
from aetui.model.threads import compute_threads
from kernels import compile_plan

HELPER_SECONDS = 600.0  # a helper still compiling after this long is stopped; this process goes on alone
# What a cold warm-up goes through, in order, for progress reports ("part 2 of 5: evaluation: ...").
PARTS = ("the layers", "evaluation", "the updates", "the products, in a second process", "train_chunk")
COMPILE_LOCK = ".aetui-compile.lock"  # in Numba's cache folder: one process compiles at a time


def warm_up(progress: Progress | None = None, threads: int = 1, config: TrainConfig | None = None) -> None:
    """Compile (or load from Numba's cache) every kernel the trainer uses with `threads` compute
    threads and config's activations (default: the study's), on a tiny problem. One thread and
    several compile apart, and so does each pair of hidden and output activations.

    Types, not sizes, select a compiled version, so this leaves nothing to compile for real runs
    while touching no real state: a quit during compilation cannot catch a session half-written.
    progress(what, part, parts) hears of each kernel as it starts compiling in this process, with
    the part of the warm-up it belongs to (PARTS), e.g. ("the layers: hidden_layer", 1, 5).
    A second call for kernels this process has ready returns at once.
    """
    key = _key(config, threads)
    if key in _READY:
        return
    log_compile_times("trainer")
    with compute_threads(threads):
        _warm_up(progress, kernel_threads(), config or TrainConfig())
    _READY.add(key)


def is_warm(config: TrainConfig, threads: int) -> bool:
    """True when this process has the kernels for config with `threads` threads ready."""
    return _key(config, threads) in _READY


_READY: set[tuple] = set()  # (hidden activation, output activation, one thread or several) warmed here


def _key(config: TrainConfig | None, threads: int) -> tuple:
    config = config or TrainConfig()
    return config.activation, config.out_activation, threads > 1


def _warm_up(progress: Progress | None, threads, config: TrainConfig) -> None:
    tiny = TrainConfig(hidden=2, batch=1, activation=config.activation,
                       output_activation=config.output_activation, loss=config.loss_name).validated()
    engine = Engine(tiny, ModelState.initial(2, 4, True, 0), max_batches=1)
    data = np.zeros((2, 4), np.uint8)
    helper = _Helper(threads)
    part = [0]  # which of PARTS this process is at (1-based; 0 before the first)

    lock = _CompileLock()

    def compiling(kernel: str) -> None:
        """A kernel has to be compiled (not loaded): the first one takes the lock, then starts the
        helper (two helpers must not compile the products at once); each is reported."""
        lock.acquire()
        helper.start()
        if progress is not None:
            progress(f"{PARTS[part[0] - 1]}: {kernel}", part[0], len(PARTS))

    try:
        with compile_progress(compiling):
            part[0] = 1
            compile_plan.compile_layers(engine.act, engine.out_act)
            part[0] = 2
            engine.loss_on(data, 1 / 255)
            engine.reconstruct(np.zeros((1, 4), DTYPE))
            part[0] = 3
            compile_plan.compile_updates()
            part[0] = 4
            if helper.running and progress is not None:
                progress(PARTS[3], 4, len(PARTS))
            helper.wait()
            part[0] = 5
            engine.train(data, 1 / 255, np.arange(2, dtype=np.int64), 0, 1, 0, 0)
    finally:
        helper.stop()
        lock.release()


class _CompileLock:
    """One process at a time compiles into a Numba cache folder: an flock on a file in it, taken
    when something has to be compiled (loading needs none) and dropped when the warm-up ends.

    Numba's cache has no lock: two processes saving two signatures of one kernel at once (say
    train_chunk for two activations, in two study workers) could pair one's index entry with the
    other's code. A second process that has to compile waits here, then finds most of what it
    needs in the cache. (The helper process compiles other kernels than its parent, by the plan,
    and is started only once its parent holds the lock.)
    """

    def __init__(self):
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        try:
            folder = os.environ["NUMBA_CACHE_DIR"]
            os.makedirs(folder, exist_ok=True)
            fd = os.open(os.path.join(folder, COMPILE_LOCK), os.O_CREAT | os.O_RDWR, 0o644)
        except OSError:  # no cache to share (Numba then compiles in memory)
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # drops the lock
            self._fd = None


class _Helper:
    """The helper process: started at most once, waited for, stopped."""

    def __init__(self, threads):
        self.threads = 1 if threads is None else int(threads)
        self.process: subprocess.Popen | None = None
        self.tried = False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.tried:
            return
        self.tried = True
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "aetui.model.warm_up", str(self.threads)],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        except OSError:
            self.process = None  # compile everything here instead

    def wait(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(HELPER_SECONDS)
            except subprocess.TimeoutExpired:
                self.stop()

    def stop(self) -> None:
        if self.running:
            self.process.kill()
            self.process.wait()


def _exit_with_parent() -> None:
    """End this helper at once when the process that started it is gone (nobody waits for it)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _helper_main(threads_arg: str) -> None:
    _exit_with_parent()
    log_compile_times("helper")
    n = int(threads_arg)
    compile_plan.compile_products(None if n == 1 else np.int64(n))


if __name__ == "__main__":
    _helper_main(sys.argv[1])
