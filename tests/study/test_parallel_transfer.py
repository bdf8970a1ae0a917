"""The transfer experiment on worker processes: the same numbers as one after another, a lost
worker's unit rerun (never counted twice), a stop kept and finished with resume."""

import json
import os
import signal
import time
from functools import partial

import numpy as np
import pytest

from aetui.cli.main import main
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.study.executors import PoolExecutor
from aetui.study.task_graph import WorkerLostError
from aetui.study.transfer import run_transfer
from tests.helpers.study import SAMPLES, assert_same_runs, two_seed_plan



def test_seeds_are_sessions_of_their_own_with_their_own_source(inline):
    store, result = inline
    assert len(result.conditions) == 10 and not result.interrupted
    assert store.names() == sorted(f"t-{c}-seed{s}" for s in (0, 1) for c in
                                   ("sigmoid", "sigmoid-sigmoid", "sigmoid-relu-x0.1", "sigmoid-relu-x1", "relu"))
    for seed in (0, 1):
        s = read_session(store.path(f"t-sigmoid-relu-x0.1-seed{seed}"))
        assert s.config.seed == seed
        source = read_session(store.path(f"t-sigmoid-seed{seed}")).read_snapshot("transfer-source")[1].W
        np.testing.assert_array_equal(s.read_snapshot("transfer-start")[1].W, source * np.float32(0.1))
    w0, w1 = (read_session(store.path(f"t-relu-seed{k}")).state.W for k in (0, 1))
    assert not np.array_equal(w0, w1)
    out = json.loads(json.dumps(result.to_json()))
    assert out["seeds"] == 2 and len(out["conditions"]) == 5
    first = out["conditions"][0]
    assert first["condition"] == "sigmoid" and first["seeds"] == 2 and len(first["runs"]) == 2
    losses = [r["heldout_loss"] for r in first["runs"]]
    assert first["heldout_loss"] == pytest.approx(sum(losses) / 2)
    low, high = first["heldout_loss_ci"]
    assert low < min(losses) and high > max(losses)  # two values: t(1) = 12.7 makes it wide
    assert {c["statement"] for c in out["claims"]} >= {"locality(sigmoid) > locality(relu)"}
    assert all(c["pairs"] == 2 and c["verdict"] in ("holds", "not shown", "contradicted") for c in out["claims"])


@pytest.mark.slow
def test_two_worker_processes_give_the_same_numbers(inline, tmp_path):
    store = SessionStore(tmp_path)
    seen = []
    with PoolExecutor(2) as pool:
        result = run_transfer(store, two_seed_plan(), executor=pool, progress=lambda p: seen.append((p.condition.index, p.phase)))
    assert_same_runs(inline[0], store, inline[1], result)
    assert sorted(i for i, phase in seen if phase == "done") == list(range(10))


@pytest.mark.slow
def test_a_lost_worker_has_its_unit_rerun_and_counted_once(inline, tmp_path):
    store = SessionStore(tmp_path)
    killed = []
    with PoolExecutor(2) as pool:
        def progress(p):  # kill the process training seed 1's sigmoid run half way
            if not killed and p.condition.session == "t-sigmoid-seed1" and p.phase == "train" and p.done >= SAMPLES // 2:
                for pid in list(pool._pool._processes):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

        result = run_transfer(store, two_seed_plan(), executor=pool, progress=progress)
    assert killed and not result.interrupted
    assert_same_runs(inline[0], store, inline[1], result)


LONG = 200_000  # samples per unit: long enough for the kill to come while it runs


@pytest.mark.slow
def test_a_unit_whose_worker_keeps_dying_is_one_error_and_the_finished_ones_are_kept(tmp_path):
    store = SessionStore(tmp_path)
    kills = []
    with PoolExecutor(1) as pool:  # one worker: seed 0's sigmoid run is done before seed 1's starts
        def progress(p):  # kill the process training seed 1's sigmoid run, every time it runs
            if p.condition.session == "t-sigmoid-seed1" and p.phase == "train":
                for pid in list(pool._pool._processes):
                    os.kill(pid, signal.SIGKILL)
                kills.append(p.done)

        with pytest.raises(WorkerLostError) as caught:
            run_transfer(store, two_seed_plan(samples=LONG), executor=pool, progress=progress)
    assert str(caught.value) == ("condition t-sigmoid-seed1: the worker process running it was lost 3 time(s); "
                                 "the finished ones are kept, and --resume runs the rest")
    assert len(kills) >= 3 and read_session(store.path("t-sigmoid-seed0")).samples == LONG


@pytest.mark.slow
def test_stop_keeps_finished_units_and_resume_finishes_them_identically(inline, tmp_path):
    store = SessionStore(tmp_path)
    seen = []
    with PoolExecutor(2) as pool:
        def stop():
            return any(phase == "done" for _, phase in seen)

        first = run_transfer(store, two_seed_plan(), executor=pool, should_stop=stop,
                             progress=lambda p: seen.append((p.condition.index, p.phase)))
        assert first.interrupted and 1 <= len(first.conditions) < 10
        assert len(first.pending) + len(first.conditions) == 10
        again = run_transfer(store, two_seed_plan(), executor=pool, mode="resume")
    assert not again.interrupted
    assert_same_runs(inline[0], store, inline[1], again)


# -- the command line ------------------------------------------------------------------------------------------
def cli(tmp_path, *extra):
    return ["experiment", "transfer", "--data", "bars8", "--hidden", "16", "--samples", str(SAMPLES),
            "--sessions-dir", str(tmp_path / "s"), "--name", "t", *extra]


@pytest.mark.slow
def test_cli_lists_sweep_activations_and_scales(tmp_path, capsys):
    code = main(cli(tmp_path, "--json", "--activation", "relu,tanh", "--weight-scale", "0.1,0.5", "--workers", "2"))
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert [c["condition"] for c in data["conditions"]] == [
        "sigmoid", "sigmoid-sigmoid", "sigmoid-relu-x0.1", "sigmoid-relu-x0.5", "relu",
        "sigmoid-tanh-x0.1", "sigmoid-tanh-x0.5", "tanh"]
    assert data["seeds"] == 1 and "heldout_loss_ci" not in data["conditions"][0]
    statements = [c["statement"] for c in data["claims"]]
    assert "locality(sigmoid) > locality(tanh)" in statements
    assert "diverged(sigmoid-tanh-x0.5) and not diverged(sigmoid-tanh-x0.1)" in statements
    assert all(c["verdict"] == "not shown" for c in data["claims"])  # one seed shows nothing


@pytest.mark.slow
def test_cli_seeds_table_and_claims_section(tmp_path, capsys):
    code = main(cli(tmp_path, "--seeds", "2", "--activation", "relu", "--weight-scale", "0.1"))
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "seeds 0..1" in out and "observation" in out and "verdict" in out
    row = next(line for line in out.splitlines() if line.startswith("│ sigmoid-relu-x0.1 "))
    assert "│     2 │" in row and row.count("±") >= 8


@pytest.mark.parametrize("extra, message", [
    (("--activation", "relu,,tanh"), "without empty entries"),
    (("--activation", "relu,swish"), "unknown activation 'swish'"),
    (("--activation", "relu,sigmoid"), "must differ from sigmoid"),
    (("--activation", "relu,relu"), "twice"),
    (("--weight-scale", "0.1,-1"), "must be above 0"),
    (("--weight-scale", "0.1,x"), "expected a number"),
    (("--weight-scale", "0.1,0.10"), "twice"),
    (("--seeds", "0"), "at least 1"),
    (("--workers", "0"), "at least 1"),
    (("--workers", "2", "--threads", "2"), "--threads is for --workers 1"),
    (("--workers", "2", "--scheduler", "tcp://127.0.0.1:1"), "not allowed with"),
    (("--scheduler", "127.0.0.1:8786"), "tcp://HOST:PORT"),
])
def test_cli_bad_lists_and_options_are_one_line_exit_2(tmp_path, capsys, extra, message):
    code = main(cli(tmp_path, *extra))
    _, err = capsys.readouterr()
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "s").exists()


def test_progress_display_keeps_every_running_unit_in_view():
    from rich.console import Console

    from aetui.cli.study_progress import UnitProgress
    from aetui.study.runner import Progress

    label = lambda c, plan: f"{c.name} (seed {c.seed})"  # noqa: E731
    few = UnitProgress(two_seed_plan(seeds=1).study_plan(), Console(), True, label)
    assert [t.description for t in few.bar.tasks][:2] == ["sigmoid (seed 0)", "sigmoid-sigmoid (seed 0)"]
    assert len(few.bar.tasks) == 5  # the study's five: every bar from the start, as always
    plan = two_seed_plan(seeds=3)
    units = plan.study_plan().units()
    many = UnitProgress(plan.study_plan(), Console(), True, label)
    assert [t.description for t in many.bar.tasks] == ["15 conditions x seeds"]
    many(Progress(units[0], "start", 0, SAMPLES))
    many(Progress(units[5], "train", 600, SAMPLES, 0.3))
    shown = {t.description: t for t in many.bar.tasks}
    assert set(shown) == {"15 conditions x seeds", "sigmoid (seed 0)", "sigmoid (seed 1)"}
    assert shown["sigmoid (seed 1)"].completed == 600 and shown["sigmoid (seed 1)"].fields["loss"] == "0.3000"
    many(Progress(units[0], "done", SAMPLES, SAMPLES, 0.2))
    many(Progress(units[10], "done", SAMPLES, SAMPLES, 0.2))  # a complete unit of a resumed run
    shown = {t.description: t for t in many.bar.tasks}
    assert set(shown) == {"15 conditions x seeds", "sigmoid (seed 1)"} and shown["15 conditions x seeds"].completed == 2


@pytest.mark.slow
def test_worker_processes_prepare_as_they_start(tmp_path):
    with PoolExecutor(2, prepare=partial(_mark_worker, str(tmp_path))):
        deadline = time.monotonic() + 30
        while len(list(tmp_path.glob("worker-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    pids = {p.read_text() for p in tmp_path.glob("worker-*")}
    assert len(pids) == 2 and str(os.getpid()) not in pids


def _mark_worker(folder: str) -> None:
    """A worker's prepare(): one file per worker process, holding its pid."""
    from pathlib import Path

    Path(folder, f"worker-{os.getpid()}").write_text(str(os.getpid()))
