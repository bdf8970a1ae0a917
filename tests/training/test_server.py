"""The trainer's server and client in this process, over a real Unix socket: commands, notices
between clients, stops, failed saves, and connections that misbehave."""

from __future__ import annotations

import os
import socket
import stat
import struct
import threading

import numpy as np
import pytest

from aetui.errors import SessionError
from aetui.sessions.session import read_session
from aetui.training import wire
from aetui.training.client import TrainerClient, connect
from aetui.training.frame import PAUSED, RUNNING
from aetui.training.server import TrainerServer
from aetui.training.sockets import runtime_dir
from tests.helpers.faults import FullDisk
from tests.helpers.tui import serve
from tests.helpers.waiting import wait_until


def wait(predicate, timeout=5.0, what="condition"):
    return wait_until(predicate, timeout, what, poll=0.02)


def running(client: TrainerClient, timeout=180.0) -> None:
    """Wait until the trainer runs (a cold kernel cache compiles for a while first)."""
    wait(lambda: client.frame.state == RUNNING and client.frame.samples > 0, timeout, "training")


def test_socket_and_its_folder_are_private(tui_make_trainer):
    server = serve(tui_make_trainer())
    assert stat.S_IMODE(server.path.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700
    assert len(str(server.path)) < 108


def test_a_folder_others_can_enter_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("AETUI_RUNTIME_DIR", str(tmp_path))
    folder = tmp_path / f"aetui-{os.getuid()}"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with pytest.raises(SessionError, match="is not private to you .*mode 755"):
        runtime_dir()


def test_commands_reach_the_trainer_and_other_clients_hear_of_them(tui_make_trainer):
    server = serve(tui_make_trainer(), start_paused=False)
    one, two = TrainerClient.attach(server.path), TrainerClient.attach(server.path)
    running(one)
    heard_by_one = []  # notices() hands each notice out once; it comes with one's next frame
    wait(lambda: heard_by_one.extend(one.notices()) or any("attached" in n.text for n in heard_by_one),
         what="the attach notice")
    one.pause()
    wait(lambda: two.frame.state == PAUSED, what="paused as seen by the other client")
    one.set_lr(0.5)
    one.snapshot("mark")
    wait(lambda: two.frame.lr == 0.5 and [s["name"] for s in two.frame.snapshots if s["kind"] == "user"] == ["mark"],
         what="lr and snapshot")
    heard, told = [], []  # by the other client, and by the one that asked

    def outcomes_arrived():
        heard.extend(n.text for n in two.notices())
        told.extend(n.text for n in one.notices())
        return any(t.startswith("snapshot mark") for t in told) and any("snapshot mark" in t for t in heard)

    wait(outcomes_arrived, what="the outcomes")
    who = f"the dashboard of pid {os.getpid()}"
    # the others hear each action once, with who did it; the asker hears the outcome plainly
    assert heard == [f"{who} paused training", f"{who}: learning rate 0.5",
                     next(t for t in heard if t.startswith(f"{who}: snapshot mark at sample "))]
    assert [t for t in told if "attached" not in t] == ["learning rate 0.5", heard[2].split(": ", 1)[1]]
    one.set_lr(-1.0)  # refused: only the asker hears why
    wait(lambda: told.extend(n.text for n in one.notices()) or any("learning rate must be" in t for t in told),
         what="the refusal")
    # notices reach each client in order: one more action, which the other client hears, comes
    # after the refusal would have
    one.set_lr(0.5)
    later = []
    wait(lambda: later.extend(n.text for n in two.notices()) or f"{who}: learning rate 0.5" in later,
         what="the next action's notice")
    assert not any("must be" in t for t in later)
    record, W, b = two.snapshot_weights("mark")
    assert record["name"] == "mark" and W.shape == (16, 64) and np.isfinite(W).all()
    with pytest.raises(SessionError, match="no snapshot named 'nope'"):
        two.snapshot_weights("nope")
    two.close()
    wait(lambda: any("detached" in n.text for n in one.notices()), what="the detach notice")


def test_stop_saves_releases_and_tells_every_client(tui_make_trainer, tui_store):
    trainer = tui_make_trainer()
    server = serve(trainer, start_paused=False)
    one, two = TrainerClient.attach(server.path), TrainerClient.attach(server.path)
    running(one)
    outcome = one.stop()
    assert outcome["stopped"] and outcome["error"] is None and outcome["samples"] == outcome["saved_samples"] > 0
    assert read_session(trainer.session.path).samples == outcome["samples"]
    assert not server.path.exists() and not trainer.session._lock.held
    wait(lambda: two.stopped is not None, what="the other client told")
    assert two.stopped["samples"] == outcome["samples"] and not two.connected and two.gone is None


def test_a_stop_whose_save_fails_keeps_training(tui_make_trainer, monkeypatch):
    trainer = tui_make_trainer()
    server = serve(trainer, start_paused=False)
    client = TrainerClient.attach(server.path)
    running(client)
    disk = FullDisk(monkeypatch)
    disk.on()
    outcome = client.stop()
    assert not outcome["stopped"] and "No space left on device" in outcome["error"]
    at = client.frame.samples
    wait(lambda: client.frame.samples > at + 100 and client.frame.state == RUNNING, what="training on")
    disk.off()
    assert client.stop()["stopped"]
    assert [e["kind"] for e in read_session(trainer.session.path).history.events].count("save_failed") == 1


class _LongChunk:
    """The trainer's train_chunk, of which the next one (once armed) is held until released: a
    chunk longer than a stop's wait (extreme load, a huge model)."""

    def __init__(self, trainer, monkeypatch):
        self.chunk = trainer.train_chunk
        self.armed, self.entered, self.released = threading.Event(), threading.Event(), threading.Event()
        monkeypatch.setattr(trainer, "train_chunk", self)

    def __call__(self, *args, **kwargs):
        if self.armed.is_set():
            self.armed.clear()
            self.entered.set()
            self.released.wait(30.0)
        return self.chunk(*args, **kwargs)

    def hold(self) -> None:
        self.armed.set()
        wait(self.entered.is_set, what="the long chunk to begin")


def test_a_stop_that_times_out_inside_a_long_chunk_keeps_training(tui_make_trainer, monkeypatch):
    # q in the dashboard while a chunk runs longer than the stop's wait: "did not stop in time";
    # the dialog's "Keep running" must find training going on, not a thread that ends after the chunk.
    trainer = tui_make_trainer()
    server = serve(trainer, start_paused=False)
    client = TrainerClient.attach(server.path)
    running(client)
    chunk = _LongChunk(trainer, monkeypatch)
    chunk.hold()
    outcome = client.stop()
    assert not outcome["stopped"] and "did not stop in time" in outcome["error"]
    chunk.released.set()
    at = client.frame.samples
    wait(lambda: client.frame.samples > at + 100 and client.frame.state == RUNNING, what="training on")
    assert server.runner.alive and not server.finished
    assert client.stop()["stopped"]
    assert read_session(trainer.session.path).samples > at + 100


def test_a_stop_seen_just_as_its_wait_ran_out_still_stops_and_saves(tui_make_trainer, monkeypatch):
    # The thread saw the stop (it is leaving) when the wait ran out: the stop can no longer be
    # withdrawn, so the server waits for the thread to end and saves, rather than leave it dead.
    from aetui.training.runner import TrainingRunner

    trainer = tui_make_trainer()
    server = serve(trainer, start_paused=False)
    client = TrainerClient.attach(server.path)
    running(client)
    chunk = _LongChunk(trainer, monkeypatch)
    withdraw = TrainingRunner.withdraw_stop

    def too_late(runner):
        chunk.released.set()  # the chunk ends now; the thread sees the stop and leaves
        wait(lambda: not runner.alive, what="the thread to end")
        return withdraw(runner)

    monkeypatch.setattr(TrainingRunner, "withdraw_stop", too_late)
    chunk.hold()
    outcome = client.stop()
    assert outcome["stopped"] and outcome["error"] is None and outcome["samples"] == outcome["saved_samples"] > 0
    assert read_session(trainer.session.path).samples == outcome["samples"] and server.finished


def _raw(path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(path))
    return s


def _dropped(s: socket.socket) -> bool:
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\n\r\n",
    struct.pack("<4sII", wire.MAGIC, 100, 1 << 30),  # a header claiming a gigabyte
    wire.encode({"op": "hello", "client": "dashboard"}) + wire.encode({"op": "explode"}),
    wire.encode({"op": "hello"}) + wire.encode({"op": "command", "name": "set_lr", "args": ["fast"]}),
    wire.encode({"op": "hello"}) + wire.encode({"op": "command", "name": "shell", "args": []}),
    wire.encode({"op": "frame"}),  # no hello first
])
def test_garbage_drops_that_connection_only(tui_make_trainer, garbage):
    server = serve(tui_make_trainer(), start_paused=False)
    good = TrainerClient.attach(server.path)
    bad = _raw(server.path)
    bad.sendall(garbage)
    if garbage.startswith(wire.MAGIC) and b'"hello"' in garbage:
        header, _ = wire.receive(bad, wire.MAX_FRAME)  # the hello is answered, then the bad request drops it
        assert header["op"] == "hello"
    assert _dropped(bad)
    bad.close()
    before = good.frame.version
    wait(lambda: good.frame.version > before or good.frame.state != RUNNING, what="frames go on")
    assert good.connected and good.gone is None and not server.finished


def test_a_peer_of_another_uid_is_refused(tui_make_trainer, monkeypatch):
    import aetui.training.server as server_module

    monkeypatch.setattr(server_module, "peer_uid", lambda conn: os.getuid() + 1)
    server = serve(tui_make_trainer())
    with pytest.raises(SessionError, match="no trainer answers"):
        connect(server.path, timeout=2)


def test_a_stale_socket_is_replaced(tui_make_trainer):
    trainer = tui_make_trainer()
    from aetui.training.sockets import socket_path

    path = socket_path(trainer.session.path)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # bound, never listening: what a killed trainer leaves
    stale.close()
    server = TrainerServer(trainer, paused=True).start()
    try:
        assert TrainerClient.attach(path).frame.session == trainer.session.name
    finally:
        server.stop()


def test_a_trainer_with_no_room_left_still_says_it_runs_and_attaching_says_why_not(tui_make_trainer, monkeypatch):
    import aetui.training.server as server_module
    from aetui.training.client import TrainerBusy
    from aetui.training.process import running

    monkeypatch.setattr(server_module, "MAX_CLIENTS", 2)
    trainer = tui_make_trainer()
    server = serve(trainer)
    held = [connect(server.path, timeout=2)[0] for _ in range(2)]  # every place taken
    try:
        wait(lambda: server.clients == 2 or len(server._clients) == 2, what="both held")
        hello = running(trainer.session.path)  # a probe: the listing and stop find the trainer
        assert hello is not None and hello.pid == os.getpid() and hello.session == trainer.session.name
        assert server.path.exists()  # not taken for a stale socket
        with pytest.raises(TrainerBusy, match=rf"session {trainer.session.name} is running \(pid {os.getpid()}\) "
                                              r"but serves 2 connections already"):
            TrainerClient.attach(server.path)
    finally:
        for sock in held:
            sock.close()
    wait(lambda: len(server._clients) < 2, what="a place freed")
    assert TrainerClient.attach(server.path).frame.session == trainer.session.name
