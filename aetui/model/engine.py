"""The bridge to the kernels: resolved codes, work buffers allocated once, typed calls."""

from __future__ import annotations

from dataclasses import dataclass

import kernels.numba_setup  # noqa: F401  (Numba's set-up, before Numba is imported)
import numba
import numpy as np

from aetui.model.aligned import aligned_empty
from aetui.model.config import TrainConfig
from aetui.model.state import DTYPE, ModelState
from kernels.activation_codes import ACTIVATIONS
from kernels.activation_type import activation
from kernels.chunk import NONFINITE_LOSS, NONFINITE_WEIGHTS, OK, train_chunk
from kernels.evaluate import add_bias_and_activate
from kernels.rng import keep_threshold
from kernels.step import gather_inputs, output_layer

_ONE = DTYPE(1.0)
_EMPTY2 = np.zeros((0, 0), DTYPE)
EVAL_BLOCK = 1000  # rows per evaluation product


@dataclass(frozen=True)
class ChunkOutcome:
    """What one kernel call did: batches trained, their per-batch losses, and the status."""

    batches: int
    losses: np.ndarray
    status: int

    @property
    def finite(self) -> bool:
        return self.status == OK

    @property
    def problem(self) -> str:
        return {OK: "", NONFINITE_LOSS: "loss", NONFINITE_WEIGHTS: "weights"}[self.status]


def pixel_table(scale: float) -> np.ndarray:
    """The 256 input values of uint8 pixels, in the engine's float type."""
    return (np.arange(256, dtype=np.float64) * scale).astype(DTYPE)


class Engine:
    """Trains a ModelState on uint8 data with one TrainConfig; buffers sized for its batch."""

    def __init__(self, config: TrainConfig, state: ModelState, max_batches: int = 4096):
        self.config = config
        self.state = state
        H, V, B = state.n_hidden, state.n_visible, config.batch
        self.act = activation(ACTIVATIONS.index(config.activation))
        self.out_act = activation(ACTIVATIONS.index(config.out_activation))
        self.ce = config.loss_name == "cross_entropy"
        self.noise_t = keep_threshold(config.noise)
        self.drop_t = keep_threshold(config.dropout)
        self.lr = float(config.learning_rate)
        self.bias_lr = float(config.bias_learning_rate)
        self._A = aligned_empty((H, B), DTYPE)  # hidden buffers are unit-major (kernels/step.py)
        self._Hh = aligned_empty((H, B), DTYPE)
        self._M = aligned_empty((H, B), DTYPE)
        self._Hd = aligned_empty((H, B), DTYPE)
        self._dHd = aligned_empty((H, B), DTYPE)
        self._kl = aligned_empty(H, DTYPE)
        self._P = aligned_empty((2 * B, H), DTYPE)
        self._Q = aligned_empty((2, B, V), DTYPE)
        self._Xc = aligned_empty((B, V), DTYPE)
        self._Yb = aligned_empty((B, V), DTYPE)
        # Gradient buffers only matter with weight decay and no momentum (see kernels/chunk.py).
        needs_g = config.weight_decay > 0 and config.momentum == 0
        self._Gw = aligned_empty((H, V), DTYPE) if needs_g else _EMPTY2
        self._Gwd = aligned_empty((H, V), DTYPE) if needs_g and not state.tied else _EMPTY2
        # The kernels take an untied decoder as its rows (H, V), as W is laid out, so that both
        # tyings run the same products (kernels/step.py); ModelState keeps W_dec (V, H).
        self._Wd = _EMPTY2 if state.tied else aligned_empty((H, V), DTYPE)
        self._vWd = _EMPTY2 if state.tied or config.momentum == 0 else aligned_empty((H, V), DTYPE)
        self._gb = aligned_empty(H, DTYPE)
        self._gc = aligned_empty(V, DTYPE)
        self._losses = np.empty(max_batches, np.float64)
        self.max_batches = max_batches

    def set_lr(self, lr: float) -> None:
        """Change the learning rate; the bias rate keeps its ratio."""
        ratio = self.bias_lr / self.lr
        self.lr = float(lr)
        self.bias_lr = float(lr) * ratio

    def train(self, data: np.ndarray, scale: float, order: np.ndarray, start: int, n_batches: int,
              seed: int, step: int) -> ChunkOutcome:
        """Train n_batches batches from order[start:], random step counter starting at `step`."""
        n_batches = min(n_batches, self.max_batches)
        B = self.config.batch
        # The kernels do not check bounds: a bad index would read outside the data.
        if start < 0 or start + n_batches * B > len(order):
            raise ValueError(f"batches {start}..{start + n_batches * B} run past the order ({len(order)} rows)")
        rows = order[start:start + n_batches * B]
        if rows.size and (rows.min() < 0 or rows.max() >= len(data)):
            raise ValueError(f"order has rows outside the data's {len(data)}")
        if data.shape[1] != self.state.n_visible or data.dtype != np.uint8:
            raise ValueError(f"data must be uint8 with {self.state.n_visible} columns, not {data.dtype} {data.shape}")
        s = self.state
        if not s.tied:  # into the decoder's rows and back: 2 x 0.3 MB per chunk at the study's size
            self._decoder_rows(s.W_dec, s.vWd, self._Wd, self._vWd)
        done, status = train_chunk(
            data, pixel_table(scale), order, np.int64(start), np.int64(n_batches),
            s.W, s.b, s.c, s.W if s.tied else self._Wd, s.tied,
            self.act, self.out_act, self.ce,
            DTYPE(self.lr), DTYPE(self.bias_lr), DTYPE(self.config.momentum), DTYPE(self.config.weight_decay),
            self.noise_t, self.drop_t, float(self.config.sparsity_target), float(self.config.sparsity_weight),
            np.uint64(seed), np.int64(step),
            s.vW, s.vb, s.vc, self._vWd,
            self._A, self._Hh, self._M, self._Hd, self._dHd, self._kl, self._P, self._Q, self._Xc, self._Yb, self._Gw, self._Gwd,
            self._gb, self._gc, self._losses, _ONE, kernel_threads())
        if not s.tied:
            self._decoder_rows(self._Wd, self._vWd, s.W_dec, s.vWd)
        return ChunkOutcome(int(done), self._losses[:done].copy(), int(status))

    def _decoder_rows(self, W_dec, vWd, into_W, into_v) -> None:
        """Copy a decoder and its velocity transposed (the velocity only with momentum)."""
        np.copyto(into_W, W_dec.T)
        if self._vWd.size:
            np.copyto(into_v, vWd.T)

    # -- evaluation (no noise, no dropout) ---------------------------------------------------
    # BLAS products with the training step's kernels for the inputs and the loss
    # (kernels/evaluate.py says why): nothing here compiles beyond what training does.
    def loss_on(self, data: np.ndarray, scale: float) -> float:
        """Mean reported loss per pixel over all rows of data (uint8 (n, V))."""
        n, V = data.shape
        lut = pixel_table(scale)
        total = 0.0
        for start in range(0, n, EVAL_BLOCK):
            rows = np.arange(start, min(start + EVAL_BLOCK, n), dtype=np.int64)
            X, Xc = np.empty((rows.size, V), DTYPE), np.empty((rows.size, V), DTYPE)
            gather_inputs(data, lut, rows, np.uint64(0), np.uint64(0), np.int64(0), X, Xc)  # no noise: X = Xc
            Z = self._decoder_product(self._codes(Xc))
            total += output_layer(Z, self.state.c, Xc, self.out_act, self.ce, X, _ONE)  # X: room for outputs
        return total / (n * V)

    def encode(self, X: np.ndarray) -> np.ndarray:
        """Hidden codes of inputs X (n, V)."""
        return self._codes(np.ascontiguousarray(X, DTYPE))

    def reconstruct(self, X: np.ndarray) -> np.ndarray:
        """Reconstructions of inputs X (n, V)."""
        return add_bias_and_activate(self._decoder_product(self.encode(X)), self.state.c, self.out_act, _ONE)

    # Weights that diverged overflow here; the loss then says so (inf or nan), as the kernels
    # did, without NumPy's RuntimeWarning on the user's terminal.
    def _codes(self, X: np.ndarray) -> np.ndarray:
        """f(X W^T + b) for float32 X (n, V)."""
        with np.errstate(over="ignore", invalid="ignore"):
            A = X @ self.state.W.T
        return add_bias_and_activate(A, self.state.b, self.act, _ONE)

    def _decoder_product(self, Hc: np.ndarray) -> np.ndarray:
        """H W_dec^T (W_dec = W^T when tied): (n, H) -> (n, V)."""
        s = self.state
        with np.errstate(over="ignore", invalid="ignore"):
            return Hc @ s.W if s.tied else Hc @ s.W_dec.T


def kernel_threads() -> np.int64 | None:
    """The kernels' threads argument: None for one thread, which compiles no threaded loop."""
    n = numba.get_num_threads()
    return None if n == 1 else np.int64(n)
