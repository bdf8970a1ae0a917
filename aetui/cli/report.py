"""`aetui report NAME... --html FILE` / `aetui report --study PREFIX --html FILE`: one self-contained
HTML file of sessions or of a study (aetui/exports/report.py)."""

from __future__ import annotations

import argparse

from aetui.cli.options import add_sessions_dir
from aetui.errors import ConfigError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report", help="one self-contained HTML file of sessions or a study, to share",
        description="Write one HTML file that stands alone (every image in it, no script, nothing from the "
                    "network): each session's lineage, events, config, loss and bias charts (SVG), strip and film "
                    "(animated WebP); with --study PREFIX the experiment's conditions, claims and verdicts, the "
                    "transfer strip and every run. Opens offline in any browser and prints to PDF, a run per page. "
                    "Read-only: safe on a running session (its last save).")
    p.add_argument("names", metavar="NAME", nargs="*", help="session names (or --study PREFIX)")
    p.add_argument("--study", metavar="PREFIX", help="the experiment whose sessions are PREFIX-...")
    p.add_argument("--html", metavar="FILE", required=True, help="the HTML file to write")
    p.add_argument("--no-film", action="store_true", help="leave the films out (a smaller, quicker file)")
    add_sessions_dir(p)
    return p


def run(args) -> int:
    if bool(args.names) == bool(args.study):
        raise ConfigError("aetui report takes session NAMEs or --study PREFIX (one of them)")
    from aetui.exports.report import sessions_report, study_report, write_report

    if args.study:
        from aetui.study.reading import open_study

        text = study_report(open_study(args.study, args.sessions_dir), film=not args.no_film)
    else:
        from aetui.sessions.reading import open_session

        records = [open_session(name, args.sessions_dir) for name in dict.fromkeys(args.names)]
        text = sessions_report(records, film=not args.no_film)
    print(write_report(text, args.html))
    return 0
