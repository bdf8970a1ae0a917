"""The history view driven by Pilot: t , . home end < > esc, a click on the loss chart, every pane
following the viewed point, and the event markers on the loss chart."""

from __future__ import annotations


import numpy as np
import pytest

from aetui.training.report_budget import ReportBudget
from aetui.tui.history.history_view import stored_weights, weights_note
from aetui.tui.panes.loss_pane import LossPane
from tests.helpers.training import train
from tests.helpers.tui import SMALL, dashboard, record_notices, status_text


@pytest.fixture
def lived(tui_make_trainer):
    """A trainer with a past: 3,000 samples, then an lr change and a snapshot, then 3,000 more.

    Its report budget is generous, so that its report points do not depend on how busy the
    machine is (the budget skips points a loaded machine cannot afford)."""
    trainer = tui_make_trainer()
    trainer.budget = ReportBudget(share=0.9)
    train(trainer, 3000)
    trainer.set_lr(0.3)
    trainer.snapshot("mark")
    train(trainer, 3000)
    return trainer


async def weights_for(pilot, wait, samples):
    app = pilot.app
    await wait(pilot, lambda: app.history_cursor.samples == samples and app.history_weights is not None
               and app.viewed_point().note != "", what=f"the weights near {samples}")
    await wait(pilot, lambda: app.pane("filters").frame.W is app.history_weights.W, what="filters redrawn")


async def press_then(pilot, wait, key: str, predicate, what: str) -> None:
    """Press `key`, then wait until `predicate()` holds: Pilot's press returns before the key is
    handled in a process starved of CPU, so what the key does is waited for, not looked at once."""
    await pilot.press(key)
    await wait(pilot, predicate, what=what)


async def press_refused(pilot, wait, key: str, seen: list) -> None:
    """Press `key`, a key that only says why it does nothing, and wait for its notice."""
    before = len(seen)
    await press_then(pilot, wait, key, lambda: len(seen) > before, f"the notice of {key}")


async def press_to(pilot, wait, key: str, samples: int) -> None:
    """Press `key` and wait until the history cursor is at `samples`."""
    app = pilot.app
    await press_then(pilot, wait, key, lambda: app.in_history and app.history_cursor.samples == samples,
                     f"{key} to view sample {samples:,}")


def viewing(app) -> str:
    app._show_status()
    return status_text(app)


async def test_t_opens_the_last_point_and_esc_or_t_return_to_live(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        view = app.frame.history
        last, live = int(view.samples[-1]), app.frame.samples
        await press_then(pilot, tui_wait, "t", lambda: app.in_history, "the history view")
        assert app.state_word() == "HISTORY" and app.history_cursor.samples == last
        text = viewing(app)
        assert " HISTORY " in text and f"viewing sample {last:,}/{live:,}" in text
        await weights_for(pilot, tui_wait, last)
        assert app.pane("filters").border_title.startswith("filters: weights")
        assert app.pane("filters").border_title.endswith("at the point")  # a thin snapshot at every point so far
        assert app.pane("recon").border_title.startswith("reconstructions: weights")
        assert app.pane("loss").border_title.startswith("loss  y log")  # its title still says how it is drawn
        await press_then(pilot, tui_wait, "escape", lambda: not app.in_history, "the live view after escape")
        assert "viewing" not in viewing(app) and " PAUSED " in viewing(app)
        assert app.pane("filters").border_title == "filters"
        await press_then(pilot, tui_wait, "t", lambda: app.in_history, "the history view again")
        await press_then(pilot, tui_wait, "t", lambda: not app.in_history, "the live view after t")


@pytest.mark.slow
async def test_comma_full_stop_home_end_step_through_the_points(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        seen = record_notices(app)
        xs = app.frame.history.samples.astype(int)
        await press_to(pilot, tui_wait, "t", xs[-1])
        await press_to(pilot, tui_wait, "comma", xs[-2])
        await press_to(pilot, tui_wait, "comma", xs[-3])
        await press_to(pilot, tui_wait, "full_stop", xs[-2])
        await press_to(pilot, tui_wait, "home", xs[0])
        assert f"viewing sample {xs[0]:,}/" in viewing(app)
        await press_refused(pilot, tui_wait, "comma", seen)
        assert app.history_cursor.samples == xs[0] and seen[-1] == ("history: this is the first point", "warning")
        await press_to(pilot, tui_wait, "end", xs[-1])
        await press_refused(pilot, tui_wait, "full_stop", seen)
        assert app.history_cursor.samples == xs[-1] and seen[-1] == ("history: this is the last point", "warning")


@pytest.mark.slow
async def test_history_keys_before_t_are_refused_in_one_line(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        seen = record_notices(app)
        for key in ("comma", "full_stop", "home", "end", "less_than_sign", "greater_than_sign"):
            await press_refused(pilot, tui_wait, key, seen)
            assert not app.in_history
            assert "press t to open the history view first" in seen[-1][0] and seen[-1][1] == "warning"
        assert len(seen) == 6


@pytest.mark.slow
async def test_every_pane_follows_the_point(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        s = lived.session
        view = app.frame.history
        i = view.samples.size // 2
        target = int(view.samples[i])
        await pilot.press("t", "home")
        for _ in range(i):
            await pilot.press("full_stop")
        await weights_for(pilot, tui_wait, target)
        name = app.history_weights.name
        record, state = s.read_snapshot(name)
        assert abs(record["samples"] - target) <= abs(s.samples - target)
        # filters and reconstructions: the stored weights, not the live ones
        filters, recon = app.pane("filters"), app.pane("recon")
        assert np.array_equal(filters.frame.W, state.W) and not np.array_equal(filters.frame.W, app.frame.W)
        want = stored_weights(record, {"W": state.W, "b": state.b, "c": state.c}, app.frame.recon_inputs, "same")
        await tui_wait(pilot, lambda: recon.frame is not None and recon.frame.recon_outputs is app.history_weights.recon,
                       what="reconstructions redrawn")
        assert np.allclose(recon.frame.recon_outputs, want.recon)
        note = weights_note(app.history_weights.record, target)
        if len(note) + 17 > filters.size.width:  # a narrow pane: counts written short
            note = weights_note(app.history_weights.record, target, short=True)
        assert filters.border_title == "filters: " + note
        # the loss chart: the point's values in the subtitle, its column in reverse video
        loss = app.pane("loss")
        await tui_wait(pilot, lambda: loss.point is not None and loss.point.samples == target, what="loss follows")
        loss.update_view(force=True)
        train_at = view.train_loss[i]
        assert loss.border_subtitle.startswith(f"at {target:,}: train {train_at:.4g}")
        assert any(getattr(seg.style, "reverse", False) for line in loss.block.lines for seg in line)
        # the biases: a pointer over the heatmap with b's min/mean/max at the point
        bias = app.pane("bias")
        bias.update_view(force=True)
        pointer = bias.block.text.split("\n")[1]
        assert "\u25bc" in pointer and f"mean {view.b_mean[i]:.3g}" in pointer


async def test_training_goes_on_while_viewing(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        await press_to(pilot, tui_wait, "t", int(app.frame.history.samples[-1]))
        await press_to(pilot, tui_wait, "home", int(app.frame.history.samples[0]))
        first, live = app.history_cursor.samples, app.frame.samples
        await pilot.press("n")  # one chunk while paused
        await tui_wait(pilot, lambda: app.frame.samples > live, what="a chunk trained")
        assert app.history_cursor.samples == first
        assert f"viewing sample {first:,}/{app.frame.samples:,}" in viewing(app)


@pytest.mark.slow
async def test_less_and_greater_jump_between_events(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        seen = record_notices(app)
        view = app.frame.history
        lr_at = next(at for at, label in view.events if label == "lr 0.3")
        assert view.samples[-1] > lr_at  # points after the event
        after = int(view.samples[np.searchsorted(view.samples, lr_at)])
        assert after != int(view.samples[-1])  # so that end then < is seen to move
        await press_to(pilot, tui_wait, "t", int(view.samples[-1]))
        await press_to(pilot, tui_wait, "home", int(view.samples[0]))
        await press_to(pilot, tui_wait, "greater_than_sign", after)
        assert "(lr 0.3, mark)" in viewing(app)  # the events since the point before
        await press_refused(pilot, tui_wait, "greater_than_sign", seen)
        assert app.history_cursor.samples == after and "no event after this point" in seen[-1][0]
        await press_to(pilot, tui_wait, "end", int(view.samples[-1]))
        await press_to(pilot, tui_wait, "less_than_sign", after)
        await press_to(pilot, tui_wait, "less_than_sign", int(view.samples[0]))  # the segment's start, at the first point
        await press_refused(pilot, tui_wait, "less_than_sign", seen)
        assert app.history_cursor.samples == int(view.samples[0]) and "no event before this point" in seen[-1][0]


async def test_a_click_on_the_loss_chart_views_that_point(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        loss = app.query_one(LossPane)
        loss.update_view(force=True)
        area = loss._area
        xs = app.frame.history.samples
        target = xs[len(xs) // 2]
        col = area.column(float(target))
        dx, dy = loss.content_region.x - loss.region.x, loss.content_region.y - loss.region.y
        moves = []  # the viewed point after each move of the cursor
        moved = app._history_moved

        def record_move():
            moves.append(app.history_cursor.samples)
            moved()

        app._history_moved = record_move
        await pilot.click(LossPane, offset=(dx + area.left + col, dy + area.top + 2))
        await tui_wait(pilot, lambda: len(moves) == 1, what="the point clicked in view")
        assert app.in_history
        picked = app.history_cursor.samples
        assert area.column(float(picked)) == col  # a point drawn in the column clicked
        # off the plot (the legend line): nothing changes. The click after it, on the first point's
        # column, is handled after it (the same pane's queue): once that one moved the cursor, the
        # first has been handled, and the moves show it moved nothing.
        first = int(xs[0])
        assert area.column(float(first)) != col
        await pilot.click(LossPane, offset=(dx + area.left + 1, dy))
        await pilot.click(LossPane, offset=(dx + area.left + area.column(float(first)), dy + area.top + 2))
        await tui_wait(pilot, lambda: len(moves) == 2, what="the click after the one off the plot")
        assert moves[0] == picked and area.column(float(moves[1])) == area.column(float(first))
        assert app.history_cursor.samples == moves[1] != picked


@pytest.mark.slow
async def test_event_markers_are_labelled_on_the_loss_chart(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait) as (app, pilot):
        loss = app.pane("loss")
        loss.update_view(force=True)
        labels = loss.block.text.split("\n")[1]  # under the legend
        assert "sigmoid" in labels and ("lr 0.3" in labels or "mark" in labels)
        assert [label for _, label in app.frame.history.events] == ["lr 0.3", "mark"]


async def test_the_history_view_at_80x24(lived, tui_store, tui_wait):
    async with dashboard(lived, tui_store, tui_wait, SMALL) as (app, pilot):
        await pilot.press("t", "home")
        first = int(app.frame.history.samples[0])
        await weights_for(pilot, tui_wait, first)
        text = viewing(app)
        assert " HISTORY " in text and f"viewing sample {first:,}/" in text
        await pilot.press("1")  # the loss tab
        loss = app.pane("loss")
        await tui_wait(pilot, lambda: loss.point is not None and loss.block.width > 0, what="loss drawn")
        assert loss.border_subtitle.startswith(f"at {first:,}:")
        await pilot.press("4")
        recon = app.pane("recon")
        await tui_wait(pilot, lambda: recon.drawable and recon.frame.recon_outputs is app.history_weights.recon,
                       what="reconstructions of the stored weights")
        assert recon.border_title.startswith("reconstructions: weights")


async def test_the_keys_are_in_the_key_bar_and_the_help(lived, tui_store, tui_wait):
    """t is in the bar; the view's own keys join it while the view is open, t then saying live."""
    from aetui.tui.keys import KEYS
    from aetui.tui.panes.key_bar import KeyBar

    actions = {k.action for k in KEYS}
    assert {"toggle_history", "history_back", "history_forward", "history_first", "history_last",
            "history_prev_event", "history_next_event"} <= actions
    async with dashboard(lived, tui_store, tui_wait, size=(80, 24)) as (app, pilot):
        bar = app.query_one(KeyBar)
        live = str(bar.render())
        assert "t history" in live and ", . step" not in live and "< > event" not in live
        assert bar.size.height == 2
        await press_then(pilot, tui_wait, "t", lambda: "t live" in str(bar.render()), "the bar of the history view")
        viewing_bar = str(bar.render())
        assert "t live" in viewing_bar and ", . step" in viewing_bar and "< > event" in viewing_bar
        await press_then(pilot, tui_wait, "escape", lambda: str(bar.render()) == live, "the live bar again")
        assert str(bar.render()) == live and bar.size.height == 2


async def test_t_before_any_report_point_is_refused_in_one_line(tui_make_trainer, tui_store, tui_wait):
    fresh = tui_make_trainer()  # served paused before its first chunk: no report point yet
    async with dashboard(fresh, tui_store, tui_wait) as (app, pilot):
        assert app.frame.history.samples.size == 0
        seen = record_notices(app)
        await press_refused(pilot, tui_wait, "t", seen)
        assert not app.in_history and seen == [("history: no report points yet", "warning")]
        assert "HISTORY" not in viewing(app)
