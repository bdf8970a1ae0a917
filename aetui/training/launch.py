"""From options to a ready Trainer: data, held-out split, new or resumed session, lock."""

from __future__ import annotations

from aetui.model.config import TrainConfig
from aetui.data import load_dataset, split_heldout
from aetui.errors import SessionError
from aetui.sessions.store import SessionStore, create_session, default_name, open_session
from aetui.training.trainer import Trainer


def open_trainer(store: SessionStore, name: str | None, config: TrainConfig, explicit: dict) -> Trainer:
    """Resume session `name` if it exists (explicit options must agree), else create it.

    The session is locked against a second aetui process until `close_trainer`.
    """
    if name is not None and store.exists(name):
        session = open_session(store, name, explicit)
        config = session.config
    else:
        session = None
        name = name or default_name(config)
    data = load_dataset(config.data, seed=config.seed)
    train, heldout = split_heldout(data, config.heldout, config.seed)
    if session is None:
        session = create_session(store, name, config, data)
    elif tuple(data.shape) != tuple(session.image_shape):
        raise SessionError(f"session {name} was trained on {session.image_shape[0]}x{session.image_shape[1]} images "
                           f"but {config.data} has {data.shape[0]}x{data.shape[1]}")
    session.lock()
    try:
        return Trainer(session, train, heldout)
    except BaseException:
        session.unlock()
        raise


def close_trainer(trainer: Trainer, save: bool = True) -> None:
    """Save (unless told not to) and release the session's lock."""
    try:
        if save and trainer.session.dirty:
            trainer.save()
    finally:
        trainer.session.unlock()
