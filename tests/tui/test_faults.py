"""The dashboard on a full disk: the failure is shown until a save works, and q never drops
unsaved work without asking."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.widgets import Button

from aetui.sessions.session import read_session
from aetui.training.frame import PAUSED, RUNNING
from aetui.tui.app import STOPPED_BY_US
from aetui.tui.session.unsaved_quit import UnsavedQuit
from tests.helpers.faults import FullDisk, temp_files
from tests.helpers.tui import BIG, make_app, record_notices, status_text


@pytest.fixture
def disk(monkeypatch):
    return FullDisk(monkeypatch)


async def _started(pilot, wait, state):
    app = pilot.app
    await wait(pilot, lambda: app.frame is not None and app.frame.state == state, what=state)
    await pilot.pause()


# Pilot's press and click return once the process looks idle: its CPU time stood still for
# 20 ms. A process starved of CPU on a loaded machine looks just so before it handled the key,
# so q's dialog was not there yet (or not laid out: the click hit another place of the screen,
# and the app waited for a choice until the test gave up). The tests wait for what the key does.


async def _dialog(pilot, wait, before=None) -> UnsavedQuit:
    """The quit dialog q opened (another than `before`), once its three buttons are laid out."""
    app = pilot.app

    def shown() -> bool:
        screen = app.screen
        return (isinstance(screen, UnsavedQuit) and screen is not before
                and [b.id for b in screen.query(Button) if b.region.area > 0] == ["retry", "keep", "discard"])

    await wait(pilot, shown, what="the quit dialog")
    return app.screen


async def _choose(pilot, button: str) -> None:
    assert await pilot.click(f"#{button}"), f"the click missed the {button} button"


async def _until_ended(app) -> None:
    """Wait for the quit a dialog's button asked for: its callback stops (and saves) the training.
    Leaving the app first (a busy machine) let the harness close it with nothing saved."""
    deadline = time.monotonic() + 40  # a stop allows a slow disk 30 s
    while app.ended is None:
        assert time.monotonic() < deadline, f"the app did not end within 40 s of the choice ({app.screen!r} shown)"
        await asyncio.sleep(0.02)


async def test_ctrl_s_on_a_full_disk_says_so_until_a_save_works(tui_make_trainer, tui_store, tui_wait, disk):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    notes = record_notices(app)
    async with app.run_test(size=BIG) as pilot:
        await _started(pilot, tui_wait, PAUSED)
        await pilot.press("n")
        await tui_wait(pilot, lambda: app.link.frame.step > 0)
        disk.on()
        await pilot.press("ctrl+s")
        await tui_wait(pilot, lambda: app.link.frame.save_error is not None, what="the failure")
        app._poll()
        assert "SAVE FAILED: could not save session tui: No space left on device" in status_text(app).replace("\n", "")
        assert any(sev == "error" and "the last save (0 samples) is intact" in m for m, sev in notes)
        assert [e["kind"] for e in trainer.session.history.events][-1] == "save_failed"
        assert temp_files(trainer.session.path) == []
        disk.off()
        await pilot.press("ctrl+s")
        await tui_wait(pilot, lambda: app.link.frame.save_error is None and app.link.frame.saved, what="a save")
        app._poll()
        assert "SAVE FAILED" not in status_text(app)
        assert read_session(trainer.session.path).step == trainer.session.step
        app.stop_training()


@pytest.mark.slow
async def test_autosave_failure_keeps_training_and_is_shown(tui_make_trainer, tui_store, tui_wait, disk):
    trainer = tui_make_trainer()
    # Full before training starts: no autosave works before the failures. Each one that works
    # is fsynced, and on a busy shared disk one took long enough that the failure after it was
    # not shown within 20 s.
    disk.on()
    app = make_app(trainer, tui_store, start_paused=False, autosave_seconds=0.2)

    def failures() -> list[dict]:
        return [e for e in list(trainer.session.history.events) if e["kind"] == "save_failed"]

    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: len(failures()) >= 3, timeout=20, what="three failed autosaves")
        steps = [e["step"] for e in failures()[:3]]
        assert steps[0] < steps[1] < steps[2]  # it trained on between them
        await tui_wait(pilot, lambda: app.link.frame.save_error is not None, what="the failure in a frame")
        app._poll()
        assert "SAVE FAILED: could not save session tui" in status_text(app).replace("\n", "")
        assert app.link.frame.state == RUNNING
        disk.off()
        await tui_wait(pilot, lambda: app.link.frame.save_error is None, timeout=30, what="the next autosave")
        assert read_session(trainer.session.path).step > steps[2]
        app.link.pause()
        app.stop_training()


@pytest.mark.slow
async def test_q_on_a_full_disk_asks_and_retry_saves_everything(tui_make_trainer, tui_store, tui_wait, disk):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store, start_paused=False)
    async with app.run_test(size=BIG) as pilot:
        await _started(pilot, tui_wait, RUNNING)
        await tui_wait(pilot, lambda: app.frame.samples > 500)
        disk.on()
        await pilot.press("q")
        first = await _dialog(pilot, tui_wait)
        assert app.is_running and "could not save session tui" in str(first.error)
        halted_at = trainer.session.samples
        await _choose(pilot, "keep")  # keep training
        await tui_wait(pilot, lambda: not isinstance(app.screen, UnsavedQuit), what="the dialog closed")
        await tui_wait(pilot, lambda: app.link is not None and app.link.frame.samples > halted_at + 200,
                       what="training after keep")
        await pilot.press("q")
        await _dialog(pilot, tui_wait, before=first)
        disk.off()
        await _choose(pilot, "retry")
        await _until_ended(app)
    assert app.ended == STOPPED_BY_US and app.return_code == 0
    on_disk = read_session(trainer.session.path)
    assert on_disk.step == trainer.session.step > 50
    assert [e["kind"] for e in on_disk.history.events].count("save_failed") == 2  # both refused quits


async def test_q_then_quit_without_saving_leaves_the_last_save(tui_make_trainer, tui_store, tui_wait, disk):
    trainer = tui_make_trainer()
    trainer.save()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await _started(pilot, tui_wait, PAUSED)
        await pilot.press("n")
        await tui_wait(pilot, lambda: app.link.frame.step > 0)
        disk.on()
        await pilot.press("q")
        await _dialog(pilot, tui_wait)
        await _choose(pilot, "discard")
        await _until_ended(app)
    assert app.ended == STOPPED_BY_US and app.return_code == 0
    disk.off()
    assert read_session(trainer.session.path).step == 0
    again = tui_make_trainer()  # the lock was released
    assert again.session.step == 0


async def test_e_on_a_full_disk_is_an_error_notice(tui_make_trainer, tui_store, tui_wait, disk):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    notes = record_notices(app)
    async with app.run_test(size=BIG) as pilot:
        await _started(pilot, tui_wait, PAUSED)
        disk.on()
        await pilot.press("e")  # the export dialog: p, the pictures of this moment
        await tui_wait(pilot, lambda: app.screen.__class__.__name__ == "ExportDialog", what="the export dialog")
        await pilot.press("p")
        out = trainer.session.path / "exports" / "0"
        refused = ("export: cannot write " + str(out) + ": No space left on device", "error")
        await tui_wait(pilot, lambda: refused in notes, what="the export's error notice")
        assert temp_files(out) == [] and not (out / "screen.svg").exists()
        app.stop_training(save=False)


def test_a_damaged_snapshot_is_marked_in_the_snapshots_pane():
    from rich.text import Text

    from aetui.render import DisplayMode
    from aetui.tui.panes.snapshots_pane import snapshot_label

    snap = {"name": "snap1", "kind": "user", "samples": 700, "activation": "sigmoid", "segment": 0,
            "problem": "snapshots/snap1.npz is not a readable NumPy .npz file"}
    line = snapshot_label(snap, DisplayMode.COLOR, 120)
    assert isinstance(line, Text)
    assert "DAMAGED: snapshots/snap1.npz is not a readable" in line.plain
    assert "DAMAGED" not in snapshot_label({**snap, "problem": None}, DisplayMode.COLOR, 120).plain
