"""An export folder written whole or not at all: files go to a hidden folder inside it first.

Everything is written into DIR/.export-XXXX (each file through aetui.sessions.atomic, where a
full disk can be injected in tests), then moved into DIR entry by entry with renames, which
need no room. A failure before the moves removes the staging folder, and DIR too when the export
created it: nothing half-written is left, and what DIR held before is as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aetui.errors import SaveError, SessionError
from aetui.sessions.atomic import sync_folder, why, write_bytes

STAGING_PREFIX = ".export-"


@contextmanager
def staged_folder(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a staging folder; on a clean exit its entries replace their namesakes in `target`.

    An entry that is a folder (a TensorBoard run) replaces the old folder of that name whole.
    An OSError inside is a SaveError naming `target`.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise SessionError(f"{target} exists and is not a folder")
    made = []
    try:
        for folder in reversed([target, *target.parents]):
            if not folder.exists():
                folder.mkdir()
                made.append(folder)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target))
    except OSError as exc:
        _remove_made(made)
        raise SaveError(f"cannot write into {target}: {why(exc)}") from None
    try:
        yield staging
        _move_entries(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_made(made)
        raise SaveError(f"cannot write into {target}: {why(exc)}; nothing was written") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_made(made)
        raise
    shutil.rmtree(staging, ignore_errors=True)


def write_file(path: Path, data: bytes) -> Path:
    """Write one file of an export (atomically, so a fault is injected where every write passes)."""
    write_bytes(path, data, durable=False)  # the folder is synced once, when the export moves in
    return path


def _move_entries(staging: Path, target: Path) -> None:
    for entry in sorted(staging.iterdir()):
        dest = target / entry.name
        if entry.is_dir() and dest.is_dir():
            old = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target))
            os.replace(dest, old / entry.name)  # out of the way, then the new one in
            os.replace(entry, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(entry, dest)
    sync_folder(target)


def _remove_made(made: list[Path]) -> None:
    """Remove the folders this export created (deepest first), if nothing else was put in them."""
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:
            pass
