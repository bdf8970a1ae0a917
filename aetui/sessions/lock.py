"""One process at a time per session: an advisory lock on the session folder's .lock file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from aetui.errors import SessionError

LOCK_FILE = ".lock"


class SessionLock:
    """flock on FOLDER/.lock; the kernel drops it when the process ends, even on kill -9."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or SessionError when another process holds it."""
        if self._fd is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SessionError(f"session {self.folder.name} is open in another aetui process") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SessionLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
