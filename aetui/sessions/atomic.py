"""Atomic file writes: temp file in the same folder, fsync, rename, fsync the folder."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np


def stage(path: Path, data: bytes) -> Path:
    """Write data to PATH.tmp and fsync it; the caller renames it into place (os.replace)."""
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def write_bytes(path: Path, data: bytes) -> None:
    """Replace path with data so a crash leaves either the old or the new file."""
    path = Path(path)
    os.replace(stage(path, data), path)
    sync_folder(path.parent)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    write_bytes(path, npz_bytes(arrays))


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
