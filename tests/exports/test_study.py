"""aetui.open_study and `aetui export --study`: the experiment read back from its sessions."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import aetui
from aetui.cli.main import main
from aetui.errors import SessionError
from aetui.model.config import TrainConfig
from aetui.sessions.store import SessionStore
from aetui.study.reading import parse_condition
from aetui.study.transfer import TransferPlan, run_transfer
from tests.helpers.faults import file_bytes

PLAN = TransferPlan(samples=600, prefix="s", seeds=2, config=TrainConfig(data="bars8", hidden=16).validated())


def test_session_names_say_their_condition():
    def parsed(name):
        c = parse_condition("s", name)
        return None if c is None else (c.activation, c.source, c.weight_scale, c.seed)

    assert parsed("s-sigmoid-seed3") == ("sigmoid", None, 1.0, 3)
    assert parsed("s-sigmoid-sigmoid") == ("sigmoid", "sigmoid", 1.0, -1)
    assert parsed("s-sigmoid-leaky_relu-x0.1-seed0") == ("leaky_relu", "sigmoid", 0.1, 0)
    assert parsed("s-relu") == ("relu", None, 1.0, -1)
    for other in ("s2-relu", "s-x-relu", "s-sigmoid-relu", "s-relu-seed", "s-sigmoid-relu-x0", "s"):
        assert parsed(other) is None, other


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("study"))
    return store, run_transfer(store, PLAN)


@pytest.mark.slow
def test_open_study_gives_what_the_experiment_printed(study):
    store, result = study
    before = file_bytes(store.root)
    st = aetui.open_study("s", sessions_dir=store.root)
    assert file_bytes(store.root) == before  # read-only
    expected, got = result.to_json(), st.to_json()
    expected["seconds"] = got["seconds"] = 0
    assert got == expected
    assert st.seeds == [0, 1] and st.samples == 600 and st.pending == []
    assert list(st.runs) == [c.session for c in PLAN.study_plan().units()]
    assert all(isinstance(r, aetui.SessionRecord) for r in st.runs.values())
    rows = st.results
    assert [(r["condition"], r["seed"]) for r in rows] == [(c.name, c.seed) for c in PLAN.study_plan().units()]
    assert [r["heldout_loss"] for r in rows] == [c.heldout_loss for c in result.conditions]
    assert rows[2]["bias_recovery_corr"] == result.conditions[2].bias_recovery["corr"]
    assert [c["condition"] for c in st.conditions] == [c["condition"] for c in expected["conditions"]]
    assert st.claims == expected["claims"]
    df = st.to_pandas()
    assert len(df) == 10 and {"condition", "seed", "heldout_loss", "locality", "sparsity_lifetime"} <= set(df.columns)


@pytest.mark.slow
def test_study_tables_are_ready_for_a_group_by(study, tmp_path, capsys):
    store, result = study
    for fmt in ("csv", "parquet"):
        out = tmp_path / fmt
        assert main(["export", "--study", "s", "--sessions-dir", str(store.root), f"--{fmt}", str(out), "--json"]) == 0
        written = json.loads(capsys.readouterr().out)
        assert [p.rsplit("/", 1)[1] for p in written] == [f"{n}.{fmt}" for n in ("results", "conditions", "claims",
                                                                                  "history")]
        read = pd.read_csv if fmt == "csv" else pd.read_parquet
        results = read(out / f"results.{fmt}")
        assert results[["condition", "seed"]].values.tolist() == [[c.name, c.seed] for c in PLAN.study_plan().units()]
        np.testing.assert_array_equal(results["heldout_loss"].to_numpy(), [c.heldout_loss for c in result.conditions])
        history = read(out / f"history.{fmt}")
        runs = aetui.open_study("s", sessions_dir=store.root).runs if fmt == "csv" else runs
        assert len(history) == sum(len(r) for r in runs.values())
        for name, rec in runs.items():
            part = history[history["run"] == name]
            np.testing.assert_array_equal(part["heldout_loss"].to_numpy(), rec.history["heldout_loss"])
            np.testing.assert_array_equal(part["b_3"].to_numpy().astype(np.float32), rec.history["b"][:, 3])
        last = history.groupby(["condition", "seed"])["samples"].max()
        assert len(last) == 10
        claims = read(out / f"claims.{fmt}")
        assert claims["verdict"].tolist() == [c["verdict"] for c in result.to_json()["claims"]]
        conditions = read(out / f"conditions.{fmt}")
        assert {"heldout_loss", "heldout_loss_ci_low", "heldout_loss_ci_high"} <= set(conditions.columns)


@pytest.mark.slow
def test_study_tensorboard_overlays_one_folder_per_run(study, tmp_path, capsys):
    store, _ = study
    out = tmp_path / "tb"
    assert main(["export", "--study", "s", "--sessions-dir", str(store.root), "--tensorboard", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(c.session for c in PLAN.study_plan().units())


@pytest.mark.slow
def test_a_stopped_study_has_pending_runs(study, tmp_path):
    store, _ = study
    shutil.copytree(store.root, tmp_path / "copy")
    shutil.rmtree(tmp_path / "copy" / "s-relu-seed1")
    st = aetui.open_study("s", sessions_dir=tmp_path / "copy")
    assert st.pending == [{"condition": "relu", "seed": 1, "session": "s-relu-seed1", "samples": 0}]
    assert len(st.results) == 9 and "s-relu-seed1" not in st.runs


def test_an_unknown_prefix_is_one_line(tmp_path, capsys):
    with pytest.raises(SessionError, match=r"no sessions of a study 'nope' \(nope-...\) in "):
        aetui.open_study("nope", sessions_dir=tmp_path)
    assert main(["export", "--study", "nope", "--sessions-dir", str(tmp_path), "--csv", str(tmp_path / "o")]) == 1
    assert capsys.readouterr().err.count("\n") == 1 and not (tmp_path / "o").exists()
