"""Filter grids and their geometry."""

import numpy as np
import pytest

from aetui.render import DisplayMode, filter_grid, glyphs, grid_geometry, grid_size
from tests.helpers.text import has_colour, is_7bit, style_at

COLOR, SHADE, ASCII = DisplayMode.COLOR, DisplayMode.SHADE, DisplayMode.ASCII


def weights(n=13, shape=(8, 8), seed=0):
    return np.random.default_rng(seed).normal(size=(n, shape[0] * shape[1]))


@pytest.mark.parametrize("mode", list(DisplayMode))
@pytest.mark.parametrize("labels", [True, False])
@pytest.mark.parametrize(
    ("area", "shape", "n"),
    [
        ((120, 40), (28, 28), 100),
        ((80, 24), (8, 8), 13),
        ((29, 15), (28, 28), 100),
        ((200, 60), (28, 28), 3),
        ((10, 5), (28, 28), 100),
        ((60, 30), (5, 7), 1000),
    ],
)
def test_rendered_size_matches_geometry(mode, labels, area, shape, n):
    columns, rows, per_page = grid_geometry(*area, shape, mode, n, labels=labels)
    assert columns >= 1 and rows >= 1
    assert per_page == min(n, columns * rows)
    W = weights(n, shape)
    text = filter_grid(W, shape, mode=mode, columns=columns, count=per_page, labels=labels)
    lines = text.plain.split("\n")
    width, height = grid_size(columns, rows, shape, labels=labels)
    assert len(lines) == height
    assert {len(line) for line in lines} == {width}
    tile_w, tile_h = shape[1], (shape[0] + 1) // 2
    if tile_w <= area[0] and tile_h + labels <= area[1]:  # one tile fits: so does the page
        assert width <= area[0] and height <= area[1]


def test_geometry_fills_the_area():
    # 120 cells: 4 tiles of 28 + 3 gaps = 115; 40 lines: 2 rows of (14 + label) = 30, 3 = 45.
    assert grid_geometry(120, 40, (28, 28), COLOR, 100) == (4, 2, 8)
    assert grid_geometry(120, 45, (28, 28), COLOR, 100) == (4, 3, 12)
    # Without labels: 14-line tiles with a blank line between rows: 3 rows need 44 lines.
    assert grid_geometry(120, 44, (28, 28), COLOR, 100, labels=False) == (4, 3, 12)
    assert grid_geometry(120, 43, (28, 28), COLOR, 100, labels=False) == (4, 2, 8)
    assert grid_geometry(120, 44, (28, 28), COLOR, 3) == (3, 1, 3)
    assert grid_geometry(120, 45, (28, 28), COLOR, 6) == (4, 2, 6)
    assert grid_geometry(120, 40, (28, 28), COLOR, 0)[2] == 0


def test_labels_numbers_marks_and_selection():
    W = weights(13)
    text = filter_grid(
        W, (8, 8), mode=ASCII, columns=5, marks={3: "dead", 7: "saturated"}, selected=2
    )
    lines = text.plain.split("\n")
    label = lines[0]
    assert label[0:1] == "0" and label[9:10] == "1"
    g = glyphs(ASCII)
    assert label[18:20] == g.cursor + "2"
    assert label[27:34] == f"3 {g.dead}dead"  # mark spelled out when it fits the tile width
    assert lines[5][18:20] == f"7{g.saturated}"  # else just its glyph
    assert lines[10].startswith("10")
    assert "reverse" in str(style_at(text, 18))
    assert is_7bit(text) and not has_colour(text)
    assert len(lines) == 3 * (1 + 4)


def test_mark_is_coloured_in_colour_mode_only():
    W = weights(4)
    colour = filter_grid(W, (8, 8), mode=COLOR, columns=4, marks={1: "dead"})
    assert style_at(colour, 9 + 2).color is not None  # the mark after "1 "
    shade = filter_grid(W, (8, 8), mode=SHADE, columns=4, marks={1: "dead"})
    assert style_at(shade, 11).bold and not has_colour(shade)


def test_paging_with_start_and_count():
    W = weights(13)
    text = filter_grid(W, (8, 8), mode=ASCII, columns=3, start=9, count=3)
    assert text.plain.split("\n")[0].split() == ["9", "10", "11"]
    last = filter_grid(W, (8, 8), mode=ASCII, columns=3, start=12, count=3)
    assert last.plain.split("\n")[0].split() == ["12"]
    assert filter_grid(W, (8, 8), mode=ASCII, columns=3, start=13).plain == ""


def test_tile_vs_global_normalization():
    pattern = np.linspace(-1, 1, 16)
    W = np.stack([pattern, 0.1 * pattern])
    tile = filter_grid(W, (4, 4), mode=ASCII, columns=2, normalization="tile", labels=False)
    left = [line[:4] for line in tile.plain.split("\n")]
    right = [line[5:9] for line in tile.plain.split("\n")]
    assert left == right  # each tile scaled by its own max |w|
    glob = filter_grid(W, (4, 4), mode=ASCII, columns=2, normalization="global", labels=False)
    right = [line[5:9] for line in glob.plain.split("\n")]
    assert set("".join(right)) <= set("-=+")  # a tenth of the scale: near the neutral '='
    assert left != right


def test_zero_filter_is_neutral_and_nan_filter_visible():
    W = np.zeros((2, 16))
    W[1, 3] = np.nan
    text = filter_grid(W, (4, 4), mode=ASCII, columns=2, labels=False)
    rows = text.plain.split("\n")
    assert {ch for row in rows for ch in row[:4]} == {"="}
    assert glyphs(ASCII).nan in rows[0][5:9]


def test_tiles_are_separated_by_blank_cells_and_lines():
    W = np.ones((4, 4))
    text = filter_grid(W, (2, 2), mode=COLOR, columns=2, labels=False)
    assert text.plain.split("\n") == ["▀▀ ▀▀", "     ", "▀▀ ▀▀"]


def test_bad_arguments():
    with pytest.raises(ValueError):
        filter_grid(np.zeros((2, 10)), (3, 3), mode=COLOR, columns=1)
    with pytest.raises(ValueError):
        filter_grid(np.zeros((2, 9)), (3, 3), mode=COLOR, columns=0)
    with pytest.raises(ValueError):
        filter_grid(np.zeros((2, 9)), (3, 3), mode=COLOR, columns=1, normalization="row")
