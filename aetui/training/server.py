"""The trainer's side of the control channel: a runner thread and a Unix socket serving it.

A TrainerServer owns one locked session. Its runner trains in a thread; every connection gets a
thread of its own that answers requests one at a time: `hello`, `frame` (the latest frame, with
the notices since the last one), `command` (pause, step, lr, snapshot, restart, save),
`snapshot_weights`, `weights_near` (the history view's weights) and `stop`. A malformed,
oversized or unknown message, or a peer of another uid, drops that connection and nothing else. Each client sees the others' actions as notices.
"""

from __future__ import annotations

import math
import os
import socket
import threading
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from aetui.errors import AetuiError, SaveError
from aetui.training.frame import RUNNING
from aetui.training.frame_codec import frame_message
from aetui.training.launch import release_trainer
from aetui.training.loop import AUTOSAVE_SECONDS
from aetui.training.runner import TrainingRunner
from aetui.training.sockets import peer_uid, socket_path
from aetui.training.trainer import Trainer
from aetui.sessions.weight_store import nearest_snapshot
from aetui.training import wire

PROTOCOL = 1
MAX_CLIENTS = 16
HELLO_SECONDS = 5.0  # a connection must say hello within this
MAX_CLIENT_NOTICES = 100
LEAVING_SECONDS = 5.0  # how long a stop waits for a thread that has seen it to end
FAREWELL_SECONDS = 1.0  # after a stop, how long clients get to hear of it before the socket goes


@dataclass(frozen=True)
class StopOutcome:
    """What a stop request came to: saved (or told not to save), or refused by a failed save."""

    stopped: bool
    samples: int  # samples trained in the session
    saved_samples: int | None  # samples in the last save that worked
    error: str | None = None  # why the save failed (training goes on)


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _text(x) -> bool:
    return isinstance(x, str) and 0 < len(x) <= 200


def _count(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _maybe(check):
    return lambda x: x is None or check(x)


def _flag(x) -> bool:
    return isinstance(x, bool)


# Each command's argument checks, in order; and what other clients are told it did.
# name: (argument checks, what the others are told; None: the runner's own notice of the outcome
# tells them, prefixed with who asked, and tells the asker plainly: one notice each, not two)
COMMANDS = {
    "pause": ((), "paused training"),
    "resume": ((), "resumed training"),
    "step": ((), "trained one mini-batch"),
    "save": ((), None),
    "set_lr": ((_number,), None),
    "snapshot": ((_maybe(_text),), None),
    "restart": ((_text, _maybe(_text), _maybe(_number), _flag, _maybe(_number)), None),
}


class _Client:
    def __init__(self, conn: socket.socket, number: int):
        self.conn = conn
        self.number = number
        self.label = f"client {number}"
        self.dashboard = False
        self.notices: deque[tuple[str, str]] = deque(maxlen=MAX_CLIENT_NOTICES)


class TrainerServer:
    """Trains one session in a thread and serves its control socket until stopped."""

    def __init__(self, trainer: Trainer, *, threads: int = 1, autosave_seconds: float = AUTOSAVE_SECONDS,
                 paused: bool = False, compile_first: bool = True, samples: int | None = None,
                 path: Path | None = None):
        self.trainer = trainer
        self.threads = threads
        self.autosave_seconds = autosave_seconds
        self.path = Path(path) if path is not None else socket_path(trainer.session.path)
        self.runner = self._runner(paused=paused, compile_first=compile_first, samples=samples)
        self.bytes_sent = 0
        self.outcome: StopOutcome | None = None  # set once training has stopped for good
        self._listener: socket.socket | None = None
        self._clients: dict[int, _Client] = {}
        self._numbers = 0
        self._lock = threading.Lock()  # the clients and their notices
        self._stop_lock = threading.Lock()  # one stop at a time
        self._finished = threading.Event()
        self._accepting = threading.Thread(target=self._accept, name="aetui-accept", daemon=True)

    def _runner(self, *, paused: bool, compile_first: bool, samples: int | None = None) -> TrainingRunner:
        return TrainingRunner(self.trainer, threads=self.threads, autosave_seconds=self.autosave_seconds,
                              paused=paused, compile_first=compile_first, samples=samples)

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> TrainerServer:
        """Listen (a stale socket of a dead trainer is replaced), then start training."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if self.path.is_socket():  # this process holds the session's lock: the old owner is gone
                self.path.unlink()
            old = os.umask(0o177)
            try:
                listener.bind(str(self.path))
            finally:
                os.umask(old)
            listener.listen(MAX_CLIENTS)
        except OSError as exc:
            listener.close()
            raise AetuiError(f"cannot serve session {self.trainer.session.name} on {self.path}: "
                             f"{exc.strerror or exc}") from None
        self._listener = listener
        self.runner.start()
        self._accepting.start()
        return self

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until training has stopped for good; True when it has."""
        return self._finished.wait(timeout)

    @property
    def clients(self) -> int:
        with self._lock:
            return sum(1 for c in self._clients.values() if c.dashboard)

    def stop(self, save: bool = True, by: _Client | None = None, keep_training: bool = True) -> StopOutcome:
        """Stop training, save (unless told not to) and release the session.

        When the save fails (the last save on disk is intact) and `keep_training`, training goes
        on in a new runner thread and the outcome says why; else the outcome says why it stopped
        unsaved.
        """
        with self._stop_lock:
            if self.outcome is not None:
                return self.outcome
            runner, session = self.runner, self.trainer.session
            error, withdrawn = None, False
            try:
                owned = runner.stop(timeout=0.0 if runner.compiling else 0.4, save=save)
                # Still inside a chunk after 1.4 s (extreme load, a huge model): unless the thread
                # has seen the stop, take it back so that training goes on. Once it has seen it, it
                # is leaving: wait for it to end and stop as asked, rather than leave it dead.
                if not owned and save and keep_training:
                    withdrawn = runner.withdraw_stop()
                    if not withdrawn:
                        owned = runner.stop(timeout=LEAVING_SECONDS, save=save)
            except SaveError as exc:
                self.trainer.note("save_failed", error=str(exc))
                if keep_training:
                    self.runner = self._runner(paused=runner.paused, compile_first=False)
                    self.runner.start()
                    return StopOutcome(False, session.samples, session.saved_samples, str(exc))
                owned, error = True, str(exc)
            if not owned and save:  # still inside a chunk: don't save under it
                error = "training did not stop in time; the last save on disk is intact"
                if keep_training:  # withdrawn, it trains on; else it is ending: a stop again saves
                    error = ("training did not stop in time (a chunk ran long) and goes on; the last save on "
                             "disk is intact" if withdrawn else
                             "training did not stop in time and is ending; stop again to save")
                return StopOutcome(False, session.samples, session.saved_samples, error)
            self.outcome = StopOutcome(True, session.samples, session.saved_samples, error)
            release_trainer(self.trainer, save=False)
            self._close_listener()
            who = "" if by is None else f" from {by.label}"
            saved = "not saved" if not save else f"saved at {session.samples:,} samples"
            self._tell_others(by, f"training stopped{who}; {saved}", "warning")
            self._finished.set()
            return self.outcome

    def close_clients(self, timeout: float = FAREWELL_SECONDS) -> None:
        """After a stop: give clients `timeout` s to hear of it, then close their connections."""
        deadline = threading.Event()
        for _ in range(int(timeout / 0.05)):
            with self._lock:
                if not self._clients:
                    break
            deadline.wait(0.05)
        with self._lock:
            for c in self._clients.values():
                _close(c.conn)

    def _close_listener(self) -> None:
        if self._listener is not None:
            _close(self._listener)
            self._listener = None
        try:
            self.path.unlink()
        except OSError:
            pass

    # -- connections --------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._finished.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # the listener was closed by stop()
            if peer_uid(conn) != os.getuid():
                _close(conn)
                continue
            if len(self._clients) >= MAX_CLIENTS:
                threading.Thread(target=self._refuse_busy, args=(conn,), name="aetui-busy", daemon=True).start()
                continue
            with self._lock:
                self._numbers += 1
                client = _Client(conn, self._numbers)
                self._clients[client.number] = client
            threading.Thread(target=self._serve, args=(client,), name=f"aetui-client-{client.number}",
                             daemon=True).start()

    def _serve(self, client: _Client) -> None:
        conn = client.conn
        try:
            conn.settimeout(HELLO_SECONDS)
            header, _ = wire.receive(conn, wire.MAX_COMMAND)
            if header.get("op") != "hello":
                raise wire.ProtocolError("the first message must be hello")
            self._hello(client, header)
            conn.settimeout(None)
            while True:
                header, _ = wire.receive(conn, wire.MAX_COMMAND)
                if not self._answer(client, header):
                    return
        except (AetuiError, OSError, ValueError):
            pass  # a malformed message, a closed connection: this connection only
        finally:
            with self._lock:
                self._clients.pop(client.number, None)
            _close(conn)
            if client.dashboard and not self._finished.is_set():
                self._tell_others(client, f"{client.label} detached")

    def _hello_header(self, op: str) -> dict:
        """What this trainer says of itself: to a new client (op hello), or to one it has no room
        for (op busy), so that a probe still learns that the session runs, and where."""
        frame = self.runner.frame
        return {"op": op, "protocol": PROTOCOL, "pid": os.getpid(), "session": frame.session,
                "path": str(self.trainer.session.path), "samples": frame.samples, "state": frame.state,
                "samples_per_second": frame.samples_per_second, "heldout_loss": frame.heldout_loss,
                "clients": self.clients, "bytes_sent": self.bytes_sent, "socket": str(self.path),
                "max_clients": MAX_CLIENTS}

    def _refuse_busy(self, conn: socket.socket) -> None:
        """Answer the hello with busy and hang up: all MAX_CLIENTS places are taken. (The hello is
        read first: closing on unread data would reset the connection before the answer arrives.)"""
        try:
            conn.settimeout(HELLO_SECONDS)
            wire.receive(conn, wire.MAX_COMMAND)
            wire.send(conn, self._hello_header("busy"))
        except (AetuiError, OSError, ValueError):
            pass
        finally:
            _close(conn)

    def _hello(self, client: _Client, header: dict) -> None:
        kind, pid = header.get("client"), header.get("pid")
        client.dashboard = kind == "dashboard"
        if isinstance(pid, int) and not isinstance(pid, bool):
            client.label = f"the dashboard of pid {pid}" if client.dashboard else f"pid {pid}"
        self._send(client, self._hello_header("hello"))
        if client.dashboard:
            self._tell_others(client, f"{client.label} attached")

    def _answer(self, client: _Client, header: dict) -> bool:
        """Answer one request; False once the connection should end (after a stop)."""
        op = header.get("op")
        if self.outcome is not None and op != "stop":
            self._send(client, {"op": "stopped", **asdict(self.outcome)})
            return False
        if op == "frame":
            history = bool(header.get("history")) or "history_version" not in header
            self._send_frame(client, bool(header.get("pictures")), header.get("pictures_of"), history,
                             header.get("history_version"), header.get("history_held"))
        elif op == "command":
            self._command(client, header.get("name"), header.get("args"))
            self._send(client, {"op": "ok"})
        elif op == "snapshot_weights":
            self._snapshot_weights(client, header.get("name"))
        elif op == "weights_near":
            self._weights_near(client, header)
        elif op == "stop":
            save = header.get("save", True)
            if not isinstance(save, bool):
                raise wire.ProtocolError("stop: save must be true or false")
            outcome = self.stop(save=save, by=client)
            self._send(client, {"op": "stopped" if outcome.stopped else "stop_failed", **asdict(outcome)})
            return not outcome.stopped
        else:
            raise wire.ProtocolError(f"unknown request {str(op)[:40]!r}")
        return True

    def _send_frame(self, client: _Client, pictures: bool, pictures_of, history: bool, history_version,
                    history_held=None) -> None:
        """The latest frame. Pictures when asked for, and whenever the client's are out of date in
        a way it would show at once: another segment (a restart), or any change while not running
        (a step, a restart while paused). The history when it changed: only the points the client
        lacks when it holds the others (history_held: [base, points]), else whole."""
        runner = self.runner
        for notice in runner.notices():
            self._tell_outcome(notice)
        frame = runner.frame
        if not (isinstance(pictures_of, list) and len(pictures_of) == 2):
            pictures = True
        elif frame.segment != pictures_of[1] or (frame.state != RUNNING and frame.version != pictures_of[0]):
            pictures = True
        h = frame.history
        held = history_held if (isinstance(history_held, list) and len(history_held) == 2
                                and all(isinstance(x, int) and not isinstance(x, bool) for x in history_held)) else None
        start = held[1] if held is not None and held[0] == h.base and 0 < held[1] <= len(h.samples) else 0
        header, arrays = frame_message(frame, pictures=pictures, history=history and history_version != h.version,
                                       history_from=start)
        with self._lock:
            notices = list(client.notices)
            client.notices.clear()
        header.update(op="frame", notices=notices, paused=runner.paused, clients=self.clients, bytes_sent=self.bytes_sent,
                      error=None if runner.error is None else f"{type(runner.error).__name__}: {runner.error}")
        self._send(client, header, arrays)

    def _command(self, client: _Client, name, args) -> None:
        if name not in COMMANDS or not isinstance(args, list):
            raise wire.ProtocolError(f"unknown command {str(name)[:40]!r}")
        checks, done = COMMANDS[name]
        if len(args) != len(checks) or not all(check(a) for check, a in zip(checks, args)):
            raise wire.ProtocolError(f"bad arguments for {name}")
        if done is None:
            getattr(self.runner, name)(*args, origin=client.number)
        else:
            getattr(self.runner, name)(*args)
            self._tell_others(client, f"{client.label} {done.format(*args)}")

    def _snapshot_weights(self, client: _Client, name) -> None:
        if not _text(name):
            raise wire.ProtocolError("snapshot_weights: name must be text")
        try:
            record, state = self.trainer.session.read_snapshot(name)
        except AetuiError as exc:
            self._send(client, {"op": "error", "error": str(exc)})
            return
        self._send(client, {"op": "snapshot", "record": record}, {"W": state.W, "b": state.b})

    def _weights_near(self, client: _Client, header: dict) -> None:
        """The weights stored nearest a sample count (a snapshot of any kind, or the current ones),
        for the history view. A bad request gets one error reply; the connection stays. With
        `held` naming the weights the client has, only the record comes back."""
        samples, segment, held = header.get("samples"), header.get("segment"), header.get("held")
        problem = None
        if not _count(samples):
            problem = f"samples must be a whole number >= 0, not {str(samples)[:40]}"
        elif segment is not None and not _count(segment):
            problem = f"segment must be a whole number >= 0 or null, not {str(segment)[:40]}"
        elif held is not None and not _text(held):
            problem = "held must be a snapshot name or null"
        if problem:
            self._send(client, {"op": "error", "error": f"weights_near: {problem}"})
            return
        frame = self.runner.frame  # the current weights, an immutable copy
        current = {"name": "current", "kind": "current", "samples": frame.samples, "segment": frame.segment,
                   "activation": frame.config.activation}
        records = [r for r in list(self.trainer.session.snapshots) if r["name"] not in self.trainer.damaged_snapshots]
        record = nearest_snapshot(records + [current], samples, segment)
        if record is current:
            arrays = {"W": frame.W, "b": frame.b, "c": frame.c}
            W_dec = self.trainer.session.state.W_dec  # not in frames; a copy taken between two updates at worst
            if W_dec is not None:
                arrays["W_dec"] = W_dec.copy()
        elif held is not None and record["name"] == held:
            arrays = None
        else:
            try:
                _, state = self.trainer.session.read_snapshot(record["name"])
            except AetuiError as exc:  # dropped by thinning meanwhile, or damaged: the next request picks another
                self._send(client, {"op": "error", "error": str(exc)})
                return
            arrays = {"W": state.W, "b": state.b, "c": state.c}
            if state.W_dec is not None:
                arrays["W_dec"] = state.W_dec
        reply = {k: record[k] for k in ("name", "kind", "samples", "segment", "activation")}
        self._send(client, {"op": "weights", "record": reply, "same": arrays is None}, arrays)

    # -- notices -----------------------------------------------------------------------------------------
    def _tell_all(self, text: str, severity: str) -> None:
        with self._lock:
            for c in self._clients.values():
                c.notices.append((text, severity))

    def _tell_outcome(self, notice) -> None:
        """A runner notice: to everyone if nobody asked for it; else plainly to the client who asked,
        and to the other dashboards with who it was (not their errors: those are the asker's)."""
        if notice.origin is None:
            self._tell_all(notice.text, notice.severity)
            return
        with self._lock:
            asker = self._clients.get(notice.origin)
            label = asker.label if asker is not None else "a dashboard that has left"
            for c in self._clients.values():
                if c is asker:
                    c.notices.append((notice.text, notice.severity))
                elif c.dashboard and notice.severity != "error":
                    c.notices.append((f"{label}: {notice.text}", notice.severity))

    def _tell_others(self, client: _Client | None, text: str, severity: str = "information") -> None:
        with self._lock:
            for c in self._clients.values():
                if c is not client and c.dashboard:
                    c.notices.append((text, severity))

    def _send(self, client: _Client, header: dict, arrays=None) -> None:
        n = wire.send(client.conn, header, arrays)
        with self._lock:
            self.bytes_sent += n


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
