"""The loop compiles (or loads) the kernels of a new activation before it trains under it."""

from __future__ import annotations

import time

from aetui.model import warm_up as warm_up_module
from aetui.model.warm_up import is_warm
from aetui.training.frame import COMPILING
from aetui.training.loop import Action, Steering, run_loop
from aetui.training.runner import TrainingRunner


class _Recording(Steering):
    """Restarts under `restart_to` after two steps; records when the loop compiles, and for what."""

    def __init__(self, trainer, restart_to: str):
        self.trainer = trainer
        self.restart_to = restart_to
        self.calls: list[tuple[str, str, int]] = []

    def compiling(self, config) -> None:
        assert config == self.trainer.config
        self.calls.append(("compiling", config.activation, self.trainer.session.step))

    def compiled(self) -> None:
        self.calls.append(("compiled", self.trainer.config.activation, self.trainer.session.step))

    def between_chunks(self, trainer) -> Action:
        if trainer.session.step >= 2 and trainer.config.activation != self.restart_to:
            trainer.restart(self.restart_to)
        return Action.STEP


def test_a_restart_under_another_activation_compiles_its_kernels_before_its_first_chunk(
        tui_make_trainer, monkeypatch):
    monkeypatch.setattr(warm_up_module, "_READY", set())  # nothing compiled in this process yet
    trainer = tui_make_trainer("run")
    steering = _Recording(trainer, "tanh")
    run_loop(trainer, steering, samples=5 * trainer.config.batch, autosave_seconds=None, warm=False)
    # warm=False: the caller has the first activation's kernels; tanh's come before its first step
    assert steering.calls == [("compiling", "tanh", 2), ("compiled", "tanh", 2)]
    assert trainer.session.step == 5 and trainer.config.activation == "tanh"
    assert is_warm(trainer.config, 1)


def test_the_first_warm_up_covers_the_first_activation_and_a_later_one_only_what_is_new(
        tui_make_trainer, monkeypatch):
    monkeypatch.setattr(warm_up_module, "_READY", set())
    trainer = tui_make_trainer("run")
    steering = _Recording(trainer, "relu")
    run_loop(trainer, steering, samples=4 * trainer.config.batch, autosave_seconds=None)
    assert steering.calls == [("compiling", "sigmoid", 0), ("compiled", "sigmoid", 0),
                              ("compiling", "relu", 2), ("compiled", "relu", 2)]
    # Back under sigmoid, whose kernels this process has: the loop's start still says it warms
    # up (which returns at once), and nothing more is compiled before later chunks.
    trainer.restart("sigmoid")
    steering.restart_to, steering.calls = "sigmoid", []
    run_loop(trainer, steering, samples=2 * trainer.config.batch, autosave_seconds=None)
    assert steering.calls == [("compiling", "sigmoid", 4), ("compiled", "sigmoid", 4)]
    assert trainer.session.step == 6


def test_a_restart_from_the_dashboard_compiles_before_the_restart_evaluates_under_it(
        tui_make_trainer, monkeypatch):
    import aetui.training.loop as loop

    monkeypatch.setattr(warm_up_module, "_READY", set())
    trainer = tui_make_trainer("run")
    calls = []

    def recording_warm_up(progress=None, threads=1, config=None):
        calls.append((config.activation, trainer.config.activation))  # (compiled for, training under)
        warm_up_module.warm_up(progress, threads, config)

    monkeypatch.setattr(loop, "warm_up", recording_warm_up)
    runner = TrainingRunner(trainer, paused=True, compile_first=False)
    runner.start()
    try:
        runner.restart("tanh")  # compiled by the suite's warm-up: loaded here, not compiled
        deadline = time.monotonic() + 60
        while trainer.config.activation != "tanh" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert trainer.config.activation == "tanh"
        # warmed up for tanh while the session still trained under sigmoid: before the restart
        assert calls == [("tanh", "sigmoid")]
        assert runner.frame.state != COMPILING
    finally:
        runner.stop(timeout=2.0, save=False)
