"""Atomic file writes: temp file in the same folder, fsync, rename, fsync the folder.

Every file aetui writes goes through `stage`, so a failed write (a full disk, a read-only
folder) leaves the old file as it was and no temp file behind, and a fault can be injected in
one place in the tests.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from aetui.errors import SaveError

TEMP_SUFFIX = ".tmp"


def why(error: OSError) -> str:
    """The operating system's reason for a failed write, e.g. 'No space left on device'."""
    return error.strerror or str(error)


def temp_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + TEMP_SUFFIX)


def stage(path: Path, data: bytes, durable: bool = True) -> Path:
    """Write data to PATH.tmp and fsync it (unless not `durable`); the caller renames it into
    place (os.replace).

    On any failure the temp file is removed and the OSError raised.
    """
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
    except BaseException:
        discard(tmp)
        raise
    return tmp


def discard(*paths: Path) -> None:
    """Remove files that may or may not exist (temp files of a failed write)."""
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:  # pragma: no cover - a folder we cannot write: nothing more to do
            pass


def write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace path with data so a crash leaves either the old or the new file. Not `durable`:
    without the fsyncs, so a crash of the machine (not of the process) may leave it damaged."""
    path = Path(path)
    tmp = stage(path, data, durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise
    if durable:
        sync_folder(path.parent)


def write_export(path: str | Path, data: bytes) -> Path:
    """write_bytes for a file the user asked for (a picture, a report): its folder made if need
    be, and a folder or disk problem one SaveError naming the file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, data)
    except OSError as exc:
        raise SaveError(f"cannot write {path}: {why(exc)}") from None
    return path


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def write_npz(path: Path, arrays: dict[str, np.ndarray], durable: bool = True) -> None:
    write_bytes(path, npz_bytes(arrays), durable)


def sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without folder fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
