"""Trainer processes for real: started detached, attached, detached from, reattached, watched by
two clients, steered from a headless run, stopped, killed with -9, sent garbage, and a dashboard
whose terminal hangs up. Every trainer a test starts is stopped (or killed) after it."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from aetui.model.warm_up import warm_up
from aetui.sessions.lock import SessionLock
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.training.client import TrainerClient
from aetui.training.frame import PAUSED, RUNNING
from aetui.errors import SessionError
from aetui.training.process import attach, running
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow  # every test here starts trainer processes

TINY = ["--data", "bars8", "--hidden", "16", "--batch", "10"]


@pytest.fixture(scope="module", autouse=True)
def kernels_cached():
    """Compile (or load) the kernels here first: the trainers then load them from Numba's cache."""
    warm_up()


@pytest.fixture
def store(tmp_path):
    """A session store whose running trainers are stopped, or killed, after the test."""
    store = SessionStore(tmp_path / "sessions")
    yield store
    for name in store.names():
        hello = running(store.path(name))
        if hello is None:
            continue
        try:
            TrainerClient.attach(Path(hello.socket)).stop(timeout=10)
        except Exception:
            os.kill(hello.pid, signal.SIGKILL)
        wait(lambda: _ended(hello.pid), 10, "the trainer to end")


def aetui(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aetui", *args], capture_output=True, text=True, timeout=timeout)


def wait(predicate, timeout=30.0, what="condition"):  # generous: real processes on a shared 2-core machine
    return wait_until(predicate, timeout, what)


def _ended(pid: int) -> bool:
    """Gone, or a zombie nobody reaped yet (a container's init may not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def start_detached(store, name: str) -> int:
    done = aetui("train", "--detach", "--sessions-dir", str(store.root), "--session", name, *TINY)
    assert done.returncode == 0, done.stderr
    assert f"session {name} trains in the background (pid " in done.stdout
    # the hints work from any folder: they name the sessions folder
    assert f"aetui attach {name} --sessions-dir {store.root.resolve()}" in done.stdout
    assert f"aetui stop {name} --sessions-dir {store.root.resolve()}" in done.stdout
    return int(done.stdout.split("(pid ")[1].split(")")[0])


def trained(client: TrainerClient, more_than: int = 0) -> None:
    wait(lambda: client.frame.state == RUNNING and client.frame.samples > more_than, 120, "training")


def test_detach_reattach_two_clients_then_stop(store):
    pid = start_detached(store, "bg")
    hello = running(store.path("bg"))
    assert hello.pid == pid and hello.session == "bg"
    first = TrainerClient.attach(Path(hello.socket))
    trained(first)
    first.close()  # detach: training goes on without anyone watching
    at = running(store.path("bg")).samples
    wait(lambda: running(store.path("bg")).samples > at + 1000, 20, "training on while detached")
    listed = json.loads(aetui("sessions", "--json", "--sessions-dir", str(store.root)).stdout)
    assert [(s["name"], s["running"], s["pid"], s["socket"]) for s in listed] == [("bg", True, pid, hello.socket)]
    assert listed[0]["samples_per_second"] > 0
    one, two = TrainerClient.attach(Path(hello.socket)), TrainerClient.attach(Path(hello.socket))
    one.pause()
    wait(lambda: two.frame.state == PAUSED, what="the pause seen by the other client")
    wait(lambda: any("paused training" in n.text for n in two.notices()), what="the other client's notice")
    done = aetui("stop", "bg", "--sessions-dir", str(store.root))
    assert done.returncode == 0, done.stderr
    samples = int(done.stdout.split(" at ")[1].split(" samples")[0].replace(",", ""))
    assert read_session(store.path("bg")).samples == samples > 0
    wait(lambda: one.stopped is not None and two.stopped is not None, what="both clients told of the stop")
    wait(lambda: _ended(pid), what="the trainer process to end")
    assert running(store.path("bg")) is None
    again = aetui("stop", "bg", "--sessions-dir", str(store.root))
    assert again.returncode == 1 and again.stderr.strip() == \
        "aetui: session bg is not running: nothing to stop (its last save is on disk)"
    with pytest.raises(SessionError) as not_running:
        attach(store, "bg")
    assert str(not_running.value) == \
        f"session bg is not running; start it with: aetui --session bg --sessions-dir {store.root.resolve()}"


def test_kill_9_keeps_the_last_save_and_a_restart_is_not_blocked(store):
    pid = start_detached(store, "k")
    client = TrainerClient.attach(Path(running(store.path("k")).socket))
    trained(client)
    client.pause()
    client.save()
    wait(lambda: any(n.text == "saved session k" for n in client.notices()), what="the save")
    saved = read_session(store.path("k")).samples
    assert saved == client.frame.samples > 0
    os.kill(pid, signal.SIGKILL)
    wait(lambda: client.gone is not None, what="the client to notice")
    assert f"lost the trainer of session k (pid {pid})" in client.gone
    assert read_session(store.path("k")).samples == saved  # intact on disk
    assert running(store.path("k")) is None  # the stale socket is detected (and removed)
    new_pid = start_detached(store, "k")  # neither the old socket nor the old lock blocks it
    again = TrainerClient.attach(Path(running(store.path("k")).socket))
    assert new_pid != pid and again.frame.samples == saved


def test_garbage_on_the_socket_drops_only_that_connection(store):
    start_detached(store, "g")
    path = running(store.path("g")).socket
    good = TrainerClient.attach(Path(path))
    for garbage in (b"\x00" * 64, struct.pack("<4sII", b"AET1", 50, 1 << 31), b"AET1" + os.urandom(200)):
        bad = socket.socket(socket.AF_UNIX)
        bad.settimeout(5)
        bad.connect(path)
        bad.sendall(garbage)
        try:
            assert bad.recv(1) == b""  # dropped
        except ConnectionResetError:  # dropped with our bytes unread
            pass
        bad.close()
    before = good.frame.version
    wait(lambda: good.frame.version > before, what="frames going on")
    assert good.gone is None and running(store.path("g")) is not None


@contextmanager
def _serving_headless(store, name: str, launch=("-m", "aetui")):
    """A long `aetui train --headless --json` run of session NAME, once it serves its channel:
    yields the process (communicate() it for its JSON); killed afterwards if it is still running."""
    run = subprocess.Popen([sys.executable, *launch, "train", "--headless", "--json", "--samples", "1000000000",
                            "--sessions-dir", str(store.root), "--session", name, *TINY],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait(lambda: store.exists(name) and running(store.path(name)) is not None, 60, "the headless run to serve")
        yield run
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()


def test_a_headless_run_can_be_attached_steered_and_stopped(store):
    with _serving_headless(store, "h") as run:
        client = TrainerClient.attach(Path(running(store.path("h")).socket))
        trained(client)
        client.pause()
        wait(lambda: client.frame.state == PAUSED, what="paused")
        held = client.frame.samples
        seen = [client.frame]  # every poll of the trainer builds a new frame: three more, all still paused
        wait(lambda: (client.frame is not seen[-1] and seen.append(client.frame)) or len(seen) > 3,
             what="three more frames")
        assert all(f.state == PAUSED and f.samples == held for f in seen)
        outcome = client.stop()
        out, err = run.communicate(timeout=30)
    assert run.returncode == 0, err
    summary = json.loads(out)
    assert summary["stopped_from_dashboard"] is True and summary["total_samples"] == outcome["samples"] == held
    assert read_session(store.path("h")).samples == held


def test_a_trainer_that_cannot_start_says_why_in_one_line(store, tmp_path):
    done = aetui("train", "--detach", "--sessions-dir", str(store.root), "--data", str(tmp_path / "missing.idx"))
    assert done.returncode == 2 and "Traceback" not in done.stderr  # a bad option
    assert len(done.stderr.strip().splitlines()) == 1 and "missing.idx" in done.stderr
    start_detached(store, "dmg")
    aetui("stop", "dmg", "--sessions-dir", str(store.root))
    (store.path("dmg") / "session.json").write_text("{not json")
    done = aetui("train", "--detach", "--sessions-dir", str(store.root), "--session", "dmg")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "session.json" in done.stderr


def _dashboard_in_a_terminal(store, name: str, *extra: str) -> tuple[subprocess.Popen, int]:
    """`aetui --session NAME` with a pseudo-terminal of 120x40 as its controlling terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))

    def controlling_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = dict(os.environ, TERM="xterm-256color")
    dashboard = subprocess.Popen([sys.executable, "-m", "aetui", "--sessions-dir", str(store.root), "--session", name,
                                  *TINY, *extra], stdin=slave, stdout=slave, stderr=slave, env=env,
                                 start_new_session=True, preexec_fn=controlling_terminal)
    os.close(slave)
    return dashboard, master


def _read_until(master: int, text: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        try:
            os.set_blocking(master, False)
            seen += os.read(master, 65536)
        except BlockingIOError:
            time.sleep(0.05)
    return seen


@pytest.mark.parametrize("stop_on_hangup", [False, True])
def test_a_hang_up_detaches_the_dashboard_or_stops_with_the_option(store, stop_on_hangup):
    dashboard, master = _dashboard_in_a_terminal(store, "tty", *(["--stop-on-hangup"] if stop_on_hangup else []))
    try:
        wait(lambda: store.exists("tty") and running(store.path("tty")) is not None, 60, "the trainer")
        hello = running(store.path("tty"))
        assert hello.pid != dashboard.pid
        screen = _read_until(master, b"RUNNING", 120)
        assert b"RUNNING" in screen  # the dashboard is up and training
        os.close(master)  # the terminal goes away: the kernel hangs up the dashboard
        assert dashboard.wait(timeout=20) == 0
    finally:
        if dashboard.poll() is None:
            dashboard.kill()
    if stop_on_hangup:
        wait(lambda: _ended(hello.pid), what="the trainer to stop")
        assert read_session(store.path("tty")).samples > 0
    else:
        at = running(store.path("tty")).samples
        wait(lambda: running(store.path("tty")).samples > at, 20, "training on after the hang-up")


# `python -m aetui` on a slow disk: every save takes 0.3 s more (as a large session's does).
SLOW_SAVES = ("import sys, time\n"
              "from aetui.sessions.session import Session\n"
              "save = Session.save\n"
              "Session.save = lambda self: (time.sleep(0.3), save(self))[1]\n"
              "from aetui.cli.main import main\n"
              "sys.exit(main(sys.argv[1:]))\n")


def test_a_headless_run_stopped_through_the_channel_always_says_so(store):
    """A stop halts the run's runner, then saves: the run must wait for that stop, not take the
    runner's end for its target reached. Several times, fast and slow saves: it was a race."""
    for attempt in range(4):
        name = f"hs{attempt}"
        launch = ["-c", SLOW_SAVES] if attempt < 2 else ["-m", "aetui"]
        with _serving_headless(store, name, launch) as run:
            client = TrainerClient.attach(Path(running(store.path(name)).socket))
            trained(client)
            if attempt % 2:  # `aetui stop NAME`
                client.close()
                done = aetui("stop", name, "--sessions-dir", str(store.root))
                assert done.returncode == 0, done.stderr
            else:  # q in a dashboard
                client.stop()
            out, err = run.communicate(timeout=30)
        assert run.returncode == 0, err
        summary = json.loads(out)
        assert summary["stopped_from_dashboard"] is True, (attempt, summary)
        assert summary["interrupted"] is False and summary["total_samples"] > 0
        assert read_session(store.path(name)).samples == summary["total_samples"]


def test_q_in_the_dashboard_stops_saves_and_says_so(store):
    dashboard, master = _dashboard_in_a_terminal(store, "q")
    try:
        assert b"RUNNING" in _read_until(master, b"RUNNING", 120)
        hello = running(store.path("q"))
        os.write(master, b"q")
        said = _read_until(master, b"(saved)", 30)
        assert dashboard.wait(timeout=20) == 0
    finally:
        if dashboard.poll() is None:
            dashboard.kill()
        os.close(master)
    wait(lambda: _ended(hello.pid), what="the trainer to stop")
    saved = read_session(store.path("q")).samples
    assert saved > 0 and f"aetui: stopped session q at {saved:,} samples (saved)".encode() in said


def test_the_dashboard_without_a_terminal_is_refused_before_anything_starts(store):
    for command in (["--session", "pipe", *TINY], ["attach", "pipe"]):
        done = subprocess.run([sys.executable, "-m", "aetui", *command, "--sessions-dir", str(store.root)],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.strip() == ("aetui: the dashboard needs a terminal; without one, use aetui train "
                                       "--headless (or --detach), and aetui sessions to see what runs")
    assert not store.root.exists() or not any(store.root.iterdir())  # no session made, no trainer started


def test_sigterm_stops_a_headless_run_saved_as_ctrl_c_does(store):
    with _serving_headless(store, "term") as run:
        socket_file = Path(running(store.path("term")).socket)
        wait(lambda: running(store.path("term")).samples > 0, 60, "training")
        seen = running(store.path("term")).samples
        run.send_signal(signal.SIGTERM)  # as kill, timeout, systemd and docker stop do
        out, err = run.communicate(timeout=30)
    assert run.returncode == 143, err
    summary = json.loads(out)
    assert summary["interrupted"] is True and summary["stopped_from_dashboard"] is False
    assert summary["total_samples"] >= seen > 0
    assert read_session(store.path("term")).samples == summary["total_samples"]
    assert not socket_file.exists()  # removed by the run itself (running() would remove a stale one)


def test_sigterm_stops_a_detached_trainer_saved(store):
    pid = start_detached(store, "dterm")
    socket_file = Path(running(store.path("dterm")).socket)
    wait(lambda: running(store.path("dterm")).samples > 0, 60, "training")
    seen = running(store.path("dterm")).samples
    os.kill(pid, signal.SIGTERM)
    wait(lambda: _ended(pid), 20, "the trainer to end")
    assert not socket_file.exists()
    assert read_session(store.path("dterm")).samples >= seen > 0
    with SessionLock(store.path("dterm")):  # released
        pass


async def test_fork_starts_a_second_trainer_from_the_current_weights_and_compares_both(store, tui_wait):
    """Fork in the restart dialog, end to end: two real trainer processes, both training, compared."""
    from textual.widgets import OptionList

    from aetui.model.config import TrainConfig
    from aetui.render import DisplayMode
    from aetui.sessions.lineage import branch_parent
    from aetui.training.process import start_trainer
    from aetui.tui.app import AetuiApp
    from aetui.tui.compare.compare_screen import CompareScreen
    from aetui.tui.restart.restart_dialog import RestartDialog
    from kernels.activation_codes import ACTIVATIONS

    config = TrainConfig(data="bars8", hidden=16, batch=10).validated()
    hello = start_trainer(store, "live", config, {})
    link = TrainerClient.attach(Path(hello.socket))
    app = AetuiApp(link, store=store, open_trainer=lambda name: None, mode=DisplayMode.COLOR)
    async with app.run_test(size=(120, 40)) as pilot:
        await tui_wait(pilot, lambda: app.frame is not None and app.frame.state == RUNNING and app.frame.samples > 0,
                       timeout=60, what="training")
        await pilot.press("a")
        await tui_wait(pilot, lambda: isinstance(app.screen, RestartDialog), what="the dialog")
        app.screen.query_one("#activation", OptionList).highlighted = ACTIVATIONS.index("relu")
        await pilot.pause()
        asked_at = app.frame.samples
        await pilot.click("#fork")
        await tui_wait(pilot, lambda: isinstance(app.screen, CompareScreen), timeout=60, what="the comparison")
        state = app.screen.state
        assert [r.name for r in state.runs] == ["live", "live-relu"]
        assert "on 2 cores each runs at about half speed" in str(app.screen.query_one("#cmp-head").render())
        assert all(v.live for v in state.views)
        started = [v.samples for v in state.views]
        await tui_wait(pilot, lambda: all(v.samples > s + 500 for v, s in zip(state.views, started)),
                       timeout=60, what="both runs training")
        assert state.views[1].lineage == "sigmoid > relu x0.1"
        forked = running(store.path("live-relu"))
        assert forked is not None and forked.pid not in (hello.pid, os.getpid())
        source = branch_parent(read_session(store.path("live-relu")).lineage)
        assert source["session"] == "live" and source["kind"] == "current" and source["samples"] >= asked_at
        await pilot.press("escape")
        await tui_wait(pilot, lambda: not isinstance(app.screen, CompareScreen), what="back to the dashboard")
    link.close()
    # the fork's trainer goes on after the comparison: it runs until stopped (the fixture stops both)
    assert running(store.path("live-relu")) is not None and running(store.path("live")) is not None
