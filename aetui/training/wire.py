"""Messages on the trainer's control channel: a JSON header plus raw little-endian arrays.

One message on the stream is a 12-byte prefix (magic `AET1`, header length, body length, both
unsigned 32-bit little-endian), the header as UTF-8 JSON (an object), then the body: the arrays
named in the header's `arrays` list ([name, dtype, shape] each) back to back. Only a few plain
dtypes are accepted, sizes must add up exactly, and each side bounds what it reads, so a
malformed or oversized message is refused before anything is allocated. Never pickle.
"""

from __future__ import annotations

import json
import math
import socket
import struct

import numpy as np

from aetui.errors import AetuiError

MAGIC = b"AET1"
PREFIX = struct.Struct("<4sII")
MAX_HEADER = 1 << 20  # bytes of JSON header, either way
MAX_COMMAND = 64 << 10  # bytes in all of a message to the trainer (commands carry no arrays)
MAX_FRAME = 256 << 20  # bytes in all of a message from the trainer (weights of large models)
DTYPES = {"<f4": np.float32, "<f8": np.float64, "<i8": np.int64, "|u1": np.uint8}
MAX_DIMS = 4
MAX_DIM = MAX_FRAME  # the longest axis an array may have (an empty one, say (16, 0), is in no body)


class ProtocolError(AetuiError):
    """A message that breaks the format or its bounds: the connection that sent it is dropped."""


class ConnectionClosed(AetuiError):
    """The other end closed the connection (between messages or in the middle of one)."""


def encode(header: dict, arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """One message as bytes: `header` (JSON-able, without 'arrays') and the arrays in order."""
    parts, described = [], []
    for name, a in (arrays or {}).items():
        a = np.asarray(a)
        little = a.dtype.newbyteorder("<") if a.dtype.byteorder not in ("|", "<") else a.dtype
        code = little.str
        if code not in DTYPES:
            raise ValueError(f"array {name}: dtype {a.dtype} is not sent on the channel")
        parts.append(np.ascontiguousarray(a, dtype=little).tobytes())
        described.append([name, code, list(a.shape)])
    head = json.dumps(dict(header, arrays=described), separators=(",", ":")).encode()
    body = b"".join(parts)
    return PREFIX.pack(MAGIC, len(head), len(body)) + head + body


def send(sock: socket.socket, header: dict, arrays: dict[str, np.ndarray] | None = None) -> int:
    """Write one message; returns its size in bytes."""
    data = encode(header, arrays)
    sock.sendall(data)
    return len(data)


def receive(sock: socket.socket, limit: int) -> tuple[dict, dict[str, np.ndarray]]:
    """Read one message of at most `limit` bytes (prefix excluded): (header, arrays).

    ProtocolError for anything malformed or too large, ConnectionClosed at the end of the stream.
    """
    prefix = _read_exactly(sock, PREFIX.size, at_start=True)
    magic, head_len, body_len = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise ProtocolError("not an aetui message (bad magic)")
    if head_len > min(MAX_HEADER, limit) or head_len + body_len > limit:
        raise ProtocolError(f"message of {head_len + body_len} bytes is over the limit of {limit}")
    try:
        header = json.loads(_read_exactly(sock, head_len).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not a JSON object")
    layout = _layout(header.pop("arrays", []), body_len)
    body = _read_exactly(sock, body_len) if body_len else b""
    arrays = {}
    for name, dtype, shape, start, size in layout:
        arrays[name] = np.frombuffer(body, dtype=DTYPES[dtype], count=math.prod(shape), offset=start).reshape(shape)
    return header, arrays


def _layout(described, body_len: int) -> list[tuple[str, str, tuple[int, ...], int, int]]:
    """Check the header's array list against the body: (name, dtype, shape, offset, bytes) each."""
    if not isinstance(described, list):
        raise ProtocolError("'arrays' is not a list")
    out, offset, names = [], 0, set()
    for item in described:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and item[1] in DTYPES
                and isinstance(item[2], list) and len(item[2]) <= MAX_DIMS
                and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_DIM for n in item[2])):
            raise ProtocolError(f"bad array description {str(item)[:80]}")
        name, dtype, shape = item[0], item[1], tuple(item[2])
        if name in names:
            raise ProtocolError(f"array {name} sent twice")
        names.add(name)
        size = math.prod(shape) * np.dtype(DTYPES[dtype]).itemsize
        if offset + size > body_len:
            raise ProtocolError("arrays are larger than the body")
        out.append((name, dtype, shape, offset, size))
        offset += size
    if offset != body_len:
        raise ProtocolError(f"body has {body_len - offset} bytes no array describes")
    return out


def _read_exactly(sock: socket.socket, n: int, at_start: bool = False) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            raise ConnectionClosed("connection closed" if at_start and got == 0 else "connection closed mid-message")
        got += k
    return bytes(buf)
