"""The export dialog (e): pictures of the moment, or the session's strip and film drawn by `aetui
export` in a process of its own; in the history view they end at the cursor."""

from __future__ import annotations


import pytest
from PIL import Image

import aetui
from aetui.exports.strip import StripLayout, strip_columns
from aetui.training.report_budget import ReportBudget
from aetui.tui.export_dialog import ExportDialog
from tests.helpers.training import train
from tests.helpers.tui import dashboard, record_notices


@pytest.fixture
def lived(tui_make_trainer):
    trainer = tui_make_trainer()
    trainer.budget = ReportBudget(share=0.9)
    train(trainer, 2000)
    trainer.snapshot("mark")
    train(trainer, 1000)
    return trainer


async def choose(app, pilot, wait, key: str) -> None:
    await pilot.press("e")
    await wait(pilot, lambda: isinstance(app.screen, ExportDialog), what="the export dialog")
    await pilot.press(key)
    await wait(pilot, lambda: not isinstance(app.screen, ExportDialog), what="the dialog closed")


async def test_esc_closes_the_dialog_and_exports_nothing(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        await choose(app, pilot, tui_wait, "escape")
        assert not (lived.session.path / "exports").exists()


@pytest.mark.slow
async def test_s_writes_the_strip_of_the_stored_snapshots(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        notices = record_notices(app)
        samples = app.frame.samples
        await choose(app, pilot, tui_wait, "s")
        await tui_wait(pilot, lambda: any(m.startswith(("exported", "export of")) for m, _ in notices), timeout=60,
                       what="the strip's notice")
        out = lived.session.path / "exports" / str(samples) / "strip.png"
        assert any(m == f"exported strip.png to {out.parent}" for m, _ in notices), notices
        record = aetui.open_session(lived.session.path)
        cols = strip_columns(record)
        assert "mark" in [c.snapshot.name for c in cols]
        with Image.open(out) as img:
            assert img.size == StripLayout(10, tuple(cols), record.image_shape).size


@pytest.mark.slow
async def test_in_the_history_view_the_film_ends_at_the_cursor(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        notices = record_notices(app)
        await pilot.press("t")
        await tui_wait(pilot, lambda: app.history_cursor is not None, what="the history view")
        await pilot.press("home")
        for _ in range(6):
            await pilot.press("full_stop")
        await pilot.pause()
        until = int(app.history_cursor.samples)
        assert 0 < until < app.frame.samples
        await choose(app, pilot, tui_wait, "f")
        await tui_wait(pilot, lambda: any(m.startswith(("exported", "export of")) for m, _ in notices), timeout=60,
                       what="the film's notice")
        out = lived.session.path / "exports" / str(until) / "film.gif"
        assert any(m == f"exported film.gif to {out.parent}" for m, _ in notices), notices
        record = aetui.open_session(lived.session.path)
        with Image.open(out) as img:
            assert img.n_frames == len([s for s in record.snapshots if s.samples <= until]) > 3
