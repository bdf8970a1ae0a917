"""Reading what a session recorded, read-only: the one path every reader of a saved run takes.

`open_session` gives a run's settings, lineage, events, history (NumPy columns, one row per
report point), snapshots and their weights. It never takes the session's lock and never tidies
its folder (finishing a cut save, removing temp files: only the owner does that), so it is safe
on a session a trainer process is running: it reads the last save and says so (`running`,
`saved_samples`). `aetui sessions show`, the exports (CSV, Parquet, TensorBoard, PNG) and
`aetui.open_session` all read through it.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from aetui.errors import SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.format import check_name
from aetui.sessions.lock import lock_holder
from aetui.sessions.optional import require
from aetui.sessions.session import Session, read_session
from aetui.sessions.store import SessionStore
from aetui.sessions.weight_store import thin_bytes_on_disk

# The history's scalar columns, in the order tables give them; `b` (points, hidden) comes after.
HISTORY_COLUMNS = ("samples", "step", "segment", "train_loss", "loss_min", "loss_max", "heldout_loss", "heldout_n",
                   "lr", "b_min", "b_mean", "b_max", "c_min", "c_mean", "c_max", "w_min", "w_mean", "w_max",
                   "samples_per_second", "time")
WHOLE_COLUMNS = ("samples", "step", "segment")  # int64; the other numbers float64 with NaN where none
EVENT_FIELDS = ("kind", "samples", "step", "segment", "time")  # the rest of an event is its details
SNAPSHOT_FIELDS = ("name", "kind", "samples", "step", "segment", "activation", "created", "file")


@dataclass(frozen=True)
class Snapshot:
    """Stored weights of a session: a `period` (after 2^n mini-batches of a segment), `user` or `thin`
    (kept at report points for the history view) snapshot."""

    name: str
    kind: str
    samples: int
    step: int
    segment: int
    activation: str
    created: str | None
    path: Path  # its .npz file
    _session: Session = field(repr=False, compare=False)
    _record: dict = field(repr=False, compare=False)

    def weights(self) -> dict[str, np.ndarray]:
        """{'W': (hidden, visible), 'b': (hidden,), 'c': (visible,)} float32, plus 'W_dec' (visible,
        hidden) when the weights are untied. A missing or damaged file is a SessionError naming it."""
        W, b, c, W_dec = self._session._snapshot_arrays(self._record)
        return _weights(W, b, c, W_dec)


class SessionRecord:
    """A saved session as read by `open_session`: everything it recorded, read-only."""

    def __init__(self, session: Session, running_pid: int | None):
        self._session = session
        self._pid = running_pid
        self._history: Mapping[str, np.ndarray] | None = None

    def __repr__(self) -> str:
        return (f"<SessionRecord {self.name}: {self.lineage_label}, {self.samples:,} samples, "
                f"{len(self)} report points{', running' if self.running else ''}>")

    def __len__(self) -> int:
        """The number of report points."""
        return len(self._session.history)

    # -- what it is ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._session.name

    @property
    def path(self) -> Path:
        return self._session.path

    @property
    def config(self) -> dict:
        """The current segment's settings, as session.json keeps them."""
        return self._session.config.to_dict()

    @property
    def train_config(self) -> TrainConfig:
        """The same settings as aetui's TrainConfig (with what follows from them: loss_name, tied, ...)."""
        return self._session.config

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self._session.image_shape)

    @property
    def samples(self) -> int:
        """Samples seen, at the last save."""
        return self._session.samples

    @property
    def step(self) -> int:
        """Mini-batches done, at the last save."""
        return self._session.step

    @property
    def diverged(self) -> bool:
        return self._session.diverged

    @property
    def record_gap(self) -> str | None:
        """Why the record cannot be replayed (None: it is complete)."""
        return self._session.record_gap

    @property
    def saved(self) -> str | None:
        """When the last save was written (ISO 8601)."""
        return self._session.saved_at

    @property
    def created(self) -> str:
        return self._session.created

    # -- a running session: what is read is its last save --------------------------------------------
    @property
    def running(self) -> bool:
        """Another process (a trainer, a headless run) holds the session: it is training, and what
        is read here is its last save (`saved_samples`), not its present."""
        return self._pid is not None

    @property
    def pid(self) -> int | None:
        """The process that holds the session, when it is running."""
        return self._pid

    @property
    def saved_samples(self) -> int:
        """The samples seen at the save that was read."""
        return self._session.samples

    # -- the record --------------------------------------------------------------------------------
    @property
    def lineage(self) -> list[dict]:
        """One dict per segment: index, activation, source (random, current weights or a snapshot),
        weight_scale, reset_biases, lr, bias_lr, start_step, start_samples and the segment's config."""
        return copy.deepcopy(self._session.lineage)

    @property
    def lineage_label(self) -> str:
        """The lineage in a few words, e.g. 'sigmoid > relu x0.1'."""
        return self._session.lineage_label()

    @property
    def events(self) -> list[dict]:
        """Every intervention, in order: {'kind', 'samples', 'step', 'segment', 'time', 'details'},
        details being what the kind records (README, "Events")."""
        return [event_record(e) for e in self._session.history.events]

    @property
    def periods(self) -> list[dict]:
        """The study's periods: W and b min/mean/max and the cost after 2^n mini-batches of a segment."""
        return copy.deepcopy(self._session.history.periods)

    @property
    def history(self) -> Mapping[str, np.ndarray]:
        """Column name -> NumPy array, one row per report point (HISTORY_COLUMNS, then 'b').

        samples, step, segment int64; train_loss, loss_min, loss_max (the range a thinned point
        stands for), heldout_loss, heldout_n (held-out samples the loss is over: 0 none, NaN all,
        schema 1), lr, b/c/W min/mean/max, samples_per_second float64 with NaN where there is none;
        time ISO 8601 strings; b (points, hidden) float32, the hidden bias at each point.
        """
        if self._history is None:
            self._history = MappingProxyType(_history_columns(self._session))
        return self._history

    def table(self) -> dict[str, np.ndarray]:
        """The history as flat columns, as tables give it: HISTORY_COLUMNS, then b_0 ... b_{H-1}."""
        h = self.history
        out = {k: h[k] for k in HISTORY_COLUMNS}
        b = h["b"]
        out.update({f"b_{j}": b[:, j] for j in range(b.shape[1])})
        return out

    def to_pandas(self):
        """The history as a pandas DataFrame (`table()`'s columns); needs pandas (aetui[data])."""
        pd = require("pandas", "to_pandas()")
        return pd.DataFrame(self.table())

    # -- weights ---------------------------------------------------------------------------------------
    @property
    def snapshots(self) -> tuple[Snapshot, ...]:
        """Every stored snapshot, in time order (samples, then the order they were taken)."""
        s = self._session
        records = sorted(enumerate(s.snapshots), key=lambda pair: (pair[1]["samples"], pair[0]))
        return tuple(Snapshot(r["name"], r["kind"], int(r["samples"]), int(r["step"]), int(r["segment"]),
                              r["activation"], r.get("created"), s.path / r["file"], s, r) for _, r in records)

    def snapshot(self, name: str) -> Snapshot:
        """The snapshot called `name`, or SessionError."""
        found = next((x for x in self.snapshots if x.name == name), None)
        if found is None:
            raise SessionError(f"no snapshot named {name!r} in session {self.name}")
        return found

    def weights(self) -> dict[str, np.ndarray]:
        """The weights at the last save: 'W', 'b', 'c' (and 'W_dec' when untied), as Snapshot.weights."""
        st = self._session.state
        return _weights(st.W, st.b, st.c, st.W_dec)

    def snapshot_problems(self) -> dict[str, str]:
        """{name: what is wrong} for each snapshot whose file cannot be read (reads every file)."""
        return self._session.snapshot_problems()

    def thin_bytes(self) -> int:
        """Bytes the thin-stored snapshots' files take on disk."""
        return thin_bytes_on_disk(self._session)


def open_session(session: str | os.PathLike, sessions_dir: str | os.PathLike | None = None) -> SessionRecord:
    """Read a saved session: a session folder, or a session NAME in `sessions_dir` (default
    $AETUI_SESSIONS, else ./sessions).

    Read-only and safe while the session trains elsewhere (see SessionRecord.running). An
    unknown session or a damaged file is a SessionError whose message names it.
    """
    path = session_path(session, sessions_dir)
    return SessionRecord(read_session(path), lock_holder(path))


def session_path(session: str | os.PathLike, sessions_dir: str | os.PathLike | None = None) -> Path:
    """The folder `open_session` reads: a path (a Path, or a string with a '/') is a session folder;
    a name is looked up in the store, then (without `sessions_dir`) as a folder here."""
    folder = Path(session)
    if sessions_dir is None and (isinstance(session, os.PathLike) or os.sep in str(session)):
        if not (folder / "session.json").is_file():
            raise SessionError(f"{folder} is not an aetui session (no session.json)")
        return folder
    store = SessionStore(sessions_dir)
    name = check_name(str(session))
    if store.exists(name):
        return store.path(name)
    if sessions_dir is None and (folder / "session.json").is_file():
        return folder
    store.check_root()
    raise SessionError(f"no session named {name} in {store.root}")


def event_record(e: dict) -> dict:
    """An event of session.json as open_session gives it: its fields, and the rest as 'details'."""
    return {"kind": e["kind"], "samples": e["samples"], "step": e["step"], "segment": e["segment"],
            "time": e.get("time"), "details": copy.deepcopy({k: v for k, v in e.items() if k not in EVENT_FIELDS})}


def _weights(W, b, c, W_dec) -> dict[str, np.ndarray]:
    out = {"W": W.copy(), "b": b.copy(), "c": c.copy()}
    if W_dec is not None:
        out["W_dec"] = W_dec.copy()
    return out


def _history_columns(session: Session) -> dict[str, np.ndarray]:
    h = session.history
    H, V = session.state.n_hidden, session.state.n_visible
    out: dict[str, np.ndarray] = {}
    for key in HISTORY_COLUMNS:
        if key in WHOLE_COLUMNS:
            out[key] = np.array(h.columns[key], dtype=np.int64)
        elif key == "time":
            out[key] = np.array(h.columns[key], dtype=object)
        elif key.startswith("c_"):
            continue
        else:
            out[key] = h.column(key)
    c = np.stack(h.visible_bias).astype(np.float64) if len(h) else np.zeros((0, V))
    # c is recorded per point as a vector only; its summary is taken here, as b's is in training
    out["c_min"], out["c_mean"], out["c_max"] = (c.min(axis=1), c.mean(axis=1), c.max(axis=1)) if len(h) else \
        (np.zeros(0), np.zeros(0), np.zeros(0))
    out = {k: out[k] for k in HISTORY_COLUMNS}
    out["b"] = np.stack(h.bias).astype(np.float32) if len(h) else np.zeros((0, H), np.float32)
    for a in out.values():
        a.setflags(write=False)
    return out


__all__ = ["HISTORY_COLUMNS", "SessionRecord", "Snapshot", "event_record", "open_session", "session_path"]
