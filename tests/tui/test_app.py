"""The dashboard driven by Pilot: every key, layout at 120x40 and 80x24, rendered text."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest

from aetui.training.frame import PAUSED, RUNNING
from aetui.render import DisplayMode
from aetui.tui.keys import LR_FACTOR
from aetui.tui.help_screen import HelpScreen
from aetui.tui.restart.restart_dialog import RestartDialog
from aetui.tui.panes.filters_pane import FiltersPane
from aetui.tui.panes.status_bar import StatusBar
from textual.widgets import Input, OptionList

from aetui.tui.app import STOPPED_BY_US
from tests.helpers.tui import BIG, SMALL, make_app, record_notices, status_text


async def ready(pilot, wait, state=PAUSED):
    app = pilot.app
    await wait(pilot, lambda: app.frame is not None and app.frame.state == state, what=f"state {state}")
    await pilot.pause()


# Pilot's press returns once the process looks idle (its CPU time still for 20 ms), which a
# process starved of CPU on a loaded machine does before it handled the key: the tests wait for
# what a key does rather than look right after the press (see tests/tui/test_faults.py).


async def press_then(pilot, wait, key: str, predicate, what: str) -> None:
    """Press `key`, then wait until `predicate()` holds."""
    await pilot.press(key)
    await wait(pilot, predicate, what=what)


def generation(trainer) -> int:
    return json.loads((trainer.session.path / "session.json").read_text())["generation"]


async def test_status_line_shows_state_settings_and_session(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        app._poll()
        text = status_text(app)
        for piece in ("PAUSED", "sigmoid", "hidden 16", "batch 10", "lr 0.26", "noise 0.3", "dropout 0.4",
                      "data bars8", "samples 0", "epoch 0", "samples/s", "snapshots: 0", "session tui"):
            assert piece in text, piece
        # a new session is on disk as it is: "saved", the word, not a part of "unsaved"
        assert generation(trainer) >= 1 and not trainer.session.dirty
        assert "saved" in text.split() and "unsaved" not in text.split()
        await pilot.press("n")  # one step: the session now differs from its save
        await tui_wait(pilot, lambda: app.link.frame.step == 1, what="the step")
        app._poll()
        words = status_text(app).split()
        assert "unsaved" in words and "saved" not in words
        app.stop_training()


@pytest.mark.slow
async def test_space_pauses_and_resumes(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await pilot.press("space")
        await tui_wait(pilot, lambda: not app.link.paused and app.frame.state == RUNNING, what="running")
        await tui_wait(pilot, lambda: app.frame.samples > 0, what="training")
        app._poll()
        assert " RUNNING " in status_text(app)
        await pilot.press("space")
        await tui_wait(pilot, lambda: app.link.paused and app.frame.state == PAUSED, what="paused")
        app._poll()
        assert " PAUSED " in status_text(app)
        app.stop_training()


@pytest.mark.slow
async def test_n_steps_one_mini_batch_only_while_paused(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    notes = record_notices(app)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        before = app.frame.samples
        await pilot.press("n")
        await tui_wait(pilot, lambda: app.link.frame.samples > before, what="one step")
        stepped = app.link.frame.samples
        assert stepped - before == trainer.config.batch and app.link.frame.state == PAUSED
        # one mini-batch, then paused again: the next n (applied after anything the trainer did
        # meanwhile) adds exactly one more
        await pilot.press("n")
        await tui_wait(pilot, lambda: app.link.frame.samples > stepped, what="a second step")
        assert app.link.frame.samples - stepped == trainer.config.batch and app.link.frame.state == PAUSED
        # While running, n only explains itself.
        await pilot.press("space")
        await tui_wait(pilot, lambda: not app.link.paused, what="running")
        await press_then(pilot, tui_wait, "n", lambda: any("pause first" in m and sev == "warning" for m, sev in notes),
                         "n's warning")
        app.stop_training()


async def test_s_takes_a_user_snapshot(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await pilot.press("n")
        await pilot.press("s")
        users = lambda: [s for s in app.link.frame.snapshots if s["kind"] == "user"]  # noqa: E731
        await tui_wait(pilot, lambda: len(users()) == 1, what="snapshot")
        assert users()[0]["name"] == "snap1"
        assert (trainer.session.path / "snapshots" / "snap1.npz").is_file()
        app._poll()
        assert "snapshots: 1" in status_text(app)
        app._draw_all()
        snaps = app.pane("snapshots")
        assert snaps.names[0] == "snap1"  # newest first
        assert "snap1" in snaps.render_line(0).text
        app.stop_training()


async def test_a_restarts_under_relu_with_scaled_weights(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await pilot.press("n")
        await tui_wait(pilot, lambda: app.link.frame.samples > 0)
        W_before = app.link.frame.W.copy()
        await press_then(pilot, tui_wait, "a", lambda: isinstance(app.screen, RestartDialog)
                         and bool(app.screen.query("#activation")), "the restart dialog")
        dialog = app.screen
        scale, lr = dialog.query_one("#scale", Input), dialog.query_one("#lr", Input)
        assert (scale.value, lr.value) == ("1", "0.26")  # same activation: x1, its default lr
        acts = dialog.query_one("#activation", OptionList)
        acts.highlighted = [o.id for o in acts.options].index("relu")
        # live: another activation, its lr
        await tui_wait(pilot, lambda: (scale.value, lr.value) == ("0.1", "0.02"), what="relu's values")
        await pilot.click("#ok")
        # the history comes at most twice a second (training/client.py), so it may lag the numbers
        await tui_wait(pilot, lambda: app.link.frame.lineage == "sigmoid > relu x0.1"
                       and len(app.link.frame.history.segments) == 2, what="restart")
        frame = app.link.frame
        assert frame.config.activation == "relu"
        assert frame.lr == pytest.approx(0.02)
        assert frame.W == pytest.approx(W_before * 0.1, rel=1e-5, abs=1e-7)
        assert not frame.b.any()
        assert [label for _, label in frame.history.segments] == ["sigmoid", "relu x0.1"]
        app._poll()
        assert "sigmoid > relu x0.1" in status_text(app)
        app.stop_training()


async def test_restart_dialog_keeps_typed_values_and_follows_the_source(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await press_then(pilot, tui_wait, "a", lambda: isinstance(app.screen, RestartDialog)
                         and bool(app.screen.query("#activation")), "the restart dialog")
        dialog = app.screen
        scale = dialog.query_one("#scale", Input)
        scale.value = "0.3"  # typed by the user: choices below must not overwrite it
        acts = dialog.query_one("#activation", OptionList)
        acts.highlighted = [o.id for o in acts.options].index("tanh")
        await tui_wait(pilot, lambda: dialog.query_one("#lr", Input).value == "0.04", what="tanh's lr")
        assert scale.value == "0.3"
        scale.value = "x"
        assert await pilot.click("#ok")
        # not a number: stays open, says why
        await tui_wait(pilot, lambda: "positive number" in str(dialog.query_one("#why").render()), what="why")
        assert app.screen is dialog
        await press_then(pilot, tui_wait, "escape", lambda: not isinstance(app.screen, RestartDialog), "closed")
        assert app.link.frame.lineage == "sigmoid"
        app.stop_training()


async def test_plus_minus_change_lr_by_the_factor(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await pilot.press("plus")
        await tui_wait(pilot, lambda: app.link.frame.lr == pytest.approx(0.26 * LR_FACTOR), what="lr up")
        await pilot.press("minus")
        await pilot.press("minus")
        await tui_wait(pilot, lambda: app.link.frame.lr == pytest.approx(0.26 / LR_FACTOR), what="lr down")
        app._poll()
        assert f"lr {0.26 / LR_FACTOR:.4g}" in status_text(app)
        app.stop_training()


async def test_filter_keys_change_the_grid(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer(hidden=60)
    app = make_app(trainer, tui_store)
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot, tui_wait)
        filters = app.query_one(FiltersPane)
        assert filters.display and filters.per_page < 60
        per = filters.per_page
        assert filters.render_line(0).text.startswith("\u25b60")  # the cursor on unit 0
        await press_then(pilot, tui_wait, "f", lambda: filters.normalization == "global", "global")
        await press_then(pilot, tui_wait, "f", lambda: filters.normalization == "tile", "tile")
        await press_then(pilot, tui_wait, "right_square_bracket", lambda: (filters.start, filters.selected) == (per, per),
                         "the next page")
        await tui_wait(pilot, lambda: filters.render_line(0).text.startswith(f"\u25b6{per}"), what="it drawn")
        await press_then(pilot, tui_wait, "left_square_bracket", lambda: filters.start == 0, "the first page")
        await press_then(pilot, tui_wait, "right", lambda: filters.selected == 1, "unit 1")
        await press_then(pilot, tui_wait, "down", lambda: filters.selected == 1 + filters.columns, "the unit below")
        await press_then(pilot, tui_wait, "z", lambda: filters.zoom and f"unit {filters.selected} of 60" in filters.text,
                         "the zoom")
        await press_then(pilot, tui_wait, "right_square_bracket", lambda: filters.selected == 2 + filters.columns,
                         "in the zoom: the next unit")
        await press_then(pilot, tui_wait, "escape", lambda: not filters.zoom, "out of the zoom")
        # A click on a tile selects that unit.
        await tui_wait(pilot, lambda: len(filters.tiles) > 3, what="the tiles laid out")
        tile = filters.tiles[3]
        await pilot.click(FiltersPane, offset=(1 + tile.x + 1, 1 + tile.y + 1))
        await tui_wait(pilot, lambda: filters.selected == 3, what="the clicked unit")
        assert tile.unit == 3
        app.stop_training()


async def test_ctrl_s_saves(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await pilot.press("n")
        await tui_wait(pilot, lambda: not app.link.frame.saved, what="unsaved changes")
        before = generation(trainer)
        await pilot.press("ctrl+s")
        await tui_wait(pilot, lambda: generation(trainer) > before and app.link.frame.saved, what="save")
        app._poll()
        words = status_text(app).split()
        assert "saved" in words and "unsaved" not in words
        app.stop_training()


@pytest.mark.slow
async def test_q_quits_saves_and_releases_the_session(tui_make_trainer, tui_store, tui_wait):
    from aetui.training.launch import acquire_trainer

    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store, start_paused=False)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait, state=RUNNING)
        await tui_wait(pilot, lambda: app.frame.samples > 0)
        before = generation(trainer)
        await pilot.press("q")
        # the app ends once q stopped and saved the training; leaving first would close it unsaved
        deadline = time.monotonic() + 30
        while app.ended is None:
            assert time.monotonic() < deadline, "q did not end the app within 30 s"
            await asyncio.sleep(0.02)
    assert app.return_code == 0
    assert app.link is None and app.ended == STOPPED_BY_US
    assert generation(trainer) > before
    again = acquire_trainer(tui_store, "tui", trainer.config, {})  # not locked any more
    assert again.session.samples == trainer.session.samples > 0
    again.session.unlock()


async def test_resize_to_80x24_makes_tabs_and_back(tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    names = ("loss", "bias", "filters", "recon", "snapshots")
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await pilot.pause()
        assert all(app.pane(n).region.area > 0 for n in names)
        for n in names:
            assert app.pane(n).border_title
        await pilot.resize_terminal(*SMALL)
        await tui_wait(pilot, lambda: app.narrow and [n for n in names if app.pane(n).region.area > 0] == ["filters"],
                       what="tabs at 80x24")
        assert app.query_one("#tabs").region.area > 0
        await press_then(pilot, tui_wait, "1", lambda: [n for n in names if app.pane(n).region.area > 0] == ["loss"],
                         "the loss tab")
        loss = app.pane("loss")
        assert "held-out" in loss.render_line(0).text  # the chart's legend
        # The "4 reconstructions" tab. Pilot aims at the tab bar's position when it is called; the
        # status line above it may still rewrap (2 <-> 3 lines at 80 columns) in the same moment,
        # which a person, who clicks what they see, never meets: so settle, then click.
        status = app.query_one(StatusBar)
        await tui_wait(pilot, lambda: status.region.height == status.virtual_size.height, what="status settled")
        await pilot.pause(0.2)
        await pilot.click("#tabs", offset=(40, 0))
        await tui_wait(pilot, lambda: [n for n in names if app.pane(n).region.area > 0] == ["recon"],
                       timeout=2, what="the reconstructions tab")
        await pilot.resize_terminal(*BIG)
        await tui_wait(pilot, lambda: not app.narrow and all(app.pane(n).region.area > 0 for n in names),
                       what="all panes at 120x40")
        app.stop_training()


async def test_help_lists_every_key(tui_make_trainer, tui_store, tui_wait):
    from aetui.tui.keys import KEYS

    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await press_then(pilot, tui_wait, "question_mark", lambda: isinstance(app.screen, HelpScreen), "the help")
        from rich.console import Console

        from aetui.tui.help_screen import help_text

        console = Console(width=300, record=True, file=open("/dev/null", "w"))
        console.print(help_text(DisplayMode.COLOR))
        text = console.export_text()
        for key in KEYS:
            assert key.help in text and key.shown in text
        await pilot.press("space")  # dashboard keys do nothing under a dialog
        # escape, handled after space, closes the help: by then space has been and done nothing
        await press_then(pilot, tui_wait, "escape", lambda: not isinstance(app.screen, HelpScreen), "the help closed")
        assert app.link.paused
        app.stop_training()


@pytest.mark.slow  # the pictures are drawn by a process of its own
async def test_e_exports_pictures_and_a_screenshot(tui_make_trainer, tui_store, tui_wait):
    from PIL import Image

    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    notices = record_notices(app)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await pilot.press("n")
        await tui_wait(pilot, lambda: app.frame.samples > 0, what="one step")
        samples = app.frame.samples
        await pilot.press("e")  # the export dialog: p, the pictures of this moment
        await tui_wait(pilot, lambda: app.screen.__class__.__name__ == "ExportDialog", what="the export dialog")
        await pilot.press("p")
        out = trainer.session.path / "exports" / str(samples)
        # drawn by `aetui export` in a process of its own (the dashboard never loads matplotlib)
        await tui_wait(pilot, lambda: any(m.startswith("exported") for m, _ in notices), timeout=120,
                       what="export notice")
        assert not any(m.startswith("export of") for m, _ in notices)  # no failure notice
        assert {p.name for p in out.iterdir()} >= {"filters.png", "bias.png", "loss.png", "screen.svg"}
        with Image.open(out / "filters.png") as img:
            assert img.format == "PNG" and img.width > 100 and img.height > 50
        assert (out / "screen.svg").read_text().lstrip().startswith("<svg")
        assert str(out) in next(m for m, _ in notices if m.startswith("exported"))
        app.stop_training()


@pytest.mark.slow  # a Python process of its own
def test_the_dashboard_keeps_blas_to_one_thread():
    # A second BLAS thread in the dashboard fights the trainer for a core (37 ms for a tiny product).
    code = ("import json, numpy, threadpoolctl\n"
            "from aetui.tui.app import one_blas_thread\n"
            "one_blas_thread()\n"
            "print(json.dumps([p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "2"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) and set(json.loads(out.stdout)) == {1}
