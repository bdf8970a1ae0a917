"""The dashboard's side of the control channel: frames in, commands out, over a Unix socket.

A TrainerClient polls the trainer from one background thread: a light frame (the numbers and
the state) every POLL_SECONDS, the pictures and the history only as often as panes draw them,
and queued commands in between. The UI reads `frame` (replaced whole) and `notices()` and never
waits on the socket, except for `stop`, which waits for the trainer's answer.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aetui.errors import AetuiError, SessionError
from aetui.training.frame import Frame, Notice
from aetui.training.frame_codec import FrameAssembler
from aetui.training import wire

POLL_SECONDS = 0.1  # light frames: state, counts, losses (the status line draws at 4 Hz)
PICTURES_SECONDS = 0.5  # W, biases, reconstructions (their panes draw at 1 Hz)
HISTORY_SECONDS = 0.5  # the history, when it changed (the loss chart draws at 5 Hz; a point every 0.5 s is plenty)
CONNECT_SECONDS = 3.0
STOP_SECONDS = 30.0  # a stop saves the session: allow for a slow disk


class TrainerGone(AetuiError):
    """The trainer process ended without a stop (killed, crashed) or cannot be reached."""


class TrainerBusy(SessionError):
    """The trainer runs, but every place for a connection is taken; `hello` says what it is."""

    def __init__(self, hello: Hello, most: int):
        super().__init__(f"session {hello.session} is running (pid {hello.pid}) but serves {most} connections "
                         f"already, the most it takes: close a dashboard or a connection and try again")
        self.hello = hello


@dataclass(frozen=True)
class Hello:
    """What a trainer says of itself when a client connects."""

    pid: int
    session: str
    path: str
    socket: str
    samples: int
    state: str
    samples_per_second: float
    clients: int
    heldout_loss: float | None = None
    bytes_sent: int = 0  # by the trainer to all its clients so far


def connect(path: Path, *, kind: str = "dashboard", timeout: float = CONNECT_SECONDS) -> tuple[socket.socket, Hello]:
    """Connect to a trainer's socket and say hello; SessionError when nobody answers there."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
        wire.send(sock, {"op": "hello", "client": kind, "pid": os.getpid(), "protocol": 1})
        header, _ = wire.receive(sock, wire.MAX_COMMAND)
        if header.get("op") not in ("hello", "busy"):
            raise wire.ProtocolError("no hello from the trainer")
        hello = Hello(int(header["pid"]), str(header["session"]), str(header["path"]), str(header["socket"]),
                      int(header["samples"]), str(header["state"]), float(header["samples_per_second"]),
                      int(header["clients"]), _optional_float(header.get("heldout_loss")),
                      int(header.get("bytes_sent") or 0))
        if header["op"] == "busy":
            raise TrainerBusy(hello, int(header.get("max_clients") or hello.clients))
    except TrainerBusy:
        sock.close()
        raise
    except (OSError, AetuiError, KeyError, TypeError, ValueError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise SessionError(f"no trainer answers on {path}: {reason}") from None
    sock.settimeout(None)
    return sock, hello


def _optional_float(x) -> float | None:
    return None if x is None else float(x)


class TrainerClient:
    """One connection to a trainer, polled from a background thread."""

    def __init__(self, sock: socket.socket, hello: Hello):
        self.hello = hello
        self.frame: Frame | None = None
        self.paused = False
        self.error: str | None = None  # the training thread's failure, as the trainer reports it
        self.gone: str | None = None  # why the connection ended without a stop
        self.stopped: dict | None = None  # the trainer's stop outcome, once it stopped
        self.bytes_sent = 0  # by the trainer, to all its clients (as of the last frame)
        self.clients = 1
        self._sock = sock
        self._assembler = FrameAssembler()
        self._notices: deque[Notice] = deque()
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._last_pictures = self._last_history = -1e9
        self._pictures_of: list[int] | None = None  # [frame version, segment] of the pictures held
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aetui-client", daemon=True)

    @classmethod
    def attach(cls, path: Path, timeout: float = CONNECT_SECONDS) -> TrainerClient:
        """Connect to the trainer on `path`, start polling it, and wait for its first frame."""
        client = cls(*connect(path, timeout=timeout))
        client._thread.start()
        if not client.wait_frame(timeout):
            client.close()
            raise TrainerGone(client.gone or f"the trainer on {path} sent no frame within {timeout:.0f} s")
        return client

    @property
    def session(self) -> str:
        return self.hello.session

    def wait_frame(self, timeout: float = 5.0) -> bool:
        """Wait for the first frame; True when it came."""
        return self._first.wait(timeout) and self.frame is not None

    @property
    def connected(self) -> bool:
        return self._thread.is_alive()

    # -- commands ------------------------------------------------------------------------------------
    def pause(self) -> None:
        self.paused = True
        self._command("pause")

    def resume(self) -> None:
        self.paused = False
        self._command("resume")

    def step(self) -> None:
        self._command("step")

    def set_lr(self, lr: float) -> None:
        self._command("set_lr", float(lr))

    def snapshot(self, name: str | None = None) -> None:
        self._command("snapshot", name)

    def restart(self, activation: str, source: str | None = None, weight_scale: float | None = None,
                reset_biases: bool = True, lr: float | None = None) -> None:
        self._command("restart", activation, source, weight_scale, bool(reset_biases), lr)

    def save(self) -> None:
        self._command("save")

    def snapshot_weights(self, name: str, timeout: float = 10.0) -> tuple[dict, np.ndarray, np.ndarray]:
        """A snapshot's record, W and b, read by the trainer (which may not have written it yet)."""
        header, arrays = self._ask({"op": "snapshot_weights", "name": name}, timeout)
        if header.get("op") == "error":
            raise SessionError(str(header.get("error")))
        try:
            return dict(header["record"]), arrays["W"], arrays["b"]
        except (KeyError, TypeError, ValueError):
            raise TrainerGone("the trainer sent a malformed snapshot") from None

    def weights_near(self, samples: int, segment: int | None = None, held: str | None = None,
                     timeout: float = 10.0) -> tuple[dict, dict[str, np.ndarray] | None]:
        """The weights the trainer stores nearest `samples` (preferring segment `segment`): their
        record {name, kind, samples, segment, activation} and arrays W, b, c (W_dec when untied);
        None for the arrays when they are the ones named `held`. SessionError when there are none."""
        header, arrays = self._ask({"op": "weights_near", "samples": int(samples), "segment": segment,
                                    "held": held}, timeout)
        if header.get("op") == "error":
            raise SessionError(str(header.get("error")))
        if header.get("op") != "weights":
            raise TrainerGone("the trainer stopped")
        try:
            record = {k: header["record"][k] for k in ("name", "kind", "samples", "segment", "activation")}
            if header.get("same"):
                return record, None
            return record, {k: arrays[k] for k in ("W", "b", "c", "W_dec") if k in arrays or k != "W_dec"}
        except (KeyError, TypeError, ValueError):
            raise TrainerGone("the trainer sent malformed weights") from None

    def stop(self, save: bool = True, timeout: float = STOP_SECONDS) -> dict:
        """Ask the trainer to stop (and save); its outcome: {'stopped', 'samples', 'saved_samples', 'error'}."""
        header, _ = self._ask({"op": "stop", "save": bool(save)}, timeout)
        return {k: header.get(k) for k in ("stopped", "samples", "saved_samples", "error")}

    def close(self) -> None:
        """Detach: the trainer goes on."""
        self._closed.set()
        self._wake.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(1.0)
        self._sock.close()

    def notices(self) -> list[Notice]:
        out = []
        while self._notices:
            out.append(self._notices.popleft())
        return out

    def _command(self, name: str, *args) -> None:
        self._requests.put(({"op": "command", "name": name, "args": list(args)}, None))
        self._wake.set()

    def _ask(self, header: dict, timeout: float) -> tuple[dict, dict]:
        if self.stopped is not None:
            return {"op": "stopped", **self.stopped}, {}
        if not self._thread.is_alive():
            raise TrainerGone(self.gone or "not connected to the trainer")
        answer: Future = Future()
        self._requests.put((header, answer))
        self._wake.set()
        try:
            return answer.result(timeout)
        except TimeoutError:
            raise TrainerGone(f"the trainer did not answer within {timeout:.0f} s") from None

    # -- the polling thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._closed.is_set():
                while not self._requests.empty():
                    header, answer = self._requests.get_nowait()
                    reply = self._request(header)
                    if answer is not None:
                        answer.set_result(reply)
                    if self.stopped is not None:
                        return
                self._poll()
                if self.stopped is not None:
                    return
                self._wake.wait(POLL_SECONDS)
                self._wake.clear()
        except (AetuiError, OSError, ValueError) as exc:
            if not self._closed.is_set():
                self.gone = f"lost the trainer of session {self.session} (pid {self.hello.pid}): {exc}"
        finally:
            self._fail_waiting()
            self._first.set()

    def _fail_waiting(self) -> None:
        while not self._requests.empty():
            _, answer = self._requests.get_nowait()
            if answer is not None and not answer.done():
                answer.set_exception(TrainerGone(self.gone or "the trainer stopped"))

    def _request(self, header: dict) -> tuple[dict, dict]:
        wire.send(self._sock, header)
        reply, arrays = wire.receive(self._sock, wire.MAX_FRAME)
        if reply.get("op") == "stopped":
            self.stopped = {k: reply.get(k) for k in ("stopped", "samples", "saved_samples", "error")}
        return reply, arrays

    def _poll(self) -> None:
        now = time.monotonic()
        pictures = self.frame is None or now - self._last_pictures >= PICTURES_SECONDS
        history = self.frame is None or now - self._last_history >= HISTORY_SECONDS
        request = {"op": "frame", "pictures": pictures, "history": history,
                   "history_version": self._assembler.history_version, "history_held": self._assembler.history_held,
                   "pictures_of": self._pictures_of}
        header, arrays = self._request(request)
        if header.get("op") != "frame":
            return
        frame = self._assembler.build(header, arrays)
        if "recon_labels" in header:  # the pictures came (asked for, or sent because they changed)
            self._last_pictures = now
            self._pictures_of = [frame.version, frame.segment]
        if "history" in header:
            self._last_history = now
        self.paused = bool(header.get("paused"))
        self.error = header.get("error")
        self.clients = int(header.get("clients") or 1)
        for text, severity in header.get("notices") or []:
            self._notices.append(Notice(str(text), str(severity)))
        self.bytes_sent = int(header.get("bytes_sent") or 0)
        self.frame = frame
        self._first.set()
