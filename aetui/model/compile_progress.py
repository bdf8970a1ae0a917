"""What the kernels' compilation is doing, from Numba's compile events: for a display that says
which part and how far (a first run compiles for about 15 s on 2 cores; later runs load the
kernels from Numba's cache in about a second)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import kernels.numba_setup  # noqa: F401  (Numba's set-up, before Numba is imported)
from numba.core import event
from numba.core.registry import CPUDispatcher

Progress = Callable[[str, int, int], None]  # (kernel being compiled, kernels begun, kernels in all)


def kernel_count() -> int:
    """How many kernels (jitted functions of the kernels package) there are."""
    return len({id(obj) for name, module in list(sys.modules.items()) if name.startswith("kernels.")
                for obj in vars(module).values() if isinstance(obj, CPUDispatcher)})


class _Listener(event.Listener):
    def __init__(self, progress: Progress, total: int):
        self.progress = progress
        self.total = total
        self.begun: set[str] = set()

    def on_start(self, ev) -> None:
        func = ev.data["dispatcher"].py_func
        if func.__module__.startswith("kernels.") and func.__qualname__ not in self.begun:
            self.begun.add(func.__qualname__)
            self.progress(func.__qualname__, len(self.begun), max(self.total, len(self.begun)))

    def on_end(self, ev) -> None:
        pass


@contextmanager
def compile_progress(progress: Progress | None) -> Iterator[None]:
    """Within the block, progress(kernel, begun, total) is called as each kernel starts compiling
    (kernels loaded from the cache are not compiled and not reported)."""
    if progress is None:
        yield
        return
    listener = _Listener(progress, kernel_count())
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)
