"""Runs side by side: what a comparison shows of each run, and the numbers that make runs comparable.

A run is a saved session (read from disk) or a running one (its trainer's latest frame); both
become a RunView. Each run's own held-out loss is in its own loss (cross-entropy for a sigmoid
output, squared error otherwise), so the comparison also measures every run's squared error per
pixel on its held-out set (`heldout_mse`, the transfer experiment's `mse` column) with the same
filter and code metrics as the experiment. Pure NumPy: the dashboard computes them without
loading the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import linear_sum_assignment

from aetui.data import load_dataset, split_heldout
from aetui.errors import SessionError
from aetui.model.numpy_pass import hidden_codes, reconstructions
from aetui.model.config import TrainConfig
from aetui.sessions.session import Session
from aetui.study.metrics import code_metrics, filter_metrics
from aetui.training.frame import Frame, HistoryView

MAX_RUNS = 6
SAVED = "SAVED"  # the state of a run that is not training


@dataclass(frozen=True, eq=False)
class RunView:
    """One run as the comparison draws it, consistent at one moment."""

    name: str
    lineage: str
    state: str  # SAVED, or the trainer's state (RUNNING, PAUSED, ...)
    samples: int
    config: TrainConfig
    image_shape: tuple[int, int]
    W: np.ndarray  # (hidden, visible)
    b: np.ndarray
    c: np.ndarray
    W_dec: np.ndarray | None  # untied saved runs; None for tied runs (and live untied ones: frames lack it)
    history: HistoryView
    heldout_loss: float | None
    version: int = 0  # changes whenever anything shown changed

    @property
    def live(self) -> bool:
        return self.state != SAVED

    @property
    def loss_short(self) -> str:
        return "ce" if self.config.loss_name == "cross_entropy" else "se"


def run_of_session(session: Session, state: str = SAVED) -> RunView:
    """A saved session as a run (state RUNNING: another process trains it and saves as it goes)."""
    view = HistoryView.of(session.history, session.lineage)
    held = view.heldout_loss[np.isfinite(view.heldout_loss)]
    st = session.state
    return RunView(session.name, session.lineage_label(), state, session.samples, session.config,
                   tuple(session.image_shape), st.W, st.b, st.c, st.W_dec, view,
                   float(held[-1]) if held.size else None, session.generation)


def run_of_frame(frame: Frame) -> RunView:
    """A running session's latest frame as a run."""
    return RunView(frame.session, frame.lineage, frame.state, frame.samples, frame.config, tuple(frame.image_shape),
                   frame.W, frame.b, frame.c, None, frame.history, frame.heldout_loss, frame.version)


@lru_cache(maxsize=4)
def heldout_inputs(data: str, seed: int, heldout: float) -> np.ndarray:
    """The held-out images of a session's data as network inputs (samples, visible) float32 in [0, 1]."""
    _, held = split_heldout(load_dataset(data, seed=seed), heldout, seed)
    return held.images.astype(np.float32) * np.float32(held.scale)


def run_metrics(run: RunView) -> dict:
    """The experiment's numbers for a run's current weights, on its held-out set.

    {'heldout_mse', 'locality', 'spread', 'contrast', 'max_cosine', 'duplicates', 'mean_code',
    'lifetime_sparsity', 'dead_units'}; heldout_mse is None when the decoder is not at hand
    (an untied run that is training) or the weights are not finite.
    """
    cfg = run.config
    X = heldout_inputs(cfg.data, cfg.seed, cfg.heldout)
    W = run.W.astype(np.float32)
    codes = hidden_codes(W, run.b, X, cfg.activation)
    f = filter_metrics(W, run.image_shape).summary
    out = {"locality": f["locality_mean"], "spread": f["spread_mean"], "contrast": f["contrast_mean"],
           "max_cosine": f["max_cosine_mean"], "duplicates": f["duplicates"]}
    if np.all(np.isfinite(codes)):
        k = code_metrics(codes, cfg.activation).summary
        out.update(mean_code=k["mean_code"], lifetime_sparsity=k["lifetime_sparsity_mean"], dead_units=k["dead_units"])
    else:
        out.update(mean_code=None, lifetime_sparsity=None, dead_units=None)
    out["heldout_mse"] = None
    if (cfg.tied or run.W_dec is not None) and out["mean_code"] is not None:
        out["heldout_mse"] = reconstruction_mse(codes, W, None if cfg.tied else run.W_dec, run.c,
                                                cfg.out_activation, X)
    return out


def reconstruction_mse(codes: np.ndarray, W: np.ndarray, W_dec: np.ndarray | None, c: np.ndarray,
                       out_activation: str, X: np.ndarray) -> float | None:
    """Mean squared error per pixel of the reconstructions of X from its hidden codes (decoder
    W^T when W_dec is None); None if not finite."""
    with np.errstate(all="ignore"):  # diverged weights: inf - inf
        mse = float(np.mean((reconstructions(codes, W, W_dec, c, out_activation) - X) ** 2))
    return mse if np.isfinite(mse) else None


def snapshot_mse(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """(samples, held-out mse) at each of a session's snapshots that can be read, by samples.

    The held-out loss of a run is in its own loss; this is the same squared error for every run
    and every segment (each snapshot under the activations of the segment it was taken in), so
    curves of runs with other losses, and of one run across its segments, compare.
    """
    cfg = session.config
    X = heldout_inputs(cfg.data, cfg.seed, cfg.heldout)
    points, seen = [], set()
    for record in sorted(session.snapshots, key=lambda r: r["samples"]):
        if (record["samples"], record["segment"]) in seen:  # one weights twice (a thin-stored and a period snapshot)
            continue
        seen.add((record["samples"], record["segment"]))
        try:
            _, state = session.read_snapshot(record["name"])
        except SessionError:  # damaged: `sessions show` says so; the curve does without it
            continue
        seg = TrainConfig.from_dict(session.lineage[record["segment"]]["config"])
        codes = hidden_codes(state.W, state.b, X, seg.activation)
        mse = reconstruction_mse(codes, state.W, None if seg.tied else state.W_dec, state.c, seg.out_activation, X)
        if mse is not None:
            points.append((float(record["samples"]), mse))
    return np.array([p[0] for p in points]), np.array([p[1] for p in points])


def cosine_matrix(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Cosine between every row of A and every row of B: (len(A), len(B)) float64; 0 for zero rows."""
    A = np.asarray(A, np.float64)
    B = np.asarray(B, np.float64)
    na = np.linalg.norm(A, axis=1)
    nb = np.linalg.norm(B, axis=1)
    na[na == 0] = 1.0
    nb[nb == 0] = 1.0
    return (A / na[:, None]) @ (B / nb[:, None]).T


def pair_units(A: np.ndarray, B: np.ndarray, by_cosine: bool) -> tuple[np.ndarray, np.ndarray]:
    """For each unit j of A, the unit of B shown beside it, and the two filters' cosine.

    by_cosine False: unit j beside unit j (runs that share a past keep their units' places).
    True: the one-to-one matching of A's and B's units with the largest total cosine (Hungarian).
    Returns (order into B's units (len(A),) int64, cosine (len(A),) float64).
    """
    cos = cosine_matrix(A, B)
    n = min(len(A), len(B))
    if not by_cosine:
        order = np.arange(n)
    else:
        rows, cols = linear_sum_assignment(-np.nan_to_num(cos, nan=-1.0))
        order = np.empty(len(A), np.int64)
        order[rows] = cols
        order = order[:n]
    return order.astype(np.int64), cos[np.arange(n), order]
