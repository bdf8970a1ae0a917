"""The README's notebook example ("Getting the numbers out") runs as written, on a real study."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from aetui.model.config import TrainConfig
from aetui.sessions.store import SessionStore
from aetui.study.transfer import TransferPlan, run_transfer

README = Path(__file__).resolve().parents[2] / "README.md"


def example() -> str:
    text = README.read_text()
    section = text[text.index("## Getting the numbers out"):]
    return section[section.index("```python\n") + len("```python\n"):section.index("```\n")]


class FakePyplot(types.ModuleType):
    """matplotlib.pyplot's calls, recorded (matplotlib is no dependency of aetui's)."""

    def __init__(self):
        super().__init__("matplotlib.pyplot")
        self.calls = []

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


@pytest.mark.slow  # trains the five conditions of a small experiment
def test_the_readme_example_runs(tmp_path, monkeypatch):
    plan = TransferPlan(samples=600, prefix="transfer", config=TrainConfig(data="bars8", hidden=16).validated())
    run_transfer(SessionStore(tmp_path / "sessions"), plan)
    pyplot = FakePyplot()
    matplotlib = types.ModuleType("matplotlib")
    matplotlib.pyplot = pyplot
    monkeypatch.setitem(sys.modules, "matplotlib", matplotlib)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(example(), "README.md", "exec"), scope)
    plots = [args for name, args, _ in pyplot.calls if name == "plot"]
    assert len(plots) == 5 and all(len(x) == len(y) > 0 and np.all(np.isfinite(y)) for x, y in plots)
    (image,) = [args for name, args, _ in pyplot.calls if name == "imshow"]
    assert image[0].shape == (8, 8)
    assert scope["W"].shape == (16, 64) and len(scope["results"]) == 5
