"""`aetui stop NAME`: stop a running session cleanly (its trainer saves, then ends)."""

from __future__ import annotations

from aetui.cli.options import add_sessions_dir
from aetui.errors import EXIT_OK, SaveError


def add_parser(subparsers):
    p = subparsers.add_parser("stop", help="stop a running session (saved)")
    p.add_argument("name", help="the session's name (see aetui sessions)")
    add_sessions_dir(p)
    return p


def run(args) -> int:
    from aetui.sessions.store import SessionStore
    from aetui.training.process import attach

    store = SessionStore(args.sessions_dir)
    link = attach(store, args.name, to_stop=True)
    try:
        outcome = link.stop(save=True)
    finally:
        link.close()
    if not outcome["stopped"]:
        raise SaveError(f"session {args.name} goes on training: {outcome['error']}")
    print(f"stopped session {args.name} at {outcome['samples']:,} samples (saved)")
    return EXIT_OK
