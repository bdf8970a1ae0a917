"""`aetui bench --scale`: what a run costs as the model and the data grow.

Each case (data set x hidden units) runs in a fresh process, so its peak memory is its own: it
trains through the one training loop (reports and snapshots included, as a user's run does),
interleaved with a one-thread sgemm as the yardstick, then saves the session and measures the
save and the folder.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from aetui.errors import DataError

DATA = ("mnist5k", "fashion")
HIDDEN = (100, 500, 1000, 2000)
ROUNDS = 3


def run_scale(seconds: float, on_case=None) -> dict:
    """{"cases": [...], "skipped": {data: why}}: one row per data set and hidden size."""
    rows, skipped = [], {}
    context = multiprocessing.get_context("spawn")
    for data in DATA:
        for hidden in HIDDEN:
            if data in skipped:
                continue
            if on_case is not None:
                on_case(f"{data}, hidden {hidden}")
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                row = json.loads(pool.submit(measure_case, data, hidden, seconds).result())
            if "skipped" in row:
                skipped[data] = row["skipped"]
            else:
                rows.append(row)
    return {"cases": rows, "skipped": skipped}


def measure_case(data: str, hidden: int, seconds: float) -> str:
    """One case in this (fresh) process; returns its row as JSON."""
    from aetui.model.config import TrainConfig
    from aetui.sessions.store import SessionStore
    from aetui.sessions.weight_store import thin_bytes_on_disk
    from aetui.study.bench import Sgemm
    from aetui.training.launch import acquire_trainer, release_trainer
    from aetui.training.loop import Action, Steering, run_loop

    folder = Path(tempfile.mkdtemp(prefix="aetui-scale-"))
    try:
        t0 = time.perf_counter()
        try:
            trainer = acquire_trainer(SessionStore(folder), "scale", TrainConfig(data=data, hidden=hidden).validated(), {})
        except DataError as exc:
            return json.dumps({"skipped": str(exc)})
        start_seconds = time.perf_counter() - t0

        class ForSeconds(Steering):
            def __init__(self, limit: float):
                self.deadline = time.perf_counter() + limit

            def between_chunks(self, t):
                return Action.STOP if time.perf_counter() >= self.deadline else super().between_chunks(t)

        run_loop(trainer, ForSeconds(min(0.5, seconds / 4)), autosave_seconds=None)  # compile, first report
        gemm = Sgemm()
        samples, trained = 0, 0.0
        for _ in range(ROUNDS):
            before, t = trainer.session.samples, time.perf_counter()
            run_loop(trainer, ForSeconds(seconds / ROUNDS), autosave_seconds=None, warm=False)
            trained += time.perf_counter() - t
            samples += trainer.session.samples - before
            gemm.run(seconds / ROUNDS / 2)
        t = time.perf_counter()
        trainer.save()
        save_seconds = time.perf_counter() - t
        size = sum(p.stat().st_size for p in trainer.session.path.rglob("*") if p.is_file())
        thin = thin_bytes_on_disk(trainer.session)  # the history view's weights: as many as the run's length and the budget allow
        rate = samples / trained
        visible = trainer.session.state.n_visible
        row = {"data": data, "hidden": hidden, "visible": visible, "samples_per_second": rate,
               "gflops": rate * 10.0 * visible * hidden / 1e9, "sgemm_gflops_1thread": gemm.gflops,
               "report_share": trainer.budget.share_spent(), "report_seconds": trainer.budget.spent,
               "trained_seconds": trainer.budget.trained, "start_seconds": start_seconds,
               "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "session_mb": (size - thin) / 2**20, "thin_mb": thin / 2**20, "save_seconds": save_seconds,
               "report_points": len(trainer.session.history)}
        release_trainer(trainer, save=False)
        return json.dumps(row)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
