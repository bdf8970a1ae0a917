"""`aetui compare` refuses bad names in one line (exit 2) before it takes the screen."""

import pytest

from aetui.cli.main import main
from aetui.sessions.store import SessionStore
from aetui.training.launch import acquire_trainer, release_trainer


@pytest.fixture
def store(tmp_path, tui_config):
    store = SessionStore(tmp_path / "s")
    for name in ("a", "b"):
        release_trainer(acquire_trainer(store, name, tui_config, {}))
    return store


@pytest.mark.parametrize("names, message", [
    (["a"], "compare takes 2 to 6 sessions, not 1"),
    (["a", "b", "a", "b", "a", "b", "a"], "compare takes 2 to 6 sessions, not 7"),
    (["a", "a"], "compare names each session once: a given twice"),
    (["a", "nope"], "no session named nope in"),
    (["a", "../x"], "bad session name '../x'"),
])
def test_bad_names_are_refused_in_one_line(store, capsys, names, message):
    code = main(["compare", *names, "--sessions-dir", str(store.root)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err


def test_without_a_terminal_it_says_so(store, capsys):
    code = main(["compare", "a", "b", "--sessions-dir", str(store.root)])  # pytest's stdin is no terminal
    _, err = capsys.readouterr()
    assert code == 2 and "the comparison needs a terminal" in err
