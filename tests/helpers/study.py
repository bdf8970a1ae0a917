"""Comparing two runs of the transfer experiment (in-process, worker processes, a cluster)."""

import numpy as np

from aetui.sessions.session import read_session


def numbers(run: dict) -> dict:
    """Every number of a condition's JSON but the history's held-out curve, whose points fall where
    the time trained pays for them (aetui/training/report_budget.py), so they move from run to run."""
    return {k: v for k, v in run.items() if k != "heldout_curve"}


def assert_same_runs(store_a, store_b, result_a, result_b) -> None:
    """The same conditions with the same numbers and bit-identical final weights."""
    assert [r.session for r in result_a.conditions] == [r.session for r in result_b.conditions]
    for a, b in zip(result_a.conditions, result_b.conditions):
        assert numbers(a.to_json()) == numbers(b.to_json()), a.session
        np.testing.assert_array_equal(read_session(store_a.path(a.session)).state.W,
                                      read_session(store_b.path(b.session)).state.W, err_msg=a.session)


SAMPLES = 3_000  # per condition: enough for the filters to move, a second or so per unit


def two_seed_plan(**kw):
    """The experiment on bars8 with 16 hidden units and two seeds (ten units)."""
    from aetui.model.config import TrainConfig
    from aetui.study.transfer import TransferPlan

    base = dict(samples=SAMPLES, prefix="t", seeds=2, config=TrainConfig(data="bars8", hidden=16).validated())
    base.update(kw)
    return TransferPlan(**base)
