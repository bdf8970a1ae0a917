"""One image -> Text in each display mode."""

import numpy as np
import pytest

from aetui.render import NAN_RGB, NEUTRAL_RGB, DisplayMode, diverging, glyphs, gray, image_text
from tests.helpers.text import has_colour, is_7bit, style_at

COLOR, SHADE, ASCII = DisplayMode.COLOR, DisplayMode.SHADE, DisplayMode.ASCII


def rgb(color):
    return None if color is None else tuple(color.triplet)


def test_two_pixels_make_one_half_block_with_map_colours():
    text = image_text(np.array([[1.0], [-0.5]]), mode=COLOR)
    assert text.plain == "▀"
    style = style_at(text, 0)
    expected = diverging(np.array([1.0, -0.5]))
    assert rgb(style.color) == tuple(expected[0])
    assert rgb(style.bgcolor) == tuple(expected[1])


def test_zero_is_neutral_and_gray_uses_lo_hi():
    style = style_at(image_text(np.array([[0.0, 3.0], [0.0, -3.0]]), mode=COLOR), 0)
    assert rgb(style.color) == rgb(style.bgcolor) == NEUTRAL_RGB
    text = image_text(np.array([[0.0], [0.5]]), mode=COLOR, cmap="gray", lo=0.0, hi=1.0)
    style = style_at(text, 0)
    assert rgb(style.color) == (0, 0, 0)
    assert rgb(style.bgcolor) == tuple(gray(np.array([0.5]))[0])


def test_odd_height_pads_last_row_with_no_background():
    text = image_text(np.array([[1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]), mode=COLOR)
    assert text.plain.split("\n") == ["▀▀", "▀▀"]
    last = style_at(text, 3)
    assert rgb(last.color) == tuple(diverging(np.array([1.0]))[0])
    assert last.bgcolor is None


def test_nan_pixel_is_drawn_as_nan():
    text = image_text(np.array([[np.nan], [1.0]]), mode=COLOR)
    assert rgb(style_at(text, 0).color) == NAN_RGB
    assert image_text(np.array([[np.nan], [np.nan]]), mode=SHADE).plain == glyphs(SHADE).nan
    assert image_text(np.array([[np.nan], [1.0]]), mode=ASCII).plain == glyphs(ASCII).nan


@pytest.mark.parametrize("mode", list(DisplayMode))
@pytest.mark.parametrize(("h", "w"), [(28, 28), (7, 3), (1, 1), (2, 10)])
def test_footprint_is_w_cells_by_half_h_lines_in_every_mode(mode, h, w):
    img = np.random.default_rng(0).normal(size=(h, w))
    rows = image_text(img, mode=mode).plain.split("\n")
    assert len(rows) == (h + 1) // 2
    assert all(len(r) == w for r in rows)


def test_shade_uses_ramp_without_colour():
    text = image_text(np.array([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]), mode=SHADE)
    assert text.plain == " ▒█"  # -1 darkest, zero the middle of the ramp, +1 brightest
    assert not has_colour(text)
    text = image_text(np.array([[0.0, 0.0], [1.0, 1.0]]), mode=SHADE, cmap="gray")
    assert text.plain == "▒▒"  # the mean of a black and a white pixel


def test_ascii_is_7bit_and_uncoloured():
    img = np.random.default_rng(1).normal(size=(28, 28))
    img[3, 4] = np.nan
    img[5, 6] = np.inf
    text = image_text(img, mode=ASCII)
    assert is_7bit(text)
    assert not has_colour(text)
    assert not text.spans
    assert image_text(np.array([[-1.0, 0.0, 1.0]]), mode=ASCII).plain == " =@"


def test_styles_are_cached_between_frames():
    img = np.array([[1.0, -1.0], [0.25, 0.0]])
    a, b = image_text(img, mode=COLOR), image_text(img * 2, mode=COLOR)
    assert len(a.spans) == len(b.spans) == 2
    assert all(x.style is y.style for x, y in zip(a.spans, b.spans))


def test_equal_neighbours_share_one_span():
    text = image_text(np.ones((2, 10)), mode=COLOR)
    assert len(text.spans) == 1 and text.spans[0].end == 10


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        image_text(np.zeros(3), mode=COLOR)
    with pytest.raises(ValueError):
        image_text(np.zeros((2, 2)), mode=COLOR, cmap="viridis")
