"""A session's or a study's record as tables: CSV (no extra needed) or Parquet (pyarrow, aetui[data]).

A session gives history (one row per report point: SessionRecord.table(), b as b_0 ... b_{H-1}),
events (details as a JSON object), snapshots, and lineage.json. A study gives results (one row
per condition and seed), conditions (means and 95% intervals), claims, and one long history with
run, condition and seed columns, ready for a group-by. Missing numbers are empty cells (CSV) or
NaN / null (Parquet); float32 values (b) are written with the fewest digits that read back the
same float32.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from aetui.exports.staging import staged_folder, write_file
from aetui.sessions.optional import require
from aetui.sessions.reading import SNAPSHOT_FIELDS, SessionRecord

FORMATS = ("csv", "parquet")
Table = dict[str, "np.ndarray | list"]


def session_tables(record: SessionRecord) -> dict[str, Table]:
    """history, events and snapshots of a session as column tables."""
    events = record.events
    snapshots = record.snapshots
    return {
        "history": record.table(),
        "events": {"kind": [e["kind"] for e in events], "samples": np.array([e["samples"] for e in events], np.int64),
                   "step": np.array([e["step"] for e in events], np.int64),
                   "segment": np.array([e["segment"] for e in events], np.int64),
                   "time": [e["time"] for e in events],
                   "details": [json.dumps(e["details"], sort_keys=True) for e in events]},
        "snapshots": {key: (np.array([getattr(s, key) for s in snapshots], np.int64)
                            if key in ("samples", "step", "segment") else
                            [str(s.path.relative_to(record.path)) if key == "file" else getattr(s, key) for s in snapshots])
                      for key in SNAPSHOT_FIELDS},
    }


def study_tables(study) -> dict[str, Table]:
    """results, conditions, claims and the long history of a StudyRecord as column tables."""
    from aetui.study.reading import flat_row  # the study's reader loads the engine: only for studies

    conditions = [{k: v for k, v in c.items() if k not in ("runs", "sessions")} for c in study.conditions]
    claims = [{**{k: v for k, v in c.items() if k != "ci"},
               "ci_low": None if c["ci"] is None else c["ci"][0],
               "ci_high": None if c["ci"] is None else c["ci"][1]} for c in study.claims]
    return {"results": rows_table(study.results), "conditions": rows_table([flat_row(c, None) for c in conditions]),
            "claims": rows_table(claims), "history": study.history()}


def rows_table(rows: list[dict]) -> Table:
    """Rows of dicts as columns (every key any row has, in the order first seen; None where a row has none)."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return {k: [row.get(k) for row in rows] for k in keys}


def export_session_tables(record: SessionRecord, out_dir: str | Path, fmt: str) -> list[Path]:
    """Write history, events, snapshots (.csv or .parquet) and lineage.json into out_dir; returns the paths."""
    tables = session_tables(record)
    extra = {"lineage.json": (json.dumps(record.lineage, indent=1) + "\n").encode()}
    return _export(tables, extra, out_dir, fmt)


def export_study_tables(study, out_dir: str | Path, fmt: str) -> list[Path]:
    """Write results, conditions, claims and history (.csv or .parquet) of a StudyRecord into out_dir."""
    return _export(study_tables(study), {}, out_dir, fmt)


def _export(tables: dict[str, Table], extra: dict[str, bytes], out_dir, fmt: str) -> list[Path]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown table format {fmt!r}")
    encode = _csv_bytes if fmt == "csv" else _parquet_bytes
    if fmt == "parquet":
        require("pyarrow.parquet", "Parquet export")  # before anything is written
    blobs = {f"{name}.{fmt}": encode(table) for name, table in tables.items()}
    blobs.update(extra)
    out = Path(out_dir)
    with staged_folder(out) as staging:
        for name, data in blobs.items():
            write_file(staging / name, data)
    return [out / name for name in blobs]


# -- CSV ----------------------------------------------------------------------------------------------
def _csv_bytes(table: Table) -> bytes:
    columns = [_cells(v) for v in table.values()]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(table))
    writer.writerows(zip(*columns))
    return buf.getvalue().encode()


def _cells(values) -> list[str]:
    """One column as CSV cells: numbers that read back exactly, '' for a missing value."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "iub":
            return [str(v) for v in values.tolist()]
        if values.dtype == np.float32:  # NumPy's shortest repr of a float32 reads back as the same float32
            return ["" if not math.isfinite(v) else str(v) for v in values]
        if values.dtype.kind == "f":
            return [repr(v) if math.isfinite(v) else "" for v in values.tolist()]
        values = values.tolist()
    return [_cell(v) for v in values]


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


# -- Parquet --------------------------------------------------------------------------------------------
def _parquet_bytes(table: Table) -> bytes:
    pa = require("pyarrow", "Parquet export")
    pq = require("pyarrow.parquet", "Parquet export")
    arrays = {}
    for name, values in table.items():
        if isinstance(values, np.ndarray) and values.dtype.kind in "iufb":
            arrays[name] = pa.array(values)
        else:
            values = list(values.tolist() if isinstance(values, np.ndarray) else values)
            arrays[name] = pa.array([None if isinstance(v, float) and not math.isfinite(v) else v for v in values])
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays), buf)
    return buf.getvalue()
