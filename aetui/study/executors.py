"""Where work units run: in this process one after another, or in worker processes here.

An executor gives the task graph `slots` (units at once), `submit`, and the two things a unit
needs from afar: a progress sink (a picklable callable taking a plain dict) and a stop flag (a
picklable callable saying whether to stop). `bind` tells it the coordinator's progress handler
and stop request. Progress from other processes waits in a queue until the coordinator calls
`drain`, which hands it to the handler in the coordinator's thread. The Dask executor
(aetui/study/dask_executor.py) offers the same. Executors that start processes are context
managers: leaving the block ends them.
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

OnProgress = Callable[[dict], None]


class InlineExecutor:
    """Units run in the calling thread as they are submitted; progress and stop are direct calls."""

    slots = 1
    shares_store = True
    progress_sink: OnProgress | None = None
    stop_flag: Callable[[], bool] | None = None

    def bind(self, on_progress: OnProgress, should_stop: Callable[[], bool]) -> None:
        self.progress_sink = on_progress
        self.stop_flag = should_stop

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - handed to the task graph like a worker's failure
            future.set_exception(exc)
        return future

    def request_stop(self) -> None:
        """Nothing to pass on: the units call the coordinator's should_stop themselves."""

    def drain(self) -> None:
        """Nothing waits: progress was delivered as it happened."""

    def lost(self, error: BaseException) -> bool:
        return False

    def killed(self, error: BaseException) -> str | None:
        """Why the unit was given up on, when `error` says its workers kept dying; else None."""
        return None

    def recover(self) -> None:  # pragma: no cover - never lost
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> InlineExecutor:
        return self

    def __exit__(self, *exc) -> None:
        pass


class RemoteExecutor:
    """What executors whose units run elsewhere share: progress messages queue up in `_messages`
    until drained into the coordinator's handler; a stop is a flag the units can see (`_clear_stop`,
    `request_stop`); leaving the with block ends them (`close`)."""

    _messages = None  # a queue of progress dicts, filled from the workers

    def bind(self, on_progress: OnProgress, should_stop: Callable[[], bool]) -> None:
        """Progress goes to on_progress when drained; should_stop is the coordinator's (see request_stop)."""
        self._on_progress = on_progress
        self._clear_stop()

    def _clear_stop(self) -> None:
        raise NotImplementedError

    def request_stop(self) -> None:
        raise NotImplementedError

    def drain(self) -> None:
        while True:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                return
            self._on_progress(message)

    def killed(self, error: BaseException) -> str | None:
        """Why the unit was given up on, when `error` says its workers kept dying; else None."""
        return None

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# What the worker processes of a PoolExecutor share with the coordinator (set by _start_worker).
_progress_queue = None
_stop_event = None


def _start_worker(progress_queue, stop_event, prepare) -> None:
    """In each worker process: Ctrl-C is the coordinator's to handle (it asks the units to stop).

    The engine's modules are imported now (0.5 s), and prepare() runs (the study loads its
    kernels), while the coordinator loads its own, rather than when the first unit arrives.
    """
    global _progress_queue, _stop_event
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _progress_queue, _stop_event = progress_queue, stop_event
    import aetui.model.warm_up  # noqa: F401

    if prepare is not None:
        prepare()


def _started() -> None:
    """A unit of no work: submitted once per worker, it starts the processes at once."""


class QueueSink:
    """A worker's progress sink: the message goes on the pool's queue."""

    def __call__(self, message: dict) -> None:
        _progress_queue.put(message)


class EventFlag:
    """A worker's stop flag: the pool's stop event."""

    def __call__(self) -> bool:
        return _stop_event.is_set()


class PoolExecutor(RemoteExecutor):
    """Units in `workers` processes forked from a fresh server process that has imported the engine
    (forkserver: no copy of this process's threads). Measured: `--seeds 2 --workers 2` took 15.5 s
    with spawned workers (each importing numba and the engine itself, 1.2 s of CPU apiece) and
    10.3 s with forked ones, against 18.7-24 s for --workers 1."""

    shares_store = True

    def __init__(self, workers: int, prepare: Callable[[], None] | None = None):
        """prepare() runs in each worker process as it starts (picklable: say, loading kernels)."""
        self.slots = workers
        self._prepare = prepare
        self._on_progress: OnProgress = lambda message: None
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["aetui.model.warm_up"])  # imported once, in the server
        self._messages = self._context.Queue()
        self._stop = self._context.Event()
        self.progress_sink = QueueSink()
        self.stop_flag = EventFlag()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(self.slots, mp_context=self._context, initializer=_start_worker,
                                   initargs=(self._messages, self._stop, self._prepare))
        for _ in range(self.slots):  # the processes start now, not one by one as units arrive
            pool.submit(_started)
        return pool


    def _clear_stop(self) -> None:
        self._stop.clear()

    def submit(self, fn, *args) -> Future:
        return self._pool.submit(fn, *args)

    def request_stop(self) -> None:
        self._stop.set()

    def lost(self, error: BaseException) -> bool:
        """A worker process died (killed, out of memory): its units can run again."""
        return isinstance(error, BrokenProcessPool)

    def recover(self) -> None:
        """A new pool in place of a broken one (once, however many units it broke)."""
        if getattr(self._pool, "_broken", False):
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._messages.close()
        self._messages.join_thread()
