"""PNG export: files, sizes, colours of known filters, segment lines where they belong, errors."""

import numpy as np
import pytest
from PIL import Image

from aetui.cli.main import main
from aetui.model.config import TrainConfig
from aetui.errors import SessionError
from aetui.study.pictures import (
    DIVERGED_RGB,
    FILES,
    GAP_RGB,
    LOSS_SIZE,
    NEGATIVE_RGB,
    ZERO_RGB,
    POSITIVE_RGB,
    SEGMENT_RGB,
    bias_chart,
    bias_chart_size,
    diverging_rgb,
    export_frame,
    export_named,
    export_session,
    filter_image,
    filter_image_size,
    filter_sheet,
    format_samples,
    log_axis_ticks,
    loss_axes,
    loss_chart,
    tile_origin,
)
from aetui.training.launch import release_trainer, acquire_trainer
from aetui.sessions.session import read_session
from aetui.sessions.store import SessionStore
from tests.helpers.training import every_point, train

SHAPE = (28, 28)


def test_diverging_map_ends_and_zero():
    rgb = diverging_rgb(np.array([-1.0, 0.0, 1.0, np.nan, 5.0]))
    assert [tuple(c) for c in rgb] == [NEGATIVE_RGB, ZERO_RGB, POSITIVE_RGB, ZERO_RGB, POSITIVE_RGB]
    half = diverging_rgb(np.array([0.5]))[0]
    assert tuple(half) == tuple(round((a + b) / 2) for a, b in zip(ZERO_RGB, POSITIVE_RGB))


def test_filter_grid_zero_filter_is_neutral_positive_is_positive_colour():
    W = np.zeros((5, 784), np.float32)
    W[1] = 0.003  # strictly positive, tiny: per-tile normalisation makes it full colour
    W[2, 100] = -2.0  # one negative pixel
    img = filter_image(W, SHAPE, zoom=3)
    # 5 units -> 3 columns x 2 rows of 84 px tiles with 2 px gaps; the 6th slot is empty.
    assert img.size == filter_image_size(5, SHAPE, zoom=3) == (3 * 84 + 4 * 2, 2 * 84 + 3 * 2)
    px = np.asarray(img)
    x0, y0 = tile_origin(0, 5, SHAPE, zoom=3)
    assert (x0, y0) == (2, 2)
    assert (px[y0:y0 + 84, x0:x0 + 84] == ZERO_RGB).all()
    x1, y1 = tile_origin(1, 5, SHAPE, zoom=3)
    assert (x1, y1) == (88, 2)
    assert (px[y1:y1 + 84, x1:x1 + 84] == POSITIVE_RGB).all()
    x2, y2 = tile_origin(2, 5, SHAPE, zoom=3)
    r, c = divmod(100, 28)  # pixel 100 -> a 3x3 block at (r, c) * zoom
    assert tuple(px[y2 + 3 * r + 1, x2 + 3 * c + 1]) == NEGATIVE_RGB
    assert tuple(px[y2, x2]) == ZERO_RGB
    x5, y5 = tile_origin(5, 6, SHAPE, zoom=3)
    assert (px[y5:y5 + 84, x5:x5 + 84] == GAP_RGB).all()  # empty slot
    assert tuple(px[0, 0]) == GAP_RGB


def test_default_zoom_makes_a_mnist_tile_84_px():
    assert filter_image_size(100, SHAPE) == (10 * 84 + 11 * 2, 10 * 84 + 11 * 2)


def test_filter_grid_title_and_small_images_zoom_up():
    W = np.ones((16, 64), np.float32)
    img = filter_image(W, (8, 8), title="two\nlines")
    w, h = filter_image_size(16, (8, 8), title="two\nlines")
    assert img.size == (w, h) and w >= 300  # zoomed so the title fits
    x, y = tile_origin(0, 16, (8, 8), title="two\nlines")
    assert y > 2 * 14 and tuple(np.asarray(img)[y, x]) == POSITIVE_RGB


def test_filter_sheet_places_grids_side_by_side():
    a = np.zeros((4, 784), np.float32)
    b = np.full((4, 784), -1.0, np.float32)
    sheet = filter_sheet([("zero", a), ("negative\nsecond line", b)], SHAPE, zoom=2)
    g = filter_image(a, SHAPE, zoom=2, title="x\ny")
    assert sheet.size == (2 * g.width + 3 * 12, g.height + 2 * 12)
    px = np.asarray(sheet)
    x, y = tile_origin(0, 4, SHAPE, zoom=2, title="x\ny")
    assert tuple(px[12 + y + 5, 12 + x + 5]) == ZERO_RGB
    assert tuple(px[12 + y + 5, 12 + g.width + 12 + x + 5]) == NEGATIVE_RGB


def test_loss_chart_segment_line_and_divergence_mark_columns():
    samples = np.arange(0, 10_001, 500, dtype=float)
    train = np.linspace(0.5, 0.1, samples.size)
    held = train * 0.9
    segments = ((0, "sigmoid"), (6_000, "relu x0.1"))
    img = loss_chart(samples, train, held, segments, events=((9_000, "diverged"),))
    assert img.size == LOSS_SIZE
    ax = loss_axes(samples, train, held)
    px = np.asarray(img)
    col = ax.x(6_000)
    assert ax.left < col < ax.right
    # The expected column: 6000 of 10000 samples across the plot.
    assert abs(col - (ax.left + 0.6 * (ax.right - ax.left))) <= 1
    rows = slice(ax.top + 30, ax.bottom)
    on_line = (px[rows, col] == SEGMENT_RGB).all(axis=1)
    assert on_line.mean() > 0.8
    # No segment colour in a column well away from any segment start.
    assert not (px[rows, ax.x(3_000)] == SEGMENT_RGB).all(axis=1).any()
    near = px[ax.top + 10:ax.top + 35, ax.x(9_000) - 6:ax.x(9_000) + 7]
    assert (near == DIVERGED_RGB).all(axis=2).sum() > 10


def test_log_ticks_and_sample_labels():
    assert log_axis_ticks(0.05, 2.0) == [0.05, 0.1, 0.2, 0.5, 1.0, 2.0]  # two decades are too few
    assert log_axis_ticks(0.011, 0.9) == [0.02, 0.05, 0.1, 0.2, 0.5]
    assert log_axis_ticks(0.001, 10.0) == [0.001, 0.01, 0.1, 1.0, 10.0]
    assert format_samples(100_000) == "100k" and format_samples(1_500_000) == "1.5M" and format_samples(0) == "0"


def test_bias_chart_size_and_colours():
    bias = np.array([[0.0, 1.0, 1.0], [0.0, -1.0, -1.0]], np.float32)  # 2 units x 3 points
    samples = np.array([0.0, 100.0, 200.0])
    img = bias_chart(bias, samples, ((0, "sigmoid"), (100, "relu")))
    assert img.size == bias_chart_size(2)
    px = np.asarray(img)
    # Unit 0 row at the right end is +max, unit 1 -max; the first column (sample ~0) is zero.
    left, top = 56, 30
    right = left + 720 - 2
    assert tuple(px[top + 2, right]) == POSITIVE_RGB
    assert tuple(px[top + 8 + 2, right]) == NEGATIVE_RGB
    assert tuple(px[top + 2, left + 1]) == ZERO_RGB


def _trained(tmp_path, name="e", restart=None):
    store = SessionStore(tmp_path)
    t = every_point(acquire_trainer(store, name, TrainConfig(data="bars8", hidden=9, batch=10).validated(), {}))
    train(t, 2_000)
    if restart:
        t.restart(restart, weight_scale=0.1)
        train(t, 1_000)
    release_trainer(t)
    return store


def test_export_session_writes_three_valid_pngs(tmp_path):
    store = _trained(tmp_path / "s", restart="relu")
    paths = export_named(store, "e", tmp_path / "out")
    assert [p.name for p in paths] == list(FILES)
    with Image.open(paths[0]) as img:
        assert img.format == "PNG"
        title = "e: sigmoid > relu x0.1, 3,000 samples"
        assert img.size == filter_image_size(9, (8, 8), title=title)
    with Image.open(paths[1]) as img:
        assert img.format == "PNG" and img.size == bias_chart_size(9)
    with Image.open(paths[2]) as img:
        assert img.format == "PNG" and img.size == LOSS_SIZE
        # The restart at sample 2,000 of 3,000 draws the segment line there.
        s = read_session(store.path("e"))
        h = s.history
        ax = loss_axes(h.column("samples"), h.column("train_loss"), h.column("heldout_loss"))
        px = np.asarray(img.convert("RGB"))
        col = ax.x(2_000)
        assert (px[ax.top + 30:ax.bottom, col] == SEGMENT_RGB).all(axis=1).mean() > 0.8


def test_export_session_object_and_frame_agree(tmp_path):
    store = _trained(tmp_path / "s")
    t = acquire_trainer(store, "e", TrainConfig(data="bars8", hidden=9, batch=10).validated(), {})
    a = export_session(t.session, tmp_path / "a")
    b = export_frame(t.frame(1, "PAUSED"), tmp_path / "b")
    release_trainer(t)
    for pa, pb in zip(a, b):
        assert np.array_equal(np.asarray(Image.open(pa)), np.asarray(Image.open(pb))), pa.name


def test_bad_name_is_a_session_error(tmp_path):
    with pytest.raises(SessionError, match="no session named nope"):
        export_named(SessionStore(tmp_path), "nope", tmp_path / "out")
    with pytest.raises(SessionError, match="bad session name"):
        export_named(SessionStore(tmp_path), "../x", tmp_path / "out")


def test_export_into_a_file_is_a_session_error(tmp_path):
    store = _trained(tmp_path / "s")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SessionError, match="not a folder"):
        export_named(store, "e", tmp_path / "file")
def test_cli_export(tmp_path, capsys):
    _trained(tmp_path / "s")
    code = main(["export", "e", "--png", str(tmp_path / "out"), "--sessions-dir", str(tmp_path / "s")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.split() == [str(tmp_path / "out" / f) for f in FILES]
    code = main(["export", "missing", "--png", str(tmp_path / "out"), "--sessions-dir", str(tmp_path / "s")])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.strip() == f"aetui: no session named missing in {tmp_path / 's'}"
    code = main(["export", "e", "--sessions-dir", str(tmp_path / "s")])
    out, err = capsys.readouterr()
    assert code == 2 and "--png" in err and len(err.strip().splitlines()) == 1
