"""Faults while writing: a full disk at every write path, bad session folders, a session in use.

Each ends in one clear message; the files of the last save stay as they were, no temp file is
left behind, and nothing trained is lost while the process lives.
"""

from __future__ import annotations

import errno
import os
import pathlib
import threading
import time

import numpy as np
import pytest

from aetui.cli.main import main
from aetui.errors import SaveError, SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.lock import SessionLock
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer, release_trainer
from aetui.training.loop import run_loop
from tests.helpers.faults import FullDisk, file_bytes, temp_files
from tests.helpers.training import train

NO_SPACE = os.strerror(errno.ENOSPC)


@pytest.fixture
def disk(monkeypatch):
    return FullDisk(monkeypatch)


@pytest.fixture
def trained(tmp_path):
    """A session saved at 1,000 samples, then trained to 1,500 (unsaved), still open."""
    store = SessionStore(tmp_path / "sessions")
    t = acquire_trainer(store, "s", TrainConfig(data="bars8", hidden=12, batch=10).validated(), {})
    train(t, 1_000)
    t.save()
    train(t, 500)
    yield t
    t.session.unlock()


def test_a_failed_save_keeps_the_last_save_and_leaves_no_temp_file(trained, disk):
    folder = trained.session.path
    before = file_bytes(folder)
    disk.on()
    with pytest.raises(SaveError) as err:
        trained.save()
    assert str(err.value) == f"could not save session s: {NO_SPACE}; the last save (1,000 samples) is intact"
    assert disk.refused >= 1 and temp_files(folder) == []
    assert file_bytes(folder) == before
    assert trained.session.dirty and read_session(folder).samples == 1_000
    disk.off()
    trained.save()  # the retry works once there is room, with everything trained meanwhile
    assert read_session(folder).samples == 1_500


def test_a_user_snapshot_that_cannot_be_written_is_not_indexed(trained, disk):
    disk.on()
    with pytest.raises(SaveError, match=f"could not write snapshot snap1 of session s: {NO_SPACE}"):
        trained.snapshot()
    assert [s["name"] for s in trained.session.snapshots if s["kind"] == "user"] == []
    assert not any(e["kind"] == "snapshot" for e in trained.session.history.events)
    assert temp_files(trained.session.path) == [] and not trained.session.snapshot_path("snap1").exists()


def test_period_snapshots_on_a_full_disk_are_kept_until_a_save_works(trained, disk):
    disk.on()
    train(trained, 1_100)  # crosses 256 batches: period snapshot seg0-period08 is due
    assert trained.session.samples == 2_600
    assert "seg0-period08" in trained.session.unwritten_snapshots
    assert not trained.session.snapshot_path("seg0-period08").exists() and temp_files(trained.session.path) == []
    with pytest.raises(SaveError):
        trained.save()
    assert "seg0-period08" in trained.session.unwritten_snapshots  # still kept
    disk.off()
    trained.save()
    assert trained.session.unwritten_snapshots == ()
    on_disk = read_session(trained.session.path)
    assert on_disk.snapshot_problems() == {}
    assert on_disk.read_snapshot("seg0-period08")[1].W.shape == (12, 64)


def test_an_autosave_that_fails_stops_a_plain_loop_with_the_message(trained, disk):
    disk.on()
    with pytest.raises(SaveError, match="the last save \\(1,000 samples\\) is intact"):
        run_loop(trained, samples=10_000, autosave_seconds=1e-9, warm=False)


def test_headless_on_a_full_disk_says_so_and_exits_1(tmp_path, disk, capsys):
    sessions = tmp_path / "sessions"
    args = ["train", "--headless", "--data", "bars8", "--hidden", "8", "--batch", "10", "--session", "h",
            "--sessions-dir", str(sessions)]
    assert main([*args, "--samples", "500"]) == 0
    capsys.readouterr()
    before = file_bytes(sessions / "h")
    disk.on()
    assert main([*args, "--samples", "500"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == f"aetui: could not save session h: {NO_SPACE}; the last save (500 samples) is intact"
    assert file_bytes(sessions / "h") == before and temp_files(sessions) == []
    # A new session that cannot even be created leaves no folder behind.
    assert main(["train", "--headless", "--data", "bars8", "--session", "new", "--sessions-dir", str(sessions),
                 "--samples", "100"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"aetui: could not create session new in {sessions}: {NO_SPACE}")
    assert not (sessions / "new").exists()


def test_export_on_a_full_disk_is_one_line(tmp_path, disk, capsys):
    sessions = tmp_path / "sessions"
    assert main(["train", "--headless", "--data", "bars8", "--hidden", "8", "--batch", "10", "--session", "e",
                 "--sessions-dir", str(sessions), "--samples", "200"]) == 0
    capsys.readouterr()
    disk.on()
    assert main(["export", "e", "--png", str(tmp_path / "out"), "--sessions-dir", str(sessions)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"aetui: cannot write {tmp_path / 'out' / 'filters.png'}: {NO_SPACE}"
    assert temp_files(tmp_path / "out") == []


def test_sessions_dir_that_is_a_file_or_cannot_be_created(tmp_path, capsys, monkeypatch):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["sessions", "--sessions-dir", str(a_file)]) == 1
    assert capsys.readouterr().err.strip() == f"aetui: the sessions folder {a_file} is a file, not a folder (see --sessions-dir)"
    assert main(["train", "--headless", "--samples", "10", "--data", "bars8", "--sessions-dir", str(a_file)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err
    below = a_file / "sub"
    assert main(["train", "--headless", "--samples", "10", "--data", "bars8", "--session", "x",
                 "--sessions-dir", str(below)]) == 1
    assert capsys.readouterr().err.strip() == f"aetui: cannot create session x in {below}: Not a directory"
    # read-only (root ignores permission bits, so the refusal is injected as the kernel gives it)
    real_mkdir = pathlib.Path.mkdir

    def read_only(self, *args, **kwargs):
        if str(self).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    assert main(["train", "--headless", "--samples", "10", "--data", "bars8", "--session", "x",
                 "--sessions-dir", str(tmp_path / "ro")]) == 1
    assert capsys.readouterr().err.strip() == f"aetui: cannot create session x in {tmp_path / 'ro'}: Read-only file system"


def test_a_refused_configuration_leaves_no_session_folder(tmp_path, capsys):
    sessions = tmp_path / "sessions"
    assert main(["train", "--headless", "--data", "bars8", "--batch", "5000", "--session", "big",
                 "--sessions-dir", str(sessions)]) == 2
    assert "is larger than the training set" in capsys.readouterr().err
    assert not sessions.exists()  # nor the sessions folder it had to create for it
    (sessions / "other").mkdir(parents=True)  # a folder that was there before stays, with what it holds
    assert main(["train", "--headless", "--data", "bars8", "--batch", "5000", "--session", "big",
                 "--sessions-dir", str(sessions)]) == 2
    assert sorted(p.name for p in sessions.iterdir()) == ["other"]


def _cut_save(store: SessionStore, cfg: TrainConfig):
    """A session saved at 300 and then at 600 samples, left as a save cut between its two renames:
    state.npz is the new one, session.json the old one, the new one still staged."""
    t = acquire_trainer(store, "s", cfg, {})
    train(t, 300)
    t.save()
    folder = t.session.path
    json_at_300 = (folder / "session.json").read_bytes()
    train(t, 300)
    release_trainer(t)
    (folder / "session.json").rename(folder / "session.json.tmp")
    (folder / "session.json").write_bytes(json_at_300)
    return folder


def test_opening_a_session_sweeps_temp_files_and_finishes_a_cut_save(tmp_path):
    store = SessionStore(tmp_path)
    cfg = TrainConfig(data="bars8", hidden=12, batch=10).validated()
    folder = _cut_save(store, cfg)
    # ...and temp files of writes that failed.
    (folder / "snapshots" / "seg0-period05.npz.tmp").write_bytes(b"half")
    (folder / "state.npz.tmp").write_bytes(b"half")
    assert read_session(folder).recovered_from_staged and read_session(folder).samples == 600
    t = acquire_trainer(store, "s", cfg, {})
    assert t.session.samples == 600 and temp_files(folder) == []
    again = read_session(folder)
    assert again.samples == 600 and not again.recovered_from_staged
    release_trainer(t)


def test_a_session_in_use_names_the_process(tmp_path):
    store = SessionStore(tmp_path)
    t = acquire_trainer(store, "busy", TrainConfig(data="bars8", hidden=12, batch=10).validated(), {})
    with pytest.raises(SessionError) as err:
        SessionLock(t.session.path).acquire()
    assert str(err.value) == f"session busy is open in another aetui process (pid {os.getpid()})"
    release_trainer(t)
    with SessionLock(t.session.path):  # free again
        pass
    assert np.isfinite(read_session(t.session.path).state.W).all()


def test_reading_a_session_while_its_owner_saves_sees_the_new_save(tmp_path, monkeypatch):
    import aetui.sessions.session as session_module

    # The owner is between its two renames when the reader starts: the reader reads the old
    # session.json, then the new state.npz, and meanwhile the owner renames the new session.json.
    folder = _cut_save(SessionStore(tmp_path), TrainConfig(data="bars8", hidden=12, batch=10).validated())
    real = session_module.read_npz

    def owner_finishes(path):
        arrays = real(path)
        (folder / "session.json.tmp").replace(folder / "session.json")
        return arrays

    monkeypatch.setattr(session_module, "read_npz", owner_finishes)
    assert read_session(folder).samples == 600


@pytest.mark.parametrize("fault", ["read-only", "lock is a folder"])
def test_a_session_that_cannot_be_locked_is_one_line_and_nothing_changes(tmp_path, capsys, monkeypatch, fault):
    sessions = tmp_path / "sessions"
    args = ["train", "--headless", "--data", "bars8", "--hidden", "8", "--batch", "10", "--session", "ro",
            "--sessions-dir", str(sessions), "--samples", "100"]
    assert main(args) == 0
    capsys.readouterr()
    folder = sessions / "ro"
    lock = folder / ".lock"
    if fault == "read-only":  # root ignores permission bits: the refusal is injected as the kernel gives it
        real_open = os.open

        def read_only(path, flags, *rest, **kwargs):
            if pathlib.Path(path) == lock:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real_open(path, flags, *rest, **kwargs)

        monkeypatch.setattr(os, "open", read_only)
        reason = os.strerror(errno.EROFS)
    else:
        lock.unlink()
        lock.mkdir()
        reason = os.strerror(errno.EISDIR)
    before = file_bytes(folder)
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == f"aetui: cannot lock session ro in {sessions}: {reason}\n"
    assert file_bytes(folder) == before and temp_files(folder) == []


@pytest.mark.slow
def test_a_session_read_while_its_owner_saves_again_and_again_always_reads_whole(tmp_path):
    """A reader (open_session, sessions show, the history of a running trainer) catches the owner's
    saves at every moment, between the renames of state.npz and session.json too: each read gives
    one save's state with its own json, never an error."""
    store = SessionStore(tmp_path)
    t = acquire_trainer(store, "s", TrainConfig(data="bars8", hidden=12, batch=10).validated(), {})
    train(t, 100)
    t.save()
    stop = threading.Event()
    saves = [0]

    def save_again_and_again():
        while not stop.is_set():
            t.train_chunk(1)
            t.save()
            saves[0] += 1

    writer = threading.Thread(target=save_again_and_again)
    writer.start()
    steps = []
    deadline = time.monotonic() + 60
    try:
        while saves[0] < 30 and writer.is_alive() and time.monotonic() < deadline:
            session = read_session(t.session.path)  # raised "session.json.tmp cannot be read" before
            assert session.samples == session.step * 10
            steps.append(session.step)
            time.sleep(0.001)  # the writer's turn at the GIL
    finally:
        stop.set()
        writer.join(10)
        release_trainer(t)
    assert saves[0] >= 30, f"the owner saved only {saves[0]} times in 60 s"  # the reads overlapped many saves
    assert len(set(steps)) > 5  # and read many of them
    assert steps == sorted(steps)  # each read is a save at least as late as the one before
