"""The session format's checks: names, schema header, JSON and .npz files, arrays of known shape.

Every problem is a SessionError naming the file; nothing here writes.
"""

from __future__ import annotations

import json
import math
import re
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from aetui.errors import BadNameError, SessionError
from aetui.model.state import DTYPE

SCHEMA = 3  # 2: every intervention is an event, history has an lr column, segments keep their config;
# 3: history keeps each point's loss_min / loss_max through thinning, and the weight store's spacing
READABLE_SCHEMAS = (1, 2, 3)
SCHEMA_1_GAP = ("saved by an aetui that did not record learning-rate changes and snapshots as events "
                "(session schema 1)")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_name(name: str, what: str = "session") -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise BadNameError(f"bad {what} name {name!r}: use letters, digits, '_', '-', '.' (at most 64, not starting with a symbol)")
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


ZIP_MAGIC = b"PK\x03\x04"  # how every .npz that np.savez writes begins
# What NumPy and zipfile raise on a damaged archive: bad CRCs, headers, compression, truncation.
DAMAGED_NPZ = (ValueError, zipfile.BadZipFile, EOFError, NotImplementedError, zlib.error, SyntaxError,
               tokenize.TokenError)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise SessionError(f"{path} is missing")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(ZIP_MAGIC))
        if magic != ZIP_MAGIC:  # else NumPy takes it for a pickle and suggests loading it unsafely
            raise SessionError(f"{path} is damaged: not a NumPy .npz archive")
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except OSError as exc:
        raise SessionError(f"{path} cannot be read ({exc.strerror or exc})") from None
    except DAMAGED_NPZ as exc:
        raise SessionError(f"{path} is damaged: {_npz_problem(exc)}") from None


def _npz_problem(exc: Exception) -> str:
    """What NumPy or zipfile found, as one short line (never its advice to load pickles)."""
    text = str(exc)
    if "pickle" in text:
        return "an array holds Python objects, which aetui never loads"
    if isinstance(exc, zipfile.BadZipFile) and text == "File is not a zip file":  # it begins as one
        return "a NumPy .npz archive cut short (its zip directory is missing or damaged)"
    text = " ".join(text.encode("ascii", "backslashreplace").decode().split()) or type(exc).__name__
    return text if len(text) <= 100 else text[:97] + "..."


def whole_scalar(arrays: dict, name: str) -> int | None:
    """arrays[name] as an int when it is a whole-number scalar, else None."""
    a = arrays.get(name)
    if a is None or a.shape != () or a.dtype.kind not in "iu":
        return None
    return int(a)


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


# -- the record's structure ------------------------------------------------------------------------
# Field kinds: "int" a whole number >= 0, "num" a finite number, "num?" / "str?" also None,
# "str", "bool", "dict", "list". Only the fields aetui reads are required; others are kept.
LINEAGE_FIELDS = {"index": "int", "activation": "str", "lr": "num", "bias_lr": "num", "source": "dict",
                  "weight_scale": "num", "reset_biases": "bool", "start_step": "int", "start_samples": "int"}
SOURCE_FIELDS = {"random": {}, "current": {"segment": "int", "step": "int"},
                 "snapshot": {"name": "str", "segment": "int", "step": "int"}}
SNAPSHOT_FIELDS = {"name": "str", "kind": "str", "file": "str", "step": "int", "samples": "int", "segment": "int",
                   "activation": "str"}
EVENT_FIELDS = {"kind": "str", "step": "int", "samples": "int", "segment": "int"}
EVENT_DETAILS = {  # by kind; schema 1 restarts had only activation and weight_scale
    "lr": {"lr": "num", "previous": "num"},
    "snapshot": {"name": "str"},
    "restart": {"activation": "str", "weight_scale": "num"},
    "diverged": {"what": "str", "kept_samples": "int"},
    "save_failed": {"error": "str"},
}
RESTART_CHOICES = {"source": "dict", "reset_biases": "bool", "lr": "num?"}  # schema 2 restarts
PERIOD_FIELDS = {"segment": "int", "batches": "int", "samples": "int", "w_min": "num?", "w_mean": "num?",
                 "w_max": "num?", "b_min": "num?", "b_mean": "num?", "b_max": "num?", "cost": "num?"}
POINT_COLUMNS = {"samples": "int", "step": "int", "segment": "int", "train_loss": "num?", "heldout_loss": "num?",
                 "heldout_n": "int?",
                 "b_min": "num?", "b_mean": "num?", "b_max": "num?", "w_min": "num?", "w_mean": "num?",
                 "w_max": "num?", "lr": "num?", "samples_per_second": "num?", "time": "str?",
                 "loss_min": "num?", "loss_max": "num?"}


def _is(kind: str, value) -> bool:
    if kind.endswith("?"):
        return value is None or _is(kind[:-1], value)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "num":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return isinstance(value, {"str": str, "bool": bool, "dict": dict, "list": list}[kind])


def check_fields(record, fields: dict[str, str], where: str) -> None:
    """SessionError unless record is an object with each field of the kind given."""
    if not isinstance(record, dict):
        raise SessionError(f"{where} is not an object")
    for key, kind in fields.items():
        if key not in record:
            raise SessionError(f"{where} has no {key!r}")
        if not _is(kind, record[key]):
            raise SessionError(f"{where}: {key!r} is {record[key]!r}, expected {_KIND_WORDS[kind]}")


_KIND_WORDS = {"int": "a whole number >= 0", "int?": "a whole number or null", "num": "a finite number",
               "num?": "a number or null",
               "str": "a string", "str?": "a string or null", "bool": "true or false", "dict": "an object",
               "list": "a list"}


def _check_source(src: dict, where: str) -> None:
    """Where a segment's weights came from: random, the current weights or a snapshot."""
    if src.get("kind") not in SOURCE_FIELDS:
        raise SessionError(f"{where} has a source of unknown kind {src.get('kind')!r}")
    check_fields(src, SOURCE_FIELDS[src["kind"]], f"{where}.source")


def check_record(path: Path, raw: dict, schema: int) -> None:
    """The lineage, snapshot index and history of session.json have the fields aetui reads."""
    where = path / "session.json"
    check_fields(raw, {"step": "int", "samples": "int", "lineage": "list", "snapshots": "list", "history": "dict",
                       "image_shape": "list", "diverged": "bool", "generation": "int", "created": "str",
                       "saved": "str?", "config": "dict"}, str(where))
    if schema >= 2:
        check_fields(raw, {"record_gap": "str?"}, str(where))
    if "data_fingerprint" in raw:  # kept since sessions record it; older ones have none
        check_fields(raw, {"data_fingerprint": "str"}, str(where))
    if "weight_store" in raw:  # schema 3 (older sessions have no thin-stored snapshots)
        check_fields(raw["weight_store"], {"spacing": "int"}, f"{where}: weight_store")
    if len(raw["image_shape"]) != 2 or not all(_is("int", v) and v > 0 for v in raw["image_shape"]):
        raise SessionError(f"{where}: image_shape is {raw['image_shape']!r}, expected two whole numbers > 0")
    for i, seg in enumerate(raw["lineage"]):
        check_fields(seg, LINEAGE_FIELDS, f"{where}: lineage[{i}]")
        _check_source(seg["source"], f"{where}: lineage[{i}]")
        if seg["index"] != i or (i and seg["start_step"] < raw["lineage"][i - 1]["start_step"]):
            raise SessionError(f"{where}: lineage[{i}] is out of order")
        if schema >= 2:
            check_fields(seg, {"config": "dict"}, f"{where}: lineage[{i}]")
    for i, snap in enumerate(raw["snapshots"]):
        check_fields(snap, SNAPSHOT_FIELDS, f"{where}: snapshots[{i}]")
        try:
            check_name(snap["name"], "snapshot")
        except SessionError as exc:
            raise SessionError(f"{where}: snapshots[{i}]: {exc}") from None
        if snap["file"] != f"snapshots/{snap['name']}.npz":  # never a path outside the session
            raise SessionError(f"{where}: snapshots[{i}] points at {snap['file']!r}, not snapshots/{snap['name']}.npz")
    history = raw["history"]
    check_fields(history, {"points": "dict", "periods": "list", "events": "list"}, f"{where}: history")
    for key, values in history["points"].items():
        if not isinstance(values, list) or not all(_is(POINT_COLUMNS.get(key, "num?"), v) for v in values):
            raise SessionError(f"{where}: history column {key!r} holds a value of the wrong kind")
    for i, period in enumerate(history["periods"]):
        check_fields(period, PERIOD_FIELDS, f"{where}: history.periods[{i}]")
    for i, event in enumerate(history["events"]):
        label = f"{where}: history.events[{i}]"
        check_fields(event, EVENT_FIELDS, label)
        check_fields(event, EVENT_DETAILS.get(event["kind"], {}), label)
        if event["kind"] == "restart" and schema >= 2:
            check_fields(event, RESTART_CHOICES, label)
            _check_source(event["source"], label)
