"""What the dashboard draws: display modes from the environment, pure helpers, pane text."""

from __future__ import annotations

import numpy as np
import pytest
from rich.text import Text

from aetui.training.frame import PAUSED
from aetui.render import DisplayMode
from aetui.tui.blocks import block, hstack, vstack
from aetui.tui.graphics.terminal import display_mode, terminal_env
from aetui.render.fit import fit_image, pool
from aetui.model.numpy_pass import hidden_codes
from aetui.tui.panes.unit_marks import unit_marks
from aetui.tui.panes.status_bar import Field, flow
from tests.helpers.training import train
from tests.helpers.tui import make_app

PANES = ("loss", "bias", "filters", "recon")


@pytest.mark.parametrize("env, mode", [
    ({"TERM": "xterm-256color", "LANG": "en_US.UTF-8"}, DisplayMode.COLOR),
    ({"TERM": "xterm-256color", "LANG": "en_US.UTF-8", "NO_COLOR": "1"}, DisplayMode.SHADE),
    ({"TERM": "dumb", "LANG": "en_US.UTF-8"}, DisplayMode.ASCII),
    ({"TERM": "xterm", "LC_ALL": "C"}, DisplayMode.ASCII),
])
def test_display_mode_from_the_environment(env, mode):
    assert display_mode(environ=env) is mode
    assert display_mode(force_ascii=True, environ=env) is DisplayMode.ASCII


def test_python_locale_coercion_is_undone(monkeypatch):
    # LANG=C: Python itself sets LC_CTYPE=C.UTF-8 and turns on UTF-8 mode (PEP 538/540).
    import sys

    monkeypatch.setattr(sys, "flags", type("F", (), {"utf8_mode": 1})())
    coerced = {"TERM": "xterm", "LANG": "C", "LC_CTYPE": "C.UTF-8"}
    assert "LC_CTYPE" not in terminal_env(coerced)
    assert display_mode(environ=coerced) is DisplayMode.ASCII
    asked = dict(coerced, PYTHONUTF8="1")  # the user asked for UTF-8 mode: leave it
    assert terminal_env(asked)["LC_CTYPE"] == "C.UTF-8"


def test_codes_match_the_engine(tui_make_trainer):
    trainer = tui_make_trainer()
    train(trainer, 2000)
    frame = trainer.frame(1, PAUSED)
    codes = hidden_codes(frame.W, frame.b, frame.recon_inputs, frame.config.activation)
    assert codes == pytest.approx(trainer.engine.encode(frame.recon_inputs), abs=1e-4)


def test_dead_and_saturated_units():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (12, 20))
    W = rng.normal(0, 0.3, (4, 20))
    b = np.array([0.0, -50.0, 50.0, 0.0])
    marks = unit_marks(hidden_codes(W, b, X, "sigmoid"), "sigmoid")
    assert marks == {1: "dead", 2: "saturated"}
    marks = unit_marks(hidden_codes(W, b, X, "relu"), "relu")
    assert marks.get(1) == "dead" and 2 not in marks  # relu has no upper bound
    assert unit_marks(np.full((3, 2), np.nan), "relu") == {}


def test_pool_and_fit_image():
    img = np.arange(16, dtype=float).reshape(1, 16)
    pooled, shape = pool(img, (4, 4), 2)
    assert shape == (2, 2) and pooled.reshape(2, 2).tolist() == [[2.5, 4.5], [10.5, 12.5]]
    odd, shape = pool(np.ones((1, 25)), (5, 5), 2)
    assert shape == (3, 3) and np.all(odd == 1)  # edges padded with real values
    big = fit_image(np.ones((8, 8)), 40, 20)
    assert big.shape == (32, 32)  # x4: 32 wide, 16 lines
    small = fit_image(np.ones((28, 28)), 14, 7)
    assert small.shape == (14, 14)


def test_status_flow_drops_least_important_fields():
    fields = [Field(f"f{i}", Text("x" * 10), priority=i) for i in range(6)]
    rows = flow(fields, 30, 1)
    assert [f.name for f in rows[0]] == ["f0", "f1"]  # 10 + 2 + 10 fits; a third would not
    rows = flow(fields, 30, 3)
    assert sum(len(r) for r in rows) == 6


def test_blocks_stack_to_exact_widths():
    a, b = block("ab\nc"), block("xyz")
    side = hstack([a, b], gap=2)
    assert side.width == 7 and side.text.splitlines() == ["ab  xyz", "c      "]
    assert vstack([a, b]).text.splitlines() == ["ab ", "c  ", "xyz"]


def _pane_lines(app, name):
    pane = app.pane(name)
    return [pane.render_line(y) for y in range(pane.size.height)]


@pytest.mark.parametrize("mode", [DisplayMode.ASCII, DisplayMode.SHADE, DisplayMode.COLOR])
async def test_panes_drawn_in_each_mode(mode, tui_make_trainer, tui_store, tui_wait):
    trainer = tui_make_trainer()
    train(trainer, 3000)
    app = make_app(trainer, tui_store, mode=mode)
    async with app.run_test(size=(120, 40)) as pilot:
        await tui_wait(pilot, lambda: app.frame is not None and app.frame.state == PAUSED)
        app._draw_all()
        await pilot.pause()
        for name in PANES:
            strips = _pane_lines(app, name)
            text = "".join(s.text for s in strips)
            assert text.strip(), f"{name} is empty"
            if mode is DisplayMode.ASCII:
                assert all(ord(ch) < 128 for ch in text), name
            halves = [seg for s in strips for seg in s if seg.text and set(seg.text) == {"\u2580"}]
            if mode is DisplayMode.COLOR and name != "loss":
                assert halves and all(seg.style.color and seg.style.bgcolor for seg in halves), name
            if mode is DisplayMode.SHADE and name != "loss":
                assert not halves and any(ch in text for ch in "\u2591\u2592\u2593\u2588"), name
        filters = "\n".join(s.text for s in _pane_lines(app, "filters"))
        assert filters.splitlines()[0].startswith(">0" if mode is DisplayMode.ASCII else "\u25b60")
        per = app.pane("filters").per_page
        assert 1 < per < 16 and f"{per - 1}" in filters and f"{per}" not in filters.split()
        recon = "\n".join(s.text for s in _pane_lines(app, "recon"))
        assert "zero" in recon and "mean" in recon
        assert "held-out" in "".join(s.text for s in _pane_lines(app, "loss"))
        app.stop_training()
