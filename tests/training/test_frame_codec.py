"""Frames through the codec: the history goes whole at first, then only the points the client
lacks, and whole again once the trainer thinned it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from aetui.sessions.history import MAX_POINTS
from aetui.training.frame_codec import FrameAssembler, frame_message
from aetui.training.wire import ProtocolError


def _history_frame(trainer, points: int, until_thinned: bool = False):
    """trainer's frame once its history holds `points` report points, or was thinned (added directly)."""
    s = trainer.session
    thinned = s.history.thinned
    while (s.history.thinned == thinned) if until_thinned else (len(s.history) < points):
        n = len(s.history)
        values = dict.fromkeys(("b_min", "b_mean", "b_max", "w_min", "w_mean", "w_max"), 0.0)
        s.history.add_point(s.state.W * (1 + n), s.state.b + n, s.state.c, samples=10 * (n + 1), step=n + 1,
                            segment=0, train_loss=1.0 / (n + 1), heldout_loss=None, heldout_n=0, lr=0.26,
                            samples_per_second=1.0, time="", **values)
    return trainer.frame(len(s.history), "PAUSED")


def _same_history(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True)
               for k in ("samples", "train_loss", "heldout_loss", "heldout_n", "bias", "b_min", "b_mean", "b_max"))


def test_the_history_grows_by_its_new_points_and_is_resent_whole_after_thinning(tui_make_trainer):
    trainer = tui_make_trainer()
    client = FrameAssembler()
    first = _history_frame(trainer, 5)
    header, arrays = frame_message(first, pictures=True, history=True)
    assert client.build(header, arrays).history.samples.size == len(first.history.samples)
    assert client.history_held == [0, len(first.history.samples)]

    grown = _history_frame(trainer, len(first.history.samples) + 3)
    held = client.history_held[1]
    header, arrays = frame_message(grown, pictures=False, history=True, history_from=held)
    assert arrays["h_samples"].size == 3 and arrays["h_bias"].shape == (grown.history.bias.shape[0], 3)
    assert _same_history(client.build(header, arrays).history, grown.history)

    thinned = _history_frame(trainer, 0, until_thinned=True)  # past MAX_POINTS every other point goes
    assert thinned.history.base == 1 and len(thinned.history.samples) < MAX_POINTS
    with pytest.raises(ProtocolError, match="do not extend"):  # a delta that does not fit is refused
        client.build(*frame_message(thinned, pictures=False, history=True, history_from=held + 1))
    header, arrays = frame_message(thinned, pictures=False, history=True)
    assert _same_history(client.build(header, arrays).history, thinned.history)
    assert client.history_held == [1, len(thinned.history.samples)]


@pytest.mark.slow
def test_a_trainer_sends_a_client_only_the_points_it_lacks(tui_make_trainer, monkeypatch):
    import time

    import aetui.training.server as server_module
    from aetui.training.client import TrainerClient
    from tests.helpers.tui import serve

    starts = []  # history_from of every frame that carried the history

    def recording(frame, *, pictures, history, history_from=0):
        if history:
            starts.append(history_from)
        return frame_message(frame, pictures=pictures, history=history, history_from=history_from)

    monkeypatch.setattr(server_module, "frame_message", recording)
    trainer = tui_make_trainer()
    server = serve(trainer)
    client = TrainerClient.attach(server.path)
    for points in (40, 43, 47):
        _history_frame(trainer, points)
        server.runner.step()  # publishes a frame with these points (and whatever the step adds)
        deadline = time.monotonic() + 10
        while client.frame.history.version != trainer.history_view().version and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _same_history(client.frame.history, trainer.history_view())
    # whole while the client held no point, then only the new points: from the 40 on, and so on
    assert starts[0] == 0 and len(starts) >= 4 and starts[-2] >= 40 and starts[-1] > starts[-2]
    client.close()
