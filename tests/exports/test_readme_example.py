"""The README's notebook example ("Getting the numbers out") runs as written, on a real study."""

from __future__ import annotations

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


@pytest.mark.slow  # trains the five conditions of a small experiment
def test_the_readme_example_runs(tmp_path, monkeypatch):
    plan = TransferPlan(samples=600, prefix="transfer", config=TrainConfig(data="bars8", hidden=16).validated())
    run_transfer(SessionStore(tmp_path / "sessions"), plan)
    import matplotlib

    matplotlib.use("Agg")  # no display: the example's figures are drawn in memory
    import matplotlib.pyplot as plt

    plt.close("all")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    try:
        exec(compile(example(), "README.md", "exec"), scope)
        axes = [ax for number in plt.get_fignums() for ax in plt.figure(number).axes]
        lines = [line for ax in axes for line in ax.lines]
        assert len(lines) == 5  # each condition's held-out curve
        for line in lines:
            x, y = line.get_xdata(), line.get_ydata()
            assert len(x) == len(y) > 0 and np.all(np.isfinite(y))
        (image,) = [image for ax in axes for image in ax.images]
        np.testing.assert_array_equal(image.get_array(), scope["W"][0].reshape(8, 8))
    finally:
        plt.close("all")
    assert scope["W"].shape == (16, 64) and len(scope["results"]) == 5
