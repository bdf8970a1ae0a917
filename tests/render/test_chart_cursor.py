"""The loss chart's cursor (the history view's point) and its plot area (for mouse picks)."""

import numpy as np
import pytest

from aetui.render import DisplayMode, PlotArea, Series, glyphs, line_chart
from tests.helpers.text import is_7bit


def _chart(mode, cursor, area=None, markers=()):
    xs = np.arange(0.0, 1001.0, 10.0)
    s = Series("loss", xs, np.linspace(1.0, 0.1, xs.size))
    return line_chart([s], width=60, height=12, mode=mode, log_y=False, markers=markers, cursor=cursor, area=area)


@pytest.mark.parametrize("mode", list(DisplayMode))
def test_the_cursor_column_is_reversed_on_every_plot_row_and_labelled(mode):
    area: list[PlotArea] = []
    text = _chart(mode, (500.0, "12k"), area)
    a = area[0]
    col = a.left + a.column(500.0)
    lines = text.plain.split("\n")
    assert len(lines) == 12 and all(len(line) == 60 for line in lines)
    assert lines[a.top - 1][col - 1:col + 2] == "12k"  # the label row, centred on the cursor
    reversed_cells = set()
    for span in text.spans:
        style = span.style
        if getattr(style, "reverse", False):
            reversed_cells.update(range(span.start, span.end))
    offsets = np.cumsum([0] + [len(line) + 1 for line in lines])
    for r in range(a.top, a.top + a.height):
        assert offsets[r] + col in reversed_cells  # the whole column, data or not
        assert offsets[r] + col + 2 not in reversed_cells  # and nothing beside it
    if mode is DisplayMode.ASCII:
        assert is_7bit(text.plain)


def test_without_a_cursor_nothing_is_reversed_and_the_area_is_where_the_data_is():
    area: list[PlotArea] = []
    text = _chart(DisplayMode.COLOR, None, area)
    assert not any(getattr(s.style, "reverse", False) for s in text.spans)
    a = area[0]
    assert a.top == 1 and a.height == 10 and a.left + a.width == 60  # legend above, ticks below
    assert a.column(0.0) == 0 and a.column(1000.0) == a.width - 1
    g = glyphs(DisplayMode.COLOR)
    assert text.plain.split("\n")[a.top][a.left - 1] in (g.vline, g.tick_y)


def test_the_cursor_label_wins_over_a_marker_label_in_the_same_place():
    area: list[PlotArea] = []
    text = _chart(DisplayMode.COLOR, (500.0, "HERE"), area, markers=[(510.0, "lr 0.3")])
    label_row = text.plain.split("\n")[area[0].top - 1]
    assert "HERE" in label_row and "lr 0.3" not in label_row


def test_on_a_log_x_axis_the_cursor_and_a_pick_land_where_the_point_is_drawn():
    """Cursor and PlotArea.column take samples, also when the axis is log10 of them."""
    xs = np.logspace(1, 6, 200)  # 10 .. 1M samples
    s = Series("loss", xs, np.linspace(1.0, 0.1, xs.size))
    area: list[PlotArea] = []
    text = line_chart([s], width=60, height=12, mode=DisplayMode.COLOR, log_y=False, log_x=True,
                      cursor=(1000.0, "1k"), area=area)
    a = area[0]
    assert a.column(10.0) == 0 and a.column(1e6) == a.width - 1
    assert a.column(1000.0) == pytest.approx(0.4 * (a.width - 1), abs=1)  # decade 3 of 1..6: 2/5 of the way
    lines = text.plain.split("\n")
    offsets = np.cumsum([0] + [len(line) + 1 for line in lines])
    reversed_cells = {i for span in text.spans if getattr(span.style, "reverse", False)
                      for i in range(span.start, span.end)}
    assert offsets[a.top] + a.left + a.column(1000.0) in reversed_cells
