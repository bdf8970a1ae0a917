"""The channel's message format: round trips, and every malformed message refused as ProtocolError."""

from __future__ import annotations

import json
import os
import socket
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from aetui.training import wire

EXAMPLES = int(os.environ.get("AETUI_FUZZ_EXAMPLES", "200"))


def _through(data: bytes, limit: int = wire.MAX_FRAME):
    a, b = socket.socketpair()
    try:
        a.sendall(data)
        a.shutdown(socket.SHUT_WR)
        return wire.receive(b, limit)
    finally:
        a.close()
        b.close()


def test_round_trip_keeps_values_dtypes_and_shapes():
    arrays = {"W": np.arange(12, dtype=np.float32).reshape(3, 4), "n": np.array([1, -2], np.int64),
              "big": np.arange(3, dtype=">f8"), "empty": np.zeros((0, 5), np.float32), "u": np.array([7], np.uint8)}
    header, got = _through(wire.encode({"op": "frame", "x": [1, "a"]}, arrays))
    assert header == {"op": "frame", "x": [1, "a"]}
    assert list(got) == list(arrays)
    for name, a in arrays.items():
        assert got[name].shape == a.shape and np.array_equal(got[name], a)
    assert got["big"].dtype == np.float64 and got["big"].dtype.byteorder in ("=", "<")


def test_a_message_whose_only_arrays_are_empty_has_no_body_and_is_read():
    """A history update with no new point: (units, 0) arrays, nothing else (it was refused once,
    its 16 units longer than its empty body)."""
    header, got = _through(wire.encode({"op": "frame"}, {"h_bias": np.zeros((16, 0), np.float32)}))
    assert header == {"op": "frame"} and got["h_bias"].shape == (16, 0)


def test_a_dtype_the_channel_does_not_carry_is_refused_when_sending():
    with pytest.raises(ValueError, match="complex"):
        wire.encode({}, {"z": np.zeros(2, np.complex64)})


def _message(header: dict, body: bytes = b"", magic: bytes = wire.MAGIC, head_len=None, body_len=None) -> bytes:
    head = json.dumps(header).encode()
    return struct.pack("<4sII", magic, len(head) if head_len is None else head_len,
                       len(body) if body_len is None else body_len) + head + body


@pytest.mark.parametrize("data, problem", [
    (_message({"op": "x"}, magic=b"HTTP"), "bad magic"),
    (struct.pack("<4sII", wire.MAGIC, 10, 1 << 30), "over the limit"),
    (struct.pack("<4sII", wire.MAGIC, 3, 0) + b"\xff\xfe\x00", "not JSON"),
    (struct.pack("<4sII", wire.MAGIC, 2, 0) + b"[]", "not a JSON object"),
    (_message({"arrays": "W"}), "not a list"),
    (_message({"arrays": [["W", "<f4", [2]]]}, b"\0" * 4), "larger than the body"),
    (_message({"arrays": [["W", "<f4", [1]]]}, b"\0" * 8), "no array describes"),
    (_message({"arrays": [["W", "object", [1]]]}, b"\0" * 8), "bad array description"),
    (_message({"arrays": [["W", "<f4", [-1]]]}, b""), "bad array description"),
    (_message({"arrays": [["W", "<f4", [1]], ["W", "<f4", [1]]]}, b"\0" * 8), "sent twice"),
])
def test_malformed_messages_are_refused(data, problem):
    with pytest.raises(wire.ProtocolError, match=problem):
        _through(data)


def test_a_message_over_the_receivers_limit_is_refused_before_reading_it():
    data = wire.encode({"op": "command"}, {"W": np.zeros(1000, np.float32)})
    with pytest.raises(wire.ProtocolError, match="over the limit of 1000"):
        _through(data, limit=1000)


def test_an_end_of_stream_is_connection_closed():
    with pytest.raises(wire.ConnectionClosed, match="^connection closed$"):
        _through(b"")
    with pytest.raises(wire.ConnectionClosed, match="mid-message"):
        _through(wire.encode({"op": "x"})[:-2])


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_refused_cleanly(data):
    try:
        _through(data, limit=wire.MAX_COMMAND)
    except (wire.ProtocolError, wire.ConnectionClosed):
        pass


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.integers(0, 400))
def test_a_damaged_real_message_is_refused_or_read_whole(noise, at):
    good = bytearray(wire.encode({"op": "frame", "v": 1}, {"W": np.arange(6, dtype=np.float32)}))
    at = min(at, len(good) - 1)
    good[at:at + len(noise)] = noise
    try:
        header, arrays = _through(bytes(good), limit=wire.MAX_COMMAND)
    except (wire.ProtocolError, wire.ConnectionClosed):
        return
    assert isinstance(header, dict) and all(isinstance(a, np.ndarray) for a in arrays.values())
