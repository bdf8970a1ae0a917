"""The transfer experiment: five seeded conditions as sessions with lineages, JSON, stop and resume."""

import json
import shutil
import signal

import numpy as np
import pytest
from PIL import Image

import aetui.study.runner as runner
from aetui.cli.main import main
from aetui.model.config import TrainConfig
from aetui.model.engine import Engine
from aetui.training.launch import trainer_for
from aetui.errors import ConfigError, SessionError
from aetui.study.plan import final_snapshot, start_snapshot
from aetui.study.transfer import TransferPlan, run_transfer
from aetui.study.metrics import METRIC_DEFINITIONS, unit_cosine
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore

SAMPLES = 3_000
LINEAGES = ["sigmoid", "sigmoid > sigmoid", "sigmoid > relu x0.1", "sigmoid > relu", "relu"]
NAMES = ["sigmoid", "sigmoid-sigmoid", "sigmoid-relu-x0.1", "sigmoid-relu-x1", "relu"]
SOURCE_SNAPSHOT, START_SNAPSHOT = final_snapshot(0), start_snapshot(1)  # the names the transfer sessions have
SESSIONS = ["t-sigmoid", "t-sigmoid-sigmoid", "t-sigmoid-relu-x0.1", "t-sigmoid-relu-x1", "t-relu"]


def plan(**kw) -> TransferPlan:
    base = dict(samples=SAMPLES, prefix="t", config=TrainConfig(data="bars8", hidden=16).validated())
    base.update(kw)
    return TransferPlan(**base)


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """One complete run, shared by the tests that only read it."""
    store = SessionStore(tmp_path_factory.mktemp("done"))
    return store, run_transfer(store, plan())


def _W(store, name):
    return read_session(store.path(name)).state.W


@pytest.mark.slow
def test_five_conditions_with_lineages_saved_as_sessions(done):
    store, result = done
    assert not result.interrupted and result.pending == []
    assert [r.condition.name for r in result.conditions] == NAMES
    assert [r.lineage for r in result.conditions] == LINEAGES
    assert [r.session for r in result.conditions] == SESSIONS
    assert store.names() == sorted(SESSIONS)
    for r in result.conditions:
        s = read_session(store.path(r.session))
        assert s.lineage_label() == r.lineage and not s.dirty
        assert r.samples == SAMPLES and s.samples - s.lineage[-1]["start_samples"] == SAMPLES
        assert r.total_samples == (2 * SAMPLES if r.condition.source else SAMPLES)
    transfer = read_session(store.path("t-sigmoid-relu-x0.1"))
    seg = transfer.lineage[1]
    assert seg["source"] == {"kind": "snapshot", "name": SOURCE_SNAPSHOT, "segment": 0, "step": SAMPLES // 20,
                             "session": "t-sigmoid", "samples": SAMPLES}
    assert seg["weight_scale"] == pytest.approx(0.1) and seg["reset_biases"] is True
    assert seg["activation"] == "relu" and transfer.config.activation == "relu"


def test_scaled_condition_starts_from_condition_one_final_weights_times_scale(done):
    store, result = done
    final = _W(store, "t-sigmoid")  # condition 1's state.npz: its weights at the end
    source_record, source = read_session(store.path("t-sigmoid")).read_snapshot(SOURCE_SNAPSHOT)
    np.testing.assert_array_equal(source.W, final)
    for name, scale in (("t-sigmoid-relu-x0.1", 0.1), ("t-sigmoid-relu-x1", 1.0), ("t-sigmoid-sigmoid", 1.0)):
        s = read_session(store.path(name))
        record, start = s.read_snapshot(START_SNAPSHOT)
        assert record["samples"] == SAMPLES and record["activation"] == s.config.activation
        np.testing.assert_array_equal(start.W, final * np.float32(scale), err_msg=name)
        np.testing.assert_array_equal(start.b, 0.0)  # biases reset
        assert not np.array_equal(s.state.W, start.W)  # and it trained from there
    # start_cosine compares the final filters with those first weights (scale does not matter).
    relu = next(r for r in result.conditions if r.session == "t-sigmoid-relu-x0.1")
    start = read_session(store.path("t-sigmoid-relu-x0.1")).read_snapshot(START_SNAPSHOT)[1].W
    assert relu.start_cosine == pytest.approx(unit_cosine(_W(store, "t-sigmoid-relu-x0.1"), start).mean())
    assert relu.bias_recovery["ratio"] == pytest.approx(
        np.abs(read_session(store.path(relu.session)).state.b).mean() / np.abs(source.b).mean(), rel=1e-5)
    # Random init: compared with the seeded initial weights (ModelState.initial, as SessionStore.create).
    sig = result.conditions[0]
    assert 0 < sig.start_cosine < 1
    # The early held-out loss is that of the condition's own weights at a tenth of its samples,
    # not of the sigmoid run's (whose snapshot the reuse conditions carry from the copy).
    for r in result.conditions:
        s = read_session(store.path(r.session))
        record, tenth = s.read_snapshot(f"transfer-tenth-{s.segment}")
        assert record["segment"] == s.segment and record["activation"] == s.config.activation
        assert record["samples"] - s.lineage[-1]["start_samples"] == SAMPLES // 10
        engine = Engine(s.config, tenth, max_batches=1)
        held = trainer_for(s).heldout_set
        assert r.heldout_at_tenth == pytest.approx(engine.loss_on(held.images, held.scale), rel=1e-12), r.session
    # The sigmoid copy's reset bias rises again from 0.
    again = read_session(store.path("t-sigmoid-sigmoid"))
    bias = again.history.bias_matrix()
    first = again.history.columns["segment"].index(1)
    assert np.all(bias[:, first] == 0.0) and again.state.b.mean() != 0.0


def test_result_json_keys_and_types(done):
    _, result = done
    out = json.loads(json.dumps(result.to_json()))
    assert out["samples_per_condition"] == SAMPLES and out["data"] == "bars8" and out["hidden"] == 16
    assert out["definitions"] == METRIC_DEFINITIONS
    assert len(out["conditions"]) == 5
    for c, name, lineage in zip(out["conditions"], NAMES, LINEAGES):
        assert c["condition"] == name and c["lineage"] == lineage
        assert c["activation"] in ("sigmoid", "relu")
        assert c["init"] in ("random", "sigmoid")
        assert isinstance(c["weight_scale"], float)
        for key in ("heldout_loss", "heldout_mse", "locality", "spread", "contrast"):
            assert isinstance(c[key], float) and c[key] > 0, key
        assert 0.1 <= c["locality"] <= 1.0
        assert set(c["sparsity"]) == {"mean_code", "lifetime", "population"}
        assert all(isinstance(v, float) for v in c["sparsity"].values())
        assert isinstance(c["dead_units"], int) and 0 <= c["dead_units"] <= 16
        assert set(c["bias"]) == {"min", "mean", "max"} and c["bias"]["min"] <= c["bias"]["mean"] <= c["bias"]["max"]
        assert c["diverged"] is False and c["diverged_at"] is None
        assert isinstance(c["session"], str)
        assert isinstance(c["start_cosine"], float) and -1 <= c["start_cosine"] <= 1
        curve = c["heldout_curve"]
        assert curve[0][0] == 0 and len(curve) >= 2  # its points are paced by time: fewer on a busy machine
        assert all(a[0] < b[0] for a, b in zip(curve, curve[1:])) and curve[-1][0] <= SAMPLES
        # Start and tenth are measured on the whole held-out set at exactly those weights.
        assert isinstance(c["heldout_at_tenth"], float) and isinstance(c["start_heldout_loss"], float)
        if c["init"] == "random":
            assert c["heldout_loss"] < c["heldout_at_tenth"] < c["start_heldout_loss"]
        if c["init"] == "random":
            assert c["bias_recovery"] is None
        else:
            assert set(c["bias_recovery"]) == {"corr", "ratio"}
            assert all(isinstance(v, float) for v in c["bias_recovery"].values())
    inits = [(c["init"], c["weight_scale"]) for c in out["conditions"]]
    assert inits == [("random", 1.0), ("sigmoid", 1.0), ("sigmoid", 0.1), ("sigmoid", 1.0), ("random", 1.0)]
    losses = [c["loss"] for c in out["conditions"]]
    assert losses == ["cross_entropy"] * 2 + ["squared_error"] * 3
    # For squared error the held-out loss is the held-out mse.
    for c in out["conditions"][2:]:
        assert c["heldout_mse"] == pytest.approx(c["heldout_loss"], rel=1e-4)


def test_existing_prefix_is_refused_then_resume_and_force(done, tmp_path):
    store, result = done
    with pytest.raises(SessionError, match="already exist.*--resume.*--force.*--name"):
        run_transfer(store, plan())
    # Resume of a complete run trains nothing and measures the same.
    again = run_transfer(store, plan(), mode="resume")
    assert [r.heldout_loss for r in again.conditions] == [r.heldout_loss for r in result.conditions]
    assert [r.total_samples for r in again.conditions] == [r.total_samples for r in result.conditions]


@pytest.mark.slow
def test_force_replaces_and_order_does_not_matter(tmp_path):
    store = SessionStore(tmp_path)
    first = run_transfer(store, plan())
    W = {n: _W(store, n) for n in SESSIONS}
    # Rebuild condition 3 alone, after 4 and 5 exist: the same weights (seeded by step, not by order).
    shutil.rmtree(store.path("t-sigmoid-relu-x0.1"))
    redo = run_transfer(store, plan(), mode="resume")
    np.testing.assert_array_equal(_W(store, "t-sigmoid-relu-x0.1"), W["t-sigmoid-relu-x0.1"])
    assert redo.conditions[2].heldout_loss == first.conditions[2].heldout_loss
    # --force deletes and reruns: identical again.
    run_transfer(store, plan(), mode="force")
    for n in SESSIONS:
        np.testing.assert_array_equal(_W(store, n), W[n], err_msg=n)
        assert len(read_session(store.path(n)).lineage) == (1 if n in ("t-sigmoid", "t-relu") else 2)


@pytest.mark.slow
def test_stop_keeps_finished_conditions_and_resume_finishes_identically(tmp_path):
    reference = SessionStore(tmp_path / "ref")
    run_transfer(reference, plan())
    store = SessionStore(tmp_path / "run")
    seen = []

    def progress(p):
        seen.append((p.condition.index, p.phase, p.done))

    def should_stop():  # Ctrl-C while the second condition is half done
        return any(i == 1 and phase == "train" and d >= SAMPLES // 2 for i, phase, d in seen)

    result = run_transfer(store, plan(), progress=progress, should_stop=should_stop)
    assert result.interrupted
    assert [r.condition.name for r in result.conditions] == ["sigmoid"]
    assert [p["condition"] for p in result.pending] == NAMES[1:]
    partial = result.pending[0]
    assert partial["session"] == "t-sigmoid-sigmoid" and SAMPLES // 2 <= partial["samples"] < SAMPLES
    assert [p["samples"] for p in result.pending[1:]] == [0, 0, 0]
    assert store.names() == ["t-sigmoid", "t-sigmoid-sigmoid"]  # the unfinished one is saved too
    assert read_session(store.path("t-sigmoid-sigmoid")).samples == SAMPLES + partial["samples"]
    assert (0, "done", SAMPLES) in seen
    finished = run_transfer(store, plan(), mode="resume")
    assert not finished.interrupted and len(finished.conditions) == 5
    for n in SESSIONS:
        np.testing.assert_array_equal(_W(store, n), _W(reference, n), err_msg=n)


@pytest.mark.slow
def test_divergence_is_reported_with_its_sample(tmp_path):
    store = SessionStore(tmp_path)
    result = run_transfer(store, plan(scales=(0.1, 1e4)))
    huge = result.conditions[3]
    assert huge.condition.name == "sigmoid-relu-x10000" and huge.lineage == "sigmoid > relu x10000"
    assert huge.diverged and isinstance(huge.diverged_at, int) and 0 <= huge.diverged_at < SAMPLES
    assert huge.samples == huge.diverged_at  # weights kept from before the bad chunk
    out = huge.to_json()
    assert out["diverged"] is True and out["diverged_at"] == huge.diverged_at
    assert read_session(store.path("t-sigmoid-relu-x10000")).diverged
    # The other conditions did not diverge and are complete.
    assert [r.diverged for r in result.conditions] == [False, False, False, True, False]


@pytest.mark.parametrize("kw, message", [
    (dict(activation="sigmoid"), "must differ from sigmoid"),
    (dict(activation="swish"), "unknown activation 'swish'"),
    (dict(prefix="-bad"), "--name '-bad'"),
    (dict(samples=0), "--samples"),
])
def test_bad_plans_are_config_errors(tmp_path, kw, message):
    with pytest.raises(ConfigError, match=message):
        run_transfer(SessionStore(tmp_path), plan(**kw))
    assert not any(tmp_path.iterdir())


# -- the command line ------------------------------------------------------------------------------------------
def cli(tmp_path, *extra):
    return ["experiment", "transfer", "--data", "bars8", "--hidden", "16", "--samples", str(SAMPLES),
            "--sessions-dir", str(tmp_path / "s"), "--name", "t", *extra]


@pytest.mark.slow
def test_cli_json_and_png_sheet(tmp_path, capsys):
    code = main(cli(tmp_path, "--json", "--png", str(tmp_path / "png")))
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert [c["lineage"] for c in data["conditions"]] == LINEAGES
    assert data["interrupted"] is False and data["pending"] == []
    sheet = tmp_path / "png" / "t-filters.png"  # PREFIX-filters.png
    assert str(sheet) == data["pictures"][0]
    with Image.open(sheet) as img:
        assert img.format == "PNG" and img.width > 5 * 300 and img.height > 300
    for name in SESSIONS:
        assert sorted(p.name for p in (tmp_path / "png" / name).iterdir()) == ["bias.png", "filters.png", "loss.png"]
    # The same options again: refused in one line, exit 1, nothing on stdout.
    code = main(cli(tmp_path, "--json"))
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "--resume" in err


@pytest.mark.slow
def test_cli_table(tmp_path, capsys):
    code = main(cli(tmp_path))
    out, err = capsys.readouterr()
    assert code == 0, err
    for name in NAMES:
        assert f"│ {name} " in out
    assert "held-out" in out and "locality" in out and "b min/mean/max" in out and "0/16" in out


@pytest.mark.slow
def test_cli_ctrl_c_keeps_finished_conditions(tmp_path, capsys, monkeypatch):
    original = runner.run_study

    def interrupted_run(store, plan, **kw):
        progress = kw["progress"]

        def with_ctrl_c(p):
            progress(p)
            if p.condition.index == 2 and p.phase == "start":
                signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl-C

        return original(store, plan, **{**kw, "progress": with_ctrl_c})

    monkeypatch.setattr(runner, "run_study", interrupted_run)
    code = main(cli(tmp_path, "--json"))
    out, err = capsys.readouterr()
    assert code == 130
    data = json.loads(out)
    assert [c["lineage"] for c in data["conditions"]] == LINEAGES[:2]
    assert data["interrupted"] is True
    assert [p["condition"] for p in data["pending"]] == NAMES[2:]
    assert "interrupted: finished sigmoid, sigmoid-sigmoid" in err and "--resume" in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    monkeypatch.undo()
    code = main(cli(tmp_path, "--json", "--resume"))
    out, _ = capsys.readouterr()
    assert code == 0 and [c["lineage"] for c in json.loads(out)["conditions"]] == LINEAGES


def test_cli_usage_errors(tmp_path, capsys):
    code = main(cli(tmp_path, "--activation", "sigmoid"))
    _, err = capsys.readouterr()
    assert code == 2 and "must differ from sigmoid" in err
    code = main(cli(tmp_path, "--resume", "--force"))
    _, err = capsys.readouterr()
    assert code == 2 and "not allowed with" in err
    code = main(["experiment"])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()
