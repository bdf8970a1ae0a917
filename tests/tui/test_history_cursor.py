"""The history view's cursor and its captions, on a made-up history (no trainer)."""

import numpy as np

from aetui.training.frame import HistoryView
from aetui.tui.history.history_view import HistoryCursor, weights_note


def _view(samples, segments=((0, "sigmoid"),), events=()):
    xs = np.array(samples, float)
    n = xs.size
    loss = np.linspace(1.0, 0.5, n)
    return HistoryView(1, xs, loss, loss * 0.9, np.full(n, 100.0), np.zeros((3, n), np.float32), -xs / 1e4,
                       xs / 2e4, xs / 1e4, tuple(segments), tuple(events), (), 0, loss, loss * 2)


def test_the_cursor_keeps_its_point_by_samples_as_the_history_grows_and_thins():
    cursor = HistoryCursor(300)
    assert cursor.index(_view([0, 100, 200, 300, 400])) == 3
    assert cursor.index(_view([0, 100, 200, 300, 400, 500, 600])) == 3  # grew
    assert cursor.index(_view([0, 200, 400, 600])) == 1  # thinned: 300 went; 200 and 400 tie, the earlier wins
    assert cursor.go(_view([0, 200, 400, 600]), 1) and cursor.samples == 200
    assert not cursor.go(_view([0, 200, 400, 600]), 1)
    assert cursor.go(_view([0, 200, 400, 600]), 99) and cursor.samples == 600  # clamped


def test_events_are_targets_at_the_first_point_at_or_after_them():
    view = _view([0, 100, 200, 300, 400, 500], segments=((0, "sigmoid"), (250, "relu")),
                 events=((120, "lr 0.3"), (300, "snap1"), (310, "pause")))
    cursor = HistoryCursor(0)
    assert cursor.event_target(view, 1) == 2  # lr at 120 -> the point at 200
    cursor.samples = 200
    assert cursor.event_target(view, 1) == 3  # relu at 250, snap1 at 300: both the point at 300
    cursor.samples = 300
    assert cursor.event_target(view, 1) == 4  # the pause at 310
    assert cursor.event_target(view, -1) == 2
    cursor.samples = 0
    assert cursor.event_target(view, -1) is None
    point = HistoryCursor(300).point(view, None)
    assert point.events == "relu, snap1" and point.segment == 1 and point.index == 3
    assert point.b_mean == 300 / 2e4 and point.loss_max == point.train_loss * 2 and point.note == ""


def test_the_note_says_whose_weights_and_how_far():
    def rec(name, kind, samples):
        return {"name": name, "kind": kind, "samples": samples, "segment": 0, "activation": "sigmoid"}

    assert weights_note(rec("seg0-period14", "period", 16_384), 17_584) == \
        "weights of snapshot @2^14 (16,384), 1,200 samples before"
    assert weights_note(rec("snap1", "user", 5_000), 4_000) == "weights of snapshot snap1 (5,000), 1,000 samples after"
    assert weights_note(rec("thin-9000", "thin", 9_000), 9_000) == "weights stored at 9,000, at the point"
    assert weights_note(rec("current", "current", 12_000), 11_500) == "current weights (12,000), 500 samples after"
    assert weights_note(rec("snap1", "user", 16_191_000), 16_193_780, short=True) == \
        "weights of snapshot snap1 (16.19M), 2.78k before"


def test_the_bias_pointer_sits_on_the_points_heatmap_column():
    from aetui.render import DisplayMode
    from aetui.render.time_column import time_column
    from aetui.tui.panes.bias_pane import point_line

    view = _view(range(0, 1000, 10))
    point = HistoryCursor(700).point(view, None)
    for mode, arrow in ((DisplayMode.COLOR, "\u25bc"), (DisplayMode.ASCII, "v")):
        text = point_line(point, 100, 60, mode)
        col = time_column(70, 100, 60)
        assert len(text.plain) == 60 and text.plain.index(arrow) == col == 42
        assert "mean 0.035" in text.plain  # b_mean at the point, beside the arrow
        assert [(s.start, s.end) for s in text.spans if s.style.reverse] == [(col, col + 1)]
    assert point_line(point, 100, 0, DisplayMode.COLOR).plain == ""
