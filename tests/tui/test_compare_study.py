"""`aetui compare --study PREFIX`: a study's runs of one seed, followed through their saves while
another process (the study) trains them."""

import pytest

from aetui.cli.compare import study_runs
from aetui.cli.main import main
from aetui.errors import ConfigError
from aetui.sessions.store import SessionStore
from aetui.study.comparison import SAVED
from aetui.study.plan_file import parse_plan
from aetui.study.runner import run_study
from aetui.training.frame import RUNNING
from aetui.training.launch import acquire_trainer, release_trainer
from aetui.tui.compare.compare_state import RunSource

from tests.helpers.training import train

PLAN = """\
[study]
name = "cmp"
data = "bars8"
hidden = 16
samples = 600
seeds = 2

[[condition]]
name = "sigmoid"

[[condition]]
name = "relu"
from = "sigmoid"
activation = "relu"

[[condition]]
name = "tanh"
activation = "tanh"
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("cmp"))
    run_study(store, parse_plan(PLAN))
    return store


def test_a_study_prefix_gives_one_seeds_runs(store):
    names, note = study_runs(store, "cmp", None)
    assert names == ["cmp-sigmoid-seed0", "cmp-relu-seed0", "cmp-tanh-seed0"]
    assert note == "study cmp, seed 0: 3 of 3 conditions"
    assert study_runs(store, "cmp", 1)[0] == ["cmp-sigmoid-seed1", "cmp-relu-seed1", "cmp-tanh-seed1"]
    with pytest.raises(ConfigError, match=r"the study cmp has seeds 0\.\.1, not 7"):
        study_runs(store, "cmp", 7)
    with pytest.raises(ConfigError, match="no study 'nope'"):
        study_runs(store, "nope", None)


def test_a_study_with_fewer_than_two_runs_so_far_says_so(store, tmp_path):
    early = SessionStore(tmp_path)
    run_study(early, parse_plan(PLAN.replace("seeds = 2", "seeds = 1")), should_stop=lambda: True)
    with pytest.raises(ConfigError, match="has 0 of its 3 runs of seed 0 so far: compare needs 2"):
        study_runs(early, "cmp", None)


def test_compare_options_are_checked(store, capsys):
    assert main(["compare", "--sessions-dir", str(store.root)]) == 2
    assert "compare takes 2 to 6 sessions (NAME NAME...) or --study PREFIX" in capsys.readouterr().err
    assert main(["compare", "a", "b", "--study", "cmp", "--sessions-dir", str(store.root)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["compare", "a", "b", "--seed", "1", "--sessions-dir", str(store.root)]) == 2
    assert "--seed is for --study" in capsys.readouterr().err


def test_a_run_another_process_trains_is_followed_through_its_saves(store):
    run = RunSource("cmp-tanh-seed0", store)
    assert run.refresh() and run.view.state == SAVED and run.view.samples == 600
    assert not run.refresh()  # nothing changed: nothing read
    trainer = acquire_trainer(store, "cmp-tanh-seed0", None, {})  # as a study's unit holds it
    try:
        assert not run.refresh()  # held, but not saved since
        train(trainer, 200)
        trainer.save()
        assert run.refresh() and run.view.state == RUNNING and run.view.live and run.view.samples == 800
    finally:
        release_trainer(trainer)
    assert run.refresh() and run.view.state == SAVED  # released (and saved): a saved run again
