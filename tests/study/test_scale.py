"""`aetui bench --scale`: each case in its own process, with real figures, a missing data set skipped."""

from __future__ import annotations

import aetui.study.scale as scale
from aetui.sessions.weight_store import WEIGHT_BUDGET_MB


def test_scale_cases_run_in_their_own_processes_and_missing_data_is_skipped(monkeypatch):
    monkeypatch.setattr(scale, "DATA", ("bars16", "no-such-data"))
    monkeypatch.setattr(scale, "HIDDEN", (8, 24))
    seen = []
    result = scale.run_scale(0.6, on_case=seen.append)
    assert seen == ["bars16, hidden 8", "bars16, hidden 24", "no-such-data, hidden 8"]
    assert [(r["data"], r["hidden"]) for r in result["cases"]] == [("bars16", 8), ("bars16", 24)]
    assert "no-such-data" in result["skipped"]["no-such-data"]
    for r in result["cases"]:
        assert r["visible"] == 256 and r["samples_per_second"] > 1000 and r["sgemm_gflops_1thread"] > 1
        assert 0 < r["report_share"] <= 0.2 and r["report_points"] > 3
        assert 50 < r["peak_memory_mb"] < 4000 and 0 < r["session_mb"] < 5 and 0 < r["save_seconds"] < 5
        assert 0 < r["thin_mb"] <= WEIGHT_BUDGET_MB  # the history view's weights, within their budget
    small, big = result["cases"]
    assert big["session_mb"] > small["session_mb"]
