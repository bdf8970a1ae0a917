"""Session files: the public format, validation with clear errors, atomic saves, crash recovery."""

import json
import os

import numpy as np
import pytest

from aetui.model.config import TrainConfig
from aetui.errors import SessionError
from aetui.training.launch import release_trainer, acquire_trainer
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from tests.helpers.training import train


@pytest.fixture
def saved(tmp_path):
    cfg = TrainConfig(data="bars8", hidden=12, batch=10).validated()
    t = acquire_trainer(SessionStore(tmp_path), "s", cfg, {})
    train(t, 1_000)
    t.snapshot("mine")
    release_trainer(t)
    return tmp_path / "s"


def snapshot_of(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


def test_public_format_is_plain_numpy_and_json(saved):
    with np.load(saved / "state.npz") as z:
        assert {"W", "b", "c", "vW", "vb", "vc", "bias_history", "generation", "step"} <= set(z.files)
        assert "W_dec" not in z.files  # tied
        assert z["W"].shape == (12, 64) and z["W"].dtype == np.float32
        assert z["b"].shape == (12,) and z["c"].shape == (64,)
        points = z["bias_history"].shape[0]
        assert points > 2 and z["bias_history"].shape == (points, 12)
        assert z["c_history"].shape == (points, 64) and z["w_unit_history"].shape == (points, 12, 3)
        lo, mean, hi = z["w_unit_history"][-1].T
        assert np.all(lo <= mean) and np.all(mean <= hi)
    raw = json.loads((saved / "session.json").read_text())
    assert raw["schema"] == 3 and raw["samples"] == 1_000 and raw["config"]["hidden"] == 12
    assert raw["lineage"][0]["activation"] == "sigmoid"
    assert any(s["name"] == "mine" and s["file"] == "snapshots/mine.npz" for s in raw["snapshots"])
    with np.load(saved / "snapshots" / "mine.npz") as z:
        assert set(z.files) == {"W", "b", "c"}


def _rewrite_npz(path, **changes):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    np.savez(path, **arrays)


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "session.json").write_text("{not json"), "not valid JSON"),
    (lambda d: (d / "session.json").write_text(json.dumps({"app": "aetui", "schema": 99})), "schema version 99"),
    (lambda d: (d / "state.npz").write_bytes(b"garbage"), "state.npz is damaged: not a NumPy .npz archive"),
    (lambda d: (d / "state.npz").unlink(), "state.npz is missing"),
    (lambda d: _rewrite_npz(d / "state.npz", W=None), "has no array 'W'"),
    (lambda d: _rewrite_npz(d / "state.npz", W=np.zeros((3, 64), np.float32)), "shape (3, 64), expected (12, 64)"),
    (lambda d: _rewrite_npz(d / "state.npz", b=np.zeros(12, np.float64)), "dtype float64, expected float32"),
    (lambda d: _rewrite_npz(d / "state.npz", c=np.full(64, np.nan, np.float32)), "non-finite"),
    (lambda d: _rewrite_npz(d / "state.npz", W_dec=np.zeros((64, 12), np.float32)), "W_dec but the session's weights are tied"),
    (lambda d: _rewrite_npz(d / "state.npz", generation=np.array(77)), "does not belong to session.json"),
    (lambda d: _rewrite_npz(d / "state.npz", c_history=np.zeros((3, 64), np.float32)), "history has"),
    (lambda d: _rewrite_npz(d / "state.npz", w_unit_history=None), "has no array 'w_unit_history'"),
])
def test_bad_session_gives_one_clear_error_and_changes_nothing(saved, damage, message):
    damage(saved)
    before = snapshot_of(saved)
    with pytest.raises(SessionError) as info:
        read_session(saved)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert snapshot_of(saved) == before


def _flip(path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _object_array(path) -> None:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["W"] = np.array([{"not": "numbers"}], dtype=object)
    np.savez(path, **arrays)


@pytest.mark.parametrize("damage, problem", [
    (lambda p: p.write_bytes(b"garbage"), "not a NumPy .npz archive"),
    (lambda p: p.write_bytes(os.urandom(4000)), "not a NumPy .npz archive"),
    (lambda p: _flip(p, 0), "not a NumPy .npz archive"),
    (lambda p: p.write_bytes(p.read_bytes()[:3000]), "a NumPy .npz archive cut short (its zip directory is missing "
                                                     "or damaged)"),
    (lambda p: _flip(p, 200), "Bad CRC-32 for file 'W.npy'"),
    (_object_array, "an array holds Python objects, which aetui never loads"),
])
def test_a_damaged_state_npz_says_so_and_never_suggests_unsafe_loading(saved, damage, problem):
    damage(saved / "state.npz")
    with pytest.raises(SessionError) as info:
        read_session(saved)
    assert str(info.value) == f"{saved / 'state.npz'} is damaged: {problem}"


@pytest.mark.parametrize("key", ["config", "step", "image_shape"])
def test_a_missing_key_in_session_json_is_named(saved, key):
    raw = json.loads((saved / "session.json").read_text())
    del raw[key]
    (saved / "session.json").write_text(json.dumps(raw))
    with pytest.raises(SessionError) as info:
        read_session(saved)
    assert str(info.value) == f"{saved / 'session.json'} has no {key!r}"
    (row,) = SessionStore(saved.parent).summaries()
    assert row.problem == f"{saved / 'session.json'} has no {key!r}"


def test_a_wrong_image_shape_is_blamed_on_session_json(saved):
    raw = json.loads((saved / "session.json").read_text())
    raw["image_shape"] = [5, 5]
    (saved / "session.json").write_text(json.dumps(raw))
    with pytest.raises(SessionError) as info:
        read_session(saved)
    assert str(info.value) == (f"{saved / 'session.json'}: image_shape is 5x5 (25 pixels), but the arrays in "
                               f"{saved / 'state.npz'} have 64 pixels per image")
    # The same number of pixels in another shape: only the data can tell; the message names both.
    raw["image_shape"] = [4, 16]
    (saved / "session.json").write_text(json.dumps(raw))
    with pytest.raises(SessionError) as info:
        acquire_trainer(SessionStore(saved.parent), "s", TrainConfig(), {})
    assert str(info.value) == (f"session s was trained on 4x16 images (image_shape in {saved / 'session.json'}) "
                               "but bars8 has 8x8")
    # Arrays that disagree with each other are state.npz's problem.
    raw["image_shape"] = [8, 8]
    (saved / "session.json").write_text(json.dumps(raw))
    _rewrite_npz(saved / "state.npz", c=np.zeros(25, np.float32))
    with pytest.raises(SessionError) as info:
        read_session(saved)
    assert str(info.value) == f"{saved / 'state.npz'}: array 'c' has shape (25,), expected (64,)"


def test_bad_config_in_session_json(saved):
    raw = json.loads((saved / "session.json").read_text())
    raw["config"]["activation"] = "swish"
    (saved / "session.json").write_text(json.dumps(raw))
    with pytest.raises(SessionError, match="unknown activation 'swish'"):
        read_session(saved)


def test_crash_between_the_two_renames_recovers_the_new_save(saved, monkeypatch):
    s = read_session(saved)
    s.step += 5  # pretend training happened
    real_replace = os.replace
    calls = []

    def crash_on_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        s.save()
    monkeypatch.setattr(os, "replace", real_replace)
    # state.npz is new, session.json old, session.json.tmp complete: the load takes the new pair.
    again = read_session(saved)
    assert again.step == s.step
    np.testing.assert_array_equal(again.state.W, s.state.W)


def test_crash_before_any_rename_keeps_the_old_save(saved, monkeypatch):
    old = read_session(saved)
    s = read_session(saved)
    s.state.W[...] = 1.0
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        s.save()
    monkeypatch.undo()
    again = read_session(saved)
    np.testing.assert_array_equal(again.state.W, old.state.W)
    assert again.generation == old.generation


def test_snapshot_names_are_checked(saved):
    s = read_session(saved)
    with pytest.raises(SessionError, match="already exists"):
        s.write_snapshot("mine", "user", s.state)
    with pytest.raises(SessionError, match="bad snapshot name"):
        s.write_snapshot("../evil", "user", s.state)
    with pytest.raises(SessionError, match="no snapshot named 'nope'"):
        s.read_snapshot("nope")


def test_summaries_report_unreadable_sessions(saved):
    store = SessionStore(saved.parent)
    (saved.parent / "broken").mkdir()
    (saved.parent / "broken" / "session.json").write_text("[")
    rows = {r.name: r for r in store.summaries()}
    assert rows["s"].samples == 1_000 and rows["s"].lineage == "sigmoid" and rows["s"].problem is None
    assert "not valid JSON" in rows["broken"].problem


def test_a_hint_names_the_sessions_folder_unless_it_is_aetui_sessions(tmp_path, monkeypatch):
    from aetui.sessions.store import SessionStore

    monkeypatch.delenv("AETUI_SESSIONS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert SessionStore().command("attach", "run 1") == f"aetui attach 'run 1' --sessions-dir {tmp_path / 'sessions'}"
    monkeypatch.setenv("AETUI_SESSIONS", str(tmp_path / "mine"))
    assert SessionStore().command("stop", "x") == "aetui stop x"  # $AETUI_SESSIONS finds it from anywhere
    assert SessionStore(tmp_path / "other").command("stop", "x") == f"aetui stop x --sessions-dir {tmp_path / 'other'}"
