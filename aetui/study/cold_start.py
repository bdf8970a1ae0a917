"""What a first start costs: `aetui train --headless --samples 200` timed from outside, with an
empty Numba cache and then with the cache it filled, and where the compiling time went.

Each run is a fresh process, as a user's command is. The first trained mini-batch starts when
the kernels are ready: the run's JSON summary gives that moment (`ready_at`), and the time from
launching the command to it is what a user waits before training. Each process that compiles
(the trainer and its helper, aetui/model/warm_up.py) logs the seconds spent on each kernel,
not counting the kernels it called (aetui/model/compile_progress.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aetui.model.compile_progress import COMPILE_LOG

COMMAND = ("train", "--headless", "--json", "--samples", "200")
TIMEOUT = 600.0


def run_cold_start(rounds: int = 1, on_run: Callable[[str], None] | None = None) -> dict:
    """{"runs": [{"cache", "round", "to_first_batch", "whole_command", "kernels_compiled" (the
    package's kernels the run compiled, in all its processes)}], "kernels": [{"process", "kernel",
    "seconds"}] (the first cold run's), "command": the command timed}."""
    runs, kernels = [], []
    for k in range(rounds):
        with tempfile.TemporaryDirectory(prefix="aetui-cold-") as tmp:
            root = Path(tmp)
            for cache in ("empty", "warm"):
                if on_run is not None:
                    on_run(f"round {k + 1}/{rounds}: {cache} cache")
                log = root / f"compile-{cache}.jsonl"
                timed = _timed_run(root, log, root / f"sessions-{cache}")
                compiled = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
                # a warm start loads every kernel of the package from the cache: it compiles none
                own = sum(1 for r in compiled if r["module"].startswith("kernels."))
                runs.append({"cache": cache, "round": k + 1, **timed, "kernels_compiled": own})
                if cache == "empty" and k == 0:
                    kernels = compiled
    kernels.sort(key=lambda r: -r["seconds"])
    return {"runs": runs, "kernels": kernels, "command": "aetui " + " ".join(COMMAND)}


def _timed_run(root: Path, log: Path, sessions: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("NUMBA_CACHE_DIR", "AETUI_NUMBA_CACHE_BASE")}
    env.update({"AETUI_NUMBA_CACHE_BASE": str(root / "numba"), COMPILE_LOG: str(log)})
    launched = time.time()
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "aetui", *COMMAND, "--sessions-dir", str(sessions)],
                         env=env, capture_output=True, text=True, timeout=TIMEOUT)
    whole = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"the timed command failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    return {"to_first_batch": round(summary["ready_at"] - launched, 3), "whole_command": round(whole, 3)}
