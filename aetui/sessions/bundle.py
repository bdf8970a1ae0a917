"""A session folder as one archive, to carry it to a machine that does not see the store and back.

Packing leaves out the lock and the temp files of a write in progress. Unpacking builds the
folder beside its place under a temporary name and renames it in, so a reader sees the old
session or the new one, never half of one, and a second delivery of the same run (a work unit
rerun after a lost worker) replaces the first instead of mixing with it.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

from aetui.errors import SaveError, SessionError
from aetui.sessions.atomic import TEMP_SUFFIX, sync_folder, why
from aetui.sessions.lock import LOCK_FILE


def pack_session(folder: Path) -> bytes:
    """The session folder's files as an uncompressed tar archive (paths relative to the folder)."""
    folder = Path(folder)
    if not (folder / "session.json").is_file():
        raise SessionError(f"{folder} is not an aetui session")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != LOCK_FILE and not path.name.endswith(TEMP_SUFFIX):
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buf.getvalue()


def unpack_session(data: bytes, folder: Path) -> None:
    """Put the packed session at `folder`, replacing what is there, as one rename."""
    folder = Path(folder)
    staging = folder.with_name(f".{folder.name}.incoming")
    old = folder.with_name(f".{folder.name}.replaced")
    for leftover in (staging, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
            tar.extractall(staging, filter="data")
        if not (staging / "session.json").is_file():
            raise SessionError(f"the archive of session {folder.name} holds no session.json")
        for path in staging.rglob("*"):
            if path.is_file():
                with open(path, "rb") as fh:
                    os.fsync(fh.fileno())
        if folder.exists():
            os.rename(folder, old)
        os.rename(staging, folder)
        sync_folder(folder.parent)
    except OSError as exc:
        raise SaveError(f"cannot write session {folder.name} in {folder.parent}: {why(exc)}") from None
    except tarfile.TarError as exc:
        raise SessionError(f"the archive of session {folder.name} is damaged: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
