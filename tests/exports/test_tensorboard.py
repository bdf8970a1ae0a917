"""aetui export --tensorboard: read back with TensorBoard's EventAccumulator, against the session's record."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys

import numpy as np
import pytest
from PIL import Image

import aetui
from aetui.cli.main import main
from aetui.errors import SaveError
from aetui.exports.tensorboard import SCALARS, export_tensorboard, filter_grid

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

EVERYTHING = {"scalars": 0, "images": 0, "histograms": 0, "tensors": 0}


def accumulate(folder) -> EventAccumulator:
    acc = EventAccumulator(str(folder), size_guidance=EVERYTHING)
    acc.Reload()
    return acc


def wall(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


@pytest.fixture(scope="module")
def board(recorded, tmp_path_factory):
    out = tmp_path_factory.mktemp("tb")
    paths = export_tensorboard([aetui.open_session("run", sessions_dir=recorded.root)], out)
    return out, paths


def test_one_event_file_per_run_folder(board):
    out, paths = board
    assert [p.parent for p in paths] == [out / "run"] and paths[0].name.startswith("events.out.tfevents.")
    assert sorted(p.name for p in out.iterdir()) == ["run"]


def test_scalars_are_the_history(recorded, board):
    out, _ = board
    r = aetui.open_session("run", sessions_dir=recorded.root)
    h = r.history
    acc = accumulate(out / "run")
    assert sorted(acc.Tags()["scalars"]) == sorted(SCALARS)
    for tag, column in SCALARS.items():
        kept = np.isfinite(h[column])
        events = acc.Scalars(tag)
        assert len(events) == int(kept.sum()), tag
        assert [e.step for e in events] == h["samples"][kept].tolist(), tag
        # TensorBoard keeps scalars as float32
        np.testing.assert_array_equal(np.array([e.value for e in events], np.float32), h[column][kept].astype(np.float32),
                                      err_msg=tag)
        assert [e.wall_time for e in events] == [wall(t) for t in h["time"][kept]], tag
    assert len(acc.Scalars("loss/heldout")) == len(r)  # every point of this run has a held-out loss
    assert acc.Scalars("lr")[0].value == np.float32(0.26) and acc.Scalars("lr")[-1].value == np.float32(0.01)


def test_images_and_histograms_at_every_snapshot(recorded, board):
    out, _ = board
    r = aetui.open_session("run", sessions_dir=recorded.root)
    snaps = r.snapshots
    acc = accumulate(out / "run")
    images = acc.Images("filters")
    assert len(images) == len(snaps) > 10
    assert [e.step for e in images] == [s.samples for s in snaps]
    assert [e.wall_time for e in images] == [wall(s.created) for s in snaps]
    user = next(i for i, s in enumerate(snaps) if s.name == "snap1")
    picture = np.asarray(Image.open(io.BytesIO(images[user].encoded_image_string)).convert("RGB"))
    np.testing.assert_array_equal(picture, filter_grid(snaps[user].weights()["W"], r.image_shape))
    for tag, size in (("b", 16), ("W", 16 * 64)):
        hists = acc.Histograms(tag)
        assert [e.step for e in hists] == [s.samples for s in snaps], tag
        for event, snap in zip(hists, snaps):
            values = snap.weights()[tag].astype(np.float64)
            hv = event.histogram_value
            assert hv.num == size and hv.min == values.min() and hv.max == values.max(), (tag, snap.name)
            assert hv.sum == pytest.approx(values.sum(), rel=1e-9, abs=1e-12)


def test_texts_hold_config_lineage_and_events(recorded, board):
    out, _ = board
    r = aetui.open_session("run", sessions_dir=recorded.root)
    acc = accumulate(out / "run")
    text = {tag.split("/")[0]: acc.Tensors(tag)[0].tensor_proto.string_val[0].decode() for tag in acc.Tags()["tensors"]}
    assert sorted(text) == ["config", "events", "lineage"]
    assert json.loads(text["config"].strip("`\n")) == r.config
    assert "| 1 | relu | snapshot snap1 | 0.1 | reset | 0.02 | 3,000 |" in text["lineage"]
    rows = [line for line in text["events"].splitlines()[2:]]
    assert [row.split(" | ")[3] for row in rows] == [e["kind"] for e in r.events]


def test_a_study_export_gives_one_run_folder_per_session_and_replaces_an_old_one(recorded, tmp_path, capsys):
    out = tmp_path / "tb"
    for _ in range(2):  # again: the run folders are replaced, not added to
        assert main(["export", "run", "--sessions-dir", str(recorded.root), "--tensorboard", str(out), "--json"]) == 0
        assert main(["export", "untied", "--sessions-dir", str(recorded.root), "--tensorboard", str(out)]) == 0
    written = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["run", "untied"]
    assert all(len(list((out / name).iterdir())) == 1 for name in ("run", "untied"))
    assert "events.out.tfevents." in written


def test_a_failed_write_leaves_nothing(recorded, tmp_path, monkeypatch):
    from tensorboardX.event_file_writer import EventsWriter

    calls = []
    real = EventsWriter.write_event

    def fail_later(self, event):
        calls.append(1)
        if len(calls) > 50:
            raise OSError(28, "No space left on device")
        return real(self, event)

    monkeypatch.setattr(EventsWriter, "write_event", fail_later)
    with pytest.raises(SaveError, match="No space left on device; nothing was written"):
        export_tensorboard([aetui.open_session("run", sessions_dir=recorded.root)], tmp_path / "tb")
    assert not (tmp_path / "tb").exists()


def test_without_tensorboardx_one_line_names_the_extra(recorded, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    code = main(["export", "run", "--sessions-dir", str(recorded.root), "--tensorboard", str(tmp_path / "tb")])
    assert code == 2
    assert capsys.readouterr().err == "aetui: TensorBoard export needs tensorboardX: pip install 'aetui[tensorboard]'\n"
    assert not (tmp_path / "tb").exists()


def test_a_damaged_snapshot_is_left_out_and_named(recorded, tmp_path):
    import shutil

    shutil.copytree(recorded.path("run"), tmp_path / "s" / "run")
    r = aetui.open_session("run", sessions_dir=tmp_path / "s")
    victim = r.snapshot("snap1")
    victim.path.write_bytes(b"PK\x03\x04cut short")
    export_tensorboard([r], tmp_path / "tb")
    acc = accumulate(tmp_path / "tb" / "run")
    assert [e.step for e in acc.Images("filters")] == [s.samples for s in r.snapshots if s.name != "snap1"]
    damaged = acc.Tensors("damaged/text_summary")[0].tensor_proto.string_val[0].decode()
    assert damaged.startswith("- snap1: ") and "is damaged" in damaged
