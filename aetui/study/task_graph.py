"""Run work units that depend on each other on an executor: sources first, a unit once its
source is done, at most `executor.slots` at a time, and a unit whose worker was lost run again.

The units are plain data; what a unit does and where it runs are the caller's and the
executor's. A unit that comes back unfinished (a stop was asked) leaves its dependants unrun.
Results are kept by the unit's key, so a unit delivered twice (rerun after a lost worker whose
first run did finish) still counts once.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from aetui.errors import AetuiError

MAX_ATTEMPTS = 3  # a unit whose worker is lost this often is given up on (the error is raised)
POLL_SECONDS = 0.1  # how often the coordinator looks at progress, a stop request and finished units


class WorkerLostError(AetuiError):
    """A unit given up on because the workers running it kept dying (the finished ones are kept)."""


@dataclass(frozen=True)
class Unit:
    """One piece of work: `key` names it, `needs` the unit it starts from (or None)."""

    key: Hashable
    needs: Hashable | None


def run_graph(units: list[Unit], executor, submit: Callable[[Unit], object], finished: Callable[[Unit, object], bool],
              should_stop: Callable[[], bool], describe: Callable[[Unit], str] = lambda unit: f"unit {unit.key}") -> dict:
    """Run `units` (in their order, sources first) on `executor`; returns {key: outcome} of those run.

    submit(unit) starts a unit on the executor and returns its future; finished(unit, outcome)
    takes an outcome and says whether the unit is complete (its dependants may start). Once
    should_stop() is true nothing new starts; running units finish or stop on their own. A unit
    whose workers kept dying ends the run as a WorkerLostError naming it (`describe(unit)`).
    """
    needed = {u.needs for u in units if u.needs is not None}
    order = sorted(units, key=lambda u: u.key not in needed)  # stable: sources first, then plan order
    done: set = set()
    outcomes: dict = {}
    running: dict = {}  # key -> (unit, attempt)
    waiting = list(order)
    finished_q: queue.Queue = queue.Queue()
    stopping = False
    error: BaseException | None = None

    def start(unit: Unit, attempt: int) -> None:
        future = submit(unit)
        running[unit.key] = (unit, attempt)
        future.add_done_callback(lambda f, key=unit.key: finished_q.put((key, f)))

    while True:
        if not stopping and (error is not None or should_stop()):
            stopping = True
            executor.request_stop()
        if not stopping:
            for unit in list(waiting):
                if len(running) >= executor.slots:
                    break
                if unit.needs is None or unit.needs in done:
                    waiting.remove(unit)
                    start(unit, 1)
        if not running:
            break
        executor.drain()
        try:
            key, future = finished_q.get(timeout=POLL_SECONDS)
        except queue.Empty:
            continue
        unit, attempt = running.pop(key)
        try:
            outcome = future.result()
        except BaseException as exc:  # noqa: BLE001 - sorted below: a lost worker is retried, the rest raised
            lost = executor.lost(exc)
            if lost and attempt < MAX_ATTEMPTS and not stopping:
                executor.recover()
                start(unit, attempt + 1)
            elif error is None:
                why = f"the worker process running it was lost {attempt} time(s)" if lost else executor.killed(exc)
                error = exc if why is None else WorkerLostError(
                    f"{describe(unit)}: {why}; the finished ones are kept, and --resume runs the rest")
            continue
        outcomes[key] = outcome
        if finished(unit, outcome):
            done.add(key)
    executor.drain()
    if error is not None:
        raise error
    return outcomes
