"""One browser tab of `aetui serve`: `python -m aetui.cli.web_tab` (not for users).

textual-serve starts this per websocket and draws its Textual app in the page. It is one more
dashboard attached to the session's trainer: closing the tab ends it, which detaches; `q` stops
the trainer as in a terminal. The page's terminal (xterm.js) draws no kitty or sixel images
(lnqs/textual-image#64), so pictures are half-block cells (ASCII with --ascii); and the tab keeps
its view settings in a file of its own, so a page does not change how the terminal looks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from aetui.errors import EXIT_FAILURE, EXIT_OK, AetuiError

RACE_SECONDS = 30.0  # another tab may be starting the same session's trainer: wait for it to serve


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="aetui-web-tab")
    p.add_argument("--sessions-dir", required=True)
    p.add_argument("--session", help="the session (default: a new one with --config)")
    p.add_argument("--config", default="{}", help="a new session's TrainConfig, as JSON")
    p.add_argument("--explicit", default="{}", help="the training options given to aetui serve, as JSON")
    p.add_argument("--ascii", action="store_true")
    return p.parse_args(argv)


def tab_command(sessions_dir: Path, session: str | None, config: dict, explicit: dict, ascii: bool) -> list[str]:
    """The argv of one tab's process (what textual-serve runs per websocket)."""
    argv = [sys.executable, "-m", "aetui.cli.web_tab", "--sessions-dir", str(sessions_dir)]
    if session is not None:
        argv += ["--session", session]
    else:
        argv += ["--config", json.dumps(config), "--explicit", json.dumps(explicit)]
    return argv + (["--ascii"] if ascii else [])


def browser_config_home(env: dict | None = None) -> str:
    """Where a tab's view settings go: beside the terminal's, not in the same file."""
    env = os.environ if env is None else env
    home = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(home, "aetui", "browser")


def open_link(store, name: str | None, config, explicit: dict):
    """The trainer of session `name` (resumed when it is not running: the page is its dashboard),
    or of a new session; a trainer another tab is starting meanwhile is waited for."""
    from aetui.training.process import attach, open_trainer

    if name is None:
        return open_trainer(store, None, config, explicit)
    deadline = time.monotonic() + RACE_SECONDS
    while True:
        try:
            return open_trainer(store, name, config, {})
        except AetuiError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)  # the session is locked by a trainer that does not serve yet
        try:
            return attach(store, name)
        except AetuiError:
            pass


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    os.environ["XDG_CONFIG_HOME"] = browser_config_home()
    try:
        from aetui.model.config import TrainConfig
        from aetui.sessions.store import SessionStore
        from aetui.training.process import open_trainer
        from aetui.tui.app import run_dashboard

        store = SessionStore(args.sessions_dir)
        config = TrainConfig.from_dict(json.loads(args.config)) if args.config != "{}" else TrainConfig()
        link = open_link(store, args.session, config, json.loads(args.explicit))

        def reopen(name: str):
            return open_trainer(store, name, TrainConfig(), {})

        app = run_dashboard(link, store=store, open_trainer=reopen, force_ascii=args.ascii,
                            graphics="ascii" if args.ascii else "cells")
    except AetuiError as exc:
        print(f"aetui: {exc}", file=sys.stderr)  # the server writes a tab's stderr on its console
        return exc.exit_code
    if app.training_error:
        print(f"aetui: the training thread failed: {app.training_error}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
