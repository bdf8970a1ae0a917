"""Reports (history points, held-out evaluation, period snapshots) stay within their share of time."""

from __future__ import annotations

import time

import numpy as np

from aetui.data import load_dataset, split_heldout
from aetui.model.config import TrainConfig
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer, release_trainer
from aetui.training.report_budget import GRACE_SECONDS, REPORT_SHARE, ReportBudget
from aetui.training.trainer import heldout_subset
from tests.helpers.training import train


def test_the_budget_picks_the_whole_set_a_subset_or_none_by_what_was_trained():
    b = ReportBudget()
    assert b.affords_point(first=True) and b.heldout_size(6000, 500, first=True) == 500  # cost unknown yet
    b.add_point(1.0, 500, 0.9, first=True)  # the first point is the fixed cost: not charged, not learnt
    assert b.spent == 0 and b.sample_cost == 0
    b.add_point(0.011, 500, 0.010)  # 20 us per held-out sample, 1 ms per point
    b.spent = 0.0
    b.add_training(0.1)  # allows 0.1/9 + grace
    left = REPORT_SHARE / (1 - REPORT_SHARE) * 0.1 + GRACE_SECONDS - 0.001
    assert b.heldout_size(6000, 500, first=False) == (6000 if left >= 6000 * 2e-5 else 500)
    b.spent = b.allowance() + b.spent - 0.0015  # leave 1.5 ms: a point (1 ms) but no subset (10 ms)
    assert b.affords_point(first=False) and b.heldout_size(6000, 500, first=False) == 0
    b.spent += 0.001
    assert not b.affords_point(first=False)
    b.add_training(10.0)
    assert b.heldout_size(6000, 500, first=False) == 6000
    assert 0 < b.share_spent() < REPORT_SHARE


def test_slow_evaluation_is_held_to_its_share(tmp_path, monkeypatch):
    monkeypatch.setattr("aetui.training.trainer.HELDOUT_SUBSET", 50)  # bars16 holds out only 200
    t = acquire_trainer(SessionStore(tmp_path), "slow", TrainConfig(data="bars16", hidden=32, batch=10).validated(), {})
    real = t.engine.loss_on

    def slow_loss(data, scale):  # 20 us per held-out sample: evaluation far dearer than training
        time.sleep(2e-5 * len(data))
        return real(data, scale)

    monkeypatch.setattr(t.engine, "loss_on", slow_loss)
    train(t, 30_000)
    b = t.budget
    assert b.spent <= REPORT_SHARE / (1 - REPORT_SHARE) * b.trained + GRACE_SECONDS + 0.01
    n = t.session.history.column("heldout_n")
    full, part = len(t.heldout_set), len(t.heldout_subset)
    assert set(n.tolist()) <= {0.0, float(part), float(full)} and part < full
    assert (n == 0).any() and (n == part).any()  # some points could not afford all, some none
    held = t.session.history.column("heldout_loss")
    assert np.isnan(held[n == 0]).all() and np.isfinite(held[n > 0]).all()
    release_trainer(t)


def test_the_subset_is_fixed_and_stratified():
    data = load_dataset("mnist5k")
    _, heldout = split_heldout(data, 0.1, 0)
    a, b = heldout_subset(heldout, 120, 0), heldout_subset(heldout, 120, 0)
    assert len(a) == 120 and np.array_equal(a.images, b.images)
    counts = np.bincount(a.labels, minlength=10)
    assert counts.max() - counts.min() <= 1
    assert heldout_subset(heldout, 10_000, 0) is heldout


def test_the_loss_chart_names_subset_points_apart(tmp_path, monkeypatch):
    from aetui.tui.panes.loss_pane import loss_series

    monkeypatch.setattr("aetui.training.trainer.HELDOUT_SUBSET", 50)
    t = acquire_trainer(SessionStore(tmp_path), "mix", TrainConfig(data="bars16", hidden=16, batch=10).validated(), {})
    train(t, 3_000)
    n = t.session.history.column("heldout_n")
    n[: len(n) // 2] = 50  # as if the early points could afford only the subset
    t.session.history.columns["heldout_n"] = [int(v) for v in n]
    t.session.history.version += 1
    names = [s.name for s in loss_series(t.frame(1, "RUNNING"))]
    assert names == ["train", "smoothed", "held-out (all 200)", "held-out (50-sample subset)"]
    t.session.history.columns["heldout_n"] = [200] * len(n)
    t.session.history.version += 1
    assert [s.name for s in loss_series(t.frame(2, "RUNNING"))][-1] == "held-out"
    release_trainer(t)
