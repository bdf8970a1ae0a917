"""Hidden units seen from the UI thread: dead/saturated marks from the codes of the reconstruction inputs.

Computed with NumPy from the frame's copies (W, b, recon_inputs), never with the kernels: those
belong to the training thread. Twelve inputs x a few hundred units is microseconds of work.
"""

from __future__ import annotations

import numpy as np

from aetui.study.metrics import code_metrics

SATURATED_MARGIN = 1e-3  # a bounded unit within this of its upper bound on every input is saturated

# Bounded activations: (low, high), where the gradient vanishes.
BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "step_relu": (0.0, 1.0)}


def unit_marks(codes: np.ndarray, activation: str) -> dict[int, str]:
    """{unit: "dead" | "saturated"} for units that do not take part in the codes (n inputs, hidden).

    dead: aetui.study.metrics' definition (relu/step_relu never above its threshold, others a code that
    hardly varies) applied to the inputs given. saturated: a bounded activation at its upper bound
    (tanh: either bound) on every input; such a unit is not also called dead.
    """
    marks: dict[int, str] = {}
    if codes.ndim != 2 or codes.shape[0] < 1 or codes.shape[1] < 1 or not np.isfinite(codes).all():
        return marks
    dead = code_metrics(codes, activation).dead
    saturated = np.zeros_like(dead)
    if activation in BOUNDS:
        lo, hi = BOUNDS[activation]
        saturated = np.all(codes > hi - SATURATED_MARGIN, axis=0)
        if lo < 0:
            saturated |= np.all(codes < lo + SATURATED_MARGIN, axis=0)
    for j in np.flatnonzero(dead & ~saturated).tolist():
        marks[j] = "dead"
    for j in np.flatnonzero(saturated).tolist():
        marks[j] = "saturated"
    return marks
