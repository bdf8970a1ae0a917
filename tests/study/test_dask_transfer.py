"""The transfer experiment on a Dask cluster: a LocalCluster, then real scheduler and worker
processes on loopback; the numbers are the local run's, whether the workers share the store or not."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (installed with distributed)

import aetui.study.dask_executor as dask_executor  # noqa: E402
from aetui.cli.main import main  # noqa: E402
from aetui.errors import AetuiError  # noqa: E402
from aetui.sessions.session import read_session  # noqa: E402
from aetui.sessions.store import SessionStore  # noqa: E402
from aetui.study.dask_executor import DaskExecutor  # noqa: E402
from aetui.study.transfer import run_transfer  # noqa: E402
from tests.helpers.study import SAMPLES, assert_same_runs, numbers, two_seed_plan  # noqa: E402

pytestmark = pytest.mark.slow  # Dask clusters: scheduler and worker processes

BIN = Path(sys.executable).parent  # the dask command of this environment


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as c:
        yield c


def test_local_cluster_shared_store_gives_the_local_numbers(inline, cluster, tmp_path):
    store = SessionStore(tmp_path)
    seen = []
    with DaskExecutor(cluster.scheduler_address, store.root) as executor:
        assert executor.shares_store and executor.slots == 2
        result = run_transfer(store, two_seed_plan(), executor=executor, progress=lambda p: seen.append((p.condition.index, p.phase)))
    assert_same_runs(inline[0], store, inline[1], result)
    assert sorted(i for i, phase in seen if phase == "done") == list(range(10))  # progress came back
    assert not list(tmp_path.glob(".aetui-probe-*"))


def test_workers_without_the_store_send_the_sessions_back(inline, cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(DaskExecutor, "_workers_see", lambda self, root: False)
    store = SessionStore(tmp_path)
    with DaskExecutor(cluster.scheduler_address, store.root) as executor:
        assert not executor.shares_store
        result = run_transfer(store, two_seed_plan(), executor=executor)
    assert_same_runs(inline[0], store, inline[1], result)
    assert store.names() == inline[0].names()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folders left
    s = read_session(store.path("t-sigmoid-relu-x0.1-seed1"))
    assert [seg["activation"] for seg in s.lineage] == ["sigmoid", "relu"]


def test_stop_on_the_cluster_then_resume(inline, cluster, tmp_path):
    store = SessionStore(tmp_path)
    seen = []
    with DaskExecutor(cluster.scheduler_address, store.root) as executor:
        first = run_transfer(store, two_seed_plan(), executor=executor, progress=lambda p: seen.append(p.phase),
                             should_stop=lambda: "done" in seen)
        assert first.interrupted and len(first.conditions) < 10
        again = run_transfer(store, two_seed_plan(), executor=executor, mode="resume")
    assert_same_runs(inline[0], store, inline[1], again)


def test_a_lost_dask_worker_has_its_unit_rerun_and_counted_once(inline, cluster, tmp_path):
    store = SessionStore(tmp_path)
    killed = []
    with DaskExecutor(cluster.scheduler_address, store.root) as executor:
        def progress(p):  # kill every worker process while seed 1's sigmoid run is half done
            if not killed and p.condition.session == "t-sigmoid-seed1" and p.phase == "train" and p.done >= SAMPLES // 2:
                for nanny in cluster.workers.values():
                    if nanny.pid:
                        os.kill(nanny.pid, signal.SIGKILL)
                        killed.append(nanny.pid)

        result = run_transfer(store, two_seed_plan(), executor=executor, progress=progress)
    assert killed and not result.interrupted
    assert [r.condition.index for r in result.conditions] == list(range(10))
    assert_same_runs(inline[0], store, inline[1], result)


LONG = 200_000  # samples per unit: long enough for the kill to come while it runs


def test_a_unit_dask_gives_up_on_is_one_error_and_the_finished_ones_are_kept(tmp_path):
    store = SessionStore(tmp_path)
    killed = []
    # The scheduler gives up on a task at its first lost worker; one worker, so seed 0's sigmoid
    # run is done before seed 1's starts.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                     worker_dashboard_address=None) as one:
        with DaskExecutor(one.scheduler_address, store.root) as executor:
            def progress(p):
                if not killed and p.condition.session == "t-sigmoid-seed1" and p.phase == "train":
                    for nanny in one.workers.values():
                        if nanny.pid:
                            os.kill(nanny.pid, signal.SIGKILL)
                            killed.append(nanny.pid)

            with pytest.raises(AetuiError) as caught:
                run_transfer(store, two_seed_plan(samples=LONG), executor=executor, progress=progress)
    assert killed
    assert str(caught.value) == ("condition t-sigmoid-seed1: the Dask workers running it kept dying, and the "
                                 "scheduler gave up on it (KilledWorker); the finished ones are kept, and "
                                 "--resume runs the rest")
    assert read_session(store.path("t-sigmoid-seed0")).samples == LONG


def test_unreachable_scheduler_is_one_error_in_bounded_time(tmp_path):
    port = _free_port()
    t0 = time.monotonic()
    with pytest.raises(AetuiError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 2 s"):
        DaskExecutor(f"tcp://127.0.0.1:{port}", tmp_path, connect_seconds=2)
    assert time.monotonic() - t0 < 30


def test_cli_unreachable_scheduler_and_missing_dask_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_SECONDS", 2.0)
    args = ["experiment", "transfer", "--data", "bars8", "--hidden", "16", "--samples", "100",
            "--sessions-dir", str(tmp_path / "s"), "--scheduler", f"tcp://127.0.0.1:{_free_port()}"]
    assert main(args) == 1
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "cannot reach the Dask scheduler" in err.splitlines()[-1]
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if aetui[cluster] were not installed
    assert main(args) == 2
    _, err = capsys.readouterr()
    assert err.strip().splitlines()[-1].endswith("pip install 'aetui[cluster]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(*argv) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dask"), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"})


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_real_scheduler_and_worker_processes_on_loopback(inline, tmp_path, capsys):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")]
    try:
        procs += [_start("worker", address, "--nthreads", "1", "--nworkers", "2", "--no-dashboard",
                         "--death-timeout", "60")]
        store = SessionStore(tmp_path / "s")
        code = main(["experiment", "transfer", "--data", "bars8", "--hidden", "16", "--samples", str(SAMPLES),
                     "--seeds", "2", "--sessions-dir", str(store.root), "--name", "t", "--scheduler", address, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        data = json.loads(out)
        assert data["seeds"] == 2 and not data["interrupted"]
        local = inline[1].to_json()
        assert [[numbers(r) for r in c["runs"]] for c in data["conditions"]] == [
            [numbers(r) for r in c["runs"]] for c in local["conditions"]]
        assert data["claims"] == local["claims"]
        for name in inline[0].names():
            np.testing.assert_array_equal(read_session(store.path(name)).state.W, read_session(inline[0].path(name)).state.W)
    finally:
        for proc in reversed(procs):
            _end(proc)
