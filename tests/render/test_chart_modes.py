"""Loss chart modes: log-x drawing and ticks, the automatic x scale, the x/y/m toggles' cycle."""

import math

import numpy as np
import pytest

from aetui.render import DisplayMode, Series, line_chart
from aetui.render.chart_modes import AUTO, SMOOTHING_LEVELS, ChartModes, spans_decades

ASCII = DisplayMode.ASCII


def geometric():
    """Report points at 2^n samples, 16 .. 2^20, loss falling as a power law (a line on log-log)."""
    xs = 2.0 ** np.arange(4, 21)
    return Series("loss", xs, 0.5 * (xs / 16) ** -0.3, marker="*")


def star_columns(text):
    rows = text.plain.split("\n")[1:-1]
    left = min(i for i, ch in enumerate(rows[0]) if ch in "|+") + 1
    return rows, left, {c - left for row in rows for c, ch in enumerate(row) if ch == "*" and c >= left}


def test_log_x_spreads_points_at_powers_of_two_evenly():
    text = line_chart([geometric()], width=60, height=12, mode=ASCII, log_y=True, log_x=True)
    rows, left, cols = star_columns(text)
    plot_w = len(rows[0]) - left
    # Joined by straight lines: every column of the plot is reached, first to last.
    assert cols == set(range(plot_w))
    # A power law is a straight line on log-log: the middle of each row's stars moves right by
    # about the same step from row to row.
    centres = [np.mean([c for c, ch in enumerate(row) if ch == "*"]) for row in rows]
    steps = np.diff(centres)
    assert np.all(steps > 0) and np.abs(steps[1:-1] - np.median(steps)).max() <= 2.5
    ticks = text.plain.split("\n")[-1]
    assert "samples" in ticks and "1k" in ticks and "10k" in ticks and "100k" in ticks


def test_linear_x_crowds_the_early_points_into_the_first_columns():
    text = line_chart([geometric()], width=60, height=12, mode=ASCII, log_y=True, log_x=False)
    rows, left, _ = star_columns(text)
    plot_w = len(rows[0]) - left
    # Half the points (up to 2^12 = 4k samples of 1M) sit in the first column or two.
    first = [c for c in range(plot_w) if any(row[left + c] == "*" for row in rows[:4])]
    assert first and max(first) <= 2
    ticks = text.plain.split("\n")[-1]
    assert "1k" not in ticks and "200k" in ticks


def test_log_x_skips_points_at_zero_and_puts_a_marker_at_zero_on_the_left_edge():
    s = Series("loss", [0.0, 10.0, 100.0, 1000.0], [1.0, 0.5, 0.25, 0.125], marker="*")
    area = []
    text = line_chart([s], width=40, height=10, mode=ASCII, log_x=True, markers=[(0.0, "start"), (100.0, "relu")],
                      area=area)
    labels = text.plain.split("\n")[area[0].top - 1]
    a = area[0]
    assert labels.index("start") == a.left  # the first segment's start, at the left edge
    assert labels.index("relu") == a.left + a.column(100.0)  # the decade in the middle
    assert "*" in text.plain


def test_spans_decades():
    assert spans_decades(np.array([0.0, 100.0, 5000.0, 20000.0]))  # the zero is ignored
    assert not spans_decades(np.array([1000.0, 50000.0]))
    assert not spans_decades(np.array([np.nan, 10.0]))


def test_x_toggles_between_the_other_scale_and_automatic():
    many, few = 2.0 ** np.arange(4, 21), np.linspace(1000, 9000, 9)
    m = ChartModes()
    assert m.x_scale == AUTO and m.log_x(many) and not m.log_x(few)
    linear = m.toggle_x(many)
    assert linear.x_scale == "linear" and not linear.log_x(many)
    back = linear.toggle_x(many)
    assert back.x_scale == AUTO and back.log_x(many)  # what automatic picks: automatic again
    log = m.toggle_x(few)
    assert log.x_scale == "log" and log.log_x(few)
    assert "x log (auto)" in m.words(many) and "x linear" in linear.words(many)


def test_y_and_smoothing_cycle():
    m = ChartModes()
    assert m.toggle_y().log_y is False and m.toggle_y().toggle_y().log_y is True
    seen = [m.smoothing]
    for _ in range(len(SMOOTHING_LEVELS)):
        m = m.next_smoothing()
        seen.append(m.smoothing)
    assert sorted(set(seen)) == sorted(SMOOTHING_LEVELS) and seen[0] == seen[-1]
    assert ChartModes(smoothing=0.0).smoothing_words() == "smoothing off"
    assert "EMA 0.97" in ChartModes(smoothing=0.97).words(np.array([1.0]))


@pytest.mark.parametrize("stored, expected", [
    (("log", False, 0.6), ChartModes("log", False, 0.6)),
    (("sideways", "yes", 0.5), ChartModes()),
    ((None, None, None), ChartModes()),
])
def test_modes_from_stored_values(stored, expected):
    assert ChartModes.checked(*stored) == expected
