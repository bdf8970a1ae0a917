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
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only folder (EROFS even when .lock exists), .lock a folder
            raise SessionError(f"cannot lock session {self.folder.name} in {self.folder.parent}: "
                               f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise SessionError(f"session {self.folder.name} is open in another aetui process"
                               f"{f' (pid {holder})' if holder else ''}") from None
        self._fd = fd
        try:  # say who holds it, for the message above in the other process
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:  # a full disk: the lock holds all the same, only its pid is not written
            pass

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SessionLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(fd: int) -> int | None:
    """The pid written in a lock file by its holder, if any."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def lock_holder(folder: Path) -> int | None:
    """The pid of the live process holding FOLDER's lock, or None when nobody holds it.

    Only a file whose pid is alive is probed with a shared lock (dropped at once), so a stale
    file costs nothing and a probe rarely meets a process taking the lock at the same moment.
    """
    try:
        fd = os.open(Path(folder) / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        pid = _holder(fd)
        if pid is None or not _alive(pid):
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return pid
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
