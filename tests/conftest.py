"""Shared fixtures. TUI fixtures are prefixed tui_ (see tests/tui/)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

# Two kernel threads even on a one-core machine, so the threaded products are always tested.
os.environ.setdefault("NUMBA_NUM_THREADS", "2")

from aetui.model.config import TrainConfig  # noqa: E402  (after the setting above: Numba reads it on import)
from aetui.training.launch import acquire_trainer  # noqa: E402
from aetui.sessions.store import SessionStore  # noqa: E402
from aetui.model.threads import compute_threads  # noqa: E402

# The kernels tests outside tests/kernels/ call: the study's sigmoid, relu for the restarts, tanh
# and relu with a linear output for the dashboard's flows.
SHARED_KERNELS = (TrainConfig(), TrainConfig(activation="relu"), TrainConfig(activation="tanh"),
                  TrainConfig(activation="relu", output_activation="linear"))


def pytest_configure(config):
    """Compile (or load) the shared kernels once, before any test and before xdist starts its
    workers: on an empty cache a warm-up compiles in two processes (aetui/model/warm_up.py), and
    two workers never compile the same kernel side by side (Numba's cache has no lock of its own;
    the kernels' own tests take the warm-up's compile lock, tests/kernels/conftest.py).
    Only the controller of a run with workers does it: a run in one process (`-n 0`) compiles
    what its tests call as they call it, so a run of the render tests compiles nothing."""
    if hasattr(config, "workerinput") or config.option.collectonly \
            or not getattr(config.option, "numprocesses", None):
        return
    from aetui.model.warm_up import warm_up

    for shared in SHARED_KERNELS:
        warm_up(config=shared.validated())


def pytest_collection_modifyitems(config, items):
    """The modules with slow tests first: xdist hands out whole modules (--dist loadfile) in this
    order, so the long ones (the browser's, the cold starts') start at once rather than last."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: the order within stays


@pytest.fixture(autouse=True, scope="session")
def private_runtime_dir(tmp_path_factory):
    """Trainer sockets of the tests in a folder of their own (short: a socket path has <= 107 bytes)."""
    folder = tmp_path_factory.mktemp("run")
    os.environ["AETUI_RUNTIME_DIR"] = str(folder)
    yield folder


@pytest.fixture(autouse=True)
def private_config_dir(tmp_path_factory, monkeypatch):
    """The dashboard's settings file (aetui/settings.json in the config folder) in a fresh folder
    for each test: no test reads or writes the real ~/.config, and no test sees the view another
    test left (a pane enlarged with 2 would otherwise stay enlarged for the tests after it)."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    yield folder


@pytest.fixture(autouse=True)
def stop_served_trainers():
    """Every TrainerServer a test started through tests/helpers is stopped (and saved) after it."""
    yield
    from tests.helpers.tui import stop_servers

    stop_servers()


@pytest.fixture
def tui_store(tmp_path) -> SessionStore:
    """An empty session store in a temporary folder."""
    return SessionStore(tmp_path / "sessions")


@pytest.fixture
def tui_config() -> TrainConfig:
    """A tiny, fast configuration: 8x8 bars, 16 hidden units, batch 10."""
    return TrainConfig(data="bars8", hidden=16, batch=10).validated()


@pytest.fixture
def tui_make_trainer(tui_store, tui_config):
    """make(name="tui", **config changes) -> an open Trainer; its lock is released after the test."""
    made = []

    def make(name: str = "tui", **changes):
        config = tui_config.replace(**changes) if changes else tui_config
        trainer = acquire_trainer(tui_store, name, config, {})
        made.append(trainer)
        return trainer

    yield make
    for trainer in made:
        trainer.session.unlock()


@pytest.fixture
def tui_wait():
    """await wait(pilot, predicate, timeout=5): poll until predicate() is true, else fail.

    Time the app spends compiling kernels does not count (a cold Numba cache takes ~30 s once).
    """

    async def wait(pilot, predicate, timeout: float = 5.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        compile_deadline = time.monotonic() + 180
        while not predicate():
            now = time.monotonic()
            frame = getattr(pilot.app, "frame", None)
            if frame is not None and frame.state == "COMPILING" and now < compile_deadline:
                deadline = now + timeout
            if now > deadline or not pilot.app.is_running:
                pytest.fail(f"timed out after {timeout} s waiting for {what}" if now > deadline
                            else f"the app stopped while waiting for {what}")
            await asyncio.sleep(0.02)
        await pilot.pause()

    return wait



@pytest.fixture(autouse=True, scope="session")
def one_compute_thread():
    """One BLAS and kernel thread, as the trainer uses by default: on 2 shared cores, two
    OpenBLAS threads per small product thrash (seen: a 3 s test file taking 114 s under load).
    Tests of threading ask for more with compute_threads."""
    with compute_threads(1):
        yield
