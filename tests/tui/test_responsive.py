"""The UI goes on while the training thread runs flat out: timer ticks and keys are handled
during training, and the kernels release the GIL so that they can be.

How fast (ticks per second, key latency) is `aetui bench --attached`'s to say: DESIGN.md keeps
speed out of tests. (A timed version of this test failed on a loaded CI machine: 112 of 138
ticks late.)
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import time

import pytest
from numba.core.dispatcher import Dispatcher
from textual import events

import kernels
from aetui.training.frame import RUNNING
from tests.helpers.tui import make_app

TIMER_HZ = 40


async def _until(predicate, what: str, timeout: float = 10.0) -> None:
    """Poll without Pilot's wait for idle (up to ~2 s each with a busy training thread)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


def test_every_kernel_releases_the_gil():
    """A kernel holding the GIL freezes the UI while it runs (seen: 1 of 123 timer ticks)."""
    holding, names = [], set()
    for info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"kernels.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == module.__name__:
                names.add(name)
                if not obj.targetoptions.get("nogil"):
                    holding.append(f"{module.__name__}.{name}")
    assert {"train_chunk", "hidden_layer", "output_layer", "rows_dot_rows", "combine_rows", "sgd_update"} <= names
    assert holding == []


async def test_timer_ticks_and_keys_are_handled_while_training(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer(hidden=64)
    app = make_app(trainer, tui_store, start_paused=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await tui_wait(pilot, lambda: app.frame is not None and app.frame.state == RUNNING and app.frame.samples > 0)
        ticks = []  # the samples the trainer had published at each tick
        timer = app.set_interval(1 / TIMER_HZ, lambda: ticks.append(app.link.frame.samples))
        handled = []  # (samples, state) when the key's action ran
        original = app.action_toggle_normalization

        def toggle():
            handled.append((app.link.frame.samples, app.link.frame.state))
            original()

        app.action_toggle_normalization = toggle
        before = app.filters.normalization
        for presses in (1, 2):
            at_press = app.link.frame.samples
            app._driver.send_message(events.Key("f", "f"))  # as a terminal's key arrives
            await _until(lambda: len(handled) == presses, f"key {presses}")
            # the trainer published more samples after the key's action than before the press
            await _until(lambda: app.link.frame.samples > handled[-1][0] >= at_press, "training on")
            if presses == 1:
                assert app.filters.normalization != before
        # ticks kept coming while the samples grew: several ticks, over rising sample counts
        await _until(lambda: len(set(ticks)) >= 3, "ticks over three sample counts")
        timer.stop()
        assert app.filters.normalization == before  # the second press toggled back
        assert [state for _, state in handled] == [RUNNING, RUNNING]
        assert ticks == sorted(ticks)
        app.stop_training()
