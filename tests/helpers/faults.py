"""A full disk, injected where every file aetui writes passes: aetui.sessions.atomic.stage."""

from __future__ import annotations

import builtins
import errno
import os

from aetui.sessions import atomic


class _FullFile:
    """A file opened for writing that takes `room` bytes and then fails as a full disk does."""

    def __init__(self, fh, room: int):
        self._fh = fh
        self._room = room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            self._fh.write(data[:self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


class FullDisk:
    """Switch the full disk on and off; counts the writes it refused."""

    def __init__(self, monkeypatch, room: int = 100):
        self.full = False
        self.refused = 0
        self.room = room

        def fake_open(path, mode="r", *args, **kwargs):
            fh = builtins.open(path, mode, *args, **kwargs)
            if self.full and "w" in mode:
                self.refused += 1
                return _FullFile(fh, self.room)
            return fh

        monkeypatch.setattr(atomic, "open", fake_open, raising=False)

    def on(self) -> FullDisk:
        self.full = True
        return self

    def off(self) -> FullDisk:
        self.full = False
        return self


def temp_files(folder) -> list:
    """Temp files of writes anywhere below folder."""
    return sorted(p for p in folder.rglob(f"*{atomic.TEMP_SUFFIX}"))


def file_bytes(folder) -> dict:
    """Every file below folder and its bytes (to show a failure changed nothing)."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}
