"""Damaged session files, fuzzed: every mutation reads as a session or is one SessionError naming
the file, and nothing on disk changes. Whatever reads as a session also trains and shows."""

from __future__ import annotations

import io
import os
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aetui.cli.main import main
from aetui.errors import AetuiError, SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer, release_trainer, trainer_for
from tests.helpers.faults import file_bytes
from tests.helpers.training import train

pytestmark = pytest.mark.slow  # hundreds of damaged sessions, each read, trained and shown: seconds

FUZZ = settings(max_examples=int(os.environ.get("AETUI_FUZZ_EXAMPLES", "100")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                derandomize=os.environ.get("AETUI_FUZZ_EXAMPLES") is None)


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    """A small session with a restart, a user snapshot and period snapshots."""
    store = SessionStore(tmp_path_factory.mktemp("fuzz"))
    t = acquire_trainer(store, "s", TrainConfig(data="bars8", hidden=6, batch=10).validated(), {})
    train(t, 700)
    t.snapshot()
    t.set_lr(0.3)
    train(t, 300)
    t.restart("relu", "snap1", None, True, None)
    train(t, 200)
    release_trainer(t)
    return store.path("s")


def _copy(original: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="aetui-fuzz-")) / "s"
    shutil.copytree(original, folder)
    return folder


def _check(folder: Path, damaged: str) -> None:
    """Reading never raises anything but a one-line SessionError that names the damaged file;
    nothing is written; a session that does read trains, and `sessions show` copes."""
    before = file_bytes(folder)
    try:
        session = read_session(folder)
    except SessionError as exc:
        message = str(exc)
        assert "\n" not in message and str(folder) in message
    else:
        try:
            trainer = trainer_for(session)
            trainer.train_chunk(3)
            trainer.frame(1, "RUNNING")
            trainer.session.lineage_label()
        except AetuiError:
            pass
        assert main(["sessions", "show", "s", "--sessions-dir", str(folder.parent)]) in (0, 1)
        assert main(["sessions", "--sessions-dir", str(folder.parent)]) == 0
    finally:
        after = file_bytes(folder)
        shutil.rmtree(folder.parent, ignore_errors=True)
    assert after == before, f"reading changed the files ({damaged})"


def _bytes_mutation():
    """Truncate, flip some bytes, or splice in random ones."""
    return st.one_of(
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), min_size=1, max_size=8)),
        st.tuples(st.just("splice"), st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=40))),
    )


def _mutate_bytes(data: bytes, mutation) -> bytes:
    kind, arg = mutation
    if kind == "truncate":
        return data[:int(arg * len(data))]
    if kind == "flip":
        out = bytearray(data)
        for where, mask in arg:
            i = min(int(where * len(out)), len(out) - 1)
            out[i] ^= mask
        return bytes(out)
    where, extra = arg
    i = int(where * len(data))
    return data[:i] + extra + data[i:]


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=False)
                           | st.text(max_size=12), lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def _paths(value, prefix=()):
    """Every path into a JSON document (keys and list indices)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:4]):
            yield from _paths(v, prefix + (i,))


@FUZZ
@given(mutation=_bytes_mutation())
def test_session_json_bytes(original, mutation):
    folder = _copy(original)
    path = folder / "session.json"
    path.write_bytes(_mutate_bytes(path.read_bytes(), mutation))
    _check(folder, f"session.json {mutation}")


@FUZZ
@given(pick=st.floats(0, 1), value=JSON_VALUES, delete=st.booleans())
def test_session_json_values(original, pick, value, delete):
    folder = _copy(original)
    path = folder / "session.json"
    raw = json.loads(path.read_text())
    paths = [p for p in _paths(raw) if p]
    target = paths[min(int(pick * len(paths)), len(paths) - 1)]
    parent = raw
    for key in target[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[target[-1]]
    else:
        parent[target[-1]] = value
    path.write_text(json.dumps(raw))
    _check(folder, f"session.json {target} -> {'deleted' if delete else repr(value)[:60]}")


@FUZZ
@given(mutation=_bytes_mutation())
def test_state_npz_bytes(original, mutation):
    folder = _copy(original)
    path = folder / "state.npz"
    path.write_bytes(_mutate_bytes(path.read_bytes(), mutation))
    _check(folder, f"state.npz {mutation}")


ARRAY_DAMAGE = st.sampled_from(["drop", "float64", "int32", "shape", "nan", "inf", "scalar", "empty"])


def _damage(a: np.ndarray, how: str):
    if how == "float64":
        return a.astype(np.float64)
    if how == "int32":
        return a.astype(np.int32)
    if how == "shape":
        return a.reshape(-1)[:-1] if a.size > 1 else np.zeros((2, 2), a.dtype)
    if how in ("nan", "inf"):
        b = np.array(a, dtype=a.dtype if a.dtype.kind == "f" else np.float32).copy()
        if b.size:
            b.reshape(-1)[0] = np.nan if how == "nan" else np.inf
        return b
    if how == "scalar":
        return np.array(1.5)
    return np.zeros((0,), a.dtype)


def _rewrite_npz(path: Path, key_pick: float, how: str) -> str:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    key = sorted(arrays)[min(int(key_pick * len(arrays)), len(arrays) - 1)]
    if how == "drop":
        del arrays[key]
    else:
        arrays[key] = _damage(arrays[key], how)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())
    return key


@FUZZ
@given(key_pick=st.floats(0, 1), how=ARRAY_DAMAGE)
def test_state_npz_arrays(original, key_pick, how):
    folder = _copy(original)
    key = _rewrite_npz(folder / "state.npz", key_pick, how)
    _check(folder, f"state.npz[{key}] {how}")


@FUZZ
@given(mutation=st.one_of(_bytes_mutation().map(lambda m: ("bytes", m)),
                          st.tuples(st.floats(0, 1), ARRAY_DAMAGE).map(lambda m: ("array", m))))
def test_a_damaged_snapshot_is_marked_and_the_rest_works(original, mutation):
    folder = _copy(original)
    path = folder / "snapshots" / "snap1.npz"
    try:
        if mutation[0] == "bytes":
            path.write_bytes(_mutate_bytes(path.read_bytes(), mutation[1]))
        else:
            _rewrite_npz(path, *mutation[1])
        session = read_session(folder)  # the session itself is whole
        problems = session.snapshot_problems()
        try:
            session.read_snapshot("snap1")
        except SessionError as exc:
            assert problems == {"snap1": str(exc)} and str(path) in str(exc) and "\n" not in str(exc)
        else:
            assert problems == {}
        trainer = trainer_for(session)
        frame = trainer.frame(1, "RUNNING")
        marked = {s["name"]: s.get("problem") for s in frame.snapshots if s.get("problem")}
        assert marked == problems
        trainer.train_chunk(3)
        assert main(["sessions", "show", "s", "--sessions-dir", str(folder.parent)]) == 0
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
