"""`aetui attach NAME`: the dashboard on a running session (started with `aetui`, --detach or --headless)."""

from __future__ import annotations

from aetui.cli.dashboard import add_dashboard_options, require_terminal, run_attached
from aetui.cli.options import add_sessions_dir


def add_parser(subparsers):
    p = subparsers.add_parser("attach", help="open the dashboard on a running session")
    p.add_argument("name", help="the session's name (see aetui sessions)")
    add_sessions_dir(p)
    add_dashboard_options(p)
    return p


def run(args) -> int:
    from aetui.sessions.store import SessionStore
    from aetui.training.process import attach

    require_terminal()
    store = SessionStore(args.sessions_dir)
    return run_attached(attach(store, args.name), store, args)
