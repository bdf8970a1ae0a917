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

Several activations add conditions 3-5 for each; several seeds repeat every condition per seed
(sessions PREFIX-...-seedS), the reuse runs of seed S starting from the sigmoid run of seed S.
Each (condition, seed) is one work unit, `run_unit`: a top-level function of plain data that
runs the same way in this process, in a worker process or on a Dask worker, and is idempotent
(a finished session is only measured again, a partial one is finished).
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np

from aetui.model.config import TrainConfig
from aetui.model.warm_up import warm_up
from aetui.errors import ConfigError, SessionError
from aetui.training.branch import branch_session
from aetui.training.origin import Origin
from aetui.training.launch import acquire_trainer, release_trainer
from aetui.study.claims import Claim, study_claims
from aetui.study.executors import InlineExecutor
from aetui.study.metrics import METRIC_DEFINITIONS, bias_recovery, code_metrics, filter_metrics, unit_cosine
from aetui.study.seed_summary import summarise_seeds
from aetui.study.task_graph import Unit, run_graph
from aetui.model.engine import Engine
from aetui.model.state import ModelState
from aetui.sessions.bundle import pack_session, unpack_session
from aetui.sessions.format import check_name
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.model.threads import compute_threads
from aetui.training.loop import Action, Steering, run_loop
from aetui.training.trainer import Trainer

SOURCE_SNAPSHOT = "transfer-source"  # condition 1's final weights, the start of conditions 2-4
TENTH_SNAPSHOT = "transfer-tenth-{segment}"  # a condition's weights after a tenth of its samples (its own
# segment's: a reuse condition's folder also holds the sigmoid run's, copied with it)
START_SNAPSHOT = "transfer-start"  # a transfer condition's first weights (after scaling)
MODES = ("new", "resume", "force")


@dataclass(frozen=True)
class Condition:
    """One arm of the experiment: an activation and where its first weights come from."""

    index: int  # the unit's place in the plan (conditions of the first seed, then the next seed's...)
    activation: str
    source: str | None  # None: random init; else the activation the weights were learned under
    weight_scale: float
    session: str
    seed: int = 0

    @property
    def label(self) -> str:
        """The session's expected lineage label, e.g. 'sigmoid > relu x0.1'."""
        return condition_label(self.activation, self.source, self.weight_scale)


def condition_label(activation: str, source: str | None, weight_scale: float) -> str:
    """'relu' (random init), 'sigmoid > sigmoid', 'sigmoid > relu x0.1': a condition's lineage label."""
    if source is None:
        return activation
    scale = f" x{weight_scale:g}" if weight_scale != 1.0 else ""
    return f"{source} > {activation}{scale}"


@dataclass(frozen=True)
class TransferPlan:
    """What to run: the budget per condition, the activations, the scales and the shared config."""

    samples: int = 300_000
    prefix: str = "transfer"
    activation: str | tuple[str, ...] = "relu"  # the activation(s) the learned weights are moved to
    base: str = "sigmoid"  # the activation they are learned under
    scales: tuple[float, ...] = (0.1, 1.0)
    config: TrainConfig = field(default_factory=TrainConfig)  # data, hidden, seed...; activation is set per condition
    seeds: int = 1  # every condition runs with seeds config.seed, config.seed + 1, ...

    @property
    def activations(self) -> tuple[str, ...]:
        return (self.activation,) if isinstance(self.activation, str) else tuple(self.activation)

    @property
    def seed_list(self) -> list[int]:
        return [self.config.seed + k for k in range(self.seeds)]

    def conditions(self) -> list[Condition]:
        """Every (condition, seed) unit: the first seed's conditions in the study's order, then the next seed's."""
        b, p = self.base, self.prefix
        out: list[Condition] = []
        for seed in self.seed_list:
            tail = "" if self.seeds == 1 else f"-seed{seed}"

            def add(activation: str, source: str | None, scale: float, name: str) -> None:
                out.append(Condition(len(out), activation, source, float(scale), name + tail, seed))

            add(b, None, 1.0, f"{p}-{b}")
            add(b, b, 1.0, f"{p}-{b}-{b}")
            for a in self.activations:
                for scale in self.scales:
                    add(a, b, scale, f"{p}-{b}-{a}-x{scale:g}")
                add(a, None, 1.0, f"{p}-{a}")
        return out

    def source_of(self, cond: Condition) -> Condition | None:
        """The condition whose final weights `cond` starts from (the sigmoid run of its seed), if any."""
        if cond.source is None:
            return None
        return next(c for c in self.conditions() if c.seed == cond.seed and c.source is None and c.activation == self.base)

    def validated(self) -> TransferPlan:
        if not (isinstance(self.samples, int) and self.samples >= 1):
            raise ConfigError(f"--samples must be a whole number >= 1, not {self.samples}")
        if not (isinstance(self.seeds, int) and self.seeds >= 1):
            raise ConfigError(f"--seeds must be a whole number >= 1, not {self.seeds}")
        if not self.activations:
            raise ConfigError("--activation needs at least one activation")
        for act in (*self.activations, self.base):
            self.config.replace(activation=act)  # ConfigError for an unknown activation
        if self.base in self.activations:
            raise ConfigError(f"--activation must differ from {self.base}, the activation the weights are learned under")
        if len(set(self.activations)) != len(self.activations):
            raise ConfigError(f"--activation names an activation twice: {','.join(self.activations)}")
        if not self.scales or not all(isinstance(s, (int, float)) and math.isfinite(s) and s > 0 for s in self.scales):
            raise ConfigError(f"weight scales must be positive numbers, not {self.scales}")
        if len({f"{s:g}" for s in self.scales}) != len(self.scales):
            raise ConfigError(f"--weight-scale names a scale twice: {','.join(f'{s:g}' for s in self.scales)}")
        try:
            check_name(self.prefix, "experiment prefix")
            for cond in self.conditions():
                check_name(cond.session)
        except SessionError as exc:
            raise ConfigError(f"--name {self.prefix!r}: {exc}") from None
        return self

    def config_for(self, activation: str, seed: int | None = None) -> TrainConfig:
        return self.config.replace(activation=activation, seed=self.config.seed if seed is None else seed)


def warm_up_plan(plan: TransferPlan, threads: int, progress=None) -> None:
    """Compile (or load) the kernels of every activation the plan trains under, in one order.

    Before any unit runs: each activation compiles its own kernels (kernels/activation_type.py),
    and units running at the same time then only load them from Numba's cache.
    """
    for act in (plan.base, *plan.activations):
        warm_up(progress, threads, plan.config_for(act))


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
    heldout_at_tenth: float | None  # after a tenth of the condition's samples (None: diverged before)
    heldout_mse: float  # squared reconstruction error per pixel: comparable across activations
    filters: dict
    codes: dict
    bias: dict
    diverged: bool
    diverged_at: int | None  # samples into the segment when it went non-finite
    start_cosine: float  # mean per-unit cosine of the filters now vs at the segment's start
    bias_recovery: dict | None  # transfer conditions: b now vs condition 1's b before the reset
    heldout_curve: list[tuple[int, float | None]]  # (segment samples, held-out loss) at CHECKPOINTS

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

    def runs(self) -> dict[str, dict[int, dict[str, float]]]:
        """label -> seed -> the numbers the claims compare (NaN where a diverged run has none)."""
        out: dict[str, dict[int, dict[str, float]]] = {}
        for r in self.conditions:
            rec = r.bias_recovery or {}
            out.setdefault(r.condition.label, {})[r.condition.seed] = {
                "heldout_loss": _float(r.heldout_loss), "heldout_at_tenth": _float(r.heldout_at_tenth),
                "locality": _float(r.filters["locality_mean"]), "spread": _float(r.filters["spread_mean"]),
                "contrast": _float(r.filters["contrast_mean"]), "start_cosine": _float(r.start_cosine),
                "bias_corr": _float(rec.get("corr")), "diverged": 1.0 if r.diverged else 0.0}
        return out

    def claims(self) -> list[Claim]:
        """The study's observations judged on the finished conditions (paired by seed)."""
        p = self.plan
        return study_claims(self.runs(), p.base, p.activations, tuple(float(s) for s in p.scales), condition_label)

    def to_json(self) -> dict:
        cfg = self.plan.config
        per_seed = [r.to_json() for r in self.conditions]
        return {
            "experiment": "transfer", "prefix": self.plan.prefix, "sessions_dir": self.sessions_dir, "samples_per_condition": self.plan.samples,
            "data": cfg.data, "hidden": cfg.hidden, "seed": cfg.seed, "seeds": self.plan.seeds,
            "conditions": per_seed if self.plan.seeds == 1 else summarise_seeds(per_seed),
            "claims": [c.to_json() for c in self.claims()],
            "pending": self.pending, "interrupted": self.interrupted, "seconds": round(self.seconds, 3),
            "definitions": dict(METRIC_DEFINITIONS),
        }


@dataclass(frozen=True)
class UnitTask:
    """One (condition, seed) to run, as plain data a worker process or a Dask worker can take."""

    plan: TransferPlan
    condition: Condition
    sessions_dir: str | None  # the store, when the worker sees it; None: a private folder, sessions carried in `bundles`
    bundles: dict[str, bytes] = field(default_factory=dict)  # session name -> packed session (pack_session)
    threads: int = 1


@dataclass(frozen=True)
class UnitOutcome:
    """What a unit brings back: its numbers (finished) or how far it got (stopped), and its
    session packed when it ran in a private folder."""

    result: ConditionResult | None
    pending: dict | None
    bundle: bytes | None = None


def run_unit(task: UnitTask, progress: Callable[[dict], None] | None = None,
             stop: Callable[[], bool] | None = None) -> UnitOutcome:
    """Run (or finish, or only measure) one condition for one seed; the work unit of every executor.

    progress gets plain dicts {"index", "phase", "done", "total", "loss", "diverged"}; stop() true
    ends the unit after the current chunk, its session saved.
    """
    cond = task.condition

    def report(p: Progress) -> None:
        if progress is not None:
            progress({"index": cond.index, "phase": p.phase, "done": p.done, "total": p.total,
                      "loss": p.heldout_loss, "diverged": p.diverged})

    with tempfile.TemporaryDirectory(prefix="aetui-unit-") if task.sessions_dir is None else nullcontext() as private:
        store = SessionStore(task.sessions_dir or private)
        for name, data in task.bundles.items():
            unpack_session(data, store.path(name))
        with compute_threads(task.threads):
            warm_up_plan(task.plan, task.threads)
            out = _run_condition(store, task.plan, cond, report, stop or (lambda: False), task.threads)
        bundle = pack_session(store.path(cond.session)) if private and store.exists(cond.session) else None
    if isinstance(out, ConditionResult):
        return UnitOutcome(out, None, bundle)
    return UnitOutcome(None, out, bundle)


def run_transfer(store: SessionStore, plan: TransferPlan, *, mode: str = "new",
                 progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None, threads: int = 1,
                 executor=None) -> TransferResult:
    """Run (or finish) every condition of `plan` in `store`; stops early when should_stop() is true.

    A stop keeps every finished condition (and saves the ones in progress, to be finished with
    mode="resume"); the result lists both. `executor` says where the units run (default: here,
    one after another; see aetui/study/executors.py and dask_executor.py); the numbers are the
    same wherever they run.
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    plan = plan.validated()
    conditions = plan.conditions()
    by_index = {c.index: c for c in conditions}
    prepare_store(store, conditions, mode)
    stop = should_stop or (lambda: False)

    def on_progress(message: dict) -> None:
        if progress is not None:
            progress(Progress(by_index[message["index"]], message["phase"], message["done"], message["total"],
                              message["loss"], message["diverged"]))

    executor = executor or InlineExecutor()
    executor.bind(on_progress, stop)
    local = isinstance(executor, InlineExecutor)  # the units run here: with this command's threads
    sessions_dir = str(store.root.resolve()) if executor.shares_store else None
    t0 = time.perf_counter()

    def submit(unit: Unit):
        cond = by_index[unit.key]
        bundles = {} if sessions_dir is not None else _bundles_for(store, plan, cond)
        task = UnitTask(plan, cond, sessions_dir, bundles, threads if local else 1)
        return executor.submit(run_unit, task, executor.progress_sink, executor.stop_flag)

    def finished(unit: Unit, outcome: UnitOutcome) -> bool:
        if outcome.bundle is not None:
            unpack_session(outcome.bundle, store.path(by_index[unit.key].session))
        return outcome.result is not None

    units = [Unit(c.index, None if c.source is None else plan.source_of(c).index) for c in conditions]
    with compute_threads(threads):
        warm_up_plan(plan, threads)
        outcomes = run_graph(units, executor, submit, finished, stop,
                             describe=lambda unit: f"condition {by_index[unit.key].session}")
    results = [outcomes[c.index].result for c in conditions
               if c.index in outcomes and outcomes[c.index].result is not None]
    done = {r.condition.index for r in results}
    pending = [_pending(store, plan, c) for c in conditions if c.index not in done]
    return TransferResult(plan, results, pending, bool(pending), time.perf_counter() - t0, str(store.root))


def _bundles_for(store: SessionStore, plan: TransferPlan, cond: Condition) -> dict[str, bytes]:
    """The sessions a unit needs when its worker does not see the store: its own (to finish), else its source."""
    if store.exists(cond.session):
        return {cond.session: pack_session(store.path(cond.session))}
    source = plan.source_of(cond)
    if source is None:
        return {}
    return {source.session: pack_session(store.path(source.session))}


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
    config = plan.config_for(cond.activation, cond.seed)
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
        steering = _ConditionSteering(report, stop)
        # Up to a tenth of the budget, a snapshot there (the early held-out loss, measured on its
        # weights: the history's points fall where the time pays for them, not at fixed samples),
        # then the rest.
        for target in (max(1, total // 10), total):
            if not s.diverged and s.samples - start < target and not (target == total and stop()):
                run_loop(trainer, steering, samples=target - (s.samples - start), threads=threads, warm=False)
            tenth = TENTH_SNAPSHOT.format(segment=s.segment)
            if target < total and s.samples - start >= target and not s.diverged and not _has_snapshot(s, tenth):
                trainer.snapshot(tenth)
        finished = s.diverged or s.samples - start >= total
        if not finished:
            return {"condition": cond.label, "seed": cond.seed, "session": cond.session, "samples": s.samples - start}
        if cond.source is None and cond.activation == plan.base and not _has_snapshot(s, SOURCE_SNAPSHOT):
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
    """Create a transfer condition's session from its source condition's snapshot, as `train --from`
    does (a copy of its record restarted, so each carries the whole lineage)."""
    source = plan.source_of(cond).session
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
        start = ModelState.initial(s.config.hidden, s.state.n_visible, s.config.tied, s.config.seed)
        recovery = None
    else:
        start = s.read_snapshot(START_SNAPSHOT)[1]
        recovery = bias_recovery(b, s.read_snapshot(SOURCE_SNAPSHOT)[1].b)
    start_W = start.W
    tenth_name = TENTH_SNAPSHOT.format(segment=s.segment)
    tenth = s.read_snapshot(tenth_name)[1] if _has_snapshot(s, tenth_name) else None
    return ConditionResult(
        condition=cond, session=s.name, lineage=s.lineage_label(), samples=s.samples - seg["start_samples"],
        total_samples=s.samples, loss=s.config.loss_name, heldout_loss=trainer.heldout_loss(),
        start_heldout_loss=_loss_of(s.config, start, held),
        heldout_at_tenth=None if tenth is None else _loss_of(s.config, tenth, held),
        heldout_mse=float(np.mean((recon.astype(np.float64) - X) ** 2)),
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


def _has_snapshot(session, name: str) -> bool:
    return any(snap["name"] == name for snap in session.snapshots)


def _loss_of(config: TrainConfig, state: ModelState, held) -> float | None:
    """The held-out loss of other weights than the trainer's (the segment's start, its tenth)."""
    loss = Engine(config, state, max_batches=1).loss_on(held.images, held.scale)
    return float(loss) if math.isfinite(loss) else None


def _pending(store: SessionStore, plan: TransferPlan, cond: Condition) -> dict:
    samples = 0
    if store.exists(cond.session):
        try:
            s = read_session(store.path(cond.session))
            samples = s.samples - s.lineage[-1]["start_samples"]
        except SessionError:
            pass
    return {"condition": cond.label, "seed": cond.seed, "session": cond.session, "samples": samples}


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


def _float(v) -> float:
    """A metric as a float, NaN when there is none (a diverged run's)."""
    return math.nan if v is None else float(v)


def _num(v) -> float | int | None:
    """JSON-safe number: NaN/inf become None."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    return v if math.isfinite(v) else None
