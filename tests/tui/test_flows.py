"""Dashboard flows: divergence offer, switching sessions, compiling, snapshot comparison, quitting."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import numpy as np
import pytest

from aetui.training.frame import COMPILING, DIVERGED, PAUSED, RUNNING
from aetui.training.launch import release_trainer, acquire_trainer
from aetui.tui.restart.divergence_offer import DivergenceOffer
from aetui.tui.session.session_picker import SessionPicker
from aetui.tui.panes.filters_pane import FiltersPane
from aetui.tui.app import STOPPED_BY_US
from textual.widgets import OptionList

from tests.helpers.tui import BIG, make_app, record_notices, status_text

# Pilot's press returns once the process looks idle (its CPU time still for 20 ms), which a
# process starved of CPU on a loaded machine does before it handled the key: the tests wait for
# what a key does (a screen, a notice, a state) rather than look right after the press.


async def _shown(pilot, wait, screen_type, selector: str):
    """The screen a key opened, once its `selector` widget is composed."""
    app = pilot.app
    await wait(pilot, lambda: isinstance(app.screen, screen_type) and bool(app.screen.query(selector)),
               what=f"the {screen_type.__name__}")
    return app.screen


async def _until_ended(app, timeout: float = 30.0) -> None:
    """Wait for the app to end (q), so the with-block does not close it first."""
    deadline = time.monotonic() + timeout
    while app.ended is None:
        assert time.monotonic() < deadline, f"the app did not end within {timeout:.0f} s"
        await asyncio.sleep(0.02)


async def test_divergence_marks_the_chart_and_offers_a_restart_once(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer(activation="relu", output_activation="linear", lr=1e4)
    app = make_app(trainer, tui_store, start_paused=False)
    notes = record_notices(app)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame is not None and app.frame.state == DIVERGED, what="divergence")
        await tui_wait(pilot, lambda: isinstance(app.screen, DivergenceOffer), what="the offer")
        # the history comes at most twice a second (training/client.py), so it may lag the state
        await tui_wait(pilot, lambda: app.frame.history.events, what="the event in the history")
        frame = app.frame
        assert [label for _, label in frame.history.events] == ["diverged"]
        assert any(sev == "error" and "diverged" in m for m, sev in notes)  # the runner's notice
        assert "DIVERGED" in status_text(app)
        # The last finite weights stay shown, and the loss chart marks the event.
        await tui_wait(pilot, lambda: app.query_one(FiltersPane).frame.state == DIVERGED, what="the pane drawn")
        assert np.isfinite(frame.W).all() and np.array_equal(app.query_one(FiltersPane).frame.W, frame.W)
        app.pane("loss").update_view(frame, force=True)
        assert "diverged" in app.pane("loss").text
        offer = app.screen
        assert offer.suggestion.lr == pytest.approx(5e3) and offer.suggestion.activation == "relu"
        await pilot.click("#cancel")
        assert not isinstance(app.screen, DivergenceOffer)
        polled = app._ticks  # several polls of the diverged frame: not offered again for it
        await tui_wait(pilot, lambda: app._ticks >= polled + 5, what="five more polls")
        assert not isinstance(app.screen, DivergenceOffer)
        # Keys that need training say why they do nothing.
        await pilot.press("n")
        await tui_wait(pilot, lambda: any("diverged" in m and sev == "warning" for m, sev in notes[-1:]),
                       what="n's warning")
        app.stop_training()


async def test_divergence_offer_restarts_smaller(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer(activation="relu", output_activation="linear", lr=1e4)
    app = make_app(trainer, tui_store, start_paused=False)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: isinstance(app.screen, DivergenceOffer), what="the offer")
        suggestion = app.screen.suggestion
        await pilot.click("#ok")
        await tui_wait(pilot, lambda: app.link.frame.segment == 1, what="restart")
        frame = app.link.frame
        assert frame.lr == pytest.approx(suggestion.lr)
        assert frame.lineage.startswith("relu > relu")
        app.stop_training()


async def test_o_switches_to_another_session_saving_the_first(tui_make_trainer, tui_store, tui_wait):
    other = tui_make_trainer("other", activation="tanh")
    other.session.save()
    release_trainer(other)
    trainer = tui_make_trainer("first")
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame.state == PAUSED)
        await pilot.press("n")
        await tui_wait(pilot, lambda: app.link.frame.samples > 0)
        samples = app.link.frame.samples
        await pilot.press("o")
        picker = await _shown(pilot, tui_wait, SessionPicker, "#sessions")
        sessions = picker.query_one("#sessions", OptionList)
        assert [o.id for o in sessions.options] == ["first", "other"]
        assert sessions.get_option_at_index(sessions.highlighted).id == "other"
        await pilot.press("enter")
        await tui_wait(pilot, lambda: app.session == "other" and app.frame.session == "other",
                       what="the switch")
        await tui_wait(pilot, lambda: app.frame.state != COMPILING)
        assert app.frame.config.activation == "tanh"
        app._poll()
        assert "session other" in status_text(app) and "tanh" in status_text(app)
        # The first session was saved and released: it opens again, where it was.
        again = acquire_trainer(tui_store, "first", trainer.config, {})
        assert again.session.samples == samples
        again.session.unlock()
        app.stop_training()


async def test_open_a_locked_session_fails_and_keeps_the_current_one(tui_make_trainer, tui_store, tui_wait):
    busy = tui_make_trainer("busy")  # stays locked, as if another aetui had it open
    trainer = tui_make_trainer("mine")
    app = make_app(trainer, tui_store)
    notes = record_notices(app)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame.state == PAUSED)
        await pilot.press("o")
        sessions = (await _shown(pilot, tui_wait, SessionPicker, "#sessions")).query_one("#sessions", OptionList)
        sessions.highlighted = [o.id for o in sessions.options].index("busy")
        await pilot.press("enter")
        await tui_wait(pilot, lambda: any("another aetui" in m for m, _ in notes), what="the error")
        assert app.session == "mine" and app.link is not None and app.link.gone is None and app.switching is None
        assert any(sev == "error" for m, sev in notes if "busy" in m)
        app.stop_training()
    assert busy.session.name == "busy"


async def test_keys_that_need_compiled_kernels_say_so(tui_make_trainer, tui_store, tui_wait, monkeypatch):
    import aetui.training.loop

    release = threading.Event()
    monkeypatch.setattr(aetui.training.loop, "warm_up", lambda progress=None, threads=1, config=None: release.wait(10))
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store, start_paused=False)
    notes = record_notices(app)
    async with app.run_test(size=BIG) as pilot:
        await pilot.pause()
        assert app.frame.state == COMPILING
        app._poll()
        assert " COMPILING " in status_text(app)
        for key in ("s", "a", "plus", "n"):
            await pilot.press(key)
        await tui_wait(pilot, lambda: sum("compiling" in m for m, sev in notes if sev == "warning") == 4,
                       what="four warnings")
        assert not any(s["kind"] == "user" for s in app.link.frame.snapshots)
        release.set()
        await tui_wait(pilot, lambda: app.frame.state == RUNNING, what="compiled")
        app.stop_training()


async def test_picking_a_snapshot_shows_its_filters_beside(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame.state == PAUSED)
        await pilot.press("s")
        await tui_wait(pilot, lambda: any(s["name"] == "snap1" for s in app.link.frame.snapshots))
        await pilot.press("n")
        await tui_wait(pilot, lambda: app.link.frame.samples > 0)
        app._poll()
        app._draw_all()
        listing = app.pane("snapshots")
        await pilot.press("5")  # maximises the snapshots pane and focuses it
        await tui_wait(pilot, lambda: listing.has_focus, what="the snapshots pane focused")
        for _ in range(listing.names.index("snap1")):
            await pilot.press("down")

        def chosen() -> str:
            return next((line for line in listing.text.splitlines() if line.startswith("\u25b6")), "")

        await tui_wait(pilot, lambda: "snap1" in chosen(), what="snap1 chosen")
        await pilot.press("enter")
        filters = app.query_one(FiltersPane)
        await tui_wait(pilot, lambda: filters.compare is not None, what="the snapshot loaded")
        assert filters.compare.name == "snap1"
        assert filters.compare.W.shape == app.frame.W.shape
        text = filters.text
        assert "now" in text.splitlines()[0] and "snap1" in text.splitlines()[0]
        assert "=snap1" in listing.text
        await pilot.press("enter")  # the same one again: stop comparing
        await tui_wait(pilot, lambda: filters.compare is None, what="the comparison off")
        app.stop_training()


async def test_quit_while_training_stops_the_trainer_and_saves(tui_make_trainer, tui_store, tui_wait):
    """How long the quit takes is `aetui bench --attached`'s figure ("stop while training")."""
    trainer = tui_make_trainer(hidden=64)
    app = make_app(trainer, tui_store, start_paused=False)
    outcomes = []
    original = app.stop_training

    def recorded_stop(*args, **kwargs):
        outcomes.append(original(*args, **kwargs))
        return outcomes[-1]

    app.stop_training = recorded_stop
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame.state == RUNNING and app.frame.samples > 0)
        await pilot.press("q")
        # Pilot's wait for idle can end before the key is handled on a busy machine; leaving
        # the app then would close it without a quit
        deadline = time.monotonic() + 30
        while app.ended is None:
            assert time.monotonic() < deadline, "q did not end the app within 30 s"
            await asyncio.sleep(0.02)
    assert app.ended == STOPPED_BY_US and app.return_code == 0 and app.link is None
    (outcome,) = outcomes
    # stopped: the training thread ended (a save is never made under a running chunk), and saved
    assert outcome["stopped"] and outcome["error"] is None
    assert outcome["samples"] == outcome["saved_samples"] == trainer.session.samples > 0
    saved = json.loads((trainer.session.path / "session.json").read_text())
    assert saved["samples"] == trainer.session.samples
    again = tui_make_trainer()  # the trainer let go of the session's lock
    assert again.session.samples == trainer.session.samples


async def test_session_round_trip_through_the_dashboard(tui_make_trainer, tui_store, tui_wait):
    from aetui.tui.restart.restart_dialog import RestartRequest

    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame.state == PAUSED)
        app._restart(RestartRequest("relu", None, 0.1, True, 0.02))
        # what the keys go by: the frame the dashboard shows (not the link's newest), paused again
        await tui_wait(pilot, lambda: app.frame.segment == 1 and app.frame.state == PAUSED)
        await pilot.press("n")
        await pilot.press("s")
        await tui_wait(pilot, lambda: any(s["kind"] == "user" for s in app.link.frame.snapshots))
        await tui_wait(pilot, lambda: app.link.frame.samples > 0)
        samples = app.link.frame.samples
        await pilot.press("q")
        await _until_ended(app)
    reopened = acquire_trainer(tui_store, "tui", trainer.config, {})
    again = make_app(reopened, tui_store)
    async with again.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: again.frame.state == PAUSED)
        again._poll()
        text = status_text(again)
        assert "sigmoid > relu x0.1" in text and "snapshots: 1" in text and f"samples {samples:,}" in text
        assert again.frame.lr == pytest.approx(0.02)
        again._draw_all()
        assert "relu x0.1" in again.pane("loss").text  # the segment marker survives the round trip
        again.stop_training()


@pytest.mark.slow
async def test_key_bar_responds_to_the_mouse(tui_make_trainer, tui_store, tui_wait):
    from aetui.tui.panes.key_bar import KeyBar

    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame.state == PAUSED)
        bar = app.query_one(KeyBar)
        line = str(bar.render())
        x = line.index("f norm") + 1  # +1: the bar's left padding
        await pilot.click(KeyBar, offset=(x, 0))
        assert app.query_one(FiltersPane).normalization == "global"
        x = line.index("space pause") + 1
        await pilot.click(KeyBar, offset=(x, 0))
        await tui_wait(pilot, lambda: not app.link.paused, what="resumed by a click")
        app.stop_training()


async def test_a_failing_training_thread_shows_error_and_is_kept(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()

    def broken(*args, **kwargs):
        raise RuntimeError("kernel exploded")

    trainer.train_chunk = broken
    app = make_app(trainer, tui_store, start_paused=False)
    notes = record_notices(app)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.link.error is not None, what="the failure")
        await tui_wait(pilot, lambda: any(sev == "error" and "kernel exploded" in m for m, sev in notes))
        app._poll()
        assert " ERROR " in status_text(app)
        await pilot.press("s")
        assert "training thread stopped" in notes[-1][0]
        await pilot.press("q")
    assert app.training_error == "RuntimeError: kernel exploded"
