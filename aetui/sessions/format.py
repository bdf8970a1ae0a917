"""The session format's checks: names, schema header, JSON and .npz files, arrays of known shape.

Every problem is a SessionError naming the file; nothing here writes.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from aetui.errors import SessionError
from aetui.model.state import DTYPE

SCHEMA = 2  # 2: every intervention is an event, history has an lr column, segments keep their config
READABLE_SCHEMAS = (1, 2)
SCHEMA_1_GAP = ("saved by an aetui that did not record learning-rate changes and snapshots as events "
                "(session schema 1)")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_name(name: str, what: str = "session") -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SessionError(f"bad {what} name {name!r}: use letters, digits, '_', '-', '.' (at most 64, not starting with a symbol)")
    return name


def check_header(path: Path, raw: dict) -> None:
    """session.json at folder `path` is an aetui session of the schema this version reads."""
    if raw.get("app") != "aetui" or not isinstance(raw.get("schema"), int):
        raise SessionError(f"{path / 'session.json'} is not an aetui session file")
    if raw["schema"] not in READABLE_SCHEMAS:
        raise SessionError(f"{path / 'session.json'} has schema version {raw['schema']}; this aetui reads versions "
                           f"{', '.join(map(str, READABLE_SCHEMAS))}")


def read_json(path: Path) -> dict:
    try:
        raw = json.loads(path.read_text())
    except UnicodeDecodeError:
        raise SessionError(f"{path} is not text") from None
    except json.JSONDecodeError as exc:
        raise SessionError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except OSError as exc:
        raise SessionError(f"{path} cannot be read ({exc.strerror})") from None
    if not isinstance(raw, dict):
        raise SessionError(f"{path} is not an aetui session file")
    return raw


def try_json(path: Path) -> dict:
    """read_json, or {} when the file is unreadable."""
    try:
        return read_json(path)
    except SessionError:
        return {}


def read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise SessionError(f"{path} is missing")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise SessionError(f"{path} is not a readable NumPy .npz file ({exc})") from None


def checked_array(arrays: dict, name: str, shape: tuple, path: Path, dtype=DTYPE) -> np.ndarray:
    """arrays[name], which must have this shape and dtype and (floats) be finite."""
    if name not in arrays:
        raise SessionError(f"{path} has no array {name!r}")
    a = arrays[name]
    if a.shape != tuple(shape):
        raise SessionError(f"{path}: array {name!r} has shape {a.shape}, expected {tuple(shape)}")
    if a.dtype != dtype:
        raise SessionError(f"{path}: array {name!r} has dtype {a.dtype}, expected {np.dtype(dtype)}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise SessionError(f"{path}: array {name!r} has non-finite values")
    return np.ascontiguousarray(a)
