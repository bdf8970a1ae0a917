"""The autoencoder's pass in NumPy, outside the engine: codes of some inputs for given weights.

For those who must not or need not load the kernels: the dashboard (codes of a dozen inputs,
pictures of stored weights) and the comparison of runs. float64 throughout, with the NumPy
twins of the kernels' activations (tested against them).
"""

from __future__ import annotations

import numpy as np

from aetui.model.activations import activate


def hidden_codes(W: np.ndarray, b: np.ndarray, X: np.ndarray, activation: str) -> np.ndarray:
    """Codes (n, hidden) of inputs X (n, visible) for W (hidden, visible), b (hidden); float64."""
    with np.errstate(all="ignore"):
        a = X.astype(np.float64) @ W.T.astype(np.float64) + b.astype(np.float64)
        return activate(activation, a)


def reconstructions(codes: np.ndarray, W: np.ndarray, W_dec: np.ndarray | None, c: np.ndarray,
                    out_activation: str) -> np.ndarray:
    """Outputs (n, visible) of codes (n, hidden): the decoder is W^T when tied (W_dec None), else
    W_dec (visible, hidden); float64."""
    decoder = W if W_dec is None else W_dec.T
    with np.errstate(all="ignore"):
        return activate(out_activation, codes.astype(np.float64) @ decoder.astype(np.float64) + c.astype(np.float64))
