"""A cold start compiles in two processes; a warm one loads everything and starts no helper."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from aetui.model import warm_up as warm_up_module
from aetui.model.engine import kernel_threads
from aetui.model.threads import compute_threads

# Run in a fresh process with an empty cache: report which kernels this process compiled, and
# whether a helper process ran and how it ended.
_COLD_START = """
import json, sys
from aetui.model import warm_up as w  # first: it sets Numba's cache folder up, as the helper does
from numba.core import event
compiled = []
class Listener(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)
    def on_end(self, ev):
        pass
event.register("numba:compile", Listener())
helpers = []
start = w._Helper.start
def recorded_start(self):
    start(self)
    if self not in helpers:
        helpers.append(self)
w._Helper.start = recorded_start
reports = []
w.warm_up(lambda what, part, parts: reports.append([what, part, parts]))
print(json.dumps({"compiled": compiled, "reports": reports,
                  "helper_codes": [h.process.returncode if h.process else None for h in helpers]}))
"""


def _run(code: str, cache: str) -> dict:
    env = {**os.environ, "AETUI_NUMBA_CACHE_BASE": cache, "NUMBA_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def cold_started(tmp_path_factory) -> tuple[str, dict]:
    """One real cold start (~10-30 s of compiling) into a cache of its own, shared by the tests of
    what it did and of what a warm start then does: (the cache folder, its report)."""
    cache = str(tmp_path_factory.mktemp("cold-cache"))
    return cache, _run(_COLD_START, cache)


@pytest.mark.slow
def test_a_cold_start_shares_the_compiling_with_a_helper_and_a_warm_start_compiles_nothing(cold_started):
    cache, cold = cold_started
    assert cold["helper_codes"] == [0]  # started once, finished its share
    # The products came from the helper through the cache:
    for kernel in ("_combine_4x4", "_dot_block", "combine_rows", "rows_dot_rows", "times_batch_rows",
                   "weight_gradient_product"):
        assert kernel not in cold["compiled"]
    # this process compiled its own share and train_chunk, which found the rest in the cache
    for kernel in ("hidden_layer", "output_layer", "add_bias_and_activate", "sgd_update", "all_finite",
                   "train_chunk"):
        assert kernel in cold["compiled"]
    assert "forward_backward" not in cold["compiled"]  # inlined into train_chunk, never compiled alone
    # progress names the part of the warm-up and the kernel: the layers first, train_chunk last
    assert cold["reports"][:3] == [["the layers: gather_inputs", 1, 5], ["the layers: copy_into", 1, 5],
                                   ["the layers: hidden_layer", 1, 5]]
    assert cold["reports"][-1] == ["train_chunk: train_chunk", 5, 5]
    assert [part for _, part, _ in cold["reports"]] == sorted(part for _, part, _ in cold["reports"])
    # only the run's activation (the study's sigmoid, with cross-entropy) is compiled
    assert "_sigmoid" in cold["compiled"] and "_d_sigmoid" in cold["compiled"]
    assert not {"_relu", "_tanh", "_elu", "_softplus", "_d_relu", "_d_tanh"} & set(cold["compiled"])
    warm = _run(_COLD_START, cache)
    assert warm == {"compiled": [], "reports": [], "helper_codes": []}


def test_kernel_threads_is_none_for_one_thread_so_no_threaded_loop_is_compiled():
    with compute_threads(1):
        assert kernel_threads() is None
    with compute_threads(2):
        assert kernel_threads() == 2 and isinstance(kernel_threads(), np.int64)


class _FakeHelper(warm_up_module._Helper):
    """A helper whose process is a stand-in script, to test waiting and stopping without compiling."""

    def __init__(self, script: str):
        super().__init__(None)
        self.script = script

    def start(self) -> None:
        if self.tried:
            return
        self.tried = True
        self.process = subprocess.Popen([sys.executable, "-c", self.script])


def test_a_helper_that_fails_or_hangs_never_blocks_the_warm_up(monkeypatch):
    failing = _FakeHelper("import sys; sys.exit(3)")
    failing.start()
    failing.wait()
    assert failing.process.returncode == 3
    monkeypatch.setattr(warm_up_module, "HELPER_SECONDS", 0.5)
    hanging = _FakeHelper("import time; time.sleep(60)")
    hanging.start()
    hanging.wait()  # stopped after HELPER_SECONDS
    assert hanging.process.returncode is not None and not hanging.running


def test_stopping_the_warm_up_stops_its_helper():
    helper = _FakeHelper("import time; time.sleep(60)")
    helper.start()
    assert helper.running
    helper.stop()
    assert not helper.running and helper.process.returncode is not None


def test_one_process_at_a_time_compiles_into_a_cache_folder(tmp_path, monkeypatch):
    """Numba's cache has no lock: a second process that has to compile waits for the first."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    fd = os.open(tmp_path / warm_up_module.COMPILE_LOCK, os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another process compiling
    entered = threading.Event()
    second = warm_up_module._CompileLock()

    def compile_next() -> None:
        second.acquire()
        entered.set()

    thread = threading.Thread(target=compile_next)
    thread.start()
    try:
        assert not entered.wait(0.5)
    finally:
        os.close(fd)  # the first is done
    assert entered.wait(10)
    thread.join()
    second.release()


@pytest.mark.slow
def test_a_warm_start_loads_its_kernels_while_another_process_compiles(cold_started):
    """Loading from the cache takes no lock: a process compiling other kernels does not hold it up."""
    cache, cold = cold_started
    assert cold["helper_codes"] == [0]  # the cache was filled
    folder = os.path.join(cache, os.path.basename(os.environ["NUMBA_CACHE_DIR"]))  # kernels/numba_setup.py's
    lock_file = os.path.join(folder, warm_up_module.COMPILE_LOCK)
    assert os.path.isfile(lock_file)  # the cold start compiled under it
    fd = os.open(lock_file, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # held for the whole warm start below
    try:
        assert _run(_COLD_START, cache) == {"compiled": [], "reports": [], "helper_codes": []}
    finally:
        os.close(fd)
