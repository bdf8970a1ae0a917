"""The history view's request on the trainer's channel: the weights stored nearest a sample count."""

from __future__ import annotations

import numpy as np
import pytest

from aetui.sessions.weight_store import THIN, nearest_snapshot
from aetui.training.client import TrainerClient, TrainerGone
from tests.helpers.training import train
from tests.helpers.tui import serve


@pytest.fixture
def served(tui_make_trainer):
    trainer = tui_make_trainer()
    train(trainer, 3000)
    trainer.snapshot("mark")
    client = TrainerClient.attach(serve(trainer).path)
    yield trainer, client
    client.close()


def test_the_nearest_stored_weights_come_with_their_record(served):
    trainer, client = served
    s = trainer.session
    thin = [r for r in s.snapshots if r["kind"] == THIN]
    assert len(thin) >= 3
    for target in (0, 555, thin[1]["samples"] + 3, 2990):
        record, arrays = client.weights_near(target)
        want = nearest_snapshot(s.snapshots + [{"name": "current", "samples": s.samples, "segment": 0}], target)
        assert record["name"] == want["name"] and record["samples"] == want["samples"]
        if record["name"] != "current":
            _, state = s.read_snapshot(record["name"])
            assert np.array_equal(arrays["W"], state.W) and np.array_equal(arrays["c"], state.c)
            assert "W_dec" not in arrays  # tied
    record, arrays = client.weights_near(s.samples + 10_000)  # past the end: the last weights, which
    assert record["name"] == "mark" and record["samples"] == s.samples  # a snapshot names when it has them
    assert np.array_equal(arrays["W"], s.state.W) and arrays["b"].shape == (16,)


def test_weights_already_held_are_not_sent_again(served):
    trainer, client = served
    record, arrays = client.weights_near(1000)
    again, none = client.weights_near(1000, held=record["name"])
    assert again == record and none is None
    other, arrays2 = client.weights_near(trainer.session.samples + 1, held=record["name"])
    assert other["name"] != record["name"] and arrays2 is not None


@pytest.mark.parametrize("request_, message", [
    ({"samples": -1}, "samples must be a whole number >= 0, not -1"),
    ({"samples": "12"}, "samples must be a whole number >= 0, not 12"),
    ({"samples": True}, "samples must be a whole number >= 0, not True"),
    ({"samples": 5, "segment": 1.5}, "segment must be a whole number >= 0 or null, not 1.5"),
    ({"samples": 5, "held": ["x"]}, "held must be a snapshot name or null"),
])
def test_a_bad_request_gets_one_error_and_the_connection_stays(served, request_, message):
    _, client = served
    header, _ = client._ask({"op": "weights_near", **request_}, 5.0)
    assert header == {"op": "error", "error": f"weights_near: {message}"}
    record, arrays = client.weights_near(100)  # the same connection goes on
    assert arrays["W"].shape == (16, 64) and client.connected


def test_a_session_without_any_snapshot_still_has_the_current_weights(tui_make_trainer):
    trainer = tui_make_trainer()
    client = TrainerClient.attach(serve(trainer).path)
    try:
        record, arrays = client.weights_near(0)
        assert record["name"] == "current" and record["kind"] == "current" and record["samples"] == 0
        assert np.array_equal(arrays["W"], trainer.session.state.W)
    finally:
        client.close()
    with pytest.raises(TrainerGone, match="not connected"):
        client.weights_near(0)
