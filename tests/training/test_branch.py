"""A new session from another's weights (`train --from`): the weights, the lineage, the refusals."""

import json

import numpy as np
import pytest

from aetui.cli.main import main
from aetui.errors import ConfigError
from aetui.model.config import TrainConfig
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from aetui.training.branch import branch_session
from aetui.training.origin import Origin
from aetui.training.launch import acquire_trainer, release_trainer
from tests.helpers.training import train


@pytest.fixture
def source(tmp_path, tui_config):
    """Session 'src' (sigmoid, bars8, 16 hidden) trained 2,000 samples, with snapshot 'early' at 1,000."""
    store = SessionStore(tmp_path / "s")
    trainer = acquire_trainer(store, "src", tui_config, {})
    train(trainer, 1000)
    trainer.snapshot("early")
    train(trainer, 1000)
    release_trainer(trainer)
    return store


def test_weights_start_as_the_scaled_source_biases_reset(source):
    src = read_session(source.path("src"))
    name = branch_session(source, Origin("src", activation="relu"), None, {"activation": "relu"})
    assert name == "src-relu"
    new = read_session(source.path(name))
    np.testing.assert_array_equal(new.state.W, src.state.W * np.float32(0.1))
    np.testing.assert_array_equal(new.state.b, np.zeros_like(src.state.b))
    np.testing.assert_array_equal(new.state.c, np.zeros_like(src.state.c))
    assert new.config.activation == "relu" and new.config.lr is None
    assert new.lineage_label() == "sigmoid > relu x0.1"
    seg = new.lineage[-1]
    assert seg["source"]["session"] == "src" and seg["source"]["kind"] == "current"
    assert seg["source"]["samples"] == src.samples == 2000 and seg["start_samples"] == 2000
    assert seg["weight_scale"] == pytest.approx(0.1) and seg["reset_biases"] is True
    # the source is left as it was
    assert read_session(source.path("src")).samples == 2000


def test_from_a_snapshot_with_a_scale_and_kept_biases(source):
    src = read_session(source.path("src"))
    _, snap = src.read_snapshot("early")
    origin = Origin.parse("src@early", activation="sigmoid", weight_scale=0.5, reset_biases=False)
    branch_session(source, origin, "half", {"activation": "sigmoid"})
    new = read_session(source.path("half"))
    np.testing.assert_array_equal(new.state.W, snap.W * np.float32(0.5))
    np.testing.assert_array_equal(new.state.b, snap.b)
    assert not np.array_equal(snap.W, src.state.W)  # the snapshot, not the last weights
    seg = new.lineage[-1]
    assert seg["source"] == {"kind": "snapshot", "name": "early", "segment": 0, "step": 100, "session": "src",
                             "samples": 1000}
    assert new.lineage_label() == "sigmoid > sigmoid x0.5"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_headless_from_trains_a_new_session_shown_with_its_origin(source, capsys):
    d = str(source.root)
    code, out, err = run(capsys, "train", "--headless", "--json", "--sessions-dir", d, "--from", "src",
                         "--activation", "relu", "--session", "r1", "--samples", "400")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["session"] == "r1" and summary["lineage"] == "sigmoid > relu x0.1"
    assert summary["samples"] == 400 and summary["total_samples"] == 2400
    code, out, _ = run(capsys, "sessions", "show", "r1", "--sessions-dir", d, "--json")
    assert code == 0 and json.loads(out)["lineage"][-1]["source"]["session"] == "src"
    code, out, _ = run(capsys, "sessions", "show", "r1", "--sessions-dir", d)
    assert code == 0 and "session src," in out
    run(capsys, "train", "--headless", "--sessions-dir", d, "--from", "r1", "--activation", "relu",
        "--session", "r2", "--samples", "20")
    code, out, _ = run(capsys, "sessions", "--tree", "--sessions-dir", d)
    lines = out.splitlines()
    depth = {name: next(i for i, line in enumerate(lines) if f" {name}  " in line) for name in ("src", "r1", "r2")}
    assert depth["src"] < depth["r1"] < depth["r2"]
    indent = {name: lines[depth[name]].index(name) for name in depth}
    assert indent["src"] < indent["r1"] < indent["r2"]
    # the source of r2 deleted: r2 is a root, with a note
    source.remove("r1")
    code, out, _ = run(capsys, "sessions", "--tree", "--sessions-dir", d)
    (line,) = [line for line in out.splitlines() if " r2  " in line]
    assert "from session r1, deleted" in line
    assert line.index("r2") == [ln for ln in out.splitlines() if " src  " in ln][0].index("src")


def _damage(store):
    (store.path("src") / "session.json").write_text("{not json")


@pytest.mark.parametrize("extra, damage, message", [
    (["--from", "nope"], None, "cannot start from session nope: there is no such session in"),
    (["--from", "src"], _damage, "cannot start from session src: it is damaged ("),
    (["--from", "src@missing"], None, "cannot start from src@missing: session src has no snapshot 'missing'"),
    (["--from", "src", "--hidden", "32"], None, "cannot start from session src: it has 16 hidden units, not 32"),
    (["--from", "src", "--data", "bars16"], None, "cannot start from session src: its weights are for 8x8 images, "
                                                  "bars16 has 16x16"),
    (["--from", "src", "--data", "bars8", "--seed", "3"], None, "keeps its settings but for --activation and --lr; "
                                                                "conflicting options: --seed 3 (source has 0)"),
    (["--from", "src", "--session", "src"], None, "session src exists already; --from starts a new session"),
    (["--from", "../x"], None, "--from ../x: bad source session name '../x'"),
    (["--weight-scale", "0.5"], None, "--weight-scale goes with --from NAME"),
    (["--from", "src", "--weight-scale", "0"], None, "argument --weight-scale: must be above 0, got 0"),
])
def test_bad_sources_are_refused_in_one_line(source, capsys, extra, damage, message):
    if damage:
        damage(source)
    before = sorted(p.name for p in source.root.iterdir())
    code, out, err = run(capsys, "train", "--headless", "--sessions-dir", str(source.root), "--samples", "20", *extra)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert sorted(p.name for p in source.root.iterdir()) == before  # nothing left behind


def test_a_refused_branch_leaves_no_folder(source):
    with pytest.raises(ConfigError):
        branch_session(source, Origin("src", "missing"), "x", {})
    assert not source.path("x").exists() and not list(source.root.glob(".*partial"))


def test_a_branch_can_be_replayed_bit_for_bit(source):
    """The copy of the source's record plus the restart is a complete record."""
    from aetui.training.replay import replay

    branch_session(source, Origin.parse("src@early", activation="relu"), "b", {"activation": "relu"})
    trainer = acquire_trainer(source, "b", TrainConfig(), {})
    train(trainer, 600)
    release_trainer(trainer)
    result = replay(read_session(source.path("b")), source, "b-again")
    try:
        assert result.identical and result.max_difference == 0.0 and result.interventions == 2
        # and the replay names where the branch came from, as the branch does (so --tree places it)
        assert result.trainer.session.lineage[-1]["source"] == read_session(source.path("b")).lineage[-1]["source"]
        assert result.trainer.session.lineage[-1]["source"]["session"] == "src"
    finally:
        release_trainer(result.trainer)


def test_the_tree_roots_orphans_and_cuts_loops():
    from aetui.sessions.store import SessionSummary
    from aetui.sessions.tree import session_tree

    def s(name, parent=None):
        return SessionSummary(name, "sigmoid", 1, None, None, origin=None if parent is None else {"session": parent})

    roots = session_tree([s("a"), s("b", "a"), s("c", "b"), s("d", "gone"), s("x", "y"), s("y", "x")])
    shape = {r.summary.name: (r.lost_parent, [(c.summary.name, [g.summary.name for g in c.children])
                                              for c in r.children]) for r in roots}
    assert shape == {"a": (None, [("b", ["c"])]), "d": ("gone", []), "x": (None, [("y", [])])}
