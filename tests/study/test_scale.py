"""`aetui bench --scale`: each case in its own process, with real figures, a missing data set skipped.

The figures' size (samples/s, save time) is what the bench prints; here: each is a real measure."""

from __future__ import annotations

import math

import pytest

import aetui.study.scale as scale
from aetui.cli.bench import scale_table
from aetui.sessions.weight_store import WEIGHT_BUDGET_MB
from aetui.training.report_budget import GRACE_SECONDS, REPORT_SHARE


@pytest.mark.slow
def test_scale_cases_run_in_their_own_processes_and_missing_data_is_skipped(monkeypatch):
    monkeypatch.setattr(scale, "DATA", ("bars16", "no-such-data"))
    monkeypatch.setattr(scale, "HIDDEN", (8, 24))
    seen = []
    result = scale.run_scale(0.6, on_case=seen.append)
    assert seen == ["bars16, hidden 8", "bars16, hidden 24", "no-such-data, hidden 8"]
    assert [(r["data"], r["hidden"]) for r in result["cases"]] == [("bars16", 8), ("bars16", 24)]
    assert "no-such-data" in result["skipped"]["no-such-data"]
    for r in result["cases"]:
        assert r["visible"] == 256
        for key in ("samples_per_second", "gflops", "sgemm_gflops_1thread", "start_seconds", "save_seconds"):
            assert math.isfinite(r[key]) and r[key] > 0, key
        # GFLOP/s is the rate's 10 x visible x hidden FLOPs per sample
        assert r["gflops"] == pytest.approx(r["samples_per_second"] * 10 * 256 * r["hidden"] / 1e9)
        # reports kept to their share of the training thread's time (its CPU time: a loaded
        # machine does not change it), the grace and one point's misestimate beyond it
        spent, trained = r["report_seconds"], r["trained_seconds"]
        assert r["report_points"] > 3 and spent > 0 and trained > 0
        assert r["report_share"] == pytest.approx(spent / (spent + trained))
        assert spent <= REPORT_SHARE / (1 - REPORT_SHARE) * trained + GRACE_SECONDS + 0.01
        assert 50 < r["peak_memory_mb"] < 4000 and 0 < r["session_mb"] < 5
        assert 0 < r["thin_mb"] <= WEIGHT_BUDGET_MB  # the history view's weights, within their budget
    small, big = result["cases"]
    # W, its optimiser state and the snapshots grow with the hidden units
    assert big["session_mb"] > small["session_mb"]
    table = scale_table(result["cases"])
    assert table.row_count == 2
    assert list(table.columns[2].cells) == [f"{r['samples_per_second']:,.0f}" for r in result["cases"]]
    assert list(table.columns[-1].cells) == [f"{r['save_seconds']:.2f}" for r in result["cases"]]
