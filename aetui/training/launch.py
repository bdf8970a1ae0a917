"""From options to a ready Trainer: data, held-out split, new or resumed session, lock."""

from __future__ import annotations

from aetui.data import Dataset, load_dataset, split_heldout
from aetui.errors import DataError, SessionError, UnknownDataError
from aetui.model.config import TrainConfig
from aetui.sessions.session import Session
from aetui.sessions.store import SessionStore, default_name
from aetui.training.trainer import Trainer


def acquire_trainer(store: SessionStore, name: str | None, config: TrainConfig, explicit: dict) -> Trainer:
    """Resume session `name` if it exists (explicit options must agree), else create it.

    The session is locked against a second aetui process until `release_trainer`.
    """
    created = not (name is not None and store.exists(name))
    if created:
        data = _data_of(config)
        session = store.create(name or default_name(config), config, data)
    else:
        session = store.load(name, explicit)
        data = _data_of(session.config, session)
        _check_image_shape(session, data)
    try:
        session.lock()
        return _trainer(session, data)
    except BaseException:
        session.unlock()
        if created:  # a refused configuration (e.g. a batch larger than the data) leaves nothing behind
            store.discard_new(session)
        raise


def trainer_for(session: Session) -> Trainer:
    """A Trainer for a session read from disk (not locked here): its data loaded, split and checked."""
    data = _data_of(session.config, session)
    _check_image_shape(session, data)
    return _trainer(session, data)


def release_trainer(trainer: Trainer, save: bool = True) -> None:
    """Save (unless told not to) and release the session's lock."""
    try:
        if save and trainer.session.dirty:
            trainer.save()
    finally:
        trainer.session.unlock()


def _data_of(config: TrainConfig, session: Session | None = None) -> Dataset:
    """The data of `config`; for a saved `session`, data that is not there is no bad option (exit 1)."""
    try:
        return load_dataset(config.data, seed=config.seed)
    except UnknownDataError as exc:
        if session is None:
            raise
        raise DataError(f"session {session.name} was trained on data that is not there: {exc}") from None


def _check_image_shape(session: Session, data: Dataset) -> None:
    if tuple(data.shape) != tuple(session.image_shape):
        raise SessionError(f"session {session.name} was trained on {session.image_shape[0]}x{session.image_shape[1]} "
                           f"images (image_shape in {session.path / 'session.json'}) but {session.config.data} has "
                           f"{data.shape[0]}x{data.shape[1]}")


def _trainer(session: Session, data: Dataset) -> Trainer:
    train, heldout = split_heldout(data, session.config.heldout, session.config.seed)
    return Trainer(session, train, heldout)
