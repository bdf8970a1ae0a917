"""The film (aetui export NAME --film): a frame per stored snapshot in time order, read back with
Pillow (and ffmpeg for MP4); the filters of a frame are the stored weights pixel for pixel in the
lossless formats; an interrupted film leaves nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import aetui
from aetui.cli.main import main
from aetui.exports.film import HEADER, PAD, FrameDrawer, _durations, export_film, plan_film
from aetui.study.pictures import diverging_rgb, tile_origin

EARLY = 100  # samples (13 frames): a short film, for the formats tested on part of the run


@pytest.fixture(scope="module")
def run(recorded):
    return aetui.open_session("run", sessions_dir=recorded.root)


def frames_of(path) -> list[np.ndarray]:
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("RGB")))
        return out


def assert_tiles_are_the_weights(frame: np.ndarray, snapshot, units, drawer: FrameDrawer, tolerance: int = 0):
    W = snapshot.weights()["W"]
    shape, zoom = drawer.shape, drawer.zoom
    for j, u in enumerate(units):
        x, y = tile_origin(j, len(units), shape, zoom)
        got = frame[HEADER + y:HEADER + y + shape[0] * zoom, PAD + x:PAD + x + shape[1] * zoom].astype(int)
        want = diverging_rgb(W[u] / np.abs(W[u]).max()).reshape(*shape, 3).repeat(zoom, 0).repeat(zoom, 1)
        assert np.abs(got - want).max() <= tolerance, (snapshot.name, u)


@pytest.mark.slow
def test_apng_has_a_frame_per_stored_snapshot_and_their_filters(run, tmp_path):
    path = export_film(run, tmp_path / "film.apng")
    frames = frames_of(path)
    plan = plan_film(run)
    assert len(frames) == len(run.snapshots) == plan.frames
    assert {s.kind for s in plan.snapshots} == {"period", "user", "thin"}
    drawer = FrameDrawer(plan)
    assert frames[0].shape == (drawer.size[1], drawer.size[0], 3)
    for k in (0, len(frames) // 2, len(frames) - 1):
        assert_tiles_are_the_weights(frames[k], run.snapshots[k], plan.units, drawer)
    with Image.open(path) as im:
        assert im.info.get("loop") == 0
        assert round(im.info["duration"]) == 125  # 8 frames per second


def test_webp_is_lossless_and_streamed(run, tmp_path):
    path = export_film(run, tmp_path / "film.webp", until=EARLY, units=[3, 4, 9], fps=4)
    frames = frames_of(path)
    plan = plan_film(run, until=EARLY, units=[3, 4, 9])
    early = [s for s in run.snapshots if s.samples <= EARLY]
    assert len(frames) == len(early) == plan.frames > 5
    drawer = FrameDrawer(plan)
    for k, snap in enumerate(early):
        assert_tiles_are_the_weights(frames[k], snap, [3, 4, 9], drawer)


def test_gif_frames_and_their_times(run, tmp_path):
    path = export_film(run, tmp_path / "film.gif", until=EARLY, seconds=2.0)
    assert path.stat().st_mode & 0o777 == 0o644 or path.stat().st_mode & 0o044
    early = [s for s in run.snapshots if s.samples <= EARLY]
    with Image.open(path) as im:
        assert im.n_frames == len(early)
        total = 0
        for k in range(im.n_frames):
            im.seek(k)
            total += im.info["duration"]
        assert im.info.get("loop") == 0
    assert total == pytest.approx(2000, abs=10)
    frames = frames_of(path)
    plan = plan_film(run, until=EARLY)
    assert_tiles_are_the_weights(frames[-1], early[-1], plan.units, FrameDrawer(plan), tolerance=16)  # 256 colours


def test_durations_add_up():
    assert sum(_durations(7, 3.0)) == 2333
    assert all(d % 10 == 0 for d in _durations(13, 7.0, 10)) and sum(_durations(13, 7.0, 10)) == 1860


@pytest.mark.slow
def test_mp4_has_a_frame_per_snapshot(run, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = export_film(run, tmp_path / "film.mp4", fps=10)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == len(run.snapshots)
    assert seconds == pytest.approx(len(run.snapshots) / 10, abs=0.11)


def test_an_interrupted_film_leaves_nothing(run, tmp_path):
    def stop(done, total):
        if done == 3:
            raise KeyboardInterrupt

    for ending in ("gif", "webp", "apng"):
        with pytest.raises(KeyboardInterrupt):
            export_film(run, tmp_path / f"film.{ending}", until=EARLY, progress=stop)
    assert list(tmp_path.iterdir()) == []


def test_an_earlier_film_is_replaced_whole(run, tmp_path):
    (tmp_path / "film.gif").write_bytes(b"old")
    export_film(run, tmp_path / "film.gif", until=20)
    with Image.open(tmp_path / "film.gif") as im:
        assert im.n_frames == len([s for s in run.snapshots if s.samples <= 20]) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["film.gif"]


@pytest.mark.slow
def test_the_command(recorded, tmp_path, capsys):
    d = str(recorded.root)
    out = tmp_path / "f.apng"
    code = main(["export", "run", "--sessions-dir", d, "--film", str(out), "--units", "0-3", "--fps", "20", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out) == [str(out)]
    with Image.open(out) as im:
        assert im.n_frames == len(aetui.open_session("run", sessions_dir=d).snapshots)
        assert round(im.info["duration"]) == 50
    for argv, words in ((["--film", str(tmp_path / "f.avi")], ".gif, .webp"),
                        (["--film", str(tmp_path / "g.gif"), "--fps", "1000"], "frame rate")):
        code = main(["export", "run", "--sessions-dir", d, *argv])
        err = capsys.readouterr().err
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.apng"]


def test_mp4_without_imageio_ffmpeg_is_one_line_naming_the_extra(recorded, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "imageio_ffmpeg", None)  # import fails
    code = main(["export", "run", "--sessions-dir", str(recorded.root), "--film", str(tmp_path / "f.mp4")])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'aetui[film]'" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ending", ["gif", "webp", "apng"])
def test_frames_are_streamed_not_gathered(run, tmp_path, monkeypatch, ending):
    """At most three rendered frames are alive at once (the first is WebP's anchor), however long the film."""
    import weakref

    alive, most = set(), [0]
    original = FrameDrawer.frame

    def counted(self, k):
        img = original(self, k)
        alive.add(k)
        weakref.finalize(img, alive.discard, k)
        most[0] = max(most[0], len(alive))
        return img

    monkeypatch.setattr(FrameDrawer, "frame", counted)
    export_film(run, tmp_path / f"film.{ending}", until=EARLY, units=[0])
    gc_free = most[0]
    assert plan_film(run, until=EARLY).frames > 10 and gc_free <= 3
