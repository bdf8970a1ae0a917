"""Filter and code metrics on constructed filters and codes with known answers."""

import math

import numpy as np
import pytest

from aetui.study.metrics import (
    ACTIVE_THRESHOLD,
    DUPLICATE_COSINE,
    METRIC_DEFINITIONS,
    bias_recovery,
    code_metrics,
    filter_metrics,
    treves_rolls,
    unit_cosine,
)

SHAPE = (10, 10)  # 100 pixels: the top 10% are exactly 10 pixels


def _pixel(r, c, value=1.0, shape=SHAPE):
    w = np.zeros(shape)
    w[r, c] = value
    return w.ravel()


def test_single_pixel_is_maximally_local_uniform_is_not():
    W = np.stack([_pixel(3, 4), np.full(100, 0.5), -_pixel(0, 0, 2.0)])
    m = filter_metrics(W, SHAPE)
    assert m.locality[0] == pytest.approx(1.0)
    assert m.locality[1] == pytest.approx(0.1)  # 10 of 100 equal pixels
    assert m.locality[2] == pytest.approx(1.0)  # sign does not matter
    assert m.spread[0] == pytest.approx(0.0)
    # Uniform 10x10: RMS distance from the centre sqrt(2 * (10^2 - 1) / 12) over the diagonal.
    assert m.spread[1] == pytest.approx(math.sqrt(2 * 99 / 12) / math.hypot(10, 10))


def test_locality_of_a_small_blob_sits_between():
    w = np.zeros(SHAPE)
    w[4:6, 4:6] = 1.0  # 4 equal pixels: all inside the top 10
    w[0, :] = 0.1  # faint row: 10 pixels of energy 0.01
    m = filter_metrics(w.ravel()[None, :], SHAPE)
    # Top 10 = the 4 blob pixels (energy 4) + 6 faint ones (0.06) out of 4.1.
    assert m.locality[0] == pytest.approx(4.06 / 4.1)


def test_spread_of_two_pixels():
    W = (_pixel(0, 0) + _pixel(0, 6))[None, :]
    m = filter_metrics(W, SHAPE)
    assert m.spread[0] == pytest.approx(3.0 / math.hypot(10, 10))


def test_checkerboard_contrast_and_single_peak_contrast():
    checker = np.indices(SHAPE).sum(axis=0) % 2 * 2.0 - 1.0  # +1/-1, std 1, range 2
    peak = _pixel(5, 5)
    constant = np.full(100, 3.0)
    m = filter_metrics(np.stack([checker.ravel(), peak, constant]), SHAPE)
    assert m.contrast[0] == pytest.approx(2.0)
    # One 1 among 99 zeros: std = sqrt(0.01 - 0.0001), range 1.
    assert m.contrast[1] == pytest.approx(1.0 / math.sqrt(0.01 - 0.0001))
    assert m.contrast[2] == 0.0
    assert m.summary["contrast_median"] == pytest.approx(2.0)
    assert m.summary["contrast_mean"] == pytest.approx((2.0 + m.contrast[1]) / 3)


def test_identical_filters_have_cosine_one_and_are_duplicates():
    rng = np.random.default_rng(0)
    a = rng.normal(size=100)
    b = rng.normal(size=100)
    W = np.stack([a, 2.5 * a, b, -b])
    m = filter_metrics(W, SHAPE)
    assert m.max_cosine[0] == pytest.approx(1.0)
    assert m.max_cosine[1] == pytest.approx(1.0)
    assert m.nearest[0] == 1 and m.nearest[1] == 0
    # b and -b have cosine -1 with each other (signed: not duplicates); their best match is a.
    cos_ab = (a @ b) / np.linalg.norm(a) / np.linalg.norm(b)
    assert m.max_cosine[2] == pytest.approx(cos_ab)
    assert m.max_cosine[3] == pytest.approx(-cos_ab)
    assert m.max_cosine[2] < DUPLICATE_COSINE
    assert m.duplicates == 2
    assert m.summary["duplicates"] == 2


def test_orthogonal_filters_have_cosine_zero():
    W = np.stack([_pixel(0, 0), _pixel(1, 1), _pixel(2, 2)])
    m = filter_metrics(W, SHAPE)
    np.testing.assert_allclose(m.max_cosine, 0.0)
    assert m.duplicates == 0
    assert m.summary["max_cosine_mean"] == 0.0


def test_zero_filter_is_nan_for_energy_metrics_and_skipped_in_summary():
    W = np.stack([np.zeros(100), _pixel(1, 1)])
    m = filter_metrics(W, SHAPE)
    assert math.isnan(m.locality[0]) and math.isnan(m.spread[0])
    assert m.contrast[0] == 0.0
    assert m.max_cosine[0] == 0.0
    assert m.summary["locality_mean"] == pytest.approx(1.0)


def test_filter_metrics_rejects_wrong_shape():
    with pytest.raises(ValueError, match="10x10"):
        filter_metrics(np.zeros((3, 99)), SHAPE)


def test_relu_code_with_never_active_unit_counts_it_dead():
    codes = np.array([[0.0, 1.0, 0.5],
                      [0.0, 0.0, 0.5],
                      [ACTIVE_THRESHOLD / 2, 2.0, 0.5],
                      [0.0, 0.0, 0.5]])
    m = code_metrics(codes, "relu")
    np.testing.assert_array_equal(m.dead, [True, False, False])
    assert m.summary["dead_units"] == 1
    assert m.summary["dead_fraction"] == pytest.approx(1 / 3)
    # Unit 1: active on 2 of 4 samples with 1 and 2: a = (3/4)^2 / (5/4) = 0.45, S = 0.55 / 0.75.
    assert m.lifetime_sparsity[1] == pytest.approx(0.55 / 0.75)
    # Unit 2: the same on every sample.
    assert m.lifetime_sparsity[2] == pytest.approx(0.0)
    np.testing.assert_allclose(m.mean_code, [ACTIVE_THRESHOLD / 8, 0.75, 0.5])
    assert m.summary["mean_code"] == pytest.approx(codes.mean())


def test_sigmoid_constant_unit_is_dead_varying_unit_is_not():
    rng = np.random.default_rng(1)
    codes = np.column_stack([np.full(50, 0.73), rng.uniform(0.1, 0.9, 50), 0.5 + 0.001 * rng.normal(size=50)])
    m = code_metrics(codes, "sigmoid")
    np.testing.assert_array_equal(m.dead, [True, False, True])
    assert m.summary["dead_units"] == 2


def test_population_sparsity_one_hot_vs_uniform():
    one_hot = np.eye(5)
    m = code_metrics(one_hot, "relu")
    np.testing.assert_allclose(m.population_sparsity, 1.0)
    np.testing.assert_allclose(m.lifetime_sparsity, 1.0)
    assert m.summary["dead_units"] == 0
    flat = code_metrics(np.full((4, 5), 0.3), "sigmoid")
    np.testing.assert_allclose(flat.population_sparsity, 0.0)
    assert flat.summary["population_sparsity_mean"] == pytest.approx(0.0)
    assert flat.summary["dead_units"] == 5  # constant codes carry nothing


def test_treves_rolls_all_zero_is_nan():
    s = treves_rolls(np.zeros((3, 2)), axis=0)
    assert np.isnan(s).all()


def test_every_summary_metric_has_a_one_line_definition():
    for name, line in METRIC_DEFINITIONS.items():
        assert "\n" not in line and len(line) > 20, name
    for key in ("locality", "spread", "contrast", "max_cosine", "duplicates", "mean_code",
                "lifetime_sparsity", "population_sparsity", "dead_units", "start_cosine", "bias_recovery"):
        assert key in METRIC_DEFINITIONS


def test_unit_cosine_row_by_row():
    A = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    B = np.array([[2.0, 0.0], [-1.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(unit_cosine(A, B), [1.0, -1.0, 0.0])
    with pytest.raises(ValueError):
        unit_cosine(A, B[:2])


def test_bias_recovery_of_a_half_grown_bias():
    before = np.array([-2.0, 0.0, 2.0, 4.0])
    r = bias_recovery(before / 2, before)
    assert r["corr"] == pytest.approx(1.0) and r["ratio"] == pytest.approx(0.5)
    flat = bias_recovery(np.zeros(4), before)
    assert math.isnan(flat["corr"]) and flat["ratio"] == 0.0
