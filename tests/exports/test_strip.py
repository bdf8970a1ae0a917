"""The strip (aetui export NAME --strip): columns are the stored snapshots in time order, each tile
is the stored filter pixel for pixel, segment starts are marked, auto picks the units that changed
most across the restart."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import aetui
from aetui.cli.main import main
from aetui.errors import ConfigError
from aetui.exports.strip import (GAP, LEFT, SEGMENT_GAP, StripLayout, auto_units, parse_units, record_strip,
                                 strip_columns)
from aetui.study.pictures import SEGMENT_RGB, diverging_rgb


@pytest.fixture(scope="module")
def run(recorded):
    return aetui.open_session("run", sessions_dir=recorded.root)


def tile(img: Image.Image, layout: StripLayout, row: int, column: int) -> np.ndarray:
    x, y = layout.tile_origin(row, column)
    h, w = layout.tile
    return np.asarray(img)[y:y + h, x:x + w]


def expected_tile(W: np.ndarray, unit: int, shape, zoom: int, peak: float) -> np.ndarray:
    rgb = diverging_rgb(W[unit].astype(np.float64) / peak).reshape(*shape, 3)
    return rgb.repeat(zoom, axis=0).repeat(zoom, axis=1)


def test_default_columns_are_the_period_and_user_snapshots_in_time_order(run):
    cols = strip_columns(run)
    stored = [s for s in run.snapshots if s.kind in ("period", "user")]
    assert [c.snapshot.name for c in cols] == [s.name for s in stored]
    assert [c.samples for c in cols] == sorted(c.samples for c in cols)
    assert {c.segment for c in cols} == {"sigmoid", "relu x0.1"}
    assert "snap1" in [c.tag for c in cols] and "2^0" in [c.tag for c in cols]
    assert [c.snapshot.name for c in strip_columns(run, "all")] == [s.name for s in run.snapshots]
    five = strip_columns(run, 5)
    assert len(five) == 5 and five[0].snapshot.name == run.snapshots[0].name
    assert five[-1].snapshot.name == run.snapshots[-1].name


@pytest.mark.parametrize("normalise", ["tile", "global"])
def test_every_tile_is_the_stored_filter_pixel_for_pixel(run, normalise):
    units = [0, 5, 15]
    img, shown, cols = record_strip(run, units=units, normalise=normalise)
    assert shown == units
    layout = StripLayout(len(units), tuple(cols), run.image_shape, title=True)
    assert img.size == layout.size
    for k, col in enumerate(cols):
        W = col.snapshot.weights()["W"]
        for r, u in enumerate(units):
            peak = np.abs(W[u]).max() if normalise == "tile" else np.abs(W).max()
            np.testing.assert_array_equal(tile(img, layout, r, k), expected_tile(W, u, run.image_shape, 2, peak))


def test_the_segment_start_is_a_line_between_the_last_sigmoid_and_the_first_relu_column(run):
    img, units, cols = record_strip(run, units=[1, 2])
    layout = StripLayout(2, tuple(cols), run.image_shape, title=True)
    first = next(k for k, c in enumerate(cols) if c.segment == "relu x0.1")
    assert all(c.segment == "sigmoid" for c in cols[:first])
    x = layout.column_x(first) - SEGMENT_GAP // 2 - 1
    assert layout.column_x(first) - layout.column_x(first - 1) == layout.tile[1] + SEGMENT_GAP
    y = layout.row_y(1)
    assert np.asarray(img)[y, x].tolist() == list(SEGMENT_RGB)
    # nowhere else: the other gaps are narrow
    assert layout.column_x(1) - layout.column_x(0) == layout.tile[1] + GAP
    assert layout.column_x(0) == LEFT + GAP


def test_auto_picks_the_ten_units_that_changed_most_across_the_restart(run):
    cols = strip_columns(run)
    first = next(k for k, c in enumerate(cols) if c.segment == "relu x0.1")
    before = cols[first - 1].snapshot.weights()["W"].astype(np.float64)
    after = cols[-1].snapshot.weights()["W"].astype(np.float64)
    cos = (before * after).sum(1) / np.linalg.norm(before, axis=1) / np.linalg.norm(after, axis=1)
    expected = sorted(np.argsort(cos, kind="stable")[:10].tolist())
    assert auto_units(cols) == expected
    _, shown, _ = record_strip(run)
    assert shown == expected and len(shown) == 10


def test_auto_on_one_segment_compares_first_and_last(run):
    cols = [c for c in strip_columns(run) if c.segment == "sigmoid"]
    a, b = (cols[k].snapshot.weights()["W"].astype(np.float64) for k in (0, -1))
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert auto_units(cols, 4) == sorted(np.argsort(cos, kind="stable")[:4].tolist())


def test_until_ends_the_strip_at_a_moment(run):
    _, _, cols = record_strip(run, units=[0], until=2_600)
    assert cols and all(c.snapshot.samples <= 2_600 for c in cols) and cols[-1].tag == "snap1"


def test_parse_units():
    assert parse_units("0,3,10-12,3", 16) == [0, 3, 10, 11, 12]
    assert parse_units(None, 16) == "auto"
    for bad in ("16", "x", "2-", ""):
        with pytest.raises(ConfigError):
            parse_units(bad, 16)


def test_the_command_writes_the_strip(recorded, tmp_path, capsys):
    out = tmp_path / "strip.png"
    code = main(["export", "run", "--sessions-dir", str(recorded.root), "--strip", str(out), "--units", "0-2",
                 "--columns", "all", "--json"])
    written = json.loads(capsys.readouterr().out)
    assert code == 0 and written == [str(out)]
    run = aetui.open_session("run", sessions_dir=recorded.root)
    cols = strip_columns(run, "all")
    layout = StripLayout(3, tuple(cols), run.image_shape, title=True)
    with Image.open(out) as img:
        assert img.size == layout.size
        img = img.convert("RGB")
        W = cols[-1].snapshot.weights()["W"]
        np.testing.assert_array_equal(tile(img, layout, 2, len(cols) - 1),
                                      expected_tile(W, 2, run.image_shape, 2, np.abs(W[2]).max()))
    assert not [p for p in tmp_path.iterdir() if p.name != "strip.png"]


def test_bad_options_are_one_line(recorded, tmp_path, capsys):
    d = str(recorded.root)
    for argv, words in ((["--units", "99"], "units 0..15"), (["--columns", "many"], "--columns"),
                        (["--study", "x"], "NAME")):
        name = [] if "--study" in argv else ["run"]
        code = main(["export", *name, "--sessions-dir", d, "--strip", str(tmp_path / "s.png"), *argv])
        err = capsys.readouterr().err
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.png").exists()
