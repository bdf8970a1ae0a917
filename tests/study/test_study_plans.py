"""Plans run as studies: restarts part-way, starts from a snapshot, frozen biases, the claims,
study show, resume, the shipped transfer plan against experiment transfer, and the same
numbers on two worker processes and on a Dask cluster."""

import json

import numpy as np
import pytest

from aetui.cli.main import main
from aetui.errors import ConfigError
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.study.plan_file import PLANS_DIR, parse_plan
from aetui.study.runner import run_study
from tests.helpers.study import assert_same_runs, numbers
from tests.study.test_plan_file import BIAS

pytestmark = pytest.mark.slow  # each test trains a study

PLAN = BIAS.replace('activation = ["relu", "tanh"]', 'activation = ["relu"]')  # 5 conditions x 2 seeds


@pytest.fixture(scope="module")
def inline(tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("inline"))
    return store, run_study(store, parse_plan(PLAN))


def _run_json(tmp_path, capsys, plan_text, *extra):
    tmp_path.mkdir(parents=True, exist_ok=True)
    plan = tmp_path / "plan.toml"
    plan.write_text(plan_text)
    code = main(["study", "run", str(plan), "--sessions-dir", str(tmp_path / "s"), "--json", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_a_restart_part_way_frozen_biases_and_a_start_from_a_snapshot(inline):
    store, result = inline
    assert not result.interrupted and len(result.conditions) == 10
    by = {(r.condition.name, r.condition.seed): r for r in result.conditions}
    frozen = read_session(store.path("bias-frozen-seed1"))
    assert not frozen.state.b.any() and not frozen.state.c.any()  # bias learning rate 0: b and c stay at zero
    learning = read_session(store.path("bias-learning-seed1"))
    assert np.abs(learning.state.b).max() > 1e-3
    reset = read_session(store.path("bias-reset-seed1"))
    assert [seg["start_samples"] for seg in reset.lineage] == [0, 1500] and reset.lineage[1]["reset_biases"]
    assert reset.samples == 3000 and reset.lineage_label() == "sigmoid > sigmoid"
    _, before = reset.read_snapshot("transfer-before-1")
    r = by[("reset", 1)]
    assert r.samples == 3000 and r.bias_recovery is not None
    assert r.bias_recovery["corr"] == pytest.approx(np.corrcoef(reset.state.b, before.b)[0, 1], rel=1e-9)
    moved = read_session(store.path("bias-moved-relu-x0.1-seed1"))
    assert moved.lineage[1]["source"]["name"] == "transfer-tenth-0" and moved.lineage[1]["start_samples"] == 3000
    _, tenth = learning.read_snapshot("transfer-tenth-0")
    _, start = moved.read_snapshot("transfer-start")
    np.testing.assert_array_equal(start.W, tenth.W * np.float32(0.1))
    assert not start.b.any()  # biases reset
    claims = {c.statement: c for c in result.claims()}
    assert claims["locality(learning) > locality(frozen)"].interval.n == 2
    assert claims["bias_corr(reset) > 0.5"].interval.mean == pytest.approx(
        np.mean([by[("reset", s)].bias_recovery["corr"] for s in (0, 1)]))


def test_study_show_gives_the_run_numbers_and_resume_refuses_another_plan(inline, capsys):
    store, result = inline
    assert main(["study", "show", "bias", "--sessions-dir", str(store.root), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    ran = result.to_json()
    assert shown["claims"] == ran["claims"]
    assert [numbers(r) for c in shown["conditions"] for r in c["runs"]] == \
        [numbers(r) for c in ran["conditions"] for r in c["runs"]]
    assert (store.root / "bias.plan.toml").read_text() == PLAN
    other = parse_plan(PLAN.replace("samples = 3000", "samples = 2000"))
    with pytest.raises(ConfigError, match="was run with another plan"):
        run_study(store, other, mode="resume")


def test_an_interrupted_plan_resumes_to_the_same_weights(inline, tmp_path):
    reference, _ = inline
    store = SessionStore(tmp_path)
    seen = []

    def stop():  # once the reset condition of seed 0 is past its restart
        return any(name == "reset" and done > 1800 for name, done in seen)

    first = run_study(store, parse_plan(PLAN), progress=lambda p: seen.append((p.condition.name, p.done)), should_stop=stop)
    assert first.interrupted
    partial = read_session(store.path("bias-reset-seed0"))
    assert len(partial.lineage) == 2 and 1800 < partial.samples < 3000
    done = run_study(store, parse_plan(PLAN), mode="resume")
    assert not done.interrupted
    for c in done.conditions:
        np.testing.assert_array_equal(read_session(store.path(c.session)).state.W,
                                      read_session(reference.path(c.session)).state.W, err_msg=c.session)


def test_the_shipped_transfer_plan_gives_experiment_transfer_numbers(tmp_path, capsys):
    small = (PLANS_DIR / "transfer.toml").read_text().replace('name = "transfer"', 'name = "t"').replace(
        'data = "mnist5k"', 'data = "bars8"').replace("hidden = 100", "hidden = 16").replace(
        "samples = 300000", "samples = 3000").replace("seeds = 1 ", "seeds = 2 ")
    plan = _run_json(tmp_path / "plan", capsys, small)
    code = main(["experiment", "transfer", "--data", "bars8", "--hidden", "16", "--samples", "3000", "--seeds", "2",
                 "--name", "t", "--sessions-dir", str(tmp_path / "exp"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    experiment = json.loads(out)
    assert len(plan["conditions"]) == 5 and plan["seeds"] == 2
    assert [numbers(r) for c in plan["conditions"] for r in c["runs"]] == \
        [numbers(r) for c in experiment["conditions"] for r in c["runs"]]
    assert plan["claims"] == experiment["claims"]
    for name in ("t-sigmoid-relu-x0.1-seed1", "t-relu-seed0"):
        np.testing.assert_array_equal(read_session(tmp_path / "plan" / "s" / name).state.W,
                                      read_session(tmp_path / "exp" / name).state.W)


def test_two_workers_give_the_inline_numbers(inline, tmp_path, capsys):
    store, result = inline
    data = _run_json(tmp_path, capsys, PLAN, "--workers", "2")
    assert data["claims"] == result.to_json()["claims"]
    assert [numbers(r) for c in data["conditions"] for r in c["runs"]] == \
        [numbers(r) for c in result.to_json()["conditions"] for r in c["runs"]]
    for c in result.conditions:
        np.testing.assert_array_equal(read_session(tmp_path / "s" / c.session).state.W,
                                      read_session(store.path(c.session)).state.W, err_msg=c.session)


def test_a_dask_cluster_gives_the_inline_numbers(inline, tmp_path):
    distributed = pytest.importorskip("distributed")
    from aetui.study.dask_executor import DaskExecutor

    reference, expected = inline
    store = SessionStore(tmp_path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        with DaskExecutor(cluster.scheduler_address, store.root) as executor:
            result = run_study(store, parse_plan(PLAN), executor=executor)
    assert_same_runs(reference, store, expected, result)
    assert [c.to_json() for c in result.claims()] == [c.to_json() for c in expected.claims()]


def test_a_plan_run_with_other_data_seeds_and_name_is_saved_as_it_ran(tmp_path, capsys):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.replace("samples = 3000", "samples = 600").replace("at = 1500", "at = 300"))
    sessions = str(tmp_path / "s")
    code = main(["study", "run", str(plan), "--seeds", "1", "--data", "bars16", "--name", "other",
                 "--sessions-dir", sessions, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    ran = json.loads(out)
    assert ran["prefix"] == "other" and ran["data"] == "bars16" and ran["seeds"] == 1
    saved = parse_plan((tmp_path / "s" / "other.plan.toml").read_text())
    assert saved.prefix == "other" and saved.seeds == 1 and {c.config.data for c in saved.conditions} == {"bars16"}
    assert main(["study", "show", "other", "--sessions-dir", sessions, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["session"] for r in shown["conditions"]] == [r["session"] for r in ran["conditions"]]
    assert shown["claims"] == ran["claims"] and shown["pending"] == []


def test_compare_after_a_study_opens_the_first_seeds_runs(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr("aetui.cli.dashboard.require_terminal", lambda: None)
    monkeypatch.setattr("aetui.cli.compare.show_comparison",
                        lambda store, names, note="", **kw: seen.update(names=names, note=note) or 0)
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.replace("samples = 3000", "samples = 600").replace("at = 1500", "at = 300"))
    assert main(["study", "run", str(plan), "--sessions-dir", str(tmp_path / "s"), "--compare"]) == 0
    assert seen["names"] == ["bias-learning-seed0", "bias-frozen-seed0", "bias-reset-seed0",
                             "bias-moved-relu-x0.1-seed0", "bias-moved-relu-x1-seed0"]  # 5 of the 10 runs
    assert seen["note"] == "the study bias, seed 0, 600 samples per condition"
