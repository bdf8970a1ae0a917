"""What the comparison screen shows: the runs (saved or live), their views and metrics, the choices.

A saved run is read from disk, and again whenever its save changes: a run another process
trains without a trainer to attach to (a study's unit) shows as running and follows its saves.
A live run is a client of its trainer, read from its latest frame (the dashboard's own link for
the session it shows, or a connection opened for the comparison and closed with it). A live run
whose trainer goes away is read again from its last save.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from aetui.errors import ConfigError, SessionError
from aetui.sessions.lock import lock_holder
from aetui.sessions.store import SessionStore
from aetui.study.comparison import MAX_RUNS, SAVED, RunView, run_of_frame, run_of_session
from aetui.training.frame import RUNNING
from aetui.training.client import TrainerClient
from aetui.training.process import attach, running

# One colour and one line glyph per run, in order: NO_COLOR and ASCII tell runs apart by glyph.
RUN_STYLES = ("bright_cyan", "bright_magenta", "bright_yellow", "bright_green", "bright_red", "bright_blue")
RUN_MARKERS = "*o+x#%"


@dataclass
class RunSource:
    """One run of the comparison: a saved session, or a trainer's client (owned: closed with the comparison)."""

    name: str
    store: SessionStore
    client: TrainerClient | None = None
    owned: bool = False
    view: RunView | None = None
    stamp: tuple | None = None  # a disk run's session.json (mtime, size) and whether a process holds it

    def refresh(self) -> bool:
        """Read the run again if it changed; True when its view is new."""
        if self.client is not None:
            frame = self.client.frame
            if not self.client.connected or frame is None:
                self.close()  # its trainer stopped or went: its last save is what there is
                self.view = run_of_session(self.store.load(self.name))
                return True
            if self.view is not None and self.view.version == frame.version and self.view.live:
                return False
            self.view = run_of_frame(frame)
            return True
        stamp = self._disk_stamp()
        if self.view is not None and stamp == self.stamp:
            return False
        self.stamp = stamp
        held = stamp is not None and stamp[2]
        self.view = run_of_session(self.store.load(self.name), RUNNING if held else SAVED)
        return True

    def _disk_stamp(self) -> tuple | None:
        folder = self.store.path(self.name)
        try:
            st = (folder / "session.json").stat()
        except OSError:
            return None
        saved = (st.st_mtime_ns, st.st_size)
        if self.stamp is not None and self.stamp[:2] == saved and not self.stamp[2]:
            return self.stamp  # unchanged and nobody trained it: the lock is not probed (a probe is a brief lock)
        return (*saved, lock_holder(folder) is not None)

    def close(self) -> None:
        if self.client is not None and self.owned:
            self.client.close()
        self.client = None


def open_runs(store: SessionStore, names: list[str], links: dict[str, TrainerClient] | None = None) -> list[RunSource]:
    """The runs `names` (2..MAX_RUNS, each once): running ones through their trainer, others from disk.

    `links`: clients the caller holds already (the dashboard's), used and left open. Bad names
    are a ConfigError (exit 2); a damaged session a SessionError.
    """
    links = links or {}
    if not 2 <= len(names) <= MAX_RUNS:
        raise ConfigError(f"compare takes 2 to {MAX_RUNS} sessions, not {len(names)}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"compare names each session once: {', '.join(twice)} given twice")
    missing = [n for n in names if not store.exists(n)]
    if missing:
        raise ConfigError(f"no session named {', '.join(missing)} in {store.root} (see aetui sessions)")
    runs: list[RunSource] = []
    try:
        for name in names:
            if name in links:
                run = RunSource(name, store, links[name])
            elif running(store.path(name)) is not None:
                try:
                    run = RunSource(name, store, attach(store, name), owned=True)
                except SessionError:  # it stopped meanwhile: read its save
                    run = RunSource(name, store)
            else:
                run = RunSource(name, store)
            runs.append(run)
            run.refresh()
    except BaseException:
        for run in runs:
            run.close()
        raise
    return runs


def short_names(names: list[str]) -> list[str]:
    """`names` less their common prefix up to its last '-', '_' or '.' (a whole name is never dropped)."""
    prefix = os.path.commonprefix(names)
    cut = max(prefix.rfind(ch) for ch in "-_.") + 1
    if any(len(n) <= cut for n in names):
        return list(names)
    return [n[cut:] for n in names]


@dataclass
class CompareState:
    """The runs and the viewer's choices; `version` changes with anything drawn."""

    runs: list[RunSource]
    metrics: dict[str, dict] = field(default_factory=dict)  # run name -> study.comparison.run_metrics
    # run name -> (generation of the save read, samples, mse): study.comparison.snapshot_mse
    mse_curves: dict[str, tuple] = field(default_factory=dict)
    show_mse: bool = False  # the loss chart: held-out mse at snapshots instead of each run's own loss
    pair: tuple[int, int] = (0, 1)  # the two runs whose filters and biases are side by side
    by_cosine: bool = False  # pair units by best cosine match instead of by number
    log_x: bool = False
    log_y: bool = True
    version: int = 0

    @property
    def views(self) -> list[RunView]:
        return [r.view for r in self.runs]

    @property
    def labels(self) -> list[str]:
        """The runs' names without the prefix they all share (transfer-sigmoid-relu-x0.1 -> sigmoid-relu-x0.1)."""
        return short_names([r.name for r in self.runs])

    def changed(self) -> None:
        self.version += 1

    def next_pair(self, step: int) -> None:
        """The next (or previous) pair of runs, in order (0,1), (0,2), ..., (1,2), ..."""
        n = len(self.runs)
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        self.pair = pairs[(pairs.index(self.pair) + step) % len(pairs)]
        self.changed()

    def close(self) -> None:
        for run in self.runs:
            run.close()
