"""`aetui export NAME --png DIR`: a session's filters.png, bias.png and loss.png."""

from __future__ import annotations

import argparse
import json

from aetui.cli.options import add_sessions_dir


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("export", help="write a session's pictures: filters.png, bias.png, loss.png")
    p.add_argument("name", metavar="NAME", help="session name")
    p.add_argument("--png", metavar="DIR", required=True, help="folder to write the PNG files into")
    add_sessions_dir(p)
    p.add_argument("--json", action="store_true", help="print the written paths as a JSON list")
    return p


def run(args) -> int:
    from aetui.sessions.store import SessionStore
    from aetui.study.pictures import export_named

    paths = export_named(SessionStore(args.sessions_dir), args.name, args.png)
    if args.json:
        print(json.dumps([str(p) for p in paths]))
    else:
        for path in paths:
            print(path)
    return 0
