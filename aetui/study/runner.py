"""Running a study: every (condition, seed) of a StudyPlan as a saved session, measured at the end.

Each condition is a session in the store with its lineage recorded. A condition from random
init trains its samples from the seeded initial weights; a condition started from another is a
copy of that one's folder restarted from its snapshot (as `train --from` does), so each carries
the whole lineage; a restart part-way (`[[condition.then]]`) is a restart in the same session,
as the `a` key does. The trainer's random streams are keyed on (seed, step), so the results do
not depend on the order the units run in. An existing run is never overwritten silently: `mode`
says whether to refuse ("new"), finish it ("resume") or replace it ("force").

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
from aetui.study.claims import Claim, judge_claims
from aetui.study.executors import InlineExecutor
from aetui.study.metrics import METRIC_DEFINITIONS, bias_recovery, code_metrics, filter_metrics, unit_cosine
from aetui.study.plan import (Condition, StudyPlan, final_snapshot, start_snapshot, step_snapshot,
                              tenth_snapshot)
from aetui.study.saved_plan import save_plan
from aetui.study.seed_summary import summarise_seeds
from aetui.study.task_graph import Unit, run_graph
from aetui.model.engine import Engine
from aetui.model.state import ModelState
from aetui.sessions.bundle import pack_session, unpack_session
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.model.threads import compute_threads
from aetui.training.loop import Action, Steering, run_loop
from aetui.training.trainer import Trainer

MODES = ("new", "resume", "force")
SAVE_SECONDS = 10.0  # a unit's session is saved this often, so `aetui compare --study` follows it as it trains


def warm_up_plan(plan: StudyPlan, threads: int, progress=None) -> None:
    """Compile (or load) the kernels of every configuration the plan trains under, in one order.

    Before any unit runs: each activation compiles its own kernels (kernels/activation_type.py),
    and units running at the same time then only load them from Numba's cache.
    """
    seen: list[dict] = []
    for spec in plan.conditions:
        for act in spec.activations():
            config = spec.config.replace(activation=act, seed=plan.seed)
            if config.to_dict() not in seen:
                seen.append(config.to_dict())
                warm_up(progress, threads, config)


@dataclass(frozen=True)
class Progress:
    """What the study is doing, for a progress display."""

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
    samples: int  # trained in the condition's own segments (its restarts part-way included)
    total_samples: int  # over the whole lineage
    loss: str  # the loss the held-out loss is measured in
    heldout_loss: float
    start_heldout_loss: float | None  # at the condition's start
    heldout_at_tenth: float | None  # after a tenth of the condition's samples (None: diverged before)
    heldout_mse: float  # squared reconstruction error per pixel: comparable across activations
    filters: dict
    codes: dict
    bias: dict
    diverged: bool
    diverged_at: int | None  # samples into the condition when it went non-finite
    start_cosine: float  # mean per-unit cosine of the filters now vs at the condition's start
    bias_recovery: dict | None  # after a reset (a branch's or a restart's): b now vs b just before it
    heldout_curve: list[tuple[int, float | None]]  # (condition samples, held-out loss) at checkpoints

    def to_json(self) -> dict:
        c, f, k = self.condition, self.filters, self.codes
        return {
            "condition": c.name, "activation": c.activation, "init": c.source or "random",
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
class StudyResult:
    """The finished conditions, in plan order, and what was left undone (after a stop)."""

    plan: StudyPlan
    conditions: list[ConditionResult]
    pending: list[dict]  # {"condition", "session", "samples"} of conditions not finished
    interrupted: bool
    seconds: float
    sessions_dir: str

    def runs(self) -> dict[str, dict[int, dict[str, float]]]:
        """name -> seed -> the numbers the claims compare (CLAIM_METRICS; NaN where a diverged run has none)."""
        out: dict[str, dict[int, dict[str, float]]] = {}
        for r in self.conditions:
            rec, f, k = r.bias_recovery or {}, r.filters, r.codes
            out.setdefault(r.condition.name, {})[r.condition.seed] = {
                "heldout_loss": _float(r.heldout_loss), "heldout_at_tenth": _float(r.heldout_at_tenth),
                "heldout_mse": _float(r.heldout_mse), "start_heldout_loss": _float(r.start_heldout_loss),
                "locality": _float(f["locality_mean"]), "spread": _float(f["spread_mean"]),
                "contrast": _float(f["contrast_mean"]), "max_cosine": _float(f["max_cosine_mean"]),
                "duplicates": _float(f["duplicates"]), "start_cosine": _float(r.start_cosine),
                "bias_corr": _float(rec.get("corr")), "bias_ratio": _float(rec.get("ratio")),
                "mean_code": _float(k["mean_code"]), "lifetime_sparsity": _float(k["lifetime_sparsity_mean"]),
                "population_sparsity": _float(k["population_sparsity_mean"]), "dead_units": _float(k["dead_units"]),
                "diverged": 1.0 if r.diverged else 0.0}
        return out

    def claims(self) -> list[Claim]:
        """The plan's claims judged on the finished conditions (paired by seed)."""
        return judge_claims(self.plan.claims, self.runs())

    def to_json(self) -> dict:
        cfg = self.plan.config
        per_seed = [r.to_json() for r in self.conditions]
        return {
            "experiment": self.plan.title or "study", "prefix": self.plan.prefix, "sessions_dir": self.sessions_dir, "samples_per_condition": self.plan.samples,
            "data": cfg.data, "hidden": cfg.hidden, "seed": cfg.seed, "seeds": self.plan.seeds,
            "conditions": per_seed if self.plan.seeds == 1 else summarise_seeds(per_seed),
            "claims": [c.to_json() for c in self.claims()],
            "pending": self.pending, "interrupted": self.interrupted, "seconds": round(self.seconds, 3),
            "definitions": dict(METRIC_DEFINITIONS),
        }


@dataclass(frozen=True)
class UnitTask:
    """One (condition, seed) to run, as plain data a worker process or a Dask worker can take."""

    plan: StudyPlan
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


def run_study(store: SessionStore, plan: StudyPlan, *, mode: str = "new",
              progress: Callable[[Progress], None] | None = None,
              should_stop: Callable[[], bool] | None = None, threads: int = 1,
              executor=None) -> StudyResult:
    """Run (or finish) every condition of `plan` in `store`; stops early when should_stop() is true.

    A stop keeps every finished condition (and saves the ones in progress, to be finished with
    mode="resume"); the result lists both. `executor` says where the units run (default: here,
    one after another; see aetui/study/executors.py and dask_executor.py); the numbers are the
    same wherever they run.
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    conditions = plan.units()
    by_index = {c.index: c for c in conditions}
    prepare_store(store, conditions, mode)
    save_plan(store, plan, mode)
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
    return StudyResult(plan, results, pending, bool(pending), time.perf_counter() - t0, str(store.root))


def _bundles_for(store: SessionStore, plan: StudyPlan, cond: Condition) -> dict[str, bytes]:
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


def condition_start(plan: StudyPlan, cond: Condition, session) -> int:
    """The session's samples when the condition began (its first segment's start)."""
    return session.lineage[plan.first_segment(cond.spec)]["start_samples"]


def condition_samples(plan: StudyPlan, cond: Condition, session) -> int:
    """Samples the condition has trained (over its own segments, its restarts part-way included)."""
    first = plan.first_segment(cond.spec)
    return session.samples - session.lineage[first]["start_samples"] if len(session.lineage) > first else 0


def _run_condition(store: SessionStore, plan: StudyPlan, cond: Condition, progress, stop,
                   threads: int) -> ConditionResult | dict:
    if cond.source is not None and not store.exists(cond.session):
        _branch(store, plan, cond)
    config = plan.config_for(cond)
    first = plan.first_segment(cond.spec)
    steps = cond.spec.steps
    explicit = {"data": config.data, "hidden": config.hidden, "seed": config.seed}
    if not steps:  # a restart part-way may change the activation: the lineage check below covers it
        explicit["activation"] = config.activation
    trainer = acquire_trainer(store, cond.session, config, explicit)
    try:
        s = trainer.session
        expected = plan.unexpected_lineage(cond.spec, s.lineage_label(), len(s.lineage))
        if expected is not None:
            raise SessionError(f"session {cond.session} has lineage '{s.lineage_label()}', not '{expected}' "
                               f"as this study expects; use --force to replace it")
        start = s.lineage[first]["start_samples"]
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
        # then on to each restart part-way and the rest.
        tenth = max(1, total // 10)
        for target in sorted({tenth, total, *(st.at for st in steps)}):
            if not s.diverged and s.samples - start < target and not (target == total and stop()):
                run_loop(trainer, steering, samples=target - (s.samples - start), threads=threads, warm=False,
                         autosave_seconds=SAVE_SECONDS)
            reached = s.samples - start >= target and not s.diverged
            if target == tenth and target < total and reached and not _has_snapshot(s, tenth_snapshot(first)):
                trainer.snapshot(tenth_snapshot(first))
            for k, step in enumerate(steps):
                segment = first + k + 1
                if step.at == target and reached and len(s.lineage) == segment:
                    if not _has_snapshot(s, step_snapshot(segment)):
                        trainer.snapshot(step_snapshot(segment))
                    trainer.restart(step.activation, None, step.weight_scale,
                                    reset_biases=not step.keep_biases, lr=step.lr)
                    trainer.save()
        finished = s.diverged or s.samples - start >= total
        if not finished:
            return {"condition": cond.name, "seed": cond.seed, "session": cond.session, "samples": s.samples - start}
        if plan.is_source(cond.spec) and not _has_snapshot(s, final_snapshot(first)):
            trainer.snapshot(final_snapshot(first))
        result = measure(trainer, plan, cond)
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


def _branch(store: SessionStore, plan: StudyPlan, cond: Condition) -> None:
    """Create a branched condition's session from its source condition's snapshot, as `train --from`
    does (a copy of its record restarted, so each carries the whole lineage)."""
    source = plan.source_of(cond).session
    if not store.exists(source):
        raise SessionError(f"session {source} is missing; it must finish before {cond.name}")
    spec = cond.spec
    origin = Origin(source, plan.snapshot_name(spec), spec.activation, spec.weight_scale,
                    reset_biases=not spec.keep_biases, lr=spec.config.lr)
    branch_session(store, origin, cond.session, {}, start_snapshot=start_snapshot(plan.first_segment(spec)))


def measure(trainer: Trainer, plan: StudyPlan, cond: Condition) -> ConditionResult:
    """Held-out losses and filter/code/bias metrics of a trainer's current weights."""
    s = trainer.session
    first = plan.first_segment(cond.spec)
    start_samples = s.lineage[first]["start_samples"]
    held = trainer.heldout_set
    X = held.images.astype(np.float32) * np.float32(held.scale)
    codes = trainer.engine.encode(X)
    recon = trainer.engine.reconstruct(X)
    b = s.state.b
    diverged_at = None
    for e in s.history.events:
        if e["kind"] == "diverged" and e["segment"] >= first:
            diverged_at = int(e["samples"] - start_samples)
    if cond.source is None:  # the seeded initial weights, as SessionStore.create made them
        start = ModelState.initial(s.config.hidden, s.state.n_visible, s.config.tied, s.config.seed)
    else:
        start = s.read_snapshot(start_snapshot(first))[1]
    resets = [first + k + 1 for k, st in enumerate(cond.spec.steps) if not st.keep_biases and len(s.lineage) > first + k + 1]
    if resets:  # b now vs b just before the last reset
        recovery = bias_recovery(b, s.read_snapshot(step_snapshot(resets[-1]))[1].b)
    elif cond.source is not None and not cond.spec.keep_biases:
        recovery = bias_recovery(b, s.read_snapshot(plan.snapshot_name(cond.spec))[1].b)
    else:
        recovery = None
    tenth = s.read_snapshot(tenth_snapshot(first))[1] if _has_snapshot(s, tenth_snapshot(first)) else None
    return ConditionResult(
        condition=cond, session=s.name, lineage=s.lineage_label(), samples=s.samples - start_samples,
        total_samples=s.samples, loss=s.config.loss_name, heldout_loss=trainer.heldout_loss(),
        start_heldout_loss=_loss_of(plan.config_for(cond), start, held),
        heldout_at_tenth=None if tenth is None else _loss_of(plan.config_for(cond), tenth, held),
        heldout_mse=float(np.mean((recon.astype(np.float64) - X) ** 2)),
        filters=filter_metrics(s.state.W, s.image_shape).summary, codes=code_metrics(codes, s.config.activation).summary,
        bias={"min": float(b.min()), "mean": float(b.mean()), "max": float(b.max())},
        diverged=s.diverged, diverged_at=diverged_at, start_cosine=float(unit_cosine(s.state.W, start.W).mean()),
        bias_recovery=recovery, heldout_curve=heldout_curve(s, first))


def heldout_curve(session, first_segment: int, checkpoints: int = 12) -> list[tuple[int, float | None]]:
    """(condition samples, held-out loss) from segment `first_segment` on at 0, 1k, 3k, 10k, 30k... report points.

    Each checkpoint takes the first report point at or after it, so the samples are the
    report point's own; the last report point is always included.
    """
    h = session.history
    start = session.lineage[first_segment]["start_samples"]
    points = [(int(n - start), v) for n, v, sg in zip(h.columns["samples"], h.columns["heldout_loss"], h.columns["segment"])
              if sg >= first_segment and v is not None]  # points that could not afford a held-out evaluation have none
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


def _pending(store: SessionStore, plan: StudyPlan, cond: Condition) -> dict:
    samples = 0
    if store.exists(cond.session):
        try:
            s = read_session(store.path(cond.session))
            samples = condition_samples(plan, cond, s)
        except SessionError:
            pass
    return {"condition": cond.name, "seed": cond.seed, "session": cond.session, "samples": samples}


def sheet_panels(store: SessionStore, result: StudyResult) -> tuple[list[tuple[str, np.ndarray]], tuple[int, int]]:
    """(label, W) per finished condition of the first seed, labels with the headline numbers, and the
    image shape (a sheet of every seed would be as wide as seeds x conditions)."""
    panels, shape = [], None
    many = result.plan.seeds > 1
    for r in result.conditions:
        if r.condition.seed != result.plan.seed:
            continue
        s = read_session(store.path(r.session))
        shape = tuple(s.image_shape)
        seed = f", seed {r.condition.seed}" if many else ""
        label = (f"{r.condition.name}{seed}{f' (diverged at {r.diverged_at:,})' if r.diverged else ''}\n"
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
