"""Units x time heatmaps."""

import numpy as np
import pytest

from aetui.render import NEUTRAL_RGB, DisplayMode, diverging, heatmap_text, resample
from tests.helpers.text import has_colour, is_7bit, style_at

COLOR, SHADE, ASCII = DisplayMode.COLOR, DisplayMode.SHADE, DisplayMode.ASCII


def rgb(color):
    return None if color is None else tuple(color.triplet)


@pytest.mark.parametrize("mode", list(DisplayMode))
@pytest.mark.parametrize(("units", "T"), [(1, 1), (5, 7), (100, 10_000), (3, 0)])
@pytest.mark.parametrize(("width", "height"), [(1, 1), (40, 6), (80, 25)])
def test_size_is_exactly_width_by_height(mode, units, T, width, height):
    M = np.random.default_rng(0).normal(size=(units, T))
    rows = heatmap_text(M, mode=mode, width=width, height=height).plain.split("\n")
    assert len(rows) == height
    assert {len(r) for r in rows} == {width}


def test_zero_stays_neutral():
    text = heatmap_text(np.zeros((10, 500)), mode=COLOR, width=30, height=5)
    for span in text.spans:
        assert rgb(span.style.color) == rgb(span.style.bgcolor) == NEUTRAL_RGB
    ascii_text = heatmap_text(np.zeros((10, 500)), mode=ASCII, width=30, height=5)
    assert set(ascii_text.plain) == {"=", "\n"}


def test_time_resampled_over_the_whole_history():
    M = np.concatenate([-np.ones((2, 5000)), np.ones((2, 5000))], axis=1)
    text = heatmap_text(M, mode=COLOR, width=10, height=1)
    blue, red = diverging(np.array([-1.0, 1.0]))
    assert rgb(style_at(text, 0).color) == tuple(blue)
    assert rgb(style_at(text, 9).color) == tuple(red)
    assert heatmap_text(M, mode=ASCII, width=10, height=1).plain == "     @@@@@"


def test_two_units_per_line_in_colour():
    M = np.array([[1.0], [-1.0], [0.0], [1.0]])
    text = heatmap_text(M, mode=COLOR, width=1, height=2)
    top, bottom = style_at(text, 0), style_at(text, 2)
    colours = diverging(np.array([1.0, -1.0, 0.0, 1.0]))
    assert rgb(top.color) == tuple(colours[0]) and rgb(top.bgcolor) == tuple(colours[1])
    assert rgb(bottom.color) == tuple(colours[2]) and rgb(bottom.bgcolor) == tuple(colours[3])


def test_text_modes_have_no_colour():
    M = np.random.default_rng(1).normal(size=(20, 300))
    M[2, 5] = np.nan
    assert not has_colour(heatmap_text(M, mode=SHADE, width=20, height=4))
    text = heatmap_text(M, mode=ASCII, width=20, height=4)
    assert is_7bit(text) and not has_colour(text)


def test_resample():
    a = np.arange(6.0)
    np.testing.assert_allclose(resample(a, 3, axis=0), [0.5, 2.5, 4.5])  # bin means
    np.testing.assert_allclose(resample(a[:2], 4, axis=0), [0, 0, 1, 1])  # nearest
    np.testing.assert_allclose(resample(np.array([1.0, np.nan, np.nan, 3.0]), 2, axis=0), [1, 3])
    assert np.isnan(resample(np.array([np.nan, np.nan, 1.0]), 2, axis=0)[0])
    m = np.arange(12.0).reshape(3, 4)
    assert resample(m, 2, axis=1).shape == (3, 2)
    np.testing.assert_allclose(resample(m, 2, axis=1)[0], [0.5, 2.5])
