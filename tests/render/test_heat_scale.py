"""Colour scales of the bias heatmap: robust percentiles, symlog, full range, and their legend."""

import numpy as np
import pytest

from aetui.render import DisplayMode
from aetui.render.heat_scale import HEAT_SCALES, fit_heat_scale, heat_legend
from tests.helpers.text import has_colour, is_7bit


def biases():
    """100 units near -1 .. 0.5 and two runaway units at +40 and -30."""
    rng = np.random.default_rng(0)
    b = rng.uniform(-1.0, 0.5, (100, 50))
    b[3] = 40.0
    b[7] = -30.0
    return b


def test_robust_scale_ends_at_the_percentiles_and_keeps_zero_neutral():
    b = biases()
    s = fit_heat_scale(b, "robust")
    assert s.lo == pytest.approx(np.percentile(b, 2)) and s.hi == pytest.approx(np.percentile(b, 98))
    v = s.apply(b)
    assert v[3].min() == 1.0 and v[7].max() == -1.0  # runaways at full colour, not the scale
    ordinary = np.delete(v, [3, 7], axis=0)
    assert np.abs(ordinary).max() > 0.9  # the ordinary units use the whole map
    assert s.apply(np.array([0.0]))[0] == 0.0
    assert s.beyond == pytest.approx(0.04, abs=0.002)  # 2% below the 2nd percentile, 2% above the 98th
    full = fit_heat_scale(b, "full").apply(b)
    assert np.abs(np.delete(full, [3, 7], axis=0)).max() < 0.04  # washed out by the runaways


def test_symlog_is_linear_near_zero_and_logarithmic_beyond():
    b = biases()
    s = fit_heat_scale(b, "symlog")
    assert s.hi == 40.0 and s.lo == -40.0 and s.linear_within == pytest.approx(0.4)
    v = s.apply(np.array([-40.0, -0.004, 0.0, 0.004, 0.4, 4.0, 40.0]))
    assert v[0] == -1.0 and v[-1] == 1.0 and v[2] == 0.0 and v[1] == -v[3]
    top = np.log1p(100.0)
    assert v[4] == pytest.approx(np.log1p(1.0) / top) and v[5] == pytest.approx(np.log1p(10.0) / top)
    assert np.all(np.diff(v) > 0)


@pytest.mark.parametrize("kind", HEAT_SCALES)
def test_scales_keep_nan_and_survive_empty_or_constant_data(kind):
    s = fit_heat_scale(np.array([[np.nan, 1.0, -2.0]]), kind)
    out = s.apply(np.array([[np.nan, 1.0, -2.0, np.inf]]))
    assert np.isnan(out[0, 0]) and out[0, 3] == 1.0 and out[0, 2] == -1.0
    empty = fit_heat_scale(np.zeros((0, 0)), kind)
    assert empty.apply(np.array([0.0, 1.0])).tolist() == [0.0, 0.0]
    zeros = fit_heat_scale(np.zeros((3, 3)), kind)
    assert zeros.apply(np.zeros(2)).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        fit_heat_scale(np.zeros(2), "rainbow")


@pytest.mark.parametrize("mode", list(DisplayMode))
def test_legend_writes_both_ends_and_the_scale(mode):
    s = fit_heat_scale(biases(), "robust")
    text = heat_legend(s, mode=mode, width=70)
    plain = text.plain
    assert plain.startswith(f"{s.lo:.3g} ") and f" +{s.hi:.3g}  " in plain
    assert "robust 2-98%, 4% beyond" in plain and len(plain) <= 70
    if mode is DisplayMode.ASCII:
        assert is_7bit(text) and not has_colour(text)
        assert "." in plain and "@" in plain  # the ramp's two ends
    elif mode is DisplayMode.SHADE:
        assert "\u2588" in plain and not has_colour(text)
    else:
        assert has_colour(text)
    assert heat_legend(s, mode=mode, width=30).plain.endswith("  robust")  # the words cut to the name
    narrow = heat_legend(s, mode=mode, width=16).plain
    assert len(narrow) <= 16 and "robust" not in narrow and narrow.startswith(f"{s.lo:.3g} ")
