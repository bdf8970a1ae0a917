"""Fixtures of the export tests: a real session with a short run, an lr change, a user snapshot and
a restart under relu from it (then another lr change), read but never written by the tests."""

from __future__ import annotations

import pytest

from aetui.model.config import TrainConfig
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer, release_trainer
from tests.helpers.training import every_point, train

CONFIG = dict(data="bars8", hidden=16, batch=10)


def eventful_session(store: SessionStore, name: str = "run", **changes) -> None:
    """sigmoid 2,000 samples, lr 0.5, 600 more, snapshot snap1, 400 more, restart under relu from
    snap1 (x0.1, biases reset), 800 more, lr 0.01, 400 more; saved."""
    t = every_point(acquire_trainer(store, name, TrainConfig(**{**CONFIG, **changes}).validated(), {}))
    train(t, 2_000)
    t.set_lr(0.5)
    train(t, 600)
    t.snapshot()
    train(t, 400)
    t.restart("relu", "snap1", None, True, None)
    train(t, 800)
    t.set_lr(0.01)
    train(t, 400)
    release_trainer(t)


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> SessionStore:
    """A store with session `run` (tied) and `untied` (untied weights), as eventful_session made them."""
    store = SessionStore(tmp_path_factory.mktemp("recorded"))
    eventful_session(store)
    eventful_session(store, "untied", tied=False)
    return store
