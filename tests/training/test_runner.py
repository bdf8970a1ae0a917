"""The runner's command protocol, without the dashboard: a real training thread, commands in,
frames and notices out."""

from __future__ import annotations


import numpy as np
import pytest

from aetui.sessions.session import read_session
from aetui.training.frame import COMPILING, PAUSED, RUNNING, STOPPED
from aetui.training.runner import TrainingRunner
from tests.helpers.waiting import wait_until


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    return wait_until(predicate, timeout, what, poll=0.01)


@pytest.fixture
def idle_passes(monkeypatch):
    """idle_passes(n): wait until the training thread has gone round its loop idle n more times
    (each pass applied the commands queued and found nothing to train)."""
    from aetui.training import runner as runner_module

    passes = [0]
    original = runner_module._RunnerSteering.idle

    def counted(self):
        passes[0] += 1
        original(self)

    monkeypatch.setattr(runner_module._RunnerSteering, "idle", counted)

    def wait_passes(n: int = 3) -> None:
        target = passes[0] + n
        wait_for(lambda: passes[0] >= target, what=f"{n} idle passes")

    return wait_passes


@pytest.fixture
def start(tui_make_trainer):
    """start(paused=True, **runner options) -> a started TrainingRunner; stopped after the test."""
    runners = []

    def make(paused: bool = True, name: str = "run", **options):
        trainer = tui_make_trainer(name)
        runner = TrainingRunner(trainer, paused=paused, compile_first=options.pop("compile_first", False), **options)
        runner.start()
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.stop(timeout=2.0, save=False)


def notices_until(runner, predicate, timeout: float = 20.0):
    seen = []

    def check():
        seen.extend(runner.notices())
        return any(predicate(n) for n in seen)

    wait_for(check, timeout, "a notice")
    return seen


def test_a_paused_runner_trains_only_what_step_asks_for(start, idle_passes):
    runner = start(paused=True)
    idle_passes()
    assert runner.frame.state == PAUSED and runner.frame.step == 0
    runner.step()
    wait_for(lambda: runner.frame.step > 0, what="one step")
    after_step = runner.frame.step
    idle_passes()
    assert after_step == 1 and runner.frame.step == after_step  # one mini-batch, then paused again
    runner.resume()
    wait_for(lambda: runner.frame.step > after_step + 50 and runner.frame.samples_per_second > 0,
             what="training after resume, at a measured rate")
    assert runner.frame.state == RUNNING
    runner.pause()
    wait_for(lambda: runner.frame.state == PAUSED, what="pause")
    assert runner.frame.samples_per_second == 0  # not the rate it had before the pause
    held = runner.frame.step
    idle_passes()
    assert runner.frame.step == held
    # the record: a resume, then a pause with the steps they happened at (n is no intervention)
    events = [(e["kind"], e["step"]) for e in runner.trainer.session.history.events]
    assert [k for k, _ in events] == ["resume", "pause"] and events[0][1] == after_step and events[1][1] == held


def test_lr_changes_keep_the_bias_ratio_and_bad_ones_are_refused(start):
    runner = start()
    ratio = runner.trainer.engine.bias_lr / runner.trainer.engine.lr
    runner.set_lr(0.05)
    seen = notices_until(runner, lambda n: n.text == "learning rate 0.05")
    assert all(n.severity == "information" for n in seen)
    assert runner.frame.lr == pytest.approx(0.05)
    assert runner.trainer.engine.bias_lr == pytest.approx(0.05 * ratio)
    runner.set_lr(-1.0)
    seen = notices_until(runner, lambda n: n.severity == "error")
    assert "learning rate must be a positive number" in seen[-1].text
    assert runner.frame.lr == pytest.approx(0.05)


def test_snapshot_writes_the_weights_of_that_moment(start):
    runner = start()
    runner.step()
    wait_for(lambda: runner.frame.step > 0)
    W_then = runner.frame.W.copy()
    runner.snapshot()
    notices_until(runner, lambda n: n.text.startswith("snapshot snap1 at sample"))
    snap = next(s for s in runner.frame.snapshots if s["name"] == "snap1")
    assert snap["kind"] == "user" and snap["step"] == runner.frame.step
    _, state = runner.trainer.session.read_snapshot("snap1")
    assert np.array_equal(state.W, W_then)


def test_restart_from_a_snapshot_scales_its_weights_and_opens_a_segment(start):
    runner = start()
    runner.step()
    wait_for(lambda: runner.frame.step > 0)
    runner.snapshot("before")
    notices_until(runner, lambda n: n.text.startswith("snapshot before"))
    at_snapshot = runner.frame.step
    runner.step()
    wait_for(lambda: runner.frame.step > at_snapshot, what="a step past the snapshot")
    _, snap = runner.trainer.session.read_snapshot("before")
    runner.restart("relu", "before", None, True, None)
    notices_until(runner, lambda n: n.text.startswith("restarted under relu (weights x0.1, biases reset)"))
    frame = runner.frame
    assert frame.config.activation == "relu" and frame.segment == 1 and frame.lineage == "sigmoid > relu x0.1"
    assert np.array_equal(frame.W, snap.W * np.float32(0.1))
    assert not frame.b.any() and not frame.c.any()
    seg = runner.trainer.session.lineage[-1]
    assert seg["source"] == {"kind": "snapshot", "name": "before", "segment": 0, "step": seg["source"]["step"]}
    runner.restart("relu", "no-such-snapshot", None, True, None)
    seen = notices_until(runner, lambda n: n.severity == "error")
    assert "no snapshot named 'no-such-snapshot'" in seen[-1].text
    assert runner.frame.segment == 1


def test_stop_saves_what_was_trained(start, tui_store):
    runner = start(paused=False)
    wait_for(lambda: runner.frame.step > 30, what="training")
    assert runner.stop(timeout=2.0) is True
    assert runner.frame.state in (RUNNING, STOPPED) and not runner.alive
    on_disk = read_session(tui_store.path("run"))
    assert on_disk.step == runner.trainer.session.step > 30
    assert np.array_equal(on_disk.state.W, runner.trainer.session.state.W)


def test_autosave_writes_the_session_while_it_trains(start, tui_store):
    runner = start(paused=False, autosave_seconds=0.1)
    wait_for(lambda: (tui_store.path("run") / "session.json").is_file()
             and read_session(tui_store.path("run")).step > 0, what="an autosave")
    assert runner.alive


def test_save_command_reports_and_compiling_comes_first(tui_make_trainer):
    runner = TrainingRunner(tui_make_trainer("run"), paused=True, compile_first=True)
    assert runner.frame.state == COMPILING  # (once started, a warm process is past it in a moment)
    runner.start()
    try:
        wait_for(lambda: runner.frame.state == PAUSED, what="the kernels")
        runner.step()
        wait_for(lambda: runner.frame.step > 0)
        runner.save()
        notices_until(runner, lambda n: n.text == "saved session run")
        wait_for(lambda: runner.frame.saved, what="a saved frame")
    finally:
        runner.stop(timeout=2.0, save=False)


def test_a_stop_that_timed_out_inside_a_chunk_can_be_withdrawn_until_the_thread_sees_it(start, monkeypatch):
    import threading

    runner = start(paused=False)
    wait_for(lambda: runner.frame.state == RUNNING and runner.frame.samples > 0, what="training")
    chunk, entered, released = runner.trainer.train_chunk, threading.Event(), threading.Event()

    def long_chunk(*args, **kwargs):  # longer than the stop's wait (extreme load, a huge model)
        if not entered.is_set():
            entered.set()
            released.wait(30.0)
        return chunk(*args, **kwargs)

    monkeypatch.setattr(runner.trainer, "train_chunk", long_chunk)
    wait_for(entered.is_set, what="the long chunk")
    assert not runner.halt(timeout=0.05)  # still inside the chunk
    runner._publish()  # a frame published while the stop was asked (as after_chunk would): STOPPED
    assert runner.frame.state == STOPPED
    assert runner.withdraw_stop()  # the thread had not seen it: it trains on, and says so
    released.set()
    at = runner.frame.samples
    wait_for(lambda: runner.frame.samples > at + 100 and runner.frame.state == RUNNING, what="training on")
    assert runner.alive
    assert runner.halt(timeout=2.0) and not runner.alive
    assert not runner.withdraw_stop()  # seen (the thread ended): too late to take back
