"""Filter and code metrics: how local, contrasted, sparse and redundant a trained layer is.

Pure NumPy, run at report time (experiments, exports), never per sample during training.
Per-unit arrays plus a summary dict (mean / median over units) for each group; every metric's
one-line definition is in METRIC_DEFINITIONS so the README and the help can quote it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TOP_SHARE = 0.1  # locality: the share of pixels whose weight energy is counted
DUPLICATE_COSINE = 0.95  # two filters this similar (or more) count as duplicates
ACTIVE_THRESHOLD = 1e-3  # hard-zero activations: a code above this is "active"
DEAD_STD = 1e-2  # other activations: a unit whose code varies less than this is dead
HARD_ZERO = ("relu", "step_relu")  # activations whose code is exactly 0 when "off"

METRIC_DEFINITIONS: dict[str, str] = {
    "locality": "share of a filter's weight energy (sum of w^2) in its top 10% pixels: 1.0 = one pixel, 0.1 = uniform, ~0.27 = uniform noise",
    "spread": "RMS distance of a filter's w^2 mass from its centre of mass, over the image diagonal: 0 = one pixel, ~0.29 = uniform",
    "contrast": "peak-to-valley range of a filter (max w - min w) over its standard deviation: 2 = checkerboard, ~3.5 = uniform noise, high = a few strong peaks",
    "max_cosine": "a filter's largest (signed) cosine similarity to any other unit's filter: 1 = an exact duplicate, ~0 = unrelated",
    "duplicates": f"units whose filter has cosine >= {DUPLICATE_COSINE} with another unit's",
    "mean_code": "mean hidden activation over held-out samples and units",
    "lifetime_sparsity": "per unit over held-out samples, Treves-Rolls on |code| normalised to 0..1: 0 = same on every sample, 1 = active on one sample",
    "population_sparsity": "per held-out sample over units, Treves-Rolls on |code| normalised to 0..1: 0 = all units equally active, 1 = one unit",
    "start_cosine": "mean over units of the cosine between a unit's filter now and at the start of its segment: 1 = unchanged",
    "bias_recovery": "after a reset to 0: correlation of b with b before the reset, and mean |b| over mean |b| before",
    "dead_units": f"units that never respond: relu/step_relu code never above {ACTIVE_THRESHOLD:g} on any held-out sample; "
                  f"other activations code std over held-out samples below {DEAD_STD:g}",
}


@dataclass(frozen=True, eq=False)
class FilterMetrics:
    """Per-unit filter metrics (each (hidden,) float64) and their summary."""

    locality: np.ndarray
    spread: np.ndarray
    contrast: np.ndarray
    max_cosine: np.ndarray
    nearest: np.ndarray  # (hidden,) int64: the most similar other unit (-1 with one unit)
    duplicates: int
    summary: dict[str, float]


@dataclass(frozen=True, eq=False)
class CodeMetrics:
    """Per-unit and per-sample statistics of hidden codes, and their summary."""

    mean_code: np.ndarray  # (hidden,)
    lifetime_sparsity: np.ndarray  # (hidden,)
    population_sparsity: np.ndarray  # (samples,)
    dead: np.ndarray  # (hidden,) bool
    summary: dict[str, float]


def filter_metrics(W: np.ndarray, image_shape: tuple[int, int]) -> FilterMetrics:
    """Metrics of the filters W (hidden, rows*cols), row j being unit j's filter."""
    W = np.asarray(W, dtype=np.float64)
    rows, cols = (int(n) for n in image_shape)
    if W.ndim != 2 or W.shape[1] != rows * cols:
        raise ValueError(f"W must be (hidden, {rows * cols}) for {rows}x{cols} images, got {W.shape}")
    locality = _locality(W)
    spread = _spread(W, rows, cols)
    contrast = _contrast(W)
    max_cos, nearest = _max_cosine(W)
    duplicates = int(np.sum(max_cos >= DUPLICATE_COSINE))
    summary = {
        "locality_mean": _mean(locality), "locality_median": _median(locality),
        "spread_mean": _mean(spread), "spread_median": _median(spread),
        "contrast_mean": _mean(contrast), "contrast_median": _median(contrast),
        "max_cosine_mean": _mean(max_cos), "max_cosine_median": _median(max_cos),
        "duplicates": duplicates,
    }
    return FilterMetrics(locality, spread, contrast, max_cos, nearest, duplicates, summary)


def code_metrics(codes: np.ndarray, activation: str) -> CodeMetrics:
    """Metrics of hidden codes (samples, hidden) computed under `activation` (a kernels name)."""
    H = np.asarray(codes, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] < 1 or H.shape[1] < 1:
        raise ValueError(f"codes must be a non-empty (samples, hidden) matrix, got {H.shape}")
    mean_code = H.mean(axis=0)
    lifetime = treves_rolls(np.abs(H), axis=0)
    population = treves_rolls(np.abs(H), axis=1)
    if activation in HARD_ZERO:
        dead = ~np.any(H > ACTIVE_THRESHOLD, axis=0)
    else:
        dead = H.std(axis=0) < DEAD_STD
    summary = {
        "mean_code": float(H.mean()),
        "lifetime_sparsity_mean": _mean(lifetime), "lifetime_sparsity_median": _median(lifetime),
        "population_sparsity_mean": _mean(population), "population_sparsity_median": _median(population),
        "dead_units": int(dead.sum()), "dead_fraction": float(dead.mean()),
    }
    return CodeMetrics(mean_code, lifetime, population, dead, summary)


def unit_cosine(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Cosine between row j of A and row j of B, for every j: (n,) float64; 0 where a row is zero."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.shape != B.shape or A.ndim != 2:
        raise ValueError(f"A and B must be matrices of one shape, got {A.shape} and {B.shape}")
    norms = np.linalg.norm(A, axis=1) * np.linalg.norm(B, axis=1)
    return np.where(norms > 0, (A * B).sum(axis=1) / np.where(norms > 0, norms, 1.0), 0.0)


def bias_recovery(b: np.ndarray, before: np.ndarray) -> dict[str, float]:
    """How far a bias reset to 0 has come back: {"corr": Pearson r with `before`, "ratio": mean |b| / mean |before|}."""
    b = np.asarray(b, dtype=np.float64)
    before = np.asarray(before, dtype=np.float64)
    corr = float(np.corrcoef(b, before)[0, 1]) if b.size > 1 and b.std() > 0 and before.std() > 0 else math.nan
    scale = float(np.abs(before).mean())
    return {"corr": corr, "ratio": float(np.abs(b).mean()) / scale if scale > 0 else math.nan}


def treves_rolls(R: np.ndarray, axis: int) -> np.ndarray:
    """Treves-Rolls sparsity of non-negative responses along `axis`, normalised to [0, 1].

    S = (1 - (mean r)^2 / mean r^2) / (1 - 1/n) (Vinje & Gallant 2000); NaN where all r are 0.
    """
    R = np.asarray(R, dtype=np.float64)
    n = R.shape[axis]
    if n < 2:
        return np.full(R.shape[1 - axis], np.nan)
    m1 = R.mean(axis=axis)
    m2 = (R * R).mean(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(m2 > 0, m1 * m1 / np.where(m2 > 0, m2, 1.0), np.nan)
    return np.clip((1.0 - a) / (1.0 - 1.0 / n), 0.0, 1.0)


# -- filter metrics, one per function ----------------------------------------------------------
def _locality(W: np.ndarray) -> np.ndarray:
    energy = W * W
    k = max(1, math.ceil(TOP_SHARE * W.shape[1] - 1e-9))
    top = -np.partition(-energy, k - 1, axis=1)[:, :k]
    total = energy.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, top.sum(axis=1) / np.where(total > 0, total, 1.0), np.nan)


def _spread(W: np.ndarray, rows: int, cols: int) -> np.ndarray:
    energy = (W * W).reshape(-1, rows, cols)
    total = energy.sum(axis=(1, 2))
    safe = np.where(total > 0, total, 1.0)
    y = np.arange(rows, dtype=np.float64)[None, :, None]
    x = np.arange(cols, dtype=np.float64)[None, None, :]
    cy = (energy * y).sum(axis=(1, 2)) / safe
    cx = (energy * x).sum(axis=(1, 2)) / safe
    d2 = (y - cy[:, None, None]) ** 2 + (x - cx[:, None, None]) ** 2
    rms = np.sqrt((energy * d2).sum(axis=(1, 2)) / safe)
    diagonal = math.hypot(rows, cols)
    return np.where(total > 0, rms / diagonal, np.nan)


def _contrast(W: np.ndarray) -> np.ndarray:
    std = W.std(axis=1)
    span = W.max(axis=1) - W.min(axis=1)
    # A constant filter has no peaks or valleys: contrast 0, not 0/0.
    return np.where(std > 0, span / np.where(std > 0, std, 1.0), 0.0)


def _max_cosine(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = W.shape[0]
    if n < 2:
        return np.full(n, np.nan), np.full(n, -1, np.int64)
    norms = np.linalg.norm(W, axis=1)
    unit = W / np.where(norms > 0, norms, 1.0)[:, None]  # a zero filter has cosine 0 with everything
    cos = unit @ unit.T
    np.fill_diagonal(cos, -np.inf)
    nearest = np.argmax(cos, axis=1).astype(np.int64)
    return np.clip(cos[np.arange(n), nearest], -1.0, 1.0), nearest


def _mean(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan


def _median(a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else math.nan
