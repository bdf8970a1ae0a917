"""Trainer processes: start one for a session, find the one running a session, attach to it.

A trainer process is `python -m aetui.cli.trainer_process`, started in a process session of
its own (a hang-up of the terminal does not reach it), with no terminal: stdin and stdout go
nowhere, stderr to the trainers' log in the socket folder (bugs only). It says on a pipe, in one
JSON line, either where it serves or the one-line error that kept it from starting.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from aetui.errors import AetuiError, ConfigError, SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.lock import lock_holder
from aetui.sessions.store import SessionStore
from aetui.training.origin import Origin
from aetui.training.client import Hello, TrainerBusy, TrainerClient, connect
from aetui.training.sockets import runtime_dir, socket_path

START_SECONDS = 120.0  # loading a large IDX data set and a session; compiling comes after
LOG_NAME = "trainer.log"


def trainer_log() -> Path:
    """Where trainer processes write what goes wrong (tracebacks of bugs only)."""
    return runtime_dir() / LOG_NAME


def running(folder: Path) -> Hello | None:
    """The trainer serving the session in `folder`, or None (a dead trainer's socket is removed)."""
    path = socket_path(folder)
    if not path.exists():
        return None
    try:
        sock, hello = connect(path, kind="probe", timeout=2.0)
    except TrainerBusy as busy:
        return busy.hello  # it runs; attaching will say that it has no room
    except SessionError:
        if lock_holder(folder) is None:  # nobody holds the session: the socket is stale
            try:
                path.unlink()
            except OSError:
                pass
        return None
    sock.close()
    return hello


def start_trainer(store: SessionStore, name: str | None, config: TrainConfig, explicit: dict, *,
                  threads: int = 1, paused: bool = False, origin: Origin | None = None) -> Hello:
    """Start a trainer process for session `name` (created if new, from `origin`'s weights when
    given); returns once it serves.

    Its one-line error (bad data, a damaged session, options that disagree) is raised here.
    """
    log_path = trainer_log()
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "aetui.cli.trainer_process", "--sessions-dir", str(store.root.resolve()),
               "--config", json.dumps(config.to_dict()), "--explicit", json.dumps(explicit),
               "--threads", str(threads), "--ready-fd", str(write_end)]
    if name is not None:
        command += ["--session", name]
    if paused:
        command.append("--paused")
    if origin is not None:
        command += ["--from", json.dumps(origin.to_dict())]
    try:
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                                       pass_fds=(write_end,), start_new_session=True)
    except OSError as exc:
        os.close(read_end)
        raise AetuiError(f"cannot start a trainer process: {exc.strerror or exc}") from None
    finally:
        os.close(write_end)
    try:
        line = _read_line(read_end, START_SECONDS)
    finally:
        os.close(read_end)
    if not line:
        code = process.wait(5.0) if process.poll() is None else process.returncode
        raise AetuiError(f"the trainer process ended as it started (exit code {code}); see {log_path}")
    report = json.loads(line)
    if "error" in report:
        process.wait(5.0)
        error = ConfigError if report.get("exit_code") == ConfigError.exit_code else AetuiError
        raise error(report["error"])
    sock, hello = connect(Path(report["socket"]))
    sock.close()
    return hello


def running_as_asked(store: SessionStore, name: str, explicit: dict, verb: str) -> Hello | None:
    """The hello of session `name`'s running trainer, or None when it does not run. Training
    options given for a session that runs are refused in one line: it keeps its own settings."""
    if not store.exists(name):
        return None
    hello = running(store.path(name))
    if hello is not None and explicit:
        raise ConfigError(f"session {name} is running (pid {hello.pid}): {verb} without training "
                          f"options ({', '.join('--' + k.replace('_', '-') for k in explicit)}), "
                          f"or stop it first ({store.command('stop', name)})")
    return hello


def open_trainer(store: SessionStore, name: str | None, config: TrainConfig, explicit: dict, *,
                 threads: int = 1, paused: bool = False, origin: Origin | None = None) -> TrainerClient:
    """Attach to session `name`'s trainer, starting one first when none is running (for a new
    session from `origin`'s weights, when given)."""
    if name is not None and origin is None:
        hello = running_as_asked(store, name, explicit, "attach")
        if hello is not None:
            return TrainerClient.attach(Path(hello.socket))
    hello = start_trainer(store, name, config, explicit, threads=threads, paused=paused, origin=origin)
    return TrainerClient.attach(Path(hello.socket))


def attach(store: SessionStore, name: str, *, to_stop: bool = False) -> TrainerClient:
    """Attach to the running session `name`; SessionError when it is not running (to_stop: the
    message says there is nothing to stop instead of how to start it)."""
    hello = running(store.path(name))
    if hello is None:
        if not store.exists(name):
            raise SessionError(f"no session named {name} in {store.root}")
        if to_stop:
            raise SessionError(f"session {name} is not running: nothing to stop (its last save is on disk)")
        raise SessionError(f"session {name} is not running; start it with: {store.command('--session', name)}")
    return TrainerClient.attach(Path(hello.socket))


def _read_line(fd: int, timeout: float) -> bytes:
    """Read up to the first newline or the end of the pipe, at most `timeout` s."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AetuiError(f"the trainer process did not start within {timeout:.0f} s")
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].strip()
