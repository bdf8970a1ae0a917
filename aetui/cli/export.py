"""`aetui export NAME`: a session's pictures (--png), tables (--csv, --parquet) and TensorBoard
event files (--tensorboard); `--study PREFIX` does the same for every run of an experiment.
--strip FILE.png (units x stored snapshots) and --film FILE (a frame per stored snapshot) are
of one session."""

from __future__ import annotations

import argparse
import json

from aetui.cli.options import add_sessions_dir
from aetui.errors import ConfigError

TARGETS = ("png", "csv", "parquet", "tensorboard")
FILE_TARGETS = ("strip", "film")  # one file each, of one session


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export", help="write a session's (or a study's) record out: PNG pictures, CSV or Parquet tables, TensorBoard",
        description="Write what a session recorded into folders: --png filters.png, bias.png, loss.png; --csv / "
                    "--parquet history, events, snapshots and lineage.json; --tensorboard an event file per "
                    "session (step: samples seen). With --study PREFIX: every run of the experiment PREFIX "
                    "(results, conditions, claims and one long history with run, condition and seed columns; "
                    "one TensorBoard run folder per session). Read-only: safe on a running session (its last "
                    "save). Each folder is written whole or not at all.")
    p.add_argument("name", metavar="NAME", nargs="?", help="session name (or --study PREFIX)")
    p.add_argument("--study", metavar="PREFIX", help="the experiment whose sessions are PREFIX-... (aetui experiment transfer --name)")
    p.add_argument("--png", metavar="DIR", help="folder to write the PNG files into (a study: DIR/SESSION/)")
    p.add_argument("--csv", metavar="DIR", help="folder to write the CSV tables and lineage.json into")
    p.add_argument("--parquet", metavar="DIR", help="folder to write the Parquet tables into (pip install 'aetui[data]')")
    p.add_argument("--tensorboard", metavar="DIR", help="TensorBoard log folder: one run folder per session "
                   "(pip install 'aetui[tensorboard]')")
    p.add_argument("--strip", metavar="FILE.png", help="the study's figure: a row per unit, a column per stored "
                   "snapshot in time order, segment starts marked and labelled")
    p.add_argument("--film", metavar="FILE", help="a frame per stored snapshot (period, user, thin) in time order: "
                   "the filters, the loss and bias charts with a cursor, the segment and events; .gif, .webp, .apng "
                   "(Pillow) or .mp4 (pip install 'aetui[film]')")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--fps", type=float, metavar="N", help="--film's frames per second (default 8)")
    rate.add_argument("--seconds", type=float, metavar="S", help="--film's length in seconds (instead of --fps)")
    p.add_argument("--until", type=int, metavar="SAMPLES", help="--strip and --film end at the last stored "
                   "snapshot at or before SAMPLES (the dashboard's history view: at its cursor)")
    p.add_argument("--units", metavar="LIST", help="the units of --strip (default auto: the 10 whose filters "
                   "changed most across the segment starts) or of --film (default the first 100), e.g. 0,3,10-14")
    p.add_argument("--columns", metavar="period|all|N", default="period", help="--strip's columns: the period "
                   "and user snapshots (default), all (thin-stored ones too) or N of all, spread evenly")
    p.add_argument("--normalise", choices=("tile", "global"), default="tile", help="filters each by its own max "
                   "|w| (tile, default) or all of a snapshot by its max |w| (global), as the dashboard's f")
    add_sessions_dir(p)
    p.add_argument("--json", action="store_true", help="print the written paths as a JSON list")
    return p


def run(args) -> int:
    targets = {t: getattr(args, t) for t in TARGETS if getattr(args, t)}
    files = {t: getattr(args, t, None) for t in FILE_TARGETS if getattr(args, t, None)}
    if not targets and not files:
        raise ConfigError("aetui export needs at least one of --png, --csv, --parquet, --tensorboard DIR, "
                          "--strip FILE.png, --film FILE")
    if (args.name is None) == (args.study is None):
        raise ConfigError("aetui export takes a session NAME or --study PREFIX (one of them)")
    if files and args.study:
        raise ConfigError("--strip and --film are of one session: give its NAME, not --study")
    paths = export_study(args.study, args.sessions_dir, targets) if args.study else \
        export_one(args.name, args.sessions_dir, targets)
    if files:
        paths += export_files(args, files)
    if args.json:
        print(json.dumps([str(p) for p in paths]))
    else:
        for path in paths:
            print(path)
    return 0


def export_one(name: str, sessions_dir, targets: dict[str, str]) -> list:
    from aetui.sessions.reading import open_session

    record = open_session(name, sessions_dir)
    paths = []
    for target, folder in targets.items():
        if target == "png":
            from aetui.study.pictures import export_record

            paths += export_record(record, folder)
        elif target == "tensorboard":
            from aetui.exports.tensorboard import export_tensorboard

            paths += export_tensorboard([record], folder)
        else:
            from aetui.exports.tables import export_session_tables

            paths += export_session_tables(record, folder, target)
    return paths


def export_files(args, files: dict[str, str]) -> list:
    """--strip FILE.png and --film FILE of session NAME (the film with a progress bar on stderr)."""
    from aetui.exports.strip import auto_units, export_strip, parse_columns, parse_units, strip_columns
    from aetui.sessions.reading import open_session

    record = open_session(args.name, args.sessions_dir)
    units = parse_units(args.units, int(record.config["hidden"]))
    columns = parse_columns(args.columns)
    paths = []
    if "film" in files:
        from aetui.exports.film import film_format

        film_format(files["film"])  # a bad ending before anything is drawn
    if "strip" in files:
        paths.append(export_strip(record, files["strip"], units=units, columns=columns, normalise=args.normalise,
                                  until=args.until))
    if "film" in files:
        film_units = None if args.units is None else auto_units(strip_columns(record)) if units == "auto" else units
        paths.append(_film(record, files["film"], film_units, args.fps, args.seconds, args.until))
    return paths


def _film(record, path: str, units, fps, seconds, until):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from aetui.exports.film import export_film

    console = Console(stderr=True)
    with Progress(TextColumn(f"film of {record.name}"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
                  TimeRemainingColumn(), console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("film", total=None)
        return export_film(record, path, units=units, fps=fps, seconds=seconds, until=until,
                           progress=lambda done, total: bar.update(task, completed=done, total=total))


def export_study(prefix: str, sessions_dir, targets: dict[str, str]) -> list:
    from pathlib import Path

    from aetui.sessions.optional import require

    if "parquet" in targets:  # before the study is measured
        require("pyarrow.parquet", "Parquet export")
    if "tensorboard" in targets:
        require("tensorboardX", "TensorBoard export")
    from aetui.study.reading import open_study

    study = open_study(prefix, sessions_dir)
    paths = []
    for target, folder in targets.items():
        if target == "png":
            from aetui.study.pictures import export_record

            for name, record in study.runs.items():
                paths += export_record(record, Path(folder) / name)
        elif target == "tensorboard":
            from aetui.exports.tensorboard import export_tensorboard

            paths += export_tensorboard(list(study.runs.values()), folder)
        else:
            from aetui.exports.tables import export_study_tables

            paths += export_study_tables(study, folder, target)
    return paths
