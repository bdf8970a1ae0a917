"""The comparison screen with Pilot: saved runs, running runs (live), NO_COLOR and ASCII, the c key."""

from __future__ import annotations

import numpy as np
import pytest

from aetui.render import DisplayMode
from aetui.sessions.session import read_session
from aetui.study.comparison import heldout_inputs, pair_units, run_metrics, run_of_session, snapshot_mse
from aetui.training.branch import branch_session
from aetui.training.launch import release_trainer
from aetui.training.origin import Origin
from aetui.tui.compare.compare_app import CompareApp
from aetui.tui.compare.compare_state import CompareState, open_runs
from aetui.tui.compare.compare_picker import ComparePicker
from aetui.tui.compare.compare_screen import CompareScreen
from aetui.tui.compare.compare_filters_pane import CompareFiltersPane
from aetui.tui.compare.compare_loss_pane import CompareLossPane
from aetui.tui.compare.compare_metrics_pane import CompareMetricsPane
from textual.widgets import SelectionList

from tests.helpers.training import train
from tests.helpers.tui import BIG, SMALL, make_app, serve

NAMES = ["base", "base-sigmoid", "base-relu"]


@pytest.fixture
def study(tui_make_trainer, tui_store):
    """The study's conditions in small: sigmoid, sigmoid > sigmoid, sigmoid > relu x0.1 (saved)."""
    trainer = tui_make_trainer("base")
    train(trainer, 2000)
    release_trainer(trainer)
    for act in ("sigmoid", "relu"):
        name = branch_session(tui_store, Origin("base", activation=act), None, {})
        t = tui_make_trainer(name)
        train(t, 1000)
        release_trainer(t)
    return tui_store


def texts(app) -> dict[str, str]:
    screen = app.screen
    return {name: screen.query_one(f"#cmp-{name}").text for name in ("loss", "filters", "biases", "metrics")}


async def test_saved_runs_overlaid_with_metrics_of_each(study, tui_wait):
    app = CompareApp(CompareState(open_runs(study, NAMES)), mode=DisplayMode.COLOR)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: isinstance(app.screen, CompareScreen), what="the screen")
        state = app.screen.state
        await tui_wait(pilot, lambda: len(state.metrics) == 3, timeout=20, what="the metrics")
        await pilot.pause()
        app.screen.draw()
        shown = texts(app)
        # the legend names every run with its loss; the segment starts of the branches are marked
        assert "base (ce)" in shown["loss"] and "base-relu (se)" in shown["loss"]
        assert "relu x0.1" in shown["loss"]
        # every run's mse is the experiment's measure of its saved weights
        for name in NAMES:
            expected = run_metrics(run_of_session(read_session(study.path(name))))["heldout_mse"]
            assert f"{expected:.4f}" in shown["metrics"]
        assert "> relu x0.1" in shown["metrics"]  # lineages, cut from the left where narrow
        # a line per run: saved, at the samples the fixture trained; then each run's own held-out
        # loss, the last one its history recorded
        lines = shown["metrics"].splitlines()
        for line, name, samples in zip(lines, NAMES, (2000, 3000, 3000)):
            assert line.split()[1] == name and f"  saved {samples:,}" in line, line
        held = []
        for name in NAMES:
            losses = read_session(study.path(name)).history.column("heldout_loss")
            held.append(f"{losses[np.isfinite(losses)][-1]:.4f}")
        (row,) = [line for line in lines if line.startswith("held-out (own)")]
        assert row.split()[2:] == held
        # all four panes at once at 120x40
        assert all(app.screen.query_one(f"#cmp-{n}").display for n in ("loss", "filters", "biases", "metrics"))
        # p: pairing by cosine; ]: the next pair
        assert "unit by unit" in app.screen.query_one(CompareFiltersPane).border_subtitle
        await pilot.press("p")
        assert state.by_cosine
        await pilot.pause()
        assert "best cosine match" in app.screen.query_one(CompareFiltersPane).border_subtitle
        await pilot.press("right_square_bracket")
        assert state.pair == (0, 2)
        await pilot.press("y", "x")
        assert state.log_y is False and state.log_x is True
        await pilot.pause()
        assert "samples (log)" in app.screen.query_one(CompareLossPane).text
        # l: the held-out mse at every snapshot, one measure for runs of both losses
        await pilot.press("l")
        await pilot.pause()
        assert state.show_mse and "mse at snapshots" in app.screen.query_one(CompareLossPane).border_subtitle
        for name in NAMES:
            _, xs, ys = state.mse_curves[name]
            want_x, want_y = snapshot_mse(read_session(study.path(name)))
            assert np.array_equal(xs, want_x) and np.array_equal(ys, want_y) and xs.size >= 8
        await pilot.press("escape")
        await pilot.pause()
    assert not app.is_running


def test_mse_is_the_squared_error_of_the_reconstruction(study):
    s = read_session(study.path("base-relu"))
    X = heldout_inputs(s.config.data, s.config.seed, s.config.heldout).astype(np.float64)
    W, b, c = (a.astype(np.float64) for a in (s.state.W, s.state.b, s.state.c))
    recon = np.maximum(np.maximum(X @ W.T + b, 0) @ W + c, 0)  # relu, tied, output relu
    assert run_metrics(run_of_session(s))["heldout_mse"] == pytest.approx(np.mean((recon - X) ** 2), rel=1e-4)
    assert X.shape == (200, 64)  # bars8: 2,000 images of 8x8, 10% held out


def test_snapshot_mse_under_each_segments_activations(study):
    s = read_session(study.path("base-relu"))  # sigmoid, then relu x0.1 from 2,000 samples
    xs, ys = snapshot_mse(s)
    X = heldout_inputs(s.config.data, s.config.seed, s.config.heldout).astype(np.float64)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for record in s.snapshots:
        _, st = s.read_snapshot(record["name"])
        W, b, c = (a.astype(np.float64) for a in (st.W, st.b, st.c))
        f = sig if record["segment"] == 0 else (lambda a: np.maximum(a, 0))
        want = np.mean((f(f(X @ W.T + b) @ W + c) - X) ** 2)
        (i,) = [i for i, x in enumerate(xs) if x == record["samples"] and abs(ys[i] - want) < 1e-4 * want]
    assert {r["segment"] for r in s.snapshots} == {0, 1} and list(xs) == sorted(xs)


def test_pairing_by_cosine_finds_the_permuted_units():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((12, 64)).astype(np.float32)
    perm = rng.permutation(12)
    noise = 0.01 * rng.standard_normal((12, 64)).astype(np.float32)
    B = A[perm] * 0.5 + noise
    order, cos = pair_units(A, B, by_cosine=True)
    assert np.array_equal(perm[order], np.arange(12))  # unit j of A beside its scaled copy in B
    np.testing.assert_allclose(B[order], A * 0.5 + noise[order], rtol=0, atol=1e-6)
    want = (A * B[order]).sum(1) / (np.linalg.norm(A, axis=1) * np.linalg.norm(B[order], axis=1))
    np.testing.assert_allclose(cos, want, rtol=1e-5)
    assert cos.min() > 0.99
    order, cos = pair_units(A, B, by_cosine=False)
    assert np.array_equal(order, np.arange(12)) and cos.mean() < 0.5


@pytest.mark.parametrize("mode", [DisplayMode.SHADE, DisplayMode.ASCII])
async def test_small_terminal_tabs_and_runs_told_apart_without_colour(study, tui_wait, mode):
    app = CompareApp(CompareState(open_runs(study, NAMES)), mode=mode)
    async with app.run_test(size=SMALL) as pilot:
        await tui_wait(pilot, lambda: isinstance(app.screen, CompareScreen), what="the screen")
        screen = app.screen
        await tui_wait(pilot, lambda: len(screen.state.metrics) == 3, timeout=20, what="the metrics")
        assert screen.narrow
        shown = [n for n in ("loss", "filters", "biases", "metrics") if screen.query_one(f"#cmp-{n}").display]
        assert shown == ["loss"]
        loss = screen.query_one(CompareLossPane).text
        # each run its own glyph in the chart and the legend
        assert "** base (ce)" in loss and "oo base-sigmoid (ce)" in loss and "++ base-relu (se)" in loss
        await pilot.press("4")
        await pilot.pause()
        shown = [n for n in ("loss", "filters", "biases", "metrics") if screen.query_one(f"#cmp-{n}").display]
        assert shown == ["metrics"]
        text = screen.query_one(CompareMetricsPane).text
        assert "* base" in text and "o base-sigmoid" in text and "+ base-relu" in text
        if mode is DisplayMode.ASCII:
            screen.draw()
            for name in ("loss", "filters", "biases", "metrics"):
                await pilot.press(str(("loss", "filters", "biases", "metrics").index(name) + 1))
                await pilot.pause()
                assert screen.query_one(f"#cmp-{name}").text.isascii(), name


@pytest.mark.slow  # trains live for seconds
async def test_running_runs_update_live(study, tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer("base-relu")
    serve(trainer, start_paused=False)  # trains, on a socket, as a trainer process would
    runs = open_runs(tui_store, ["base", "base-relu"])
    assert runs[0].client is None and runs[1].client is not None and runs[1].owned
    app = CompareApp(CompareState(runs), mode=DisplayMode.COLOR)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: isinstance(app.screen, CompareScreen), what="the screen")
        state = app.screen.state
        live = state.views[1]
        assert live.live and not state.views[0].live
        first = live.samples
        await tui_wait(pilot, lambda: state.views[1].samples > first + 1000, timeout=30, what="live samples")
        await tui_wait(pilot, lambda: "base-relu" in state.metrics, timeout=20, what="its metrics")
        app.screen.draw()
        # the live run's line: its state and the samples of the frame drawn (nothing ran in between)
        (line,) = [ln for ln in app.screen.query_one(CompareMetricsPane).text.splitlines() if " base-relu (se)" in ln]
        assert line.rstrip().endswith(f"  running {state.views[1].samples:,}"), line
        assert "1 training" in str(app.screen.query_one("#cmp-head").render())
        await pilot.press("q")
        await pilot.pause()
    assert runs[1].client is None  # the comparison's own connection is closed; the trainer goes on
    assert trainer.session.samples > first


async def test_c_picks_sessions_and_compares_them_with_the_one_shown(study, tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer("base-sigmoid")
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame is not None, what="a frame")
        await pilot.press("c")
        # waits for what each key does: Pilot's press returns before the key is handled in a process
        # starved of CPU (tests/tui/test_faults.py)
        await tui_wait(pilot, lambda: isinstance(app.screen, ComparePicker) and bool(app.screen.query("#runs")),
                       what="the picker")
        picker = app.screen
        assert picker.chosen() == ["base-sigmoid"]  # the one shown, ticked
        await pilot.press("enter")
        await tui_wait(pilot, lambda: "tick 2 to 6 sessions (1 ticked)" in str(picker.query_one("#why").render()),
                       what="why not yet")
        picker.query_one(SelectionList).select("base")
        await tui_wait(pilot, lambda: picker.chosen() == ["base", "base-sigmoid"], what="two ticked")
        assert await pilot.click("#ok")
        await tui_wait(pilot, lambda: isinstance(app.screen, CompareScreen), what="the comparison")
        state = app.screen.state
        assert [v.name for v in state.views] == ["base", "base-sigmoid"]
        assert state.runs[1].client is app.link and not state.runs[1].owned  # the dashboard's own link
        await pilot.press("escape")
        await tui_wait(pilot, lambda: not isinstance(app.screen, CompareScreen), what="back")
        assert app.link is not None and app.link.connected
