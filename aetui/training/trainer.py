"""The trainer: owns a session, runs kernel chunks, records history, applies controls.

Single-threaded by design: every caller trains it through the one loop in
aetui.training.loop, which applies commands only between chunks.
"""

from __future__ import annotations

import math
import time

import numpy as np

from aetui.data.order import classes_in_turn, epoch_order
from aetui.model.config import TrainConfig, restart_weight_scale
from aetui.data import Dataset
from aetui.model.engine import Engine
from aetui.errors import ConfigError, SessionError
from aetui.training.frame import DIVERGED, RUNNING, Frame, HistoryView
from aetui.training.report_budget import HELDOUT_SUBSET, ReportBudget, budget_clock
from aetui.model.state import ModelState
from aetui.sessions.lineage import new_segment, now_iso
from aetui.sessions.session import Session
from aetui.sessions.weight_store import THIN, store_weights

TARGET_CHUNK_SECONDS = 0.03  # a chunk is short enough to pause, step or quit promptly
REPORT_SAMPLES = 5000  # at most this many samples between report points (more for big held-out sets)


class Trainer:
    """Trains `session` on `train`, reporting held-out loss on `heldout`."""

    def __init__(self, session: Session, train: Dataset, heldout: Dataset):
        self.session = session
        self.train_set = train
        self.heldout_set = heldout
        self.engine = Engine(session.config, session.state)
        self.batches_per_epoch = len(train) // session.config.batch
        if self.batches_per_epoch < 1:
            raise ConfigError(f"--batch {session.config.batch} is larger than the training set ({len(train)} samples)")
        self._order_epoch = -1
        self._order = np.zeros(0, np.int64)
        self._seconds_per_batch = 0.0
        self._recent = []  # per-batch losses since the last report point
        self._report_batches = max(1, math.ceil(max(REPORT_SAMPLES, 10 * len(heldout)) / session.config.batch))
        self._next_report = self._next_report_after(session.step) if len(session.history) else session.step
        self._throughput = (time.perf_counter(), session.samples)
        self.samples_per_second = 0.0
        self.message = ""
        self._view = None
        self._recon_labels, self._recon_inputs = reconstruction_inputs(train, heldout)
        self.damaged_snapshots = session.snapshot_problems()  # name -> problem, shown beside each
        self.budget = ReportBudget()
        self.heldout_subset = heldout_subset(heldout, HELDOUT_SUBSET, session.config.seed)

    # -- facts -----------------------------------------------------------------------------------
    @property
    def config(self) -> TrainConfig:
        return self.session.config

    @property
    def diverged(self) -> bool:
        return self.session.diverged

    @property
    def epoch(self) -> int:
        return self.session.step // self.batches_per_epoch

    @property
    def lr(self) -> float:
        return self.engine.lr

    def heldout_loss(self) -> float:
        return self.engine.loss_on(self.heldout_set.images, self.heldout_set.scale)

    # -- training ----------------------------------------------------------------------------------
    def train_chunk(self, max_batches: int | None = None) -> int:
        """Train one chunk (~30 ms); returns batches done (0 once diverged)."""
        if self.session.diverged:
            return 0
        begin, spent = budget_clock(), self.budget.spent
        try:
            return self._train_chunk(max_batches)
        finally:  # the chunk's time, less its report work, is what pays for reports
            self.budget.add_training(budget_clock() - begin - (self.budget.spent - spent))

    def _train_chunk(self, max_batches: int | None) -> int:
        s = self.session
        if len(s.history) == 0:
            self._report()
        in_epoch = s.step % self.batches_per_epoch
        n = self.batches_per_epoch - in_epoch
        n = max(1, min(n, self._next_report - s.step, self._next_period() - s.step))
        if self._seconds_per_batch > 0:
            n = min(n, max(1, int(TARGET_CHUNK_SECONDS / self._seconds_per_batch)))
        else:
            n = min(n, 8)
        if max_batches is not None:
            n = min(n, max_batches)
        n = max(1, min(n, self.engine.max_batches))
        order = self._epoch_order(s.step // self.batches_per_epoch)
        before = s.state.copy()
        t0 = time.perf_counter()
        out = self.engine.train(self.train_set.images, self.train_set.scale, order, in_epoch * s.config.batch,
                                n, s.config.seed, s.step)
        dt = time.perf_counter() - t0
        if out.batches:
            per = dt / out.batches
            self._seconds_per_batch = per if self._seconds_per_batch == 0 else 0.8 * self._seconds_per_batch + 0.2 * per
        if not out.finite:
            self._diverge(before, out)
            return out.batches
        s.step += out.batches
        s.dirty = True
        self._recent.extend(out.losses.tolist())
        done = s.step - self._segment_start()
        if done & (done - 1) == 0:  # after 2^n batches of this segment
            self._period()
        if s.step >= self._next_report:
            self._report()
        return out.batches

    def _epoch_order(self, epoch: int) -> np.ndarray:
        if epoch != self._order_epoch:
            cfg = self.config
            self._order = epoch_order(self.train_set.labels, cfg.batch, cfg.seed, epoch, cfg.balanced)
            self._order_epoch = epoch
        return self._order

    def _segment_start(self) -> int:
        return self.session.lineage[-1]["start_step"]

    def _next_period(self) -> int:
        done = self.session.step - self._segment_start()
        return self._segment_start() + (1 << done.bit_length())

    def _next_report_after(self, step: int) -> int:
        # Dense at the start of each segment (the log-scale chart), every _report_batches later,
        # and less often once the history thinned (as sparse as its thinned points).
        every = self._report_batches * self.session.history.report_stride
        return step + max(1, min(every, (step - self._segment_start()) // 8))

    def _diverge(self, before: ModelState, out) -> None:
        s = self.session
        s.state.restore(before)
        s.diverged = True
        s.dirty = True
        at = s.step + out.batches
        self.message = (f"diverged: the {out.problem} went non-finite at batch {at:,} "
                        f"(sample {at * s.config.batch:,}); weights kept from sample {s.samples:,}")
        # at the batch that went non-finite, not at the kept step the other events would take
        self.note("diverged", what=out.problem, step=at, samples=at * s.config.batch, kept_samples=s.samples)

    # -- records -------------------------------------------------------------------------------------
    def _report(self) -> None:
        """A history point, if the time trained pays for it (see report_budget.py)."""
        s = self.session
        h = s.history
        first = not len(h) or h.columns["segment"][-1] != s.segment
        self._next_report = self._next_report_after(s.step)
        if not self.budget.affords_point(first):
            return
        start = budget_clock()
        n = self.budget.heldout_size(len(self.heldout_set), len(self.heldout_subset), first)
        held = self.heldout_set if n == len(self.heldout_set) else self.heldout_subset
        heldout_loss = self.engine.loss_on(held.images, held.scale) if n else None
        eval_seconds = budget_clock() - start
        now = time.perf_counter()
        t_prev, n_prev = self._throughput
        if now > t_prev and s.samples > n_prev:
            self.samples_per_second = (s.samples - n_prev) / (now - t_prev)
        self._throughput = (now, s.samples)
        train_loss = float(np.mean(self._recent)) if self._recent else None
        self._recent = []
        W, b = s.state.W, s.state.b
        s.history.add_point(
            W, b, s.state.c, samples=s.samples, step=s.step, segment=s.segment, train_loss=train_loss,
            heldout_loss=heldout_loss, heldout_n=n, b_min=float(b.min()), b_mean=float(b.mean()),
            b_max=float(b.max()), w_min=float(W.min()), w_mean=float(W.mean()), w_max=float(W.max()), lr=self.lr,
            samples_per_second=self.samples_per_second, time=now_iso())
        store_weights(s)  # the history view's weights near this point (thinned within a disk budget)
        self.budget.add_point(budget_clock() - start, n, eval_seconds, first)

    def _period(self) -> None:
        """The study's milestone after 2^n mini-batches of a segment: stats plus a weight snapshot."""
        s = self.session
        start = budget_clock()
        batches = s.step - self._segment_start()
        W, b = s.state.W, s.state.b
        record = {"segment": s.segment, "batches": batches, "samples": s.samples,
                  "w_min": float(W.min()), "w_mean": float(W.mean()), "w_max": float(W.max()),
                  "b_min": float(b.min()), "b_mean": float(b.mean()), "b_max": float(b.max()),
                  "cost": float(np.mean(self._recent[-8:])) if self._recent else None}
        s.history.add_period(record)
        name = f"seg{s.segment}-period{batches.bit_length() - 1:02d}"
        if not any(snap["name"] == name for snap in s.snapshots):
            s.write_snapshot(name, "period", s.state, {"batches": batches}, deferred=True)
        self.budget.add_other(budget_clock() - start)

    # -- controls ----------------------------------------------------------------------------------------
    def set_lr(self, lr: float) -> None:
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ConfigError(f"learning rate must be a positive number, not {lr}")
        previous = self.engine.lr
        self.engine.set_lr(lr)
        self.session.config = self.session.config.replace(lr=float(lr))
        self.note("lr", lr=float(lr), previous=previous)

    def snapshot(self, name: str | None = None) -> dict:
        """Save the current weights as a named snapshot; returns its record."""
        s = self.session
        if name is None:
            n = sum(1 for snap in s.snapshots if snap["kind"] == "user") + 1
            name = f"snap{n}"
            while any(snap["name"] == name for snap in s.snapshots):
                n += 1
                name = f"snap{n}"
        record = s.write_snapshot(name, "user", s.state)
        self.note("snapshot", name=name)
        return record

    def note(self, kind: str, **details) -> dict:
        """Record an event of `kind` at the current step (lr, snapshot, pause, save_failed, ...);
        details may give another step and samples."""
        s = self.session
        event = {"kind": kind, "step": s.step, "samples": s.samples, "segment": s.segment, **details,
                 "time": now_iso()}
        s.history.add_event(event)
        s.dirty = True
        self._view = None
        return event

    def restart(self, activation: str, source: str | None = None, weight_scale: float | None = None,
                reset_biases: bool = True, lr: float | None = None, origin: dict | None = None) -> dict:
        """Open a new segment under `activation` from the current weights or snapshot `source`.

        `origin` is added to the segment's source record: the session (and samples) the weights
        came from when this session is a branch of another (training/branch.py).
        """
        s = self.session
        if source in (None, "current"):
            src_state, src_activation = s.state, s.config.activation
            src_record = {"kind": "current", "segment": s.segment, "step": s.step}
        else:
            try:
                record, src_state = s.read_snapshot(source)
            except SessionError as exc:
                self.damaged_snapshots[source] = str(exc)
                self._view = None
                raise
            src_activation = record["activation"]
            src_record = {"kind": "snapshot", "name": source, "segment": record["segment"], "step": record["step"]}
        src_record.update(origin or {})
        config = s.config.replace(activation=activation, lr=lr)
        scale = restart_weight_scale(src_activation, activation) if weight_scale is None else float(weight_scale)
        if not (math.isfinite(scale) and scale > 0):
            raise ConfigError(f"weight scale must be a positive number, not {weight_scale}")
        W = src_state.W * np.float32(scale)
        W_dec = None if config.tied else src_state.W_dec * np.float32(scale)
        zeros_b, zeros_c = np.zeros_like(src_state.b), np.zeros_like(src_state.c)
        new_state = ModelState.from_weights(W, zeros_b if reset_biases else src_state.b,
                                            zeros_c if reset_biases else src_state.c, W_dec)
        s.state = new_state
        s.config = config
        s.diverged = False
        segment = new_segment(len(s.lineage), config, src_record, src_activation, scale, reset_biases,
                              s.step, s.samples)
        s.lineage.append(segment)
        self.note("restart", activation=activation, source=src_record, weight_scale=scale,
                  reset_biases=bool(reset_biases), lr=None if lr is None else float(lr))
        self.engine = Engine(config, new_state)
        self._recent = []
        self._seconds_per_batch = 0.0
        s.dirty = True
        self._report()
        self.message = f"restarted under {activation} (weights x{scale:g}{', biases reset' if reset_biases else ''})"
        return segment

    def save(self) -> None:
        self.session.save()

    # -- frames for the UI -------------------------------------------------------------------------------
    def history_view(self) -> HistoryView:
        h = self.session.history
        if self._view is None or self._view.version != h.version:
            self._view = HistoryView.of(h, self.session.lineage)
        return self._view

    def frame(self, version: int, state: str, with_reconstructions: bool = True) -> Frame:
        s = self.session
        view = self.history_view()
        recon = self.engine.reconstruct(self._recon_inputs) if with_reconstructions else np.zeros_like(self._recon_inputs)
        return Frame(
            version=version, state=DIVERGED if s.diverged else state, message=self.message, session=s.name,
            saved=not s.dirty, config=s.config, lineage=s.lineage_label(), segment=s.segment, samples=s.samples,
            step=s.step, epoch=self.epoch, lr=self.lr,
            # the rate is of training going on: a paused or stopped run trains at 0
            samples_per_second=self.samples_per_second if state == RUNNING and not s.diverged else 0.0,
            train_loss=last_finite(view.train_loss), heldout_loss=last_finite(view.heldout_loss), image_shape=s.image_shape,
            data_name=s.config.data, W=s.state.W.copy(), b=s.state.b.copy(), c=s.state.c.copy(), history=view,
            # thin-stored snapshots are many and the history view asks for them: not in every frame
            snapshots=tuple(dict(x, problem=self.damaged_snapshots[x["name"]]) if x["name"] in self.damaged_snapshots
                            else dict(x) for x in s.snapshots if x["kind"] != THIN), recon_labels=self._recon_labels,
            recon_inputs=self._recon_inputs, recon_outputs=recon, path=str(s.path), saved_samples=s.saved_samples)


def reconstruction_inputs(train: Dataset, heldout: Dataset) -> tuple[tuple[str, ...], np.ndarray]:
    """One held-out sample of each class, an all-zero input and the mean training input, in [0, 1]."""
    labels, rows = [], []
    for k in range(min(heldout.n_classes, 10)):
        idx = np.flatnonzero(heldout.labels == k)
        if idx.size:
            labels.append(str(k))
            rows.append(heldout.images[idx[0]].astype(np.float32) * np.float32(heldout.scale))
    labels += ["zero", "mean"]
    rows.append(np.zeros(train.n_visible, np.float32))
    rows.append(train.images.mean(axis=0, dtype=np.float64).astype(np.float32) * np.float32(train.scale))
    return tuple(labels), np.ascontiguousarray(np.stack(rows))


def last_finite(a: np.ndarray) -> float | None:
    """The last finite value of a history column, or None."""
    finite = a[np.isfinite(a)]
    return float(finite[-1]) if finite.size else None


def heldout_subset(heldout: Dataset, size: int, seed: int) -> Dataset:
    """A fixed subset of the held-out set for report points that cannot afford all of it:
    the classes taken in turn, each in a seeded order, so it stays stratified."""
    if len(heldout) <= size:
        return heldout
    chosen = classes_in_turn(heldout.labels, np.random.default_rng([seed, 2]))[:size]
    return heldout.subset(np.sort(chosen), f"{heldout.name}[{size}]")
