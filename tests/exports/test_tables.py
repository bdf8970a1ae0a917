"""aetui export --csv / --parquet: the files against the API value by value, and faults leave nothing behind."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

import aetui
from aetui.cli.main import main
from aetui.errors import ConfigError, SaveError, SessionError
from aetui.exports.tables import export_session_tables
from aetui.sessions.reading import HISTORY_COLUMNS
from tests.helpers.faults import FullDisk

FILES = ("history", "events", "snapshots")


def export(capsys, *argv) -> tuple[int, list, str]:
    code = main(["export", *argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else out, err


def read(folder, fmt: str, name: str) -> pd.DataFrame:
    path = folder / f"{name}.{fmt}"
    return pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_hold_the_api_values_exactly(recorded, tmp_path, capsys, fmt):
    code, written, err = export(capsys, "run", "--sessions-dir", str(recorded.root), f"--{fmt}", str(tmp_path / "out"))
    assert code == 0, err
    out = tmp_path / "out"
    assert written == [str(out / f"{n}.{fmt}") for n in FILES] + [str(out / "lineage.json")]
    assert sorted(p.name for p in out.iterdir()) == sorted([*(f"{n}.{fmt}" for n in FILES), "lineage.json"])
    r = aetui.open_session("run", sessions_dir=recorded.root)
    h = r.history
    df = read(out, fmt, "history")
    assert list(df.columns) == [*HISTORY_COLUMNS, *(f"b_{j}" for j in range(16))] and len(df) == len(r)
    for key in HISTORY_COLUMNS:
        if key == "time":
            assert df[key].tolist() == list(h[key])
        else:
            np.testing.assert_array_equal(df[key].to_numpy(np.float64), h[key].astype(np.float64), err_msg=key)
    assert df["samples"].dtype == np.int64
    for j in range(16):  # b's float32 values come back as the same float32
        np.testing.assert_array_equal(df[f"b_{j}"].to_numpy().astype(np.float32), h["b"][:, j], err_msg=f"b_{j}")
    assert np.isnan(df["train_loss"][0]) and np.isnan(h["train_loss"][0])  # the first point has no training loss yet
    events = read(out, fmt, "events")
    assert events["kind"].tolist() == [e["kind"] for e in r.events]
    assert events["samples"].tolist() == [e["samples"] for e in r.events]
    assert [json.loads(d) for d in events["details"]] == [e["details"] for e in r.events]
    snaps = read(out, fmt, "snapshots")
    assert snaps["name"].tolist() == [s.name for s in r.snapshots]
    assert snaps["kind"].tolist() == [s.kind for s in r.snapshots]
    assert snaps["samples"].tolist() == [s.samples for s in r.snapshots]
    assert all((recorded.path("run") / f).is_file() for f in snaps["file"])
    assert json.loads((out / "lineage.json").read_text()) == r.lineage


def test_csv_and_parquet_agree_with_each_other(recorded, tmp_path):
    r = aetui.open_session("run", sessions_dir=recorded.root)
    export_session_tables(r, tmp_path / "c", "csv")
    export_session_tables(r, tmp_path / "p", "parquet")
    a, b = read(tmp_path / "c", "csv", "history"), read(tmp_path / "p", "parquet", "history")
    for key in a.columns:
        if key == "time":
            assert a[key].tolist() == b[key].tolist()
        elif key.startswith("b_"):
            np.testing.assert_array_equal(a[key].to_numpy().astype(np.float32), b[key].to_numpy())
        else:
            np.testing.assert_array_equal(a[key].to_numpy(np.float64), b[key].to_numpy(np.float64), err_msg=key)


def test_an_export_again_replaces_the_files_and_keeps_others(recorded, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "history.csv").write_text("old")
    r = aetui.open_session("run", sessions_dir=recorded.root)
    export_session_tables(r, out, "csv")
    assert (out / "notes.txt").read_text() == "mine" and (out / "history.csv").read_text().startswith("samples,")
    assert sorted(p.name for p in out.iterdir()) == ["events.csv", "history.csv", "lineage.json", "notes.txt",
                                                     "snapshots.csv"]


def test_a_full_disk_leaves_nothing_half_written(recorded, tmp_path, monkeypatch):
    r = aetui.open_session("run", sessions_dir=recorded.root)
    disk = FullDisk(monkeypatch, room=2_000).on()
    with pytest.raises(SaveError, match=r"cannot write into .*new: No space left on device; nothing was written"):
        export_session_tables(r, tmp_path / "new" , "csv")
    assert disk.refused >= 1 and not (tmp_path / "new").exists()  # the folder it made is gone too
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "history.csv").write_text("the last export")
    with pytest.raises(SaveError):
        export_session_tables(r, tmp_path / "old", "csv")
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["history.csv"]  # no staging folder, no temp file
    assert (tmp_path / "old" / "history.csv").read_text() == "the last export"


def test_bad_targets_and_sessions_are_one_line(recorded, tmp_path, capsys):
    d = str(recorded.root)
    (tmp_path / "file").write_text("x")
    code, _, err = export(capsys, "run", "--sessions-dir", d, "--csv", str(tmp_path / "file"))
    assert code == 1 and err == f"aetui: {tmp_path / 'file'} exists and is not a folder\n"
    code, _, err = export(capsys, "run", "--sessions-dir", d, "--csv", str(tmp_path / "file" / "below"))
    assert code == 1 and err.startswith("aetui: cannot write into ") and err.count("\n") == 1
    code, _, err = export(capsys, "ghost", "--sessions-dir", d, "--csv", str(tmp_path / "o"))
    assert code == 1 and err == f"aetui: no session named ghost in {recorded.root}\n"
    code, _, err = export(capsys, "run", "--sessions-dir", d)
    assert code == 2 and "needs at least one of --png, --csv, --parquet, --tensorboard" in err
    code, _, err = export(capsys, "run", "--study", "t", "--sessions-dir", d, "--csv", str(tmp_path / "o"))
    assert code == 2 and "a session NAME or --study PREFIX" in err
    assert not (tmp_path / "o").exists()


def test_a_damaged_session_is_one_line_and_nothing_is_written(recorded, tmp_path, capsys):
    import shutil

    shutil.copytree(recorded.path("run"), tmp_path / "s" / "bad")
    (tmp_path / "s" / "bad" / "state.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(SessionError, match="state.npz is damaged"):
        aetui.open_session("bad", sessions_dir=tmp_path / "s")
    code, _, err = export(capsys, "bad", "--sessions-dir", str(tmp_path / "s"), "--csv", str(tmp_path / "o"))
    assert code == 1 and "state.npz is damaged" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_parquet_without_pyarrow_names_the_extra(recorded, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, _, err = export(capsys, "run", "--sessions-dir", str(recorded.root), "--parquet", str(tmp_path / "o"))
    assert code == 2 and err == "aetui: Parquet export needs pyarrow: pip install 'aetui[data]'\n"
    assert not (tmp_path / "o").exists()
    with pytest.raises(ConfigError):
        export_session_tables(aetui.open_session("run", sessions_dir=recorded.root), tmp_path / "o", "parquet")
    # CSV needs no extra at all
    monkeypatch.setitem(sys.modules, "pandas", None)
    code, _, err = export(capsys, "run", "--sessions-dir", str(recorded.root), "--csv", str(tmp_path / "o"))
    assert code == 0, err


def test_png_goes_through_the_same_reader(recorded, tmp_path, capsys):
    from PIL import Image

    code, written, err = export(capsys, "run", "--sessions-dir", str(recorded.root), "--png", str(tmp_path / "png"),
                                "--csv", str(tmp_path / "csv"))
    assert code == 0, err
    assert [p.rsplit("/", 1)[1] for p in written] == ["filters.png", "bias.png", "loss.png", "history.csv",
                                                      "events.csv", "snapshots.csv", "lineage.json"]
    for path in written[:3]:
        Image.open(path).verify()
