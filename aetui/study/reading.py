"""Reading a study from its saved sessions, read-only: `aetui.open_study(prefix)`.

A study keeps no table of its own: its numbers are measured on the sessions it leaves
(PREFIX-NAME, PREFIX-NAME-seedS). `open_study` reads the plan it ran with (PREFIX.plan.toml
beside the sessions, aetui/study/saved_plan.py), or, for a transfer experiment saved before
plans were kept, works the plan out from the sessions' names and lineages; then it measures
each finished condition with the study's own code (`runner.measure` on a Trainer built over the
session, never locked, never saved), so its rows, means, intervals and verdicts are those
`aetui study run --json` printed. Conditions not finished (a stopped or still running study)
are `pending`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aetui.errors import SessionError
from aetui.model.config import ACTIVATIONS
from aetui.model.threads import compute_threads
from aetui.sessions.format import check_name
from aetui.sessions.optional import require
from aetui.sessions.reading import SessionRecord, open_session
from aetui.sessions.store import SessionStore
from aetui.study.plan import Condition, StudyPlan
from aetui.study.runner import StudyResult, condition_samples, measure, warm_up_plan
from aetui.study.saved_plan import read_saved_plan
from aetui.study.seed_summary import NESTED, summarise_seeds
from aetui.study.transfer import TransferPlan
from aetui.training.launch import trainer_for

RUN_FIELDS = ("run", "condition", "seed")  # the long history table's first columns


class StudyRecord:
    """A study as read from its sessions by `open_study`."""

    def __init__(self, result: StudyResult, runs: dict[str, SessionRecord], by_session: dict[str, Condition]):
        self._result = result
        self._runs = runs
        self._conditions = by_session

    def __repr__(self) -> str:
        p = self._result.plan
        return (f"<StudyRecord {p.prefix}: {len(self._result.conditions)} finished runs of "
                f"{len(p.units())}, {p.seeds} seed{'s' if p.seeds != 1 else ''}>")

    @property
    def prefix(self) -> str:
        return self._result.plan.prefix

    @property
    def sessions_dir(self) -> Path:
        return Path(self._result.sessions_dir)

    @property
    def seeds(self) -> list[int]:
        return self._result.plan.seed_list

    @property
    def samples(self) -> int:
        """Samples each condition trains in its own segment."""
        return self._result.plan.samples

    @property
    def results(self) -> list[dict]:
        """One row per finished condition and seed: condition, activation, init, weight_scale, seed,
        session, and every number the experiment reports (nested ones flattened with '_', e.g.
        sparsity_lifetime, bias_recovery_corr, filter_metrics_locality_mean)."""
        return [flat_row(r.to_json(), r.condition.seed) for r in self._result.conditions]

    @property
    def conditions(self) -> list[dict]:
        """Per condition: each number's mean over the seeds and its 95% interval (`KEY_ci`: [low,
        high], None with one seed), `seeds`, `diverged_runs` and the per-seed `runs`."""
        return summarise_seeds([r.to_json() for r in self._result.conditions])

    @property
    def claims(self) -> list[dict]:
        """The study's observations on paired seeds: observation, statement, effect, ci, pairs, verdict."""
        return [c.to_json() for c in self._result.claims()]

    @property
    def pending(self) -> list[dict]:
        """Conditions not finished: {'condition', 'seed', 'session', 'samples'} (samples trained so far)."""
        return list(self._result.pending)

    @property
    def runs(self) -> dict[str, SessionRecord]:
        """Session name -> its SessionRecord, for every session of the study (finished or not)."""
        return dict(self._runs)

    @property
    def result(self) -> StudyResult:
        """The finished conditions' numbers and the pending ones, as `run_study` returns them."""
        return self._result

    @property
    def plan(self) -> StudyPlan:
        """The plan the study ran with."""
        return self._result.plan

    def to_json(self) -> dict:
        """The object `aetui study run --json` prints (seconds: 0, nothing was run)."""
        return self._result.to_json()

    def history(self) -> dict[str, np.ndarray]:
        """Every run's history in one long table: run, condition, seed, then SessionRecord.table()'s columns."""
        parts = []
        for name, rec in self._runs.items():
            cond = self._conditions[name]
            table = rec.table()
            n = len(rec)
            parts.append({"run": np.full(n, name, dtype=object), "condition": np.full(n, cond.label, dtype=object),
                          "seed": np.full(n, cond.seed, dtype=np.int64), **table})
        if not parts:
            return {}
        keys = list(parts[0])
        return {k: np.concatenate([p[k] for p in parts]) for k in keys}

    def to_pandas(self, table: str = "results"):
        """A pandas DataFrame of `results` (default), `history`, `conditions` or `claims`; needs pandas (aetui[data])."""
        pd = require("pandas", "to_pandas()")
        if table == "results":
            return pd.DataFrame(self.results)
        if table == "history":
            return pd.DataFrame(self.history())
        if table == "conditions":
            return pd.DataFrame([flat_row({k: v for k, v in c.items() if k not in ("runs", "sessions")}, None)
                                 for c in self.conditions])
        if table == "claims":
            return pd.DataFrame(self.claims)
        raise ValueError(f"table must be results, history, conditions or claims, not {table!r}")


def open_study(prefix: str, sessions_dir: str | os.PathLike | None = None) -> StudyRecord:
    """Read the study whose sessions are PREFIX-... in `sessions_dir` (default $AETUI_SESSIONS, else
    ./sessions): every finished run measured as the study does.

    Read-only (no lock is taken, nothing is written). No session of that prefix, or a damaged
    one, is a SessionError naming it. Loads the training engine (its kernels, from Numba's cache).
    """
    check_name(prefix, "study prefix")
    store = SessionStore(sessions_dir)
    plan = read_saved_plan(store, prefix)
    names = set(store.names())
    if plan is None:
        plan = _inferred_plan(store, prefix, names)
    conditions = plan.units()
    records = {c.session: open_session(store.path(c.session)) for c in conditions if c.session in names}
    if not records:
        raise SessionError(f"no sessions of a study {prefix!r} ({prefix}-...) in {store.root}")
    results, pending = [], []
    with compute_threads(1):
        warm_up_plan(plan, 1)
        for cond in conditions:
            rec = records.get(cond.session)
            if rec is None:
                pending.append({"condition": cond.name, "seed": cond.seed, "session": cond.session, "samples": 0})
                continue
            expected = plan.unexpected_lineage(cond.spec, rec.lineage_label, len(rec.lineage))
            if expected is not None:
                raise SessionError(f"session {cond.session} has lineage '{rec.lineage_label}', not "
                                   f"'{expected}' as the study's session of that name has")
            done = condition_samples(plan, cond, rec._session)
            if rec.diverged or done >= plan.samples:
                results.append(measure(trainer_for(rec._session), plan, cond))
            else:
                pending.append({"condition": cond.name, "seed": cond.seed, "session": cond.session, "samples": done})
    result = StudyResult(plan, results, pending, bool(pending), 0.0, str(store.root))
    return StudyRecord(result, records, {c.session: c for c in conditions})


# -- a transfer experiment saved before plans were kept: which sessions, which plan -------------
_ACT = "|".join(sorted(map(re.escape, ACTIVATIONS), key=len, reverse=True))


@dataclass(frozen=True)
class FoundCondition:
    """What a transfer session's name says: its activation, the one its weights came from, scale and seed."""

    activation: str
    source: str | None
    weight_scale: float
    seed: int  # -1: the experiment ran one seed


def parse_condition(prefix: str, name: str) -> FoundCondition | None:
    """The transfer condition a session NAME of experiment PREFIX stands for, or None when it is not one.

    PREFIX-A (A from random init), PREFIX-B-B (B from B's weights), PREFIX-B-A-xS (A from B's,
    scaled S), each with -seedN when the experiment ran several seeds.
    """
    m = re.fullmatch(rf"{re.escape(prefix)}-(?P<a>{_ACT})(?:-(?P<b>{_ACT})(?:-x(?P<scale>[0-9][0-9.e+-]*))?)?"
                     rf"(?:-seed(?P<seed>[0-9]+))?", name)
    if m is None:
        return None
    seed = -1 if m["seed"] is None else int(m["seed"])
    if m["b"] is None:
        return FoundCondition(m["a"], None, 1.0, seed)
    if m["scale"] is None:
        return FoundCondition(m["b"], m["a"], 1.0, seed) if m["a"] == m["b"] else None
    try:
        scale = float(m["scale"])
    except ValueError:
        return None
    return FoundCondition(m["b"], m["a"], scale, seed) if math.isfinite(scale) and scale > 0 else None


def _inferred_plan(store: SessionStore, prefix: str, names: set[str]) -> StudyPlan:
    found = {name: c for name in sorted(names) if (c := parse_condition(prefix, name)) is not None}
    if not found:
        raise SessionError(f"no sessions of a study {prefix!r} ({prefix}-...) in {store.root}")
    records = {name: open_session(store.path(name)) for name in found}
    return _plan(prefix, found, records).validated().study_plan()


def _plan(prefix: str, found: dict[str, FoundCondition], records: dict[str, SessionRecord]) -> TransferPlan:
    """The plan whose conditions these sessions are (names say the conditions, sessions the rest)."""
    seeded = {n: c for n, c in found.items() if c.seed >= 0}
    if seeded:  # a run with several seeds names every session -seedS
        found = seeded
        for name in [n for n in records if n not in seeded]:
            del records[name]
    sources = [c.source for c in found.values() if c.source is not None]
    base = sources[0] if sources else ("sigmoid" if any(c.activation == "sigmoid" for c in found.values())
                                       else next(iter(found.values())).activation)
    moved = {}
    for name, c in found.items():
        if c.activation != base or (c.source is not None and c.source != base):
            moved.setdefault(c.activation, []).append(records[name].created)
    activations = tuple(sorted(moved, key=lambda a: (min(moved[a]), a))) or ("relu",)
    scales = sorted({c.weight_scale for c in found.values() if c.source is not None and c.activation != base})
    first = min(found, key=lambda n: (found[n].activation != base or found[n].source is not None, found[n].seed, n))
    config = records[first].train_config
    if seeded:
        seeds = sorted({c.seed for c in found.values()})
        config, n_seeds = config.replace(seed=seeds[0]), seeds[-1] - seeds[0] + 1
    else:
        n_seeds = 1
    trained = [rec.samples - rec.lineage[-1]["start_samples"] for rec in records.values() if not rec.diverged]
    samples = max(trained or [rec.samples - rec.lineage[-1]["start_samples"] for rec in records.values()] or [1])
    return TransferPlan(samples=max(1, samples), prefix=prefix, activation=activations, base=base,
                        scales=tuple(scales) or (0.1, 1.0), config=config, seeds=n_seeds)


def flat_row(run: dict, seed: int | None) -> dict:
    """A condition's JSON as one flat row: nested dicts become KEY_INNER, intervals KEY_ci_low and
    KEY_ci_high, the held-out curve is left out; `seed` follows weight_scale."""
    row: dict = {}

    def put(key: str, value) -> None:
        if isinstance(value, dict):
            for inner, v in value.items():
                put(f"{key}_{inner}", v)
        elif key.endswith("_ci"):
            row[f"{key}_low"], row[f"{key}_high"] = value if value is not None else (None, None)
        else:
            row[key] = value

    for key, value in run.items():
        if key == "heldout_curve" or (key in NESTED and value is None):  # None: the metric does not apply
            continue
        put(key, value)
        if key == "weight_scale" and seed is not None:
            row["seed"] = seed
    return row


__all__ = ["StudyRecord", "flat_row", "open_study", "parse_condition"]
