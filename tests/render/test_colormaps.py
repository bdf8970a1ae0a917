"""Colour maps and normalisation."""

import warnings

import numpy as np
import pytest
from rich.color import Color, ColorSystem

from aetui.render import NAN_RGB, NEUTRAL_RGB, diverging, gray, normalize


def _downgrade(rgb, system):
    return Color.from_rgb(*(int(c) for c in rgb)).downgrade(system).number


def test_gray_ends_and_shape():
    out = gray(np.array([[0.0, 1.0], [0.5, np.nan]]))
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    assert tuple(out[0, 0]) == (0, 0, 0)
    assert tuple(out[0, 1]) == (255, 255, 255)
    assert out[1, 0, 0] == out[1, 0, 1] == out[1, 0, 2]
    assert tuple(out[1, 1]) == NAN_RGB


def test_diverging_zero_is_exactly_neutral():
    out = diverging(np.array([0.0, -0.0, 1e-9, -1e-9]))
    assert all(tuple(c) == NEUTRAL_RGB for c in out)


def test_diverging_sign_and_magnitude():
    neg, zero, pos = diverging(np.array([-1.0, 0.0, 1.0]))
    assert neg[2] > neg[0]  # blue side
    assert pos[0] > pos[2]  # red side
    assert tuple(diverging(np.array([np.nan]))[0]) == NAN_RGB
    # Lightness grows with |v| on both sides, so magnitude reads without hue.
    t = np.linspace(0, 1, 33)
    for side in (-1, 1):
        light = diverging(side * t).astype(int).sum(axis=1)
        assert np.all(np.diff(light) >= 0)
        assert light[-1] > light[0]


def test_diverging_values_stay_distinct_after_256_and_16_colour_downgrade():
    values = np.linspace(-1, 1, 9)
    rgb = diverging(values)
    eight = [_downgrade(c, ColorSystem.EIGHT_BIT) for c in rgb]
    assert len(set(eight)) == 9, eight
    standard = [_downgrade(c, ColorSystem.STANDARD) for c in rgb]
    assert len(set(standard)) == 9, standard
    # The neutral lands on the 256-colour grey ramp (232-255), not a tinted cube colour.
    assert 232 <= eight[4] <= 255


def test_gray_distinct_after_256_downgrade():
    rgb = gray(np.linspace(0, 1, 9))
    assert len({_downgrade(c, ColorSystem.EIGHT_BIT) for c in rgb}) == 9


def test_maps_clip_out_of_range():
    assert tuple(diverging(np.array([5.0]))[0]) == tuple(diverging(np.array([1.0]))[0])
    assert tuple(gray(np.array([-3.0]))[0]) == (0, 0, 0)


def test_normalize_symmetric():
    a = np.array([-2.0, 0.0, 1.0, 4.0])
    np.testing.assert_allclose(normalize(a), [-0.5, 0.0, 0.25, 1.0])
    np.testing.assert_allclose(normalize(a, lo=-1, hi=1), [-1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(normalize(a, hi=8), [-0.25, 0.0, 0.125, 0.5])


def test_normalize_minmax():
    a = np.array([2.0, 4.0, 6.0])
    np.testing.assert_allclose(normalize(a, how="minmax"), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(normalize(a, how="minmax", lo=0, hi=4), [0.5, 1.0, 1.0])


def test_normalize_degenerate_inputs_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(normalize(np.zeros(3)), [0, 0, 0])
        np.testing.assert_array_equal(normalize(np.full(3, 7.0), how="minmax"), [0.5] * 3)
        assert np.isnan(normalize(np.full(3, np.nan))).all()
        assert np.isnan(normalize(np.full(3, np.nan), how="minmax")).all()
        out = normalize(np.array([np.nan, np.inf, -np.inf, 2.0, -1.0]))
        assert np.isnan(out[0])
        np.testing.assert_allclose(out[1:], [1.0, -1.0, 1.0, -0.5])  # inf ignored for the scale
        out = normalize(np.array([np.inf, -np.inf, 1.0, 3.0]), how="minmax")
        np.testing.assert_allclose(out, [1.0, 0.0, 0.0, 1.0])
        assert normalize(np.array([])).shape == (0,)


def test_normalize_rejects_unknown_method():
    with pytest.raises(ValueError):
        normalize(np.zeros(2), how="log")
