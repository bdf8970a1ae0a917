"""Line charts: layout, scaling, ticks, markers, degenerate data; smoothing."""

import math

import numpy as np
import pytest

from aetui.render import (
    DisplayMode,
    Series,
    format_si,
    format_tick,
    glyphs,
    line_chart,
    log_ticks,
    nice_ticks,
    smooth,
)
from tests.helpers.text import has_colour, is_7bit

COLOR, SHADE, ASCII = DisplayMode.COLOR, DisplayMode.SHADE, DisplayMode.ASCII


def plot_area(text, mode, markers=False):
    """(plot rows, left edge of the plot) of a chart with legend and tick lines."""
    lines = text.plain.split("\n")
    rows = lines[1 + markers : -1]
    g = glyphs(mode)
    left = min(i for i, ch in enumerate(rows[0]) if ch in (g.vline, g.tick_y)) + 1
    return rows, left


def dots(ch):
    return ord(ch) - 0x2800 if "\u2800" <= ch <= "\u28ff" else 0


def rising():
    xs = np.arange(100.0)
    return Series("loss", xs, 10 ** np.linspace(-2, 0, 100))


@pytest.mark.parametrize("mode", [COLOR, SHADE])
def test_rising_series_goes_from_bottom_left_to_top_right_braille(mode):
    text = line_chart([rising()], width=40, height=12, mode=mode)
    rows, left = plot_area(text, mode)
    assert len(rows) == 10
    assert dots(rows[-1][left]) & 0x40  # first point: lowest dot row, left dot column
    assert dots(rows[0][-1]) & 0x08  # last point: highest dot row, right dot column
    assert rows[0][left] == " " and rows[-1][-1] == " "


def test_rising_series_ascii():
    text = line_chart([rising()], width=40, height=12, mode=ASCII)
    rows, left = plot_area(text, ASCII)
    assert rows[-1][left] == "*" and rows[0][-1] == "*"
    assert rows[0][left] == " " and rows[-1][-1] == " "
    assert is_7bit(text) and not has_colour(text)


def test_log_tick_labels_in_gutter():
    text = line_chart([rising()], width=40, height=14, mode=ASCII)
    rows, left = plot_area(text, ASCII)
    ticks = [(r, float(row[: left - 1])) for r, row in enumerate(rows) if row[: left - 1].strip()]
    values = [v for _, v in ticks]
    assert values == sorted(values, reverse=True)  # larger values higher up
    assert ticks[0] == (0, 1.0) and ticks[-1] == (len(rows) - 1, 0.01)
    assert {0.1, 1.0, 0.01} <= set(values)
    for r, _ in ticks:
        assert rows[r][left - 1] == glyphs(ASCII).tick_y


def test_x_ticks_use_k_suffix_and_label():
    xs = np.linspace(0, 200_000, 50)
    text = line_chart([Series("loss", xs, np.exp(-xs / 1e5))], width=60, height=8, mode=ASCII)
    last = text.plain.split("\n")[-1]
    assert "100k" in last and last.rstrip().endswith("samples")
    assert "0 " in last


def test_marker_at_its_column_with_label():
    xs = np.arange(101.0)
    s = Series("loss", xs, np.full(101, 0.5))
    markers = [(50.0, "relu x0.1")]
    for mode in (ASCII, COLOR):
        text = line_chart([s], width=41, height=10, mode=mode, markers=markers, log_y=False)
        rows, left = plot_area(text, mode, markers=True)
        label_line = text.plain.split("\n")[1]
        col = label_line.index("relu x0.1")
        plot_w = len(rows[0]) - left
        assert abs((col - left) - (plot_w - 1) / 2) <= 1
        marked = [row[col] for row in rows]
        assert marked.count(glyphs(mode).marker) >= len(rows) - 1  # all but the data row


def test_marker_beyond_data_extends_the_axis_and_label_stays_inside():
    s = Series("loss", [0, 1, 2], [1.0, 0.5, 0.25])
    text = line_chart([s], width=30, height=8, mode=ASCII, markers=[(10, "diverged")])
    rows, left = plot_area(text, ASCII, markers=True)
    assert all(row[-1] == "|" for row in rows)
    label_line = text.plain.split("\n")[1]
    assert label_line.rstrip().endswith("diverged") and len(label_line) == 30


def test_legend_names_every_series():
    a = Series("raw", [0, 1], [1, 2], style="dim", marker=".")
    b = Series("smoothed", [0, 1], [1, 2])
    text = line_chart([a, b], width=40, height=6, mode=ASCII)
    legend = text.plain.split("\n")[0]
    assert legend.startswith(".. raw  ** smoothed")
    colour = line_chart([a, b], width=40, height=6, mode=COLOR)
    assert colour.plain.split("\n")[0].startswith("── raw  ── smoothed")


def test_later_series_draws_on_top():
    xs = np.arange(10.0)
    a = Series("a", xs, np.ones(10), marker="a")
    b = Series("b", xs, np.ones(10), marker="b")
    text = line_chart([a, b], width=20, height=6, mode=ASCII, log_y=False)
    plot = "".join(text.plain.split("\n")[1:-1])
    assert plot.count("b") >= 10 and "a" not in plot


SERIES_CASES = {
    "none": [],
    "empty": [Series("a", [], [])],
    "single": [Series("a", [5], [0.3])],
    "equal": [Series("a", [1, 2, 3], [2, 2, 2])],
    "nan_inf": [Series("a", [1, 2, 3, 4, 5], [np.nan, 1, np.inf, 2, -np.inf])],
    "nonpositive": [Series("a", [1, 2, 3, 4], [0, -1, 0.5, 1])],
    "all_nonpositive": [Series("a", [1, 2], [0, -1])],
    "nan_x": [Series("a", [np.nan, 1, 2], [1, 2, 3])],
    "two": [rising(), Series("b", [0, 50, 99], [0.5, 0.05, 0.01])],
}


@pytest.mark.parametrize("mode", list(DisplayMode))
@pytest.mark.parametrize("case", list(SERIES_CASES))
@pytest.mark.parametrize(("width", "height"), [(40, 12), (12, 5), (3, 2), (1, 1), (60, 3)])
@pytest.mark.parametrize("log_y", [True, False])
def test_exact_size_for_any_data(mode, case, width, height, log_y):
    text = line_chart(
        SERIES_CASES[case],
        width=width,
        height=height,
        mode=mode,
        log_y=log_y,
        markers=[(2.0, "m"), (math.nan, "ignored")],
    )
    lines = text.plain.split("\n")
    assert len(lines) == height
    assert {len(line) for line in lines} == {width}
    if mode is ASCII:
        assert is_7bit(text)
    if mode is not COLOR:
        assert not has_colour(text)


@pytest.mark.parametrize("case", ["none", "empty", "all_nonpositive"])
def test_no_drawable_points_says_so(case):
    text = line_chart(SERIES_CASES[case], width=40, height=8, mode=COLOR)
    assert "no data" in text.plain


def test_single_point_and_equal_values_are_centred():
    for case in ("single", "equal"):
        text = line_chart(SERIES_CASES[case], width=30, height=11, mode=ASCII)
        rows, _ = plot_area(text, ASCII)
        drawn = [r for r, row in enumerate(rows) if "*" in row]
        assert drawn and all(abs(r - (len(rows) - 1) / 2) <= 1 for r in drawn)


def test_non_positive_values_are_skipped_on_log_axis():
    text = line_chart(SERIES_CASES["nonpositive"], width=30, height=8, mode=ASCII)
    rows, _ = plot_area(text, ASCII)
    assert sum(row.count("*") for row in rows) > 0
    linear = line_chart(SERIES_CASES["nonpositive"], width=30, height=8, mode=ASCII, log_y=False)
    gutter = [row.split("+")[0].strip() for row in linear.plain.split("\n")[1:-1] if "+" in row]
    assert any(label.startswith("-") for label in gutter)  # negative values on a linear axis


def test_ticks_helpers():
    assert log_ticks(-2, 0, 10) == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    assert log_ticks(-2, 0, 3) == [0.01, 0.1, 1.0]
    assert log_ticks(-6, 3, 4) == [1e-6, 1e-3, 1.0, 1e3]  # every third decade
    assert log_ticks(math.log10(0.3), math.log10(0.45), 5) == [0.3, 0.35, 0.4, 0.45]
    assert nice_ticks(0, 10, 6) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(-1, 1, 5) == [-1, -0.5, 0, 0.5, 1]
    assert nice_ticks(0.1, 0.35, 4) == [0.1, 0.2, 0.3]
    assert nice_ticks(3, 3, 4) == [3]


def test_formatting():
    assert [format_tick(v) for v in (0.1, 0.2, 0.05, 1, 250, 0.001, 2e-5, 1e5, 0)] == [
        "0.1",
        "0.2",
        "0.05",
        "1",
        "250",
        "1e-3",
        "2e-5",
        "1e5",
        "0",
    ]
    assert [format_si(v) for v in (0, 500, 1500, 20_000, 2e6, 3.5e9)] == [
        "0",
        "500",
        "1.5k",
        "20k",
        "2M",
        "3.5G",
    ]


def test_smooth():
    np.testing.assert_allclose(smooth([0.0, 1.0, 1.0], 0.5), [0.0, 0.5, 0.75])
    np.testing.assert_allclose(smooth([3.0, 3.0, 3.0], 0.1), [3.0, 3.0, 3.0])
    np.testing.assert_allclose(smooth([1.0, 2.0, 5.0], 1.0), [1.0, 2.0, 5.0])
    out = smooth([np.nan, 2.0, np.nan, np.inf, 4.0], 0.5)
    assert np.isnan(out[0])
    np.testing.assert_allclose(out[1:], [2.0, 2.0, 2.0, 3.0])  # non-finite values are skipped
    assert smooth([], 0.5).shape == (0,)
    with pytest.raises(ValueError):
        smooth([1.0], 0.0)


def test_series_validation():
    s = Series("a", [1, 2], [3, 4])
    assert s.xs.dtype == np.float64 and not s.xs.flags.writeable
    with pytest.raises(ValueError):
        Series("a", [1, 2], [3])
    with pytest.raises(ValueError):
        Series("a", [1], [1], marker="●")
