"""`aetui bench --cold-start`: the train command timed from outside, cold then warm, and where
the compiling time went (a real cold start: an empty Numba cache of its own, ~10-30 s).

How much faster the warm start is, is the bench's figure (its caption); here: it only loads."""

from __future__ import annotations

import json
import math

import pytest

from aetui.cli.bench import cold_start_tables
from aetui.cli.main import main


@pytest.mark.slow
def test_a_cold_start_is_timed_from_outside_and_its_compiling_is_logged_per_process(capsys):
    assert main(["bench", "--cold-start", "--rounds", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["command"] == "aetui train --headless --json --samples 200"
    cold, warm = result["runs"]
    assert (cold["cache"], warm["cache"]) == ("empty", "warm")
    for run in (cold, warm):
        assert math.isfinite(run["whole_command"]) and 0 < run["to_first_batch"] < run["whole_command"]
    # the first start compiles the package's kernels; the second one loads them all from the cache
    assert cold["kernels_compiled"] >= 3 and warm["kernels_compiled"] == 0
    # both processes compiled, each its own share (aetui/model/warm_up.py)
    by_process = {}  # the kernels' own functions (Numba's, such as np.empty's, compile in each process)
    for r in result["kernels"]:
        assert r["seconds"] >= 0
        if r["module"].startswith("kernels."):
            by_process.setdefault(r["process"], set()).add(r["kernel"])
    assert {"train_chunk", "hidden_layer", "output_layer"} <= by_process["trainer"]
    assert {"_combine_4x4", "rows_dot_rows"} <= by_process["helper"]
    assert not by_process["trainer"] & by_process["helper"]
    seconds = [r["seconds"] for r in result["kernels"]]
    assert seconds == sorted(seconds, reverse=True)
    runs, kernels = cold_start_tables(result)
    assert runs.row_count == 2 and kernels.row_count == 12 + 2  # the longest 12, then a total per process
    assert list(runs.columns[-1].cells) == [str(cold["kernels_compiled"]), "0"]
    ratio = warm["to_first_batch"] / cold["to_first_batch"]
    assert runs.caption == f"warm / empty cache, to the first mini-batch (medians): {ratio:.2f}"
