"""What the kernels' compilation is doing, from Numba's compile events: for a display that says
which part and how far (aetui/model/warm_up.py), and for `aetui bench --cold-start`'s log of
where the time goes. A first start compiles for about 10 s on 2 cores; later ones load the
kernels from Numba's cache in about a second."""

from __future__ import annotations

import atexit
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import kernels.numba_setup  # noqa: F401  (Numba's set-up, before Numba is imported)
from numba.core import event

Progress = Callable[[str, int, int], None]  # a warm-up's: (what is compiling, part, parts)


class _Listener(event.Listener):
    def __init__(self, on_kernel: Callable[[str], None]):
        self.on_kernel = on_kernel
        self.begun: set[str] = set()

    def on_start(self, ev) -> None:
        func = ev.data["dispatcher"].py_func
        if func.__module__.startswith("kernels.") and func.__qualname__ not in self.begun:
            self.begun.add(func.__qualname__)
            self.on_kernel(func.__qualname__)

    def on_end(self, ev) -> None:
        pass


@contextmanager
def compile_progress(on_kernel: Callable[[str], None] | None) -> Iterator[None]:
    """Within the block, on_kernel(name) is called as each kernel of the kernels package starts
    compiling, once per kernel (kernels loaded from the cache are not compiled, not reported)."""
    if on_kernel is None:
        yield
        return
    listener = _Listener(on_kernel)
    event.register("numba:compile", listener)
    try:
        yield
    finally:
        event.unregister("numba:compile", listener)


COMPILE_LOG = "AETUI_COMPILE_LOG"  # a file: each process appends the seconds it spent compiling each kernel


def log_compile_times(role: str) -> None:
    """When $AETUI_COMPILE_LOG names a file, append to it at exit one JSON line per kernel this
    process compiled: {"process": role, "module", "kernel", "seconds"}, seconds not counting the
    kernels it called; Numba's own functions (np.empty...) count too (`aetui bench --cold-start`
    reads them). Nothing otherwise."""
    path = os.environ.get(COMPILE_LOG)
    if not path or _logging:
        return
    _logging.append(role)
    stack: list[list] = []  # [kernel, started, seconds in callees]
    own: dict[tuple[str, str], float] = {}  # (module, kernel) -> seconds

    class Listener(event.Listener):
        def on_start(self, ev) -> None:
            func = ev.data["dispatcher"].py_func
            stack.append([(func.__module__, func.__qualname__), time.perf_counter(), 0.0])

        def on_end(self, ev) -> None:
            kernel, started, inner = stack.pop()
            spent = time.perf_counter() - started
            own[kernel] = own.get(kernel, 0.0) + spent - inner
            if stack:
                stack[-1][2] += spent

    def write() -> None:
        with open(path, "a") as f:
            for (module, kernel), seconds in own.items():
                f.write(json.dumps({"process": role, "module": module, "kernel": kernel,
                                    "seconds": round(seconds, 4)}) + "\n")

    event.register("numba:compile", Listener())
    atexit.register(write)


_logging: list[str] = []
