"""History thinning keeps each thinned pair's lowest and highest training loss, so spikes survive."""

import json

import numpy as np

from aetui.model.config import TrainConfig
from aetui.sessions.history import MAX_POINTS, History, merged_loss_range
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer, release_trainer
from tests.helpers.training import train


def _point(h: History, i: int, loss: float | None) -> None:
    W = np.zeros((2, 3), np.float32)
    h.add_point(W, np.zeros(2), np.zeros(3), samples=i, step=i, segment=0, train_loss=loss, heldout_loss=None,
                heldout_n=0, b_min=0.0, b_mean=0.0, b_max=0.0, w_min=0.0, w_mean=0.0, w_max=0.0, lr=0.1,
                samples_per_second=None, time=None)


def test_a_new_point_stands_for_its_own_loss():
    h = History()
    _point(h, 0, 0.5)
    _point(h, 1, None)
    assert h.columns["loss_min"] == [0.5, None] and h.columns["loss_max"] == [0.5, None]


def test_merged_range_covers_the_dropped_points_before_each_kept_one():
    lows = [5.0, 1.0, None, 7.0, 2.0, 9.0]
    highs = [5.0, 8.0, None, 7.0, 2.0, 9.0]
    lo, hi = merged_loss_range(lows, highs, [1, 2, 4, 5])
    assert lo == [1.0, None, 2.0, 9.0]  # point 1 stands for 0..1, point 4 for 3..4
    assert hi == [8.0, None, 7.0, 9.0]


def test_a_spike_survives_thinning_in_loss_max():
    h = History()
    spike_at = 1000  # of 2,001 points the first thinning keeps the first, the odd ones and the last
    for i in range(MAX_POINTS + 1):
        _point(h, i, 100.0 if i == spike_at else 1.0 + i * 1e-4)
    assert h.thinned == 1 and len(h) == MAX_POINTS // 2 + 2  # the first, every other one, the last
    samples = h.columns["samples"]
    assert samples[0] == 0 and samples[-1] == MAX_POINTS and h.report_stride == 2
    assert spike_at not in samples  # the point itself is gone ...
    k = samples.index(spike_at + 1)  # ... its kept neighbour after it carries the spike
    assert h.columns["loss_max"][k] == 100.0 and h.columns["train_loss"][k] < 2.0
    assert max(h.columns["train_loss"]) < 2.0  # without the range, the spike would be lost
    lo, hi, loss = (np.array(h.columns[c], float) for c in ("loss_min", "loss_max", "train_loss"))
    assert np.all(lo <= loss) and np.all(loss <= hi)
    assert lo[k] == h.columns["train_loss"][k] == 1.0 + (spike_at + 1) * 1e-4
    # thinning again merges the merged ranges: the spike is still there
    for i in range(MAX_POINTS + 1, MAX_POINTS + 1 + MAX_POINTS // 2):
        _point(h, i, 1.0)
    assert h.thinned == 2 and max(h.columns["loss_max"]) == 100.0


def test_the_range_is_saved_and_an_older_session_gets_its_train_loss(tmp_path):
    cfg = TrainConfig(data="bars8", hidden=6, batch=10).validated()
    t = acquire_trainer(SessionStore(tmp_path), "s", cfg, {})
    train(t, 400)
    t.session.history.columns["loss_max"][-1] = 42.0
    release_trainer(t)
    again = read_session(tmp_path / "s")
    assert again.history.columns["loss_max"][-1] == 42.0
    raw = json.loads((tmp_path / "s" / "session.json").read_text())
    assert raw["schema"] == 3 and raw["weight_store"] == {"spacing": again.weight_spacing}
    raw["schema"] = 2  # as an aetui before the loss range wrote it
    del raw["history"]["points"]["loss_min"], raw["history"]["points"]["loss_max"], raw["weight_store"]
    (tmp_path / "s" / "session.json").write_text(json.dumps(raw))
    old = read_session(tmp_path / "s")
    assert old.history.columns["loss_max"] == old.history.columns["train_loss"]
    assert old.history.columns["loss_min"] == old.history.columns["train_loss"] and old.weight_spacing == 0


def test_thinning_keeps_the_first_point_however_often_it_runs():
    h = History()
    for i in range(5 * MAX_POINTS):
        _point(h, i * 10, 1.0)
    assert h.thinned >= 3 and h.columns["samples"][0] == 0 and h.columns["samples"][-1] == (5 * MAX_POINTS - 1) * 10
    assert h.report_stride == 2 ** h.thinned
    again = History.from_json(h.to_json(), h.to_arrays(2, 3))
    assert again.thinned == h.thinned and again.report_stride == h.report_stride
