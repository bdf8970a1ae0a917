"""A new session from another session's weights: `aetui train --from NAME[@SNAPSHOT]`, the fork.

The new session is a copy of the source's record (lineage, history, events, snapshots) with one
more segment, opened by Trainer.restart exactly as the restart key opens one (weights x0.1
across activations, biases reset, unless told otherwise). So it carries its whole past, can be
replayed like any session, and its last segment's source names the session (and snapshot and
samples) its weights came from. It is built under a hidden temporary name and renamed into
place: the session exists only complete.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from aetui.errors import AetuiError, ConfigError, SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.atomic import TEMP_SUFFIX
from aetui.sessions.lock import LOCK_FILE
from aetui.sessions.session import Session, read_session
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer, trainer_for
from aetui.training.origin import Origin
from aetui.training.trainer import Trainer

# Options of `train` that only say how the new segment trains; every other one must agree
# with the source (its weights fix the data's image size and the hidden size).
BRANCH_OPTIONS = ("activation", "lr")
COPY_ATTEMPTS = 3  # a running source may save while it is copied: copy again


def source_session(store: SessionStore, origin: Origin) -> Session:
    """The source, read from disk; ConfigError (exit 2) when it is missing or damaged."""
    if not store.exists(origin.session):
        raise ConfigError(f"cannot start from session {origin.session}: there is no such session in {store.root}")
    try:
        return read_session(store.path(origin.session))
    except SessionError as exc:
        raise ConfigError(f"cannot start from session {origin.session}: it is damaged ({exc})") from None


def check_compatible(source: Session, explicit: dict, image_shape: tuple[int, int] | None) -> None:
    """ConfigError unless the options given (and the data's image shape) fit the source's weights."""
    cfg = source.config
    name = source.name
    if "hidden" in explicit and explicit["hidden"] != cfg.hidden:
        raise ConfigError(f"cannot start from session {name}: it has {cfg.hidden} hidden units, not {explicit['hidden']}")
    if image_shape is not None and tuple(image_shape) != tuple(source.image_shape):
        (h, w), (dh, dw) = source.image_shape, image_shape
        raise ConfigError(f"cannot start from session {name}: its weights are for {h}x{w} images, "
                          f"{explicit.get('data', cfg.data)} has {dh}x{dw}")
    if "data" in explicit and explicit["data"] != cfg.data:
        raise ConfigError(f"cannot start from session {name}: it was trained on {cfg.data}; a session started "
                          f"from it trains on the same data (drop --data {explicit['data']})")
    others = [k for k in explicit if k not in BRANCH_OPTIONS and k != "data" and getattr(cfg, k) != explicit[k]]
    if others:
        flags = ", ".join(f"--{k.replace('_', '-')} {explicit[k]!r} (source has {getattr(cfg, k)!r})" for k in others)
        raise ConfigError(f"a session started from {name} keeps its settings but for --activation and --lr; "
                          f"conflicting options: {flags}")


def branch_name(store: SessionStore, origin: Origin, activation: str) -> str:
    """A free name for the new session: SOURCE-ACTIVATION, then -2, -3, ..."""
    base = f"{origin.session}-{activation}"[:60]
    name, n = base, 1
    while store.path(name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def branch_session(store: SessionStore, origin: Origin, name: str | None, explicit: dict,
                   start_snapshot: str | None = None) -> str:
    """Create session `name` (default: a free SOURCE-ACTIVATION) from `origin`; returns its name.

    start_snapshot: also keep the new segment's first weights (after scaling) as a snapshot.

    Every refusal (no source, a damaged source or snapshot, options or data that do not fit its
    weights, a name that is taken) is a ConfigError and leaves nothing behind.
    """
    source = source_session(store, origin)
    shape = None
    if explicit.get("data", source.config.data) != source.config.data:
        from aetui.data import load_dataset

        shape = load_dataset(explicit["data"], seed=source.config.seed).shape  # an unknown --data: exit 2
    check_compatible(source, explicit, shape)
    activation = origin.activation or source.config.activation
    if name is None:
        name = branch_name(store, origin, activation)
    elif store.path(name).exists():
        raise ConfigError(f"session {name} exists already; --from starts a new session: choose another --session")
    final = store.path(name)
    tmp = store.root / f".{name}.partial"
    try:
        session = _copy(store, origin.session, tmp)
        if origin.snapshot is not None and not any(s["name"] == origin.snapshot for s in session.snapshots):
            raise ConfigError(f"cannot start from {origin.spec}: session {origin.session} has no snapshot "
                              f"{origin.snapshot!r} (see aetui sessions show {origin.session})")
        try:
            trainer = trainer_for(session)
        except AetuiError as exc:
            raise ConfigError(f"cannot start from session {origin.session}: {exc}") from None
        check_compatible(session, explicit, trainer.train_set.shape)
        if origin.snapshot is None:
            samples = session.samples
        else:
            samples = next(s["samples"] for s in session.snapshots if s["name"] == origin.snapshot)
        try:
            trainer.restart(activation, source=origin.snapshot, weight_scale=origin.weight_scale,
                            reset_biases=origin.reset_biases, lr=origin.lr,
                            origin={"session": origin.session, "samples": int(samples)})
        except SessionError as exc:  # a damaged snapshot
            raise ConfigError(f"cannot start from {origin.spec}: {exc}") from None
        if start_snapshot is not None:
            trainer.snapshot(start_snapshot)
        trainer.save()
        os.rename(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return name


def acquire_branch(store: SessionStore, origin: Origin, name: str | None, explicit: dict) -> Trainer:
    """branch_session, then the new session's Trainer, locked (as acquire_trainer gives it)."""
    name = branch_session(store, origin, name, explicit)
    try:
        return acquire_trainer(store, name, TrainConfig(), {})
    except BaseException:
        shutil.rmtree(store.path(name), ignore_errors=True)  # created here, never trained: nothing lost
        raise


def _copy(store: SessionStore, source: str, tmp: Path) -> Session:
    """A consistent copy of the source's folder at `tmp`, read back (a save may run meanwhile)."""
    problem = None
    for _ in range(COPY_ATTEMPTS):
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(store.path(source), tmp, ignore=shutil.ignore_patterns(LOCK_FILE, f"*{TEMP_SUFFIX}"))
        try:
            return read_session(tmp)
        except SessionError as exc:
            problem = exc
    raise ConfigError(f"cannot start from session {source}: it is damaged ({problem})")

