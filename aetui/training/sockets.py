"""Where a running session's control socket lives: a private folder of this user's.

The socket of a session is named by a hash of its folder, so every aetui process finds it
without a registry, and the name stays short (a Unix socket path has at most 107 bytes) however
deep the sessions folder is. The folder is created 0700 and refused when anyone else could
reach into it; the trainer also checks each peer's uid.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import struct
import tempfile
from pathlib import Path

from aetui.errors import SessionError

RUNTIME_ENV = "AETUI_RUNTIME_DIR"  # overrides $XDG_RUNTIME_DIR (tests, unusual systems)


def runtime_dir() -> Path:
    """This user's private folder for sockets and the trainers' log, created if needed."""
    base = os.environ.get(RUNTIME_ENV) or os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"aetui-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise SessionError(f"cannot create the socket folder {folder}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise SessionError(f"the socket folder {folder} is not private to you (owner uid {info.st_uid}, "
                           f"mode {stat.S_IMODE(info.st_mode):o}); remove it or set {RUNTIME_ENV}")
    return folder


def socket_path(session_folder: Path) -> Path:
    """The control socket of the session in `session_folder`."""
    digest = hashlib.sha256(str(Path(session_folder).resolve()).encode()).hexdigest()[:20]
    return runtime_dir() / f"{digest}.sock"


def peer_uid(conn: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket (Linux SO_PEERCRED)."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid
