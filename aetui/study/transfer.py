"""The transfer experiment: the study's question answered with five saved sessions and numbers.

Five conditions, each a session in the store with its lineage recorded:

1. PREFIX-sigmoid               sigmoid from random init (its final weights: snapshot transfer-source)
2. PREFIX-sigmoid-sigmoid       sigmoid from (1), biases reset
3. PREFIX-sigmoid-relu-x0.1     relu from (1), weights x0.1, biases reset
4. PREFIX-sigmoid-relu-x1       relu from (1), weights x1, biases reset
5. PREFIX-relu                  relu from random init (the control)

Every condition trains the same sample budget in its own (last) segment. Conditions 2-4 are a
copy of (1)'s folder, restarted from its snapshot, so each carries the whole lineage; they depend
on (1) only, and the trainer's random streams are keyed on (seed, step), so their results do not
depend on the order they run in. An existing run is never overwritten silently: `mode` says
whether to refuse ("new"), finish it ("resume") or replace it ("force").
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from aetui.model.config import TrainConfig
from aetui.model.warm_up import warm_up
from aetui.errors import ConfigError, SessionError
from aetui.training.branch import branch_session
from aetui.training.origin import Origin
from aetui.training.launch import acquire_trainer, release_trainer
from aetui.study.metrics import METRIC_DEFINITIONS, bias_recovery, code_metrics, filter_metrics, unit_cosine
from aetui.model.state import ModelState
from aetui.sessions.format import check_name
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.model.threads import compute_threads
from aetui.training.loop import Action, Steering, run_loop
from aetui.training.trainer import Trainer

SOURCE_SNAPSHOT = "transfer-source"  # condition 1's final weights, the start of conditions 2-4
START_SNAPSHOT = "transfer-start"  # a transfer condition's first weights (after scaling)
MODES = ("new", "resume", "force")


@dataclass(frozen=True)
class Condition:
    """One arm of the experiment: an activation and where its first weights come from."""

    index: int
    activation: str
    source: str | None  # None: random init; else the activation the weights were learned under
    weight_scale: float
    session: str

    @property
    def label(self) -> str:
        """The session's expected lineage label, e.g. 'sigmoid > relu x0.1'."""
        if self.source is None:
            return self.activation
        scale = f" x{self.weight_scale:g}" if self.weight_scale != 1.0 else ""
        return f"{self.source} > {self.activation}{scale}"


@dataclass(frozen=True)
class TransferPlan:
    """What to run: the budget per condition, the activations, the scales and the shared config."""

    samples: int = 300_000
    prefix: str = "transfer"
    activation: str = "relu"  # the activation the learned weights are moved to
    base: str = "sigmoid"  # the activation they are learned under
    scales: tuple[float, ...] = (0.1, 1.0)
    config: TrainConfig = field(default_factory=TrainConfig)  # data, hidden, seed...; activation is set per condition

    def conditions(self) -> list[Condition]:
        a, b, p = self.activation, self.base, self.prefix
        out = [Condition(0, b, None, 1.0, f"{p}-{b}"), Condition(1, b, b, 1.0, f"{p}-{b}-{b}")]
        for scale in self.scales:
            out.append(Condition(len(out), a, b, float(scale), f"{p}-{b}-{a}-x{scale:g}"))
        out.append(Condition(len(out), a, None, 1.0, f"{p}-{a}"))
        return out

    def validated(self) -> TransferPlan:
        if not (isinstance(self.samples, int) and self.samples >= 1):
            raise ConfigError(f"--samples must be a whole number >= 1, not {self.samples}")
        for act in (self.activation, self.base):
            self.config.replace(activation=act)  # ConfigError for an unknown activation
        if self.activation == self.base:
            raise ConfigError(f"--activation must differ from {self.base}, the activation the weights are learned under")
        if not self.scales or not all(isinstance(s, (int, float)) and math.isfinite(s) and s > 0 for s in self.scales):
            raise ConfigError(f"weight scales must be positive numbers, not {self.scales}")
        try:
            check_name(self.prefix, "experiment prefix")
            for cond in self.conditions():
                check_name(cond.session)
        except SessionError as exc:
            raise ConfigError(f"--name {self.prefix!r}: {exc}") from None
        return self

    def config_for(self, activation: str) -> TrainConfig:
        return self.config.replace(activation=activation)


@dataclass(frozen=True)
class Progress:
    """What the experiment is doing, for a progress display."""

    condition: Condition
    phase: str  # "start", "train", "done"
    done: int  # samples trained in the condition's segment
    total: int
    heldout_loss: float | None = None
    diverged: bool = False


@dataclass(frozen=True)
class ConditionResult:
    """Numbers of one finished condition (weights at the end, codes on the held-out set)."""

    condition: Condition
    session: str
    lineage: str
    samples: int  # trained in the condition's segment
    total_samples: int  # over the whole lineage
    loss: str  # the loss the held-out loss is measured in
    heldout_loss: float
    start_heldout_loss: float | None  # at the start of the condition's segment
    heldout_mse: float  # squared reconstruction error per pixel: comparable across activations
    filters: dict
    codes: dict
    bias: dict
    diverged: bool
    diverged_at: int | None  # samples into the segment when it went non-finite
    start_cosine: float  # mean per-unit cosine of the filters now vs at the segment's start
    bias_recovery: dict | None  # transfer conditions: b now vs condition 1's b before the reset
    heldout_curve: list[tuple[int, float | None]]  # (segment samples, held-out loss) at CHECKPOINTS

    @property
    def heldout_at_tenth(self) -> float | None:
        """Held-out loss at the first report point at or after a tenth of the budget."""
        return _loss_at(self.heldout_curve, self.samples // 10)

    def to_json(self) -> dict:
        c, f, k = self.condition, self.filters, self.codes
        return {
            "condition": c.label, "activation": c.activation, "init": c.source or "random",
            "weight_scale": c.weight_scale, "session": self.session, "lineage": self.lineage,
            "samples": self.samples, "total_samples": self.total_samples, "loss": self.loss,
            "heldout_loss": _num(self.heldout_loss), "start_heldout_loss": _num(self.start_heldout_loss),
            "heldout_at_tenth": _num(self.heldout_at_tenth),
            "heldout_mse": _num(self.heldout_mse),
            "locality": _num(f["locality_mean"]), "spread": _num(f["spread_mean"]),
            "contrast": _num(f["contrast_mean"]),
            "similarity": {"max_cosine_mean": _num(f["max_cosine_mean"]), "duplicates": f["duplicates"]},
            "sparsity": {"mean_code": _num(k["mean_code"]), "lifetime": _num(k["lifetime_sparsity_mean"]),
                         "population": _num(k["population_sparsity_mean"])},
            "dead_units": k["dead_units"],
            "start_cosine": _num(self.start_cosine),
            "bias": {key: _num(v) for key, v in self.bias.items()},
            "bias_recovery": None if self.bias_recovery is None else {k2: _num(v) for k2, v in self.bias_recovery.items()},
            "heldout_curve": [[n, _num(v)] for n, v in self.heldout_curve],
            "diverged": self.diverged, "diverged_at": self.diverged_at,
            "filter_metrics": {key: _num(v) for key, v in f.items()},
            "code_metrics": {key: _num(v) for key, v in k.items()},
        }


@dataclass(frozen=True)
class TransferResult:
    """The finished conditions, in plan order, and what was left undone (after a stop)."""

    plan: TransferPlan
    conditions: list[ConditionResult]
    pending: list[dict]  # {"condition", "session", "samples"} of conditions not finished
    interrupted: bool
    seconds: float
    sessions_dir: str

    def to_json(self) -> dict:
        cfg = self.plan.config
        return {
            "experiment": "transfer", "prefix": self.plan.prefix, "sessions_dir": self.sessions_dir, "samples_per_condition": self.plan.samples,
            "data": cfg.data, "hidden": cfg.hidden, "seed": cfg.seed,
            "conditions": [r.to_json() for r in self.conditions],
            "pending": self.pending, "interrupted": self.interrupted, "seconds": round(self.seconds, 3),
            "definitions": dict(METRIC_DEFINITIONS),
        }


def run_transfer(store: SessionStore, plan: TransferPlan, *, mode: str = "new",
                 progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None, threads: int = 1) -> TransferResult:
    """Run (or finish) every condition of `plan` in `store`; stops early when should_stop() is true.

    A stop keeps every finished condition (and saves the one in progress, to be finished with
    mode="resume"); the result lists both.
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    plan = plan.validated()
    conditions = plan.conditions()
    prepare_store(store, conditions, mode)
    stop = should_stop or (lambda: False)
    t0 = time.perf_counter()
    results: list[ConditionResult] = []
    pending: list[dict] = []
    with compute_threads(threads):
        warm_up(threads=threads)
        for cond in conditions:
            if pending or stop():
                pending.append(_pending(store, plan, cond))
                continue
            result = _run_condition(store, plan, cond, progress, stop, threads)
            if isinstance(result, ConditionResult):
                results.append(result)
            else:
                pending.append(result)
    return TransferResult(plan, results, pending, bool(pending), time.perf_counter() - t0, str(store.root))


def prepare_store(store: SessionStore, conditions: list[Condition], mode: str) -> None:
    """Refuse to touch an existing run ("new"), accept it ("resume") or delete its sessions ("force")."""
    existing = [c.session for c in conditions if store.path(c.session).exists()]
    for name in existing:
        path = store.path(name)
        if not (path / "session.json").is_file() and any(path.iterdir()):
            raise SessionError(f"{path} exists and is not an aetui session; choose another --name")
    if not existing or mode == "resume":
        return
    if mode == "new":
        raise SessionError(f"{len(existing)} session(s) of this experiment already exist in {store.root} "
                           f"({', '.join(existing)}): use --resume to finish that run, --force to replace it, "
                           f"or --name for another prefix")
    for name in existing:
        store.remove(name)


def _run_condition(store: SessionStore, plan: TransferPlan, cond: Condition, progress, stop,
                   threads: int) -> ConditionResult | dict:
    if cond.source is not None and not store.exists(cond.session):
        _branch(store, plan, cond)
    config = plan.config_for(cond.activation)
    explicit = {"data": config.data, "hidden": config.hidden, "seed": config.seed, "activation": cond.activation}
    trainer = acquire_trainer(store, cond.session, config, explicit)
    try:
        s = trainer.session
        if s.lineage_label() != cond.label:
            raise SessionError(f"session {cond.session} has lineage '{s.lineage_label()}', not '{cond.label}' "
                               f"as this experiment expects; use --force to replace it")
        start = s.lineage[-1]["start_samples"]
        total = plan.samples

        def report(t: Trainer, phase: str) -> None:
            if progress is not None:
                held = t.history_view().heldout_loss
                progress(Progress(cond, phase, t.session.samples - start, total,
                                  float(held[-1]) if held.size and math.isfinite(held[-1]) else None, t.diverged))

        report(trainer, "start")
        remaining = total - (s.samples - start)
        if remaining > 0 and not s.diverged:
            run_loop(trainer, _ConditionSteering(report, stop), samples=remaining, threads=threads, warm=False)
        finished = s.diverged or s.samples - start >= total
        if not finished:
            return {"condition": cond.label, "session": cond.session, "samples": s.samples - start}
        if cond.index == 0 and not any(snap["name"] == SOURCE_SNAPSHOT for snap in s.snapshots):
            trainer.snapshot(SOURCE_SNAPSHOT)
        result = measure(trainer, cond)
        report(trainer, "done")
        return result
    finally:
        release_trainer(trainer)


class _ConditionSteering(Steering):
    """The loop's steering for one condition: progress after each chunk, stop when asked."""

    def __init__(self, report: Callable[[Trainer, str], None], stop: Callable[[], bool]):
        self.report = report
        self.stop = stop

    def between_chunks(self, trainer: Trainer) -> Action:
        return Action.STOP if self.stop() else super().between_chunks(trainer)

    def after_chunk(self, trainer: Trainer) -> None:
        self.report(trainer, "train")


def _branch(store: SessionStore, plan: TransferPlan, cond: Condition) -> None:
    """Create a transfer condition's session from condition 1's snapshot, as `train --from` does
    (a copy of its record restarted, so each carries the whole lineage)."""
    source = plan.conditions()[0].session
    if not store.exists(source):
        raise SessionError(f"session {source} (condition 1) is missing; it must finish before {cond.label}")
    origin = Origin(source, SOURCE_SNAPSHOT, cond.activation, cond.weight_scale, reset_biases=True)
    branch_session(store, origin, cond.session, {}, start_snapshot=START_SNAPSHOT)


def measure(trainer: Trainer, cond: Condition) -> ConditionResult:
    """Held-out losses and filter/code/bias metrics of a trainer's current weights."""
    s = trainer.session
    seg = s.lineage[-1]
    held = trainer.heldout_set
    X = held.images.astype(np.float32) * np.float32(held.scale)
    codes = trainer.engine.encode(X)
    recon = trainer.engine.reconstruct(X)
    b = s.state.b
    diverged_at = None
    for e in s.history.events:
        if e["kind"] == "diverged" and e["segment"] == s.segment:
            diverged_at = int(e["samples"] - seg["start_samples"])
    if cond.source is None:  # the seeded initial weights, as SessionStore.create made them
        start_W = ModelState.initial(s.config.hidden, s.state.n_visible, s.config.tied, s.config.seed).W
        recovery = None
    else:
        start_W = s.read_snapshot(START_SNAPSHOT)[1].W
        recovery = bias_recovery(b, s.read_snapshot(SOURCE_SNAPSHOT)[1].b)
    return ConditionResult(
        condition=cond, session=s.name, lineage=s.lineage_label(), samples=s.samples - seg["start_samples"],
        total_samples=s.samples, loss=s.config.loss_name, heldout_loss=trainer.heldout_loss(),
        start_heldout_loss=_loss_at(heldout_curve(s), 0), heldout_mse=float(np.mean((recon.astype(np.float64) - X) ** 2)),
        filters=filter_metrics(s.state.W, s.image_shape).summary, codes=code_metrics(codes, s.config.activation).summary,
        bias={"min": float(b.min()), "mean": float(b.mean()), "max": float(b.max())},
        diverged=s.diverged, diverged_at=diverged_at, start_cosine=float(unit_cosine(s.state.W, start_W).mean()),
        bias_recovery=recovery, heldout_curve=heldout_curve(s))


def heldout_curve(session, checkpoints: int = 12) -> list[tuple[int, float | None]]:
    """(segment samples, held-out loss) of the last segment at 0, 1k, 3k, 10k, 30k... report points.

    Each checkpoint takes the first report point at or after it, so the samples are the
    report point's own; the last report point is always included.
    """
    h = session.history
    start = session.lineage[-1]["start_samples"]
    seg = session.segment
    points = [(int(n - start), v) for n, v, sg in zip(h.columns["samples"], h.columns["heldout_loss"], h.columns["segment"])
              if sg == seg and v is not None]  # points that could not afford a held-out evaluation have none
    if not points:
        return []
    marks = [0] + [m * 10 ** k for k in range(3, 3 + checkpoints // 2) for m in (1, 3)]
    out: list[tuple[int, float | None]] = []
    for mark in marks:
        hit = next((p for p in points if p[0] >= mark), None)
        if hit is None:
            break
        if not out or out[-1][0] != hit[0]:
            out.append(hit)
    if out[-1][0] != points[-1][0]:
        out.append(points[-1])
    return [(n, None if v is None else float(v)) for n, v in out]


def _loss_at(curve: list[tuple[int, float | None]], samples: int) -> float | None:
    return next((v for n, v in curve if n >= samples), None)


def _pending(store: SessionStore, plan: TransferPlan, cond: Condition) -> dict:
    samples = 0
    if store.exists(cond.session):
        try:
            s = read_session(store.path(cond.session))
            samples = s.samples - s.lineage[-1]["start_samples"]
        except SessionError:
            pass
    return {"condition": cond.label, "session": cond.session, "samples": samples}


def sheet_panels(store: SessionStore, result: TransferResult) -> tuple[list[tuple[str, np.ndarray]], tuple[int, int]]:
    """(label, W) per finished condition, labels with the headline numbers, and the image shape."""
    panels, shape = [], None
    for r in result.conditions:
        s = read_session(store.path(r.session))
        shape = tuple(s.image_shape)
        label = (f"{r.condition.label}{f' (diverged at {r.diverged_at:,})' if r.diverged else ''}\n"
                 f"mse {r.heldout_mse:.4g}  locality {r.filters['locality_mean']:.2f}  "
                 f"contrast {r.filters['contrast_mean']:.1f}  dead {r.codes['dead_units']}")
        panels.append((label, s.state.W))
    return panels, shape


def _num(v) -> float | int | None:
    """JSON-safe number: NaN/inf become None."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None
