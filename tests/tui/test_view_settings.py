"""The chart keys (x, y, m, b) and the view settings file: kept between runs, damaged files survived."""

from __future__ import annotations

import json
import os

import pytest

from aetui.render.chart_modes import ChartModes
from aetui.training.frame import PAUSED
from aetui.tui.settings_file import ViewSettings, load_settings, save_settings, settings_path
from tests.helpers.training import train
from tests.helpers.tui import BIG, SMALL, make_app, record_notices


async def ready(pilot, wait):
    app = pilot.app
    await wait(pilot, lambda: app.frame is not None and app.frame.state == PAUSED, what="paused")
    app._draw_all()
    await pilot.pause()


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    """The settings file in a config folder of this test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "aetui" / "settings.json"


def test_the_tests_never_touch_the_real_config_folder():
    home = os.path.expanduser("~")
    assert not str(settings_path()).startswith(os.path.join(home, ".config"))


def test_settings_path_follows_xdg():
    assert str(settings_path({"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/home/u"})) == "/x/cfg/aetui/settings.json"
    assert str(settings_path({"HOME": "/home/u"})) == "/home/u/.config/aetui/settings.json"
    assert str(settings_path({"XDG_CONFIG_HOME": "rel", "HOME": "/home/u"})) == "/home/u/.config/aetui/settings.json"


def test_settings_round_trip_and_unknown_values(tmp_path):
    path = tmp_path / "a" / "settings.json"
    chosen = ViewSettings("global", ChartModes("linear", False, 0.97), "symlog", "bias", "sixel")
    save_settings(path, chosen)
    assert load_settings(path) == (chosen, None)
    assert not list(path.parent.glob("*.tmp"))
    data = json.loads(path.read_text())
    data.update(normalization="sideways", heat_scale=3, smoothing=0.5, graphics="x11", future_setting=1)
    path.write_text(json.dumps(data))
    loaded, warning = load_settings(path)
    assert warning is None
    assert loaded == ViewSettings("tile", ChartModes("linear", False, 0.9), "robust", "bias", "auto")


@pytest.mark.parametrize("content, words", [
    (b"{\"normalization\": ", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"\xff\xfe{}", "not UTF-8"),
])
def test_a_damaged_settings_file_gives_defaults_and_one_line(tmp_path, content, words):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    settings, warning = load_settings(path)
    assert settings == ViewSettings()
    assert words in warning and str(path) in warning and "\n" not in warning


def test_an_unreadable_settings_file_gives_defaults_and_one_line(tmp_path):
    path = tmp_path / "settings.json"
    path.mkdir()  # a folder where the file should be: reading fails with an OSError
    settings, warning = load_settings(path)
    assert settings == ViewSettings() and "cannot read the settings file" in warning


async def pressed(pilot, wait, key: str, done, what: str | None = None) -> None:
    """Press key and wait until done() holds: under a starved CPU a press returns before the app
    handled the key, so looking at once proves nothing."""
    await pilot.press(key)
    await wait(pilot, done, what=what or f"what {key!r} does")


def settings_on_disk(settings_file):
    """The settings file's JSON, or None while it is not there (or not yet whole)."""
    try:
        return json.loads(settings_file.read_text())
    except (OSError, ValueError):
        return None


@pytest.mark.slow
async def test_chart_keys_change_the_loss_chart_and_are_kept(tui_make_trainer, tui_store, tui_wait, settings_file):
    trainer = tui_make_trainer()
    train(trainer, 20_000)  # report points from a few hundred samples to 20k: two decades and more
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        loss = app.pane("loss")
        assert loss.modes == ChartModes() and "y log  x log (auto)  EMA 0.9" in loss.border_title
        assert "samples (log)" in loss.text
        await pressed(pilot, tui_wait, "x", lambda: loss.modes.x_scale == "linear" and "x linear" in loss.border_title
                      and "samples (linear)" in loss.text)
        await pressed(pilot, tui_wait, "y", lambda: not loss.modes.log_y and "y linear" in loss.border_title)
        for expected in (0.97, 0.0):
            await pressed(pilot, tui_wait, "m", lambda: loss.modes.smoothing == expected)
        await tui_wait(pilot, lambda: "smoothing off" in loss.border_title, what="the title")
        assert "smoothed" not in loss.text.splitlines()[0] and "train" in loss.text.splitlines()[0]
        await pressed(pilot, tui_wait, "m", lambda: loss.modes.smoothing == 0.6 and "smoothed" in loss.text.splitlines()[0])
        await tui_wait(pilot, lambda: (settings_on_disk(settings_file) or {}).get("smoothing") == 0.6, what="the file")
        # back to log, which is what automatic picks: automatic again
        await pressed(pilot, tui_wait, "x", lambda: loss.modes.x_scale == "auto")
        app.stop_training()
    stored = json.loads(settings_file.read_text())
    assert (stored["x_scale"], stored["log_y"], stored["smoothing"]) == ("auto", False, 0.6)

    # The next start shows the chart as it was left.
    trainer2 = tui_make_trainer("again")
    train(trainer2, 2_000)
    app2 = make_app(trainer2, tui_store)
    async with app2.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        assert app2.pane("loss").modes == ChartModes("auto", False, 0.6)
        assert "y linear" in app2.pane("loss").border_title
        app2.stop_training()


async def test_b_cycles_the_heatmap_scale_and_writes_it(tui_make_trainer, tui_store, tui_wait, settings_file):
    trainer = tui_make_trainer()
    train(trainer, 5_000)
    app = make_app(trainer, tui_store)
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot, tui_wait)
        bias = app.pane("bias")
        await pressed(pilot, tui_wait, "2", lambda: bias.display and bias.text.strip())  # the bias tab
        first = bias.text.splitlines()[0]
        assert first.startswith("b ") and "robust 2-98%" in first
        await pressed(pilot, tui_wait, "b",
                      lambda: bias.heat_scale == "symlog" and "symlog, lin +-" in bias.text.splitlines()[0])
        await pressed(pilot, tui_wait, "b",
                      lambda: bias.heat_scale == "full" and "full range" in bias.text.splitlines()[0])
        await tui_wait(pilot, lambda: (settings_on_disk(settings_file) or {}).get("heat_scale") == "full", what="the file")
        await pressed(pilot, tui_wait, "b", lambda: bias.heat_scale == "robust")
        app.stop_training()


@pytest.mark.slow
async def test_normalisation_and_enlarged_pane_are_kept(tui_make_trainer, tui_store, tui_wait, settings_file):
    trainer = tui_make_trainer()
    app = make_app(trainer, tui_store)
    async with app.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        await pressed(pilot, tui_wait, "f", lambda: app.filters.normalization == "global")
        await pressed(pilot, tui_wait, "2", lambda: app.solo == "bias")
        app.stop_training()
    stored = json.loads(settings_file.read_text())
    assert stored["normalization"] == "global" and stored["enlarged_pane"] == "bias"
    app2 = make_app(tui_make_trainer("again"), tui_store)
    async with app2.run_test(size=BIG) as pilot:
        await ready(pilot, tui_wait)
        assert app2.filters.normalization == "global" and app2.solo == "bias"
        assert app2.pane("bias").display and not app2.pane("loss").display
        app2.stop_training()


async def test_a_damaged_settings_file_is_one_warning_and_the_defaults(tui_make_trainer, tui_store, tui_wait,
                                                                        settings_file):
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("{ not json")
    app = make_app(tui_make_trainer(), tui_store)
    seen = record_notices(app)
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot, tui_wait)
        warnings = [m for m, sev in seen if sev == "warning"]
        assert len(warnings) == 1 and "is damaged" in warnings[0] and "using the defaults" in warnings[0]
        assert app.pane("loss").modes == ChartModes() and app.filters.normalization == "tile"
        await pilot.press("y")  # the next change writes a good file over the damaged one
        await tui_wait(pilot, lambda: (settings_on_disk(settings_file) or {}).get("log_y") is False, what="a good file")
        app.stop_training()


async def test_a_settings_folder_that_cannot_be_written_is_said_once(tui_make_trainer, tui_store, tui_wait,
                                                                      settings_file):
    settings_file.parent.parent.mkdir(parents=True)
    settings_file.parent.write_text("a file where the folder should be")
    app = make_app(tui_make_trainer(), tui_store)
    seen = record_notices(app)
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot, tui_wait)
        await pressed(pilot, tui_wait, "y", lambda: not app.pane("loss").modes.log_y)
        await pressed(pilot, tui_wait, "m", lambda: app.pane("loss").modes.smoothing == 0.97)
        failures = [m for m, _ in seen if "cannot save the view settings" in m]
        assert len(failures) == 1
        app.stop_training()


async def test_the_chart_keys_share_one_key_bar_entry_that_opens_the_help(tui_make_trainer, tui_store, tui_wait):
    from aetui.tui.help_screen import HelpScreen
    from aetui.tui.panes.key_bar import KeyBar

    app = make_app(tui_make_trainer(), tui_store)
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot, tui_wait)
        bar = app.query_one(KeyBar)
        text = "\n".join(bar.render_line(y).text for y in range(bar.size.height))
        assert bar.size.height == 2 and "x y m b charts" in text and "q quit" in text
        row = next(i for i, line in enumerate(text.splitlines()) if "x y m b" in line)
        await pilot.click(KeyBar, offset=(1 + text.splitlines()[row].index("x y m b") + 2, row))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        app.stop_training()


def test_the_graphics_request_comes_from_the_settings_file_unless_given(settings_file):
    from aetui.render import DisplayMode
    from aetui.tui.graphics.graphics_mode import Graphics
    from aetui.tui.graphics_setup import setup_graphics

    save_settings(settings_file, ViewSettings(graphics="ascii"))
    setup = setup_graphics(None)
    assert (setup.request, setup.choice.graphics, setup.mode) == ("ascii", Graphics.ASCII, DisplayMode.ASCII)
    setup = setup_graphics("cells")  # no terminal here: cells, in the display mode of the environment
    assert setup.request == "cells" and setup.choice.graphics in (Graphics.CELLS, Graphics.ASCII)
    assert setup.painter is None


async def test_a_graphics_option_given_is_kept_for_the_next_start(tui_make_trainer, tui_store, tui_wait,
                                                                  settings_file):
    from aetui.tui.graphics_setup import setup_graphics

    app = make_app(tui_make_trainer(), tui_store)
    app.graphics = setup_graphics("cells")
    app.graphics_request = app.graphics.request
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot, tui_wait)
        assert json.loads(settings_file.read_text())["graphics"] == "cells"
        app.stop_training()
    assert load_settings(settings_file)[0].graphics == "cells"


async def test_an_app_without_graphics_set_up_keeps_the_files_graphics(tui_make_trainer, tui_store, tui_wait,
                                                                      settings_file):
    save_settings(settings_file, ViewSettings(graphics="sixel"))
    app = make_app(tui_make_trainer(), tui_store)
    async with app.run_test(size=SMALL) as pilot:
        await ready(pilot, tui_wait)
        await pilot.press("y")
        app.stop_training()
    stored = json.loads(settings_file.read_text())
    assert stored["graphics"] == "sixel" and stored["log_y"] is False
