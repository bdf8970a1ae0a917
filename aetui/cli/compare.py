"""`aetui compare NAME NAME...`: 2 to 6 sessions side by side, saved or running (running ones live)."""

from __future__ import annotations

import argparse

from aetui.cli.dashboard import require_terminal
from aetui.cli.options import add_sessions_dir
from aetui.errors import ConfigError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("compare", help="compare 2 to 6 sessions: loss curves, filters, biases, metrics")
    p.add_argument("names", nargs="+", metavar="NAME", help="sessions to compare (running ones update live)")
    add_sessions_dir(p)
    p.add_argument("--ascii", action="store_true", help="ASCII-only drawing")
    return p


def run(args) -> int:
    from aetui.sessions.store import SessionStore

    store = SessionStore(args.sessions_dir)
    return show_comparison(store, args.names, force_ascii=args.ascii)


def show_comparison(store, names: list[str], *, force_ascii: bool = False, note: str = "") -> int:
    """Open the comparison of `names` on this terminal until it is left; the exit code."""
    from aetui.tui.compare.compare_app import CompareApp
    from aetui.tui.compare.compare_state import CompareState, open_runs

    store.check_root()
    runs = open_runs(store, list(names))  # refusals before the screen is taken
    try:
        require_terminal()
    except ConfigError:
        CompareState(runs).close()
        raise ConfigError("the comparison needs a terminal; without one, aetui sessions show NAME --json "
                          "gives a session's numbers") from None
    CompareApp(CompareState(runs), force_ascii=force_ascii, note=note).run()
    return 0
