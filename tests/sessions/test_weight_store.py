"""Thin-stored snapshots: the weights at report points, within a disk budget, thinned evenly."""

import json

import numpy as np
import pytest

from aetui.errors import SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.model.state import ModelState
from aetui.sessions.weight_store import (MAX_KEPT, MIN_KEPT, THIN, budget_count, dropped_when_thinning, nearest_snapshot,
                                         snapshot_bytes, store_weights, thin_records)
from aetui.training.launch import acquire_trainer, release_trainer
from tests.helpers.training import train

BUDGET_MB = 0.02  # 6 snapshots of a 12-unit bars8 model (3,376 bytes each)


@pytest.fixture
def trainer(tmp_path):
    cfg = TrainConfig(data="bars8", hidden=12, batch=10).validated()
    t = acquire_trainer(SessionStore(tmp_path), "s", cfg, {})
    yield t
    release_trainer(t, save=False)


def _report_points(session, samples_list, budget_mb=BUDGET_MB):
    for samples in samples_list:
        session.step = samples // session.config.batch
        store_weights(session, budget_mb)


def test_the_budget_counts_snapshots_of_this_model(trainer):
    state = trainer.session.state
    assert snapshot_bytes(state) == (12 * 64 + 12 + 64) * 4
    assert budget_count(state, BUDGET_MB) == int(BUDGET_MB * (1 << 20)) // snapshot_bytes(state) == 6
    assert budget_count(state, 0.0001) == MIN_KEPT
    assert budget_count(state) == MAX_KEPT  # 64 MB would hold 19,878 of these: the count is capped
    big = ModelState.from_weights(np.zeros((100, 784), np.float32), np.zeros(100, np.float32),
                                  np.zeros(784, np.float32), None)
    assert budget_count(big) == 64 * (1 << 20) // snapshot_bytes(big) == 211  # the default: 64 MB


def test_thinning_drops_every_other_but_the_newest_two():
    records = [{"samples": i} for i in range(7)]
    assert [r["samples"] for r in dropped_when_thinning(records)] == [0, 2, 4]


def test_over_budget_every_other_goes_and_the_spacing_grows(trainer):
    s = trainer.session
    s.snapshots = [r for r in s.snapshots if r["kind"] != THIN]
    trainer.snapshot("mine")
    others = [r["name"] for r in s.snapshots if r["kind"] != THIN]
    _report_points(s, [1000 * k for k in range(1, 8)])  # 7 > 6: one thinning
    thin = thin_records(s.snapshots)
    assert [r["samples"] for r in thin] == [2000, 4000, 6000, 7000]
    assert s.weight_spacing == (7000 - 2000) // 3
    assert [r["name"] for r in s.snapshots if r["kind"] != THIN] == others  # period and user snapshots stay
    _report_points(s, [7500, 8600, 8700])  # closer than the spacing (1,666): not stored
    assert [r["samples"] for r in thin_records(s.snapshots)] == [2000, 4000, 6000, 7000, 8700]


def test_a_long_run_stays_within_budget_and_evenly_spread(trainer):
    s = trainer.session
    _report_points(s, range(500, 2_000_001, 500))
    thin = thin_records(s.snapshots)
    assert MIN_KEPT <= len(thin) <= budget_count(s.state, BUDGET_MB)
    gaps = np.diff([r["samples"] for r in thin])
    assert gaps.max() <= 4 * gaps.min()  # no crowd at the end, no hole at the start
    assert thin[0]["samples"] < 2_000_000 * 0.4  # the early run is still covered


def test_dropped_files_go_only_after_a_save_that_names_them_no_more(trainer, tmp_path):
    s = trainer.session
    _report_points(s, [1000, 2000, 3000])
    s.save()  # written: three thin files on disk
    first = s.snapshot_path("thin-1000")
    assert first.is_file()
    _report_points(s, [4000, 5000, 6000, 7000])  # thinning drops thin-1000 (written) and unwritten ones
    assert "thin-1000" not in {r["name"] for r in s.snapshots}
    assert first.is_file()  # the session.json on disk still names it
    assert "thin-1000" in {r["name"] for r in json.loads((s.path / "session.json").read_text())["snapshots"]}
    s.save()
    assert not first.exists()
    on_disk = {p.stem for p in (s.path / "snapshots").glob("thin-*.npz")}
    assert on_disk == {r["name"] for r in thin_records(s.snapshots)}
    again = read_session(s.path)
    assert again.weight_spacing == s.weight_spacing and again.snapshot_problems() == {}
    record, state = again.read_snapshot("thin-7000")
    assert record["kind"] == THIN and np.array_equal(state.W, s.state.W)


def test_training_stores_weights_at_report_points_but_frames_leave_them_out(trainer):
    train(trainer, 2000)
    s = trainer.session
    thin = thin_records(s.snapshots)
    report_samples = set(s.history.columns["samples"])
    assert len(thin) >= 3 and all(r["samples"] in report_samples for r in thin)
    frame = trainer.frame(1, "RUNNING")
    assert frame.snapshots and all(r["kind"] != THIN for r in frame.snapshots)


def test_nearest_prefers_the_segment_of_the_point():
    records = [{"name": "a", "samples": 100, "segment": 0}, {"name": "b", "samples": 130, "segment": 1},
               {"name": "c", "samples": 300, "segment": 1}]
    assert nearest_snapshot(records, 125)["name"] == "b"
    assert nearest_snapshot(records, 125, segment=0)["name"] == "a"
    assert nearest_snapshot(records, 115, segment=7)["name"] == "a"  # the tie goes to the earlier one
    assert nearest_snapshot([], 5) is None


def test_a_damaged_weight_store_record_is_one_line(trainer):
    s = trainer.session
    s.save()
    raw = json.loads((s.path / "session.json").read_text())
    raw["weight_store"] = {"spacing": -3}
    (s.path / "session.json").write_text(json.dumps(raw))
    with pytest.raises(SessionError) as info:
        read_session(s.path)
    assert "weight_store: 'spacing' is -3, expected a whole number >= 0" in str(info.value)
