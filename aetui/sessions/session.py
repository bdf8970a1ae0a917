"""Sessions on disk: a folder with session.json, state.npz and snapshots/, saved atomically.

session.json and state.npz are written as a pair: both are staged as .tmp files (fsynced), then
renamed state first, session second. Each carries the same `generation`, so a crash between the
two renames is recognised on load and the complete staged session.json is used.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aetui.sessions.atomic import TEMP_SUFFIX, discard, npz_bytes, stage, sync_folder, temp_path, why, write_npz
from aetui.model.config import TrainConfig
from aetui.errors import AetuiError, SaveError, SessionError
from aetui.model.state import ModelState
from aetui.sessions.format import (SCHEMA, SCHEMA_1_GAP, check_header, check_name, check_record, checked_array,
                                  read_json, read_npz, try_json, whole_scalar)
from aetui.sessions.history import LOSS_RANGE, History
from aetui.sessions.lineage import lineage_label, now_iso
from aetui.sessions.lock import SessionLock

@dataclass
class Session:
    """One training run: config of the current segment, model state, lineage, history, snapshots."""

    path: Path
    config: TrainConfig
    state: ModelState
    image_shape: tuple[int, int]
    step: int = 0  # mini-batches done over all segments; also the random-stream counter
    lineage: list[dict] = field(default_factory=list)
    history: History = field(default_factory=History)
    snapshots: list[dict] = field(default_factory=list)
    created: str = field(default_factory=now_iso)
    saved_at: str | None = None
    generation: int = 0
    diverged: bool = False
    dirty: bool = True
    record_gap: str | None = None  # why the record is incomplete (cannot be replayed); None: complete
    saved_samples: int | None = None  # samples at the last save that worked (None: never saved)
    recovered_from_staged: bool = False  # read from a session.json.tmp whose rename was cut short
    data_fingerprint: str | None = None  # Dataset.fingerprint of the data it trains on (None: saved before it was kept)
    weight_spacing: int = 0  # samples between thin-stored snapshots (see weight_store.py); 0: every report point
    _lock: SessionLock | None = None
    _unwritten: dict = field(default_factory=dict)  # snapshot name -> arrays not yet on disk
    _doomed: list = field(default_factory=list)  # files of dropped snapshots, removed after the next save
    _lazy: set = field(default_factory=set)  # unwritten snapshots to write without fsyncs

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def samples(self) -> int:
        return self.step * self.config.batch

    @property
    def segment(self) -> int:
        return len(self.lineage) - 1

    def lineage_label(self) -> str:
        return lineage_label(self.lineage)

    # -- snapshots ------------------------------------------------------------------------------
    def snapshot_path(self, name: str) -> Path:
        return self.path / "snapshots" / f"{name}.npz"

    def write_snapshot(self, name: str, kind: str, state: ModelState, extra: dict | None = None, *,
                       deferred: bool = False, durable: bool = True) -> dict:
        """Store W, b, c (and W_dec) under snapshots/NAME.npz and index it; returns the record.

        A write that fails raises SaveError and indexes nothing. deferred: the arrays are copied
        and kept in memory, written by the next save that works (period snapshots: the study's
        2^n milestones come fast at the start, and training must neither wait nor stop for them).
        Not durable (with deferred): written without fsyncs (thin-stored snapshots: a stop may
        write two hundred at once; see weight_store.py).
        """
        check_name(name, "snapshot")
        if any(s["name"] == name for s in self.snapshots):
            raise SessionError(f"a snapshot named {name!r} already exists in session {self.name}")
        arrays = {"W": state.W, "b": state.b, "c": state.c}
        if state.W_dec is not None:
            arrays["W_dec"] = state.W_dec
        path = self.snapshot_path(name)
        if path in self._doomed:  # a name dropped before and used again: its new file stays
            self._doomed.remove(path)
        if deferred:
            self._unwritten[name] = {k: v.copy() for k, v in arrays.items()}
            if not durable:
                self._lazy.add(name)
        else:
            try:
                self._write_snapshot_file(name, arrays)
            except OSError as exc:
                raise SaveError(f"could not write snapshot {name} of session {self.name}: {why(exc)}") from None
        record = {"name": name, "kind": kind, "file": f"snapshots/{name}.npz", "step": self.step,
                  "samples": self.samples, "segment": self.segment, "activation": self.config.activation,
                  "created": now_iso(), **(extra or {})}
        self.snapshots.append(record)
        self.dirty = True
        return record

    def drop_snapshots(self, names: list[str]) -> None:
        """Take snapshots out of the index. Their files are removed after the next save that works:
        until then the session.json on disk still names them, and must find them."""
        gone = set(names)
        self.snapshots = [s for s in self.snapshots if s["name"] not in gone]
        for name in gone:
            self._lazy.discard(name)
            if self._unwritten.pop(name, None) is None:
                self._doomed.append(self.snapshot_path(name))
        self.dirty = True

    def _write_snapshot_file(self, name: str, arrays: dict[str, np.ndarray], durable: bool = True) -> None:
        (self.path / "snapshots").mkdir(exist_ok=True)
        write_npz(self.snapshot_path(name), arrays, durable)

    def snapshot_problems(self) -> dict[str, str]:
        """{name: what is wrong} for each snapshot whose file cannot be read back as this session's weights."""
        problems = {}
        for record in self.snapshots:
            try:
                self._snapshot_arrays(record)
            except SessionError as exc:
                problems[record["name"]] = str(exc)
        return problems

    @property
    def unwritten_snapshots(self) -> tuple[str, ...]:
        """Snapshots kept in memory until the next save that works."""
        return tuple(self._unwritten)

    def read_snapshot(self, name: str) -> tuple[dict, ModelState]:
        """The record and weights of a snapshot (fresh optimiser state)."""
        record = next((s for s in self.snapshots if s["name"] == name), None)
        if record is None:
            raise SessionError(f"no snapshot named {name!r} in session {self.name}")
        return record, ModelState.from_weights(*self._snapshot_arrays(record))

    def _snapshot_arrays(self, record: dict) -> tuple:
        """W, b, c, W_dec (or None) of a snapshot, checked against this session's shapes."""
        path = self.path / record["file"]
        arrays = self._unwritten.get(record["name"]) or read_npz(path)
        H, V = self.state.n_hidden, self.state.n_visible
        W = checked_array(arrays, "W", (H, V), path)
        b = checked_array(arrays, "b", (H,), path)
        c = checked_array(arrays, "c", (V,), path)
        W_dec = checked_array(arrays, "W_dec", (V, H), path) if "W_dec" in arrays else None
        return W, b, c, W_dec

    # -- persistence -----------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "schema": SCHEMA, "app": "aetui", "generation": self.generation,
            "created": self.created, "saved": self.saved_at,
            "config": self.config.to_dict(), "image_shape": list(self.image_shape),
            "step": self.step, "samples": self.samples, "diverged": self.diverged,
            "lineage": self.lineage, "history": self.history.to_json(), "snapshots": self.snapshots,
            "record_gap": self.record_gap, "weight_store": {"spacing": self.weight_spacing},
            **({"data_fingerprint": self.data_fingerprint} if self.data_fingerprint else {}),
        }

    def save(self) -> None:
        """Write state.npz and session.json atomically as a pair (see the module docstring).

        Snapshots that could not be written before are written first. On failure (SaveError)
        the files on disk are those of the last save, and no temp file is left behind.
        """
        generation, saved_at = self.generation, self.saved_at
        self.generation += 1
        self.saved_at = now_iso()
        state_path, json_path = self.path / "state.npz", self.path / "session.json"
        state_tmp = json_tmp = None
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            for name in list(self._unwritten):
                self._write_snapshot_file(name, self._unwritten[name], durable=name not in self._lazy)
                del self._unwritten[name]
                self._lazy.discard(name)
            if (self.path / "snapshots").is_dir():
                sync_folder(self.path / "snapshots")  # the renames of the files written without fsyncs
            arrays = dict(self.state.arrays())
            arrays.update(self.history.to_arrays(self.state.n_hidden, self.state.n_visible))
            arrays["generation"] = np.array(self.generation, np.int64)
            arrays["step"] = np.array(self.step, np.int64)
            state_tmp = stage(state_path, npz_bytes(arrays))
            json_tmp = stage(json_path, (json.dumps(self.to_json(), indent=1, allow_nan=False) + "\n").encode())
            os.replace(state_tmp, state_path)
            state_tmp = None  # in place: from here a staged session.json is what a reader recovers
            os.replace(json_tmp, json_path)
        except OSError as exc:
            if state_tmp is not None:
                discard(state_tmp, json_tmp)
            self.generation, self.saved_at = generation, saved_at
            if self.saved_samples is None:
                raise SaveError(f"could not create session {self.name} in {self.path.parent}: {why(exc)}") from None
            raise SaveError(f"could not save session {self.name}: {why(exc)}; the last save "
                            f"({self.saved_samples:,} samples) is intact") from None
        sync_folder(self.path)
        discard(*self._doomed)  # the index on disk no longer names them
        self._doomed.clear()
        self.dirty = False
        self.saved_samples = self.samples

    def sweep_temp_files(self) -> list[Path]:
        """Finish a save cut between its two renames, then remove temp files of failed writes.

        Only the session's owner may do this (call it with the lock held). Returns what was removed.
        """
        staged = temp_path(self.path / "session.json")
        if self.recovered_from_staged and staged.is_file():
            os.replace(staged, self.path / "session.json")
            self.recovered_from_staged = False
        stale = sorted(self.path.glob(f"*{TEMP_SUFFIX}")) + sorted(self.path.glob(f"snapshots/*{TEMP_SUFFIX}"))
        discard(*stale)
        return stale

    # -- locking: one process trains a session at a time -------------------------------------------
    def lock(self) -> None:
        """Take the session for this process and tidy what an interrupted writer left."""
        if self._lock is None:
            self._lock = SessionLock(self.path)
        self._lock.acquire()
        try:
            self.sweep_temp_files()
        except OSError:  # a read-only folder: nothing to tidy that we could
            pass

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()


READ_ATTEMPTS = 5  # reads of a pair that keeps changing under us before it counts as changed outside aetui


def read_session(path: Path) -> Session:
    """Read and validate a session folder; any problem is a SessionError and nothing is written."""
    path = Path(path)
    if not (path / "session.json").is_file():
        raise SessionError(f"{path} is not an aetui session (no session.json)")
    for attempt in range(READ_ATTEMPTS):
        raw = read_json(path / "session.json")
        check_header(path, raw)
        arrays = read_npz(path / "state.npz")
        gen = whole_scalar(arrays, "generation")
        recovered = False
        if raw.get("generation") == gen:
            break
        # Either saves by the session's owner ran while we read, or one was cut between its two
        # renames. The staged json is read once, before session.json again: its owner may rename
        # it into place at any moment, and then session.json is the one that belongs to the state.
        staged = try_json(temp_path(path / "session.json"))
        again = try_json(path / "session.json")
        if again.get("generation") == gen:
            raw = again
            break
        if staged.get("generation") == gen:  # the cut save: the staged json belongs to the state
            raw, recovered = staged, True
            break
        # The owner saved again meanwhile (a whole save can take less than our reading): afresh.
    else:
        raise SessionError(f"{path}: state.npz (generation {gen}) does not belong to session.json "
                           f"(generation {raw.get('generation')}); the session was changed outside aetui")
    try:
        session = _session_from(path, raw, arrays)
    except SessionError:
        raise
    except AetuiError as exc:
        raise SessionError(f"{path / 'session.json'}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise SessionError(f"{path / 'session.json'} is malformed ({type(exc).__name__}: {exc})") from None
    session.recovered_from_staged = recovered
    session.saved_samples = session.samples
    return session


def _pixels_in(arrays: dict) -> set[int]:
    """The pixel counts per image that state.npz's arrays imply (W's columns, c, vW, vc, c_history)."""
    found = set()
    for name, axis, ndim in (("W", 1, 2), ("c", 0, 1), ("vW", 1, 2), ("vc", 0, 1), ("c_history", 1, 2)):
        a = arrays.get(name)
        if a is not None and a.ndim == ndim:
            found.add(int(a.shape[axis]))
    return found


def _session_from(path: Path, raw: dict, arrays: dict) -> Session:
    check_header(path, raw)
    check_record(path, raw, raw["schema"])
    config = TrainConfig.from_dict(raw["config"])
    shape = tuple(int(x) for x in raw["image_shape"])
    H, V = config.hidden, shape[0] * shape[1]
    state_path = path / "state.npz"
    pixels = _pixels_in(arrays)
    if len(pixels) == 1 and V not in pixels:  # the arrays agree with each other: image_shape is what is wrong
        raise SessionError(f"{path / 'session.json'}: image_shape is {shape[0]}x{shape[1]} ({V} pixels), but the "
                           f"arrays in {state_path} have {pixels.pop()} pixels per image")
    W = checked_array(arrays, "W", (H, V), state_path)
    tied = config.tied
    if tied and "W_dec" in arrays:
        raise SessionError(f"{state_path} has W_dec but the session's weights are tied")
    W_dec = None if tied else checked_array(arrays, "W_dec", (V, H), state_path)
    state = ModelState(
        W, checked_array(arrays, "b", (H,), state_path), checked_array(arrays, "c", (V,), state_path), W_dec,
        checked_array(arrays, "vW", (H, V), state_path), checked_array(arrays, "vb", (H,), state_path),
        checked_array(arrays, "vc", (V,), state_path), None if tied else checked_array(arrays, "vWd", (V, H), state_path))
    step = int(raw["step"])
    if "step" in arrays and whole_scalar(arrays, "step") != step:
        found = whole_scalar(arrays, "step")
        raise SessionError(f"{state_path} is at step {'(not a whole number)' if found is None else found} "
                           f"but session.json says {step}")
    expected = {"bias_history": (H,), "c_history": (V,), "w_unit_history": (H, 3)}
    for name, tail in expected.items():
        if name not in arrays:
            raise SessionError(f"{state_path} has no array {name!r}")
        a = arrays[name]
        if a.ndim != 1 + len(tail) or a.shape[1:] != tail or a.dtype != np.float32:
            raise SessionError(f"{state_path}: {name} has shape {a.shape} {a.dtype}, expected (points, "
                               f"{', '.join(map(str, tail))}) float32")
    lineage = list(raw["lineage"])
    if not lineage:
        raise SessionError(f"{path / 'session.json'} has an empty lineage")
    points = raw["history"]["points"]
    # Before schema 3 the history kept no loss range: each point's range is its own loss.
    filled = {} if raw["schema"] >= 3 else {k: list(points.get("train_loss", [])) for k in LOSS_RANGE}
    if raw["schema"] == 1:  # the lr column did not exist: each point gets its segment's (last) lr
        segments = points["segment"]
        filled.update({"lr": [lineage[int(k)]["lr"] for k in segments], "heldout_n": [None] * len(segments)})
        gap = SCHEMA_1_GAP
    else:
        gap = raw["record_gap"]
    history = History.from_json(raw["history"], arrays, filled)
    spacing = raw.get("weight_store", {"spacing": 0})["spacing"]  # checked by check_record
    return Session(path=path, config=config, state=state, image_shape=shape, step=step, lineage=lineage,
                   history=history, snapshots=list(raw["snapshots"]), created=raw["created"],
                   saved_at=raw["saved"], generation=int(raw["generation"]), diverged=bool(raw["diverged"]),
                   dirty=False, record_gap=None if gap is None else str(gap), weight_spacing=int(spacing),
                   data_fingerprint=raw.get("data_fingerprint"))
