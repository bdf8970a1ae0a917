"""Fixtures of the study tests."""

import pytest

from aetui.sessions.store import SessionStore
from aetui.study.transfer import run_transfer
from tests.helpers.study import two_seed_plan


@pytest.fixture(scope="session")
def inline(tmp_path_factory):
    """two_seed_plan() run in this process, one unit after another: what every executor must match."""
    store = SessionStore(tmp_path_factory.mktemp("inline"))
    return store, run_transfer(store, two_seed_plan())
