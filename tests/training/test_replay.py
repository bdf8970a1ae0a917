"""Replay: a session rebuilt from its record alone ends bit-identical to the original."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from aetui.cli.main import main
from aetui.errors import SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.lock import SessionLock
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer, release_trainer
from aetui.training.replay import replay
from tests.helpers.training import train

CONFIG = dict(data="bars8", hidden=16, batch=10)  # noise 0.3 and dropout 0.4: the defaults


def config(**changes) -> TrainConfig:
    return TrainConfig(**{**CONFIG, **changes}).validated()


def eventful_session(store: SessionStore, name: str = "orig", **changes):
    """lr changes, a user snapshot, a resume in between, a restart under relu from that snapshot."""
    t = acquire_trainer(store, name, config(**changes), {})
    train(t, 3_000)
    t.set_lr(0.5)
    train(t, 1_000)
    t.snapshot()
    t.set_lr(0.1)
    train(t, 2_000)
    release_trainer(t)
    t = acquire_trainer(store, name, config(**changes), {})  # resumed from disk
    train(t, 500)
    t.restart("relu", "snap1", None, True, None)
    train(t, 1_500)
    t.set_lr(0.01)
    train(t, 700)
    release_trainer(t)
    return read_session(store.path(name))


def test_replay_is_bit_identical_with_lr_changes_snapshots_a_restart_and_a_resume(tmp_path):
    store = SessionStore(tmp_path)
    orig = eventful_session(store)
    kinds = [e["kind"] for e in orig.history.events]
    assert kinds == ["lr", "snapshot", "lr", "restart", "lr"]
    result = replay(orig, store, "copy")
    release_trainer(result.trainer)
    copy = read_session(store.path("copy"))
    assert result.identical and result.max_difference == 0.0 and result.interventions == 5
    assert copy.step == orig.step and copy.lineage_label() == "sigmoid > relu x0.1"
    for key, a in orig.state.arrays().items():
        assert np.array_equal(a, copy.state.arrays()[key]), key
    assert np.array_equal(copy.read_snapshot("snap1")[1].W, orig.read_snapshot("snap1")[1].W)
    assert [e["kind"] for e in copy.history.events] == kinds


def test_replay_of_an_untied_momentum_run_from_a_period_snapshot(tmp_path):
    store = SessionStore(tmp_path)
    t = acquire_trainer(store, "orig", config(tied=False, momentum=0.5), {})
    train(t, 2_560)  # 256 batches: period snapshot seg0-period08 exists
    train(t, 400)
    t.restart("tanh", "seg0-period08", 0.5, False, 0.03)
    train(t, 900)
    release_trainer(t)
    orig = read_session(store.path("orig"))
    result = replay(orig, store, "copy")
    release_trainer(result.trainer)
    assert result.identical
    assert orig.lineage[-1]["source"]["name"] == "seg0-period08"


def test_an_incomplete_record_is_refused_with_what_is_missing(tmp_path):
    store = SessionStore(tmp_path)
    orig = eventful_session(store)
    # A restart from a snapshot whose making the record does not hold
    orig.history.events = [e for e in orig.history.events if e["kind"] != "snapshot"]
    with pytest.raises(SessionError, match="starts from snapshot snap1, and the record does not say how"):
        replay(orig, store, "copy")
    orig.record_gap = "saved by an old aetui"
    with pytest.raises(SessionError, match="cannot be replayed: it was saved by an old aetui"):
        replay(orig, store, "copy")
    assert not store.path("copy").exists()


def test_a_schema_1_session_reads_but_is_not_replayable(tmp_path):
    store = SessionStore(tmp_path)
    t = acquire_trainer(store, "old", config(), {})
    train(t, 1_000)
    release_trainer(t)
    path = store.path("old") / "session.json"
    raw = json.loads(path.read_text())
    raw["schema"] = 1
    del raw["record_gap"]
    del raw["history"]["points"]["lr"]
    path.write_text(json.dumps(raw))
    old = read_session(store.path("old"))
    assert old.record_gap is not None and "schema 1" in old.record_gap
    assert old.history.column("lr").tolist() == [0.26] * len(old.history)
    with pytest.raises(SessionError, match="cannot be replayed"):
        replay(old, store, "copy")


@pytest.mark.slow
def test_replay_from_the_command_line(tmp_path, capsys):
    store = SessionStore(tmp_path)
    eventful_session(store)
    code = main(["replay", "orig", "--session", "again", "--sessions-dir", str(tmp_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["identical"] is True and out["replay"] == "again" and out["samples"] == 8_700
    code = main(["replay", "orig", "--session", "again", "--sessions-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err == f"aetui: session again already exists in {tmp_path}; choose another --session for the replay"


@pytest.mark.slow
def test_replaying_a_session_that_is_training_says_it_replays_the_last_save(tmp_path, capsys):
    store = SessionStore(tmp_path)
    eventful_session(store)
    with SessionLock(store.path("orig")):  # as a trainer process holds it
        code = main(["replay", "orig", "--session", "again", "--sessions-dir", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    assert code == 0 and json.loads(captured.out)["source_was_training"] is True
    assert captured.err.strip() == (f"note: orig is training in another process (pid {os.getpid()}); "
                                    f"this replays its last save (8,700 samples)")
    code = main(["replay", "orig", "--session", "third", "--sessions-dir", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    assert code == 0 and json.loads(captured.out)["source_was_training"] is False and captured.err == ""


def _small_session(store: SessionStore, name: str = "dmg") -> None:
    """A small session with an lr change and a restart."""
    t = acquire_trainer(store, name, config(), {})
    train(t, 300)
    t.set_lr(0.5)
    train(t, 200)
    t.restart("relu", None, None, False, 0.01)
    train(t, 300)
    release_trainer(t)


def _damaged(store: SessionStore, kind: str, key: str, value) -> int:
    """_small_session "dmg" whose first `kind` event has `key` = value; returns that event's samples."""
    _small_session(store)
    path = store.path("dmg") / "session.json"
    raw = json.loads(path.read_text())
    event = next(e for e in raw["history"]["events"] if e["kind"] == kind)
    event[key] = value
    path.write_text(json.dumps(raw))
    return event["samples"]


@pytest.mark.parametrize("kind, key, value, why", [
    ("restart", "activation", "foo", "unknown activation 'foo' (choose from sigmoid, "),
    ("lr", "lr", -1, "learning rate must be a positive number, not -1"),
])
def test_a_damaged_event_is_one_line_and_leaves_no_replay_behind(tmp_path, capsys, kind, key, value, why):
    store = SessionStore(tmp_path)
    at = _damaged(store, kind, key, value)
    for _ in range(2):  # the second time is not "new already exists"
        code = main(["replay", "dmg", "--session", "new", "--sessions-dir", str(tmp_path)])
        out, err = capsys.readouterr()
        assert code == 1 and out == "" and err.count("\n") == 1
        assert err.startswith(f"aetui: session dmg cannot be replayed: its {kind} event at sample {at} in "
                              f"{store.path('dmg') / 'session.json'} is refused: {why}")
        assert not store.path("new").exists() and store.names() == ["dmg"]


def test_an_interrupted_replay_leaves_no_replay_behind(tmp_path, capsys, monkeypatch):
    from aetui.training.trainer import Trainer

    store = SessionStore(tmp_path)
    eventful_session(store)
    chunks = []
    real = Trainer.train_chunk

    def ctrl_c_later(self, max_batches=None):
        chunks.append(max_batches)
        if len(chunks) == 20:
            raise KeyboardInterrupt
        return real(self, max_batches)

    monkeypatch.setattr(Trainer, "train_chunk", ctrl_c_later)
    code = main(["replay", "orig", "--session", "new", "--sessions-dir", str(tmp_path)])
    assert code == 130 and capsys.readouterr().err == "aetui: interrupted\n"
    assert len(chunks) == 20 and not store.path("new").exists() and store.names() == ["orig"]


def test_a_replay_that_cannot_be_saved_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    import errno
    import os

    import aetui.training.replay as replay_module
    from tests.helpers.faults import FullDisk, temp_files

    store = SessionStore(tmp_path)
    _small_session(store, "dmg")
    disk = FullDisk(monkeypatch)

    def then_the_disk_fills(*args, **kwargs):
        result = replay(*args, **kwargs)
        disk.on()
        return result

    monkeypatch.setattr(replay_module, "replay", then_the_disk_fills)
    code = main(["replay", "dmg", "--session", "new", "--sessions-dir", str(tmp_path)])
    assert code == 1 and capsys.readouterr().err == \
        f"aetui: could not save the replay new in {tmp_path}: {os.strerror(errno.ENOSPC)}; nothing was kept\n"
    assert not store.path("new").exists() and temp_files(tmp_path) == []
