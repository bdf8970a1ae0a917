"""The experiment's strip (aetui experiment transfer --png DIR: PREFIX-strip.png): the same units
of the sigmoid -> sigmoid and sigmoid -> relu x0.1 runs, one strip above the other."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import aetui
from aetui.cli.study_tables import STRIP_FILE, strip_runs, write_pictures
from aetui.exports.strip import TITLE, RUN_GAP, StripLayout, auto_units, strip_columns
from aetui.model.config import TrainConfig
from aetui.sessions.store import SessionStore
from aetui.study.pictures import diverging_rgb
from aetui.study.transfer import TransferPlan, run_transfer


@pytest.fixture(scope="module")
def transfer(tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("transfer"))
    plan = TransferPlan(samples=2_000, prefix="t", config=TrainConfig(data="bars8", hidden=16).validated())
    return store, run_transfer(store, plan)


def test_the_strip_has_the_reuse_runs_with_the_same_units(transfer, tmp_path):
    store, result = transfer
    assert strip_runs(result) == ["t-sigmoid-sigmoid", "t-sigmoid-relu-x0.1"]
    written = write_pictures(store, result, str(tmp_path))
    path = tmp_path / STRIP_FILE.format(prefix="t")
    assert written[1] == path
    runs = [aetui.open_session(name, sessions_dir=store.root) for name in strip_runs(result)]
    units = auto_units(strip_columns(runs[-1]))  # chosen on the relu run
    assert len(units) == 10
    with Image.open(path) as img:
        img = np.asarray(img.convert("RGB"))
    y0 = 0
    for run in runs:
        cols = strip_columns(run)
        assert {c.segment for c in cols} == ({"sigmoid", "relu x0.1"} if "relu" in run.name else {"sigmoid"})
        layout = StripLayout(len(units), tuple(cols), run.image_shape, title=False)
        for k in (0, len(cols) - 1):
            W = cols[k].snapshot.weights()["W"]
            for r in (0, len(units) - 1):
                x, y = layout.tile_origin(r, k)
                y += y0 + TITLE
                h, w = layout.tile
                want = diverging_rgb(W[units[r]] / np.abs(W[units[r]]).max()).reshape(*run.image_shape, 3)
                np.testing.assert_array_equal(img[y:y + h, x:x + w], want.repeat(2, 0).repeat(2, 1))
        y0 += layout.size[1] + TITLE + RUN_GAP
    assert img.shape[0] == y0 - RUN_GAP
