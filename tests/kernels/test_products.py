"""The step's own matrix products (kernels/products.py) against float64 NumPy, edges included."""

import os
import subprocess
import sys

import numpy as np
import pytest

from aetui.model.threads import compute_threads
from kernels.products import THREADED_MIN_WORK, combine_rows, rows_dot_rows
from kernels.simd import LANES32, LANES64, VECTOR_BYTES

TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}


def _random(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _close(got, want, dtype):
    scale = max(1.0, float(np.abs(want).max()))
    assert np.abs(got - want).max() <= TOLERANCE[dtype] * scale


# Sizes around the 4 x 4 blocks and the vector width: whole blocks, leftovers, fewer than one.
SHAPES = [(100, 784, 20), (4, 16, 4), (7, 37, 5), (1, 3, 1), (9, 130, 3), (13, 1, 6), (3, 70, 11)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,v,n", SHAPES)
def test_rows_dot_rows_matches_numpy(m, v, n, dtype):
    rng = np.random.default_rng(m * 1000 + v + n)
    L, R = _random(rng, (m, v), dtype), _random(rng, (n, v), dtype)
    C = np.full((m, n), np.nan, dtype)
    rows_dot_rows(L, R, C, 1)
    _close(C, L.astype(np.float64) @ R.astype(np.float64).T, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,n,k", [(20, 784, 100), (100, 784, 40), (5, 37, 3), (1, 5, 1), (9, 2 * LANES32 + 3, 7),
                                   (4, 4 * LANES32, 2), (6, LANES32, 20), (1, 5 * LANES32 + 3, 5),
                                   (7, 9 * 4 * LANES32, 3)])
def test_combine_rows_matches_numpy(m, n, k, dtype):
    rng = np.random.default_rng(m * 100 + n + k)
    L, R, C0 = _random(rng, (k, m), dtype), _random(rng, (k, n), dtype), _random(rng, (m, n), dtype)
    C = C0.copy()
    combine_rows(dtype(0.5), L, R, dtype(-2.0), C, 1)
    _close(C, 0.5 * (L.T.astype(np.float64) @ R) - 2.0 * C0.astype(np.float64), dtype)


def test_combine_rows_with_beta_zero_ignores_old_values_even_nan():
    rng = np.random.default_rng(1)
    L, R = _random(rng, (7, 20), np.float32), _random(rng, (7, 50), np.float32)
    C = np.full((20, 50), np.nan, np.float32)
    combine_rows(np.float32(1.0), L, R, np.float32(0.0), C, 1)
    _close(C, L.T.astype(np.float64) @ R, np.float32)


def test_combine_rows_rounds_each_element_once():
    # Four quarter-ulp terms add up to one ulp of 1.0: summed first they move C, added one
    # by one to C each would round away.
    ulp = np.spacing(np.float32(1.0))
    n = 3 * LANES32 + 5  # vector blocks and a scalar tail
    L = np.ones((4, 1), np.float32)
    R = np.full((4, n), ulp / 4, np.float32)
    C = np.ones((1, n), np.float32)
    combine_rows(np.float32(1.0), L, R, np.float32(1.0), C, 1)
    assert np.all(C == np.float32(1.0) + ulp)


def test_products_refuse_mismatched_shapes():
    a = np.zeros((4, 8), np.float32)
    with pytest.raises(ValueError, match="rows_dot_rows"):
        rows_dot_rows(a, np.zeros((3, 9), np.float32), np.zeros((4, 3), np.float32), 1)
    with pytest.raises(ValueError, match="combine_rows"):
        combine_rows(np.float32(1), a, np.zeros((5, 8), np.float32), np.float32(0), np.zeros((8, 8), np.float32), 1)


def test_vector_lanes_fill_one_register():
    assert VECTOR_BYTES in (32, 64)
    assert (LANES32, LANES64) == (VECTOR_BYTES // 4, VECTOR_BYTES // 8)


def _features_after_import(env):
    code = "import os, kernels.numba_setup; print(os.environ.get('NUMBA_CPU_FEATURES', ''))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize("module", ["kernels.products", "aetui.model.threads"])
def test_importing_a_kernel_user_alone_sets_numba_up_first(module, tmp_path):
    # Numba reads its settings when it is imported: whoever imports it first (a kernel, or the
    # threads module) must have run the set-up in kernels/numba_setup.py before.
    code = (f"import {module}, numba, os; print(numba.config.CACHE_DIR); "
            "print(os.path.dirname(numba.config.CACHE_DIR))")
    env = {**os.environ, "AETUI_NUMBA_CACHE_BASE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    cache_dir, base = out.stdout.split()
    assert base == str(tmp_path) and len(os.path.basename(cache_dir)) == 16


def test_wide_vectors_are_asked_for_on_avx512_and_a_user_setting_wins():
    import llvmlite.binding as llvm

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CPU_FEATURES"}
    features = _features_after_import(env)
    if llvm.get_host_cpu_features().get("avx512f"):
        assert features.endswith(",-prefer-256-bit") and "+avx512f" in features.split(",")
    else:
        assert features == ""
    assert _features_after_import({**env, "NUMBA_CPU_FEATURES": "+sse2"}) == "+sse2"


def test_a_non_finite_input_spoils_only_the_outputs_it_reaches():
    rng = np.random.default_rng(2)
    L, R = _random(rng, (3, 20), np.float32), _random(rng, (3, 40), np.float32)
    R[0, 0] = np.inf
    C = np.zeros((20, 40), np.float32)
    combine_rows(np.float32(1.0), L, R, np.float32(0.0), C, 1)
    assert not np.isfinite(C[:, 0]).any()
    _close(C[:, 1:], L.T.astype(np.float64) @ R[:, 1:], np.float32)


def test_threaded_products_equal_one_thread_bit_for_bit():
    # Above THREADED_MIN_WORK the blocks are shared among threads; each block is computed the
    # same way whichever thread takes it, so the results must not change by a bit.
    rng = np.random.default_rng(3)
    W, X = _random(rng, (102, 784), np.float32), _random(rng, (21, 784), np.float32)
    P, Q = _random(rng, (42, 102), np.float32), _random(rng, (42, 784), np.float32)
    codes = _random(rng, (102, 21), np.float32)
    assert W.size * X.shape[0] >= THREADED_MIN_WORK and W.size * Q.shape[0] >= THREADED_MIN_WORK
    results = {}
    # None is the engine's one thread (the threaded loops are not even compiled); 1 and 2 take
    # the version that can share blocks
    for n in (None, 1, 2):
        with compute_threads(n or 1):
            A = np.empty((102, 21), np.float32)
            rows_dot_rows(W, X, A, n)
            Z = np.empty((21, 784), np.float32)
            combine_rows(np.float32(1), codes, W, np.float32(0), Z, n)
            U = W.copy()
            combine_rows(np.float32(-0.01), P, Q, np.float32(1), U, n)
            results[n] = (A, Z, U)
    for none, one, two in zip(results[None], results[1], results[2]):
        assert np.array_equal(none, one) and np.array_equal(one, two)
    _close(results[2][0], W.astype(np.float64) @ X.T, np.float32)
    _close(results[2][1], codes.T.astype(np.float64) @ W, np.float32)
    _close(results[2][2], W - 0.01 * (P.T.astype(np.float64) @ Q), np.float32)
