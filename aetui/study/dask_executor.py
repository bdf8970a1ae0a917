"""Work units on a Dask distributed cluster (`pip install 'aetui[cluster]'`).

The same units as here (aetui.study.transfer.run_unit), submitted to the scheduler. Whether the
workers see this machine's session store is found out, not assumed: a token file written in
the store is looked for by every worker. If all see it, the units work in it directly; if not,
each unit carries the sessions it needs and brings its own back (see aetui/sessions/bundle.py).
Progress comes back as worker events on a topic of this run; a stop is a Dask Event the units
look at between chunks. Dask reruns a unit whose worker was lost; the unit is idempotent.
"""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from aetui.errors import AetuiError, ConfigError
from aetui.sessions.atomic import discard, write_bytes
from aetui.study.executors import RemoteExecutor

CONNECT_SECONDS = 10.0  # an unreachable scheduler is reported after this long, not waited for
WORKERS_SECONDS = 30.0  # a scheduler with no workers is reported after this long
STOP_CHECK_SECONDS = 0.5  # a unit asks the scheduler whether to stop at most this often
INSTALL = "pip install 'aetui[cluster]'"


def check_address(address: str) -> str:
    """A scheduler address tcp://HOST:PORT, or ConfigError."""
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ConfigError(f"--scheduler must look like tcp://HOST:PORT, not {address!r}")
    return address


def _sees(path: str, token: str) -> bool:
    """On a worker: whether the token file is there with the token in it."""
    try:
        return Path(path).read_text() == token
    except OSError:
        return False


class DaskSink:
    """A unit's progress sink on a Dask worker: an event on the run's topic."""

    def __init__(self, topic: str):
        self.topic = topic

    def __call__(self, message: dict) -> None:
        from distributed import get_worker

        get_worker().log_event(self.topic, message)


class DaskStopFlag:
    """A unit's stop flag on a Dask worker: the run's Event, asked at most every STOP_CHECK_SECONDS."""

    def __init__(self, name: str):
        self.name = name
        self._checked = 0.0
        self._set = False

    def __call__(self) -> bool:
        from distributed import Event

        if not self._set and time.monotonic() - self._checked >= STOP_CHECK_SECONDS:
            self._checked = time.monotonic()
            self._set = Event(self.name).is_set()
        return self._set


class DaskExecutor(RemoteExecutor):
    """Units on the cluster at `address`; a context manager (leaving it disconnects)."""

    def __init__(self, address: str, store_root: Path, connect_seconds: float | None = None):
        try:
            import distributed
        except ImportError:
            raise ConfigError(f"--scheduler needs Dask's distributed package: {INSTALL}") from None
        self._distributed = distributed
        address = check_address(address)
        connect_seconds = CONNECT_SECONDS if connect_seconds is None else connect_seconds
        try:
            self.client = distributed.Client(address, timeout=connect_seconds, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise AetuiError(f"cannot reach the Dask scheduler at {address} within {connect_seconds:g} s: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        try:
            try:
                self.client.wait_for_workers(1, timeout=WORKERS_SECONDS)
            except (TimeoutError, OSError):
                raise AetuiError(f"the Dask scheduler at {address} has no workers "
                                 f"(waited {WORKERS_SECONDS:g} s)") from None
            self.slots = max(1, sum(self.client.nthreads().values()))
            self.shares_store = self._workers_see(Path(store_root))
            run = uuid.uuid4().hex[:12]
            self._messages: queue.SimpleQueue = queue.SimpleQueue()
            self._topic = f"aetui-progress-{run}"
            self.client.subscribe_topic(self._topic, lambda event: self._messages.put(event[1]))
            self._event = distributed.Event(f"aetui-stop-{run}", client=self.client)
            self.progress_sink = DaskSink(self._topic)
            self.stop_flag = DaskStopFlag(self._event.name)
        except BaseException:
            self.client.close()
            raise
        self._on_progress: Callable[[dict], None] = lambda message: None

    def _workers_see(self, root: Path) -> bool:
        """True when every worker reads the same store: a token file written here is there for all."""
        root.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        probe = root.resolve() / f".aetui-probe-{token}"
        write_bytes(probe, token.encode())
        try:
            seen = self.client.run(_sees, str(probe), token)
        finally:
            discard(probe)
        return bool(seen) and all(seen.values())

    def _clear_stop(self) -> None:
        self._event.clear()

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False, key=f"aetui-unit-{uuid.uuid4().hex}")

    def request_stop(self) -> None:
        self._event.set()

    def lost(self, error: BaseException) -> bool:
        """Dask reruns a unit whose worker was lost by itself; only a unit that killed worker after
        worker comes back as an error (KilledWorker), and that is not retried again."""
        return False

    def killed(self, error: BaseException) -> str | None:
        from distributed import KilledWorker

        if isinstance(error, KilledWorker):
            return "the Dask workers running it kept dying, and the scheduler gave up on it (KilledWorker)"
        return None

    def recover(self) -> None:  # pragma: no cover - never lost (see lost)
        pass

    def close(self) -> None:
        self.client.close()

