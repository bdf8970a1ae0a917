"""open_session and the exports on a session a real trainer process holds: read as saved, untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import aetui
from aetui.model.warm_up import warm_up
from aetui.sessions.store import SessionStore
from aetui.training.client import TrainerClient
from aetui.training.frame import PAUSED
from aetui.training.process import running
from tests.helpers.faults import file_bytes
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow  # starts a trainer process

TINY = ["--data", "bars8", "--hidden", "16", "--batch", "10"]


wait = wait_until


@pytest.fixture
def trainer(tmp_path):
    """A detached trainer process training session `live`; stopped (or killed) after the test."""
    warm_up()  # the trainer then loads the kernels from the cache
    store = SessionStore(tmp_path / "sessions")
    done = subprocess.run([sys.executable, "-m", "aetui", "train", "--detach", "--sessions-dir", str(store.root),
                           "--session", "live", *TINY], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    hello = running(store.path("live"))
    client = TrainerClient.attach(Path(hello.socket))
    yield store, client, hello.pid
    try:
        client.stop(timeout=10)
    except Exception:
        os.kill(hello.pid, signal.SIGKILL)


def test_a_session_a_trainer_process_holds_is_read_as_saved_and_left_untouched(trainer, tmp_path, capsys):
    from aetui.cli.main import main

    store, client, pid = trainer
    def frame():
        client.wait_frame(0.2)
        return client.frame

    wait(lambda: frame().samples > 2_000, 60, "training")
    client.pause()
    wait(lambda: frame().state == PAUSED, 30, "a pause")
    client.save()  # paused and saved: nothing in the folder changes unless a reader changes it
    wait(lambda: frame().saved, 30, "a save")
    folder = store.path("live")
    before = file_bytes(folder)
    stamps = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    record = aetui.open_session("live", sessions_dir=store.root)
    assert record.running and record.pid == pid and record.saved_samples == client.frame.samples
    assert len(record) > 0 and record.snapshots
    for fmt in ("csv", "parquet", "tensorboard", "png"):
        assert main(["export", "live", "--sessions-dir", str(store.root), f"--{fmt}", str(tmp_path / fmt)]) == 0
    assert main(["sessions", "show", "live", "--sessions-dir", str(store.root)]) == 0
    assert f"running   in process {pid}: what follows is its last save" in capsys.readouterr().out
    assert file_bytes(folder) == before
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == stamps
