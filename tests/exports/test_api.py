"""aetui.open_session: the public surface, what it reads against the files, read-only on a running session."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import aetui
from aetui.errors import AetuiError, ConfigError, SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.reading import HISTORY_COLUMNS
from aetui.sessions.session import read_session
from aetui.training.launch import acquire_trainer, release_trainer
from tests.helpers.faults import file_bytes
from tests.helpers.training import train

PUBLIC = ["AetuiError", "SessionRecord", "Snapshot", "StudyRecord", "open_session", "open_study"]


def test_the_public_surface_is_exactly_this():
    from aetui import AetuiError as E, SessionRecord, Snapshot, StudyRecord, open_session, open_study  # noqa: F401

    assert sorted(aetui.__all__) == PUBLIC
    assert set(PUBLIC) <= set(dir(aetui))
    assert callable(open_session) and callable(open_study) and E is AetuiError
    with pytest.raises(AttributeError):
        aetui.no_such_thing  # noqa: B018


def test_help_lists_the_api_and_import_aetui_loads_no_engine():
    code = ("import json, pydoc, sys, aetui\n"
            "light = sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite', 'pandas', 'textual'))\n"
            "from aetui import open_session\n"
            "after = sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite'))\n"
            "print(json.dumps([light, after, pydoc.render_doc(aetui, renderer=pydoc.plaintext)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    light, after, doc = json.loads(out.stdout)
    assert light == [] and after == []  # the session reader needs neither the engine nor pandas
    for name in PUBLIC:
        assert name in doc


def test_what_it_reads_is_what_the_files_hold(recorded):
    r = aetui.open_session("run", sessions_dir=recorded.root)
    raw = json.loads((recorded.path("run") / "session.json").read_text())
    state = np.load(recorded.path("run") / "state.npz")
    assert r.name == "run" and r.config == raw["config"] and r.lineage == raw["lineage"]
    assert r.samples == raw["samples"] == 4_200 and not r.running and r.saved_samples == 4_200
    assert r.lineage_label == "sigmoid > relu x0.1" and r.image_shape == (8, 8)
    h = r.history
    assert list(h) == [*HISTORY_COLUMNS, "b"]
    points = raw["history"]["points"]
    n = len(points["samples"])
    assert n == len(r) > 20
    for key in HISTORY_COLUMNS:
        assert h[key].shape == (n,), key
        if key == "time":
            assert list(h[key]) == points[key]
        elif not key.startswith("c_"):
            expected = np.array([np.nan if v is None else v for v in points[key]], dtype=np.float64)
            np.testing.assert_array_equal(h[key].astype(np.float64), expected, err_msg=key)
    assert h["samples"].dtype == np.int64 and h["segment"].dtype == np.int64
    c = state["c_history"].astype(np.float64)
    np.testing.assert_array_equal(h["c_min"], c.min(axis=1))
    np.testing.assert_array_equal(h["c_max"], c.max(axis=1))
    np.testing.assert_allclose(h["c_mean"], c.mean(axis=1), rtol=1e-12)
    assert h["b"].dtype == np.float32 and h["b"].shape == (n, 16)
    np.testing.assert_array_equal(h["b"], state["bias_history"])
    np.testing.assert_array_equal(h["b_min"], h["b"].min(axis=1).astype(np.float64))
    assert set(h["segment"].tolist()) == {0, 1}
    assert h["lr"][0] == 0.26 and h["lr"][-1] == 0.01
    with pytest.raises(ValueError):  # read-only columns: a notebook cannot change the record by accident
        h["samples"][0] = 5


def test_events_lineage_and_snapshots(recorded):
    r = aetui.open_session(recorded.path("run"))  # a folder this time
    assert [(e["kind"], e["samples"]) for e in r.events] == [("lr", 2_000), ("snapshot", 2_600), ("restart", 3_000),
                                                            ("lr", 3_800)]
    assert r.events[0]["details"] == {"lr": 0.5, "previous": 0.26}
    assert r.events[2]["details"]["source"] == {"kind": "snapshot", "name": "snap1", "segment": 0, "step": 260}
    assert [(s["activation"], s["weight_scale"], s["reset_biases"], s["start_samples"]) for s in r.lineage] == \
        [("sigmoid", 1.0, True, 0), ("relu", 0.1, True, 3_000)]
    snaps = r.snapshots
    assert [s.samples for s in snaps] == sorted(s.samples for s in snaps)
    assert {s.kind for s in snaps} == {"period", "user", "thin"}
    (user,) = [s for s in snaps if s.kind == "user"]
    assert (user.name, user.samples, user.segment) == ("snap1", 2_600, 0)
    session = read_session(recorded.path("run"))
    _, state = session.read_snapshot("snap1")
    w = user.weights()
    assert sorted(w) == ["W", "b", "c"]
    for key in w:
        np.testing.assert_array_equal(w[key], getattr(state, key))
    assert w["W"].shape == (16, 64) and w["W"].dtype == np.float32
    np.testing.assert_array_equal(r.weights()["W"], session.state.W)
    assert r.snapshot("snap1").name == "snap1"
    with pytest.raises(SessionError, match="no snapshot named 'nope'"):
        r.snapshot("nope")


def test_untied_weights_have_w_dec(recorded):
    r = aetui.open_session("untied", sessions_dir=recorded.root)
    w = r.snapshot("snap1").weights()
    assert sorted(w) == ["W", "W_dec", "b", "c"] and w["W_dec"].shape == (64, 16)
    np.testing.assert_array_equal(r.weights()["W_dec"], read_session(recorded.path("untied")).state.W_dec)


def test_to_pandas_is_the_history_table(recorded):
    r = aetui.open_session("run", sessions_dir=recorded.root)
    df = r.to_pandas()
    assert list(df.columns) == [*HISTORY_COLUMNS, *(f"b_{j}" for j in range(16))]
    np.testing.assert_array_equal(df["heldout_loss"].to_numpy(), r.history["heldout_loss"])
    np.testing.assert_array_equal(df["b_7"].to_numpy(), r.history["b"][:, 7])


def test_a_missing_extra_is_one_line_naming_it(recorded, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    r = aetui.open_session("run", sessions_dir=recorded.root)
    with pytest.raises(ConfigError) as caught:
        r.to_pandas()
    assert str(caught.value) == "to_pandas() needs pandas: pip install 'aetui[data]'"


def test_unknown_and_damaged_sessions_are_one_line(recorded, tmp_path):
    with pytest.raises(SessionError, match=r"^no session named ghost in "):
        aetui.open_session("ghost", sessions_dir=recorded.root)
    with pytest.raises(SessionError, match="is not an aetui session"):
        aetui.open_session(tmp_path)
    with pytest.raises(AetuiError, match="bad session name"):
        aetui.open_session("../x", sessions_dir=recorded.root)
    copy = tmp_path / "copy"
    shutil.copytree(recorded.path("run"), copy)
    (copy / "session.json").write_text('{"schema": 3, "app": "aetui", "config"')
    with pytest.raises(SessionError, match=r"session.json is not valid JSON \(line 1"):
        aetui.open_session(copy)


def test_a_running_session_is_read_as_saved_and_left_untouched(recorded, tmp_path):
    shutil.copytree(recorded.path("run"), tmp_path / "live")
    from aetui.sessions.store import SessionStore

    store = SessionStore(tmp_path)
    trainer = acquire_trainer(store, "live", TrainConfig(data="bars8", hidden=16, batch=10).validated(), {})
    try:
        train(trainer, 500)  # trained, not saved: the reader sees the last save
        before = file_bytes(tmp_path / "live")
        stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "live").rglob("*")}
        r = aetui.open_session("live", sessions_dir=tmp_path)
        assert r.running and r.pid is not None
        assert r.saved_samples == r.samples == 4_200 and trainer.session.samples == 4_700
        r.history, r.events, [s.weights() for s in r.snapshots], r.snapshot_problems()
        assert file_bytes(tmp_path / "live") == before
        assert {p: p.stat().st_mtime_ns for p in (tmp_path / "live").rglob("*")} == stamps
    finally:
        release_trainer(trainer, save=False)
    assert not aetui.open_session("live", sessions_dir=tmp_path).running
