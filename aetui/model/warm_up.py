"""Compile (or load from Numba's cache) every kernel the trainer uses, before training.

A cold start is nearly all Numba compiling kernels one after another on one core; later starts
load them from the on-disk cache in about a second. When something has to be compiled, a helper
process takes a share on another core (the shares are in kernels/compile_plan.py):

    this process                          helper process
    layers                                matrix products, updates
    "layers are cached" -- stdin -------> forward_backward (finds both in the cache)
    evaluation kernels
    waits for it <----------------------- exits
    train_chunk (finds everything below it in the cache)

Shares that run at the same time have no kernel in common. If the helper cannot start, fails
or is slow, this process compiles what is missing itself: slower, never different.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

import kernels.numba_setup  # noqa: F401  (Numba's set-up, before Numba is imported)
from aetui.model.compile_progress import Progress, compile_progress
from aetui.model.config import TrainConfig
from aetui.model.engine import Engine, kernel_threads
from aetui.model.state import DTYPE, ModelState
from aetui.model.threads import compute_threads
from kernels import compile_plan
from numba.core import event

HELPER_SECONDS = 600.0  # a helper still compiling after this long is stopped; this process goes on alone
GO = b"go\n"  # what the helper waits for: this process's share is in the cache


def warm_up(progress: Progress | None = None, threads: int = 1) -> None:
    """Compile (or load from Numba's cache) every kernel the trainer uses with `threads` compute
    threads (one thread and several compile apart), on a tiny problem.

    Types, not sizes, select a compiled version, so this leaves nothing to compile for real runs
    while touching no real state: a quit during compilation cannot catch a session half-written.
    progress(kernel, begun, total) hears of each kernel as it starts compiling in this process.
    """
    with compute_threads(threads):
        _warm_up(progress, kernel_threads())


def _warm_up(progress: Progress | None, threads) -> None:
    config = TrainConfig(hidden=2, batch=1).validated()
    engine = Engine(config, ModelState.initial(2, 4, True, 0), max_batches=1)
    data = np.zeros((2, 4), np.uint8)
    helper = _Helper(threads)
    last = ["", 0, 0]  # the progress last reported: (kernel, begun, total)

    def report(kernel: str, begun: int, total: int) -> None:
        last[:] = kernel, begun, total
        if progress is not None:
            progress(kernel, begun, total)

    try:
        with compile_progress(report), _on_first_compile(helper.start):
            compile_plan.compile_layers()
            helper.go()
            engine.loss_on(data, 1 / 255)
            engine.reconstruct(np.zeros((1, 4), DTYPE))
            if helper.running:
                report("matrix products, in a second process", last[1], last[2])
            helper.wait()
            engine.train(data, 1 / 255, np.arange(2, dtype=np.int64), 0, 1, 0, 0)
    finally:
        helper.stop()


@contextmanager
def _on_first_compile(start) -> Iterator[None]:
    """Within the block, call start() when a kernel first has to be compiled (not loaded)."""

    class Listener(event.Listener):
        def on_start(self, ev) -> None:
            if ev.data["dispatcher"].py_func.__module__.startswith("kernels."):
                start()

        def on_end(self, ev) -> None:
            pass

    listener = Listener()
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)


class _Helper:
    """The helper process: started at most once, told when to go on, waited for, stopped."""

    def __init__(self, threads):
        self.threads = 1 if threads is None else int(threads)
        self.process: subprocess.Popen | None = None
        self.tried = False
        self.released = False  # this process's share is in the cache

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.tried:
            return
        self.tried = True
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "aetui.model.warm_up", str(self.threads)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            self.process = None  # compile everything here instead
        if self.released:  # started late (this share came from the cache): nothing to wait for
            self.go()

    def go(self) -> None:
        self.released = True
        if self.process is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.write(GO)
                self.process.stdin.close()
            except OSError:
                pass  # it is gone: this process compiles its share

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
        if self.process is not None and self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass


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
    n = int(threads_arg)
    threads = None if n == 1 else np.int64(n)
    compile_plan.compile_products(threads)
    compile_plan.compile_updates()
    if sys.stdin.buffer.read(len(GO)) != GO:
        return  # the parent stopped before its share was done
    compile_plan.compile_forward_backward(threads)


if __name__ == "__main__":
    _helper_main(sys.argv[1])
