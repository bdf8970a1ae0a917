"""The dashboard on a trainer's link, and what the command says when it ends (shared by
`aetui`, `aetui train` and `aetui attach`)."""

from __future__ import annotations

import sys

from aetui.errors import EXIT_FAILURE, EXIT_OK, ConfigError


# aetui.tui.graphics.graphics_mode.REQUESTS, spelled out: the CLI must not import the dashboard's
# modules to parse its options (tests/tui/test_graphics_mode.py holds the two equal).
GRAPHICS_REQUESTS = ("auto", "kitty", "sixel", "cells", "ascii")


def add_dashboard_options(group) -> None:
    group.add_argument("--ascii", action="store_true", help="dashboard: ASCII-only drawing")
    group.add_argument("--graphics", choices=GRAPHICS_REQUESTS, default=None,
                       help="dashboard: pictures as kitty or sixel images, half-block cells, or ascii "
                            "(default: auto, detected; the last one given is kept in the settings file)")
    group.add_argument("--stop-on-hangup", action="store_true",
                       help="dashboard: a closed terminal or SSH link stops training (saved) instead of detaching")


def require_terminal() -> None:
    """The dashboard draws on a terminal: refuse before starting anything when there is none
    (a pipe or a file would fill with escape codes while training runs unseen)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConfigError("the dashboard needs a terminal; without one, use aetui train --headless "
                          "(or --detach), and aetui sessions to see what runs")


def run_attached(link, store, args) -> int:
    """Run the dashboard on `link` (a TrainerClient) until q or d; returns the exit code."""
    from aetui.training.process import open_trainer
    from aetui.model.config import TrainConfig
    from aetui.tui.app import DETACHED, STOPPED_BY_US, run_dashboard

    threads = getattr(args, "threads", 1)

    def reopen(name: str):
        return open_trainer(store, name, TrainConfig(), {}, threads=threads)

    app = run_dashboard(link, store=store, open_trainer=reopen, force_ascii=args.ascii,
                        stop_on_hangup=args.stop_on_hangup, graphics=args.graphics)
    session = app.session
    if app.ended == STOPPED_BY_US and app.stopped_at is not None:
        _say(f"aetui: stopped session {session} at {app.stopped_at:,} samples"
             f"{' (saved)' if app.stopped_saved else ' (not saved: you chose to quit without saving)'}")
    if app.ended == DETACHED:
        _say(f"aetui: detached from session {session}; training goes on (pid {app.trainer_pid}).\n"
             f"  come back:  {store.command('attach', session)}\n"
             f"  stop it:    {store.command('stop', session)}")
    if app.training_error:
        _say(f"aetui: the training thread failed: {app.training_error}")
        return EXIT_FAILURE
    return EXIT_OK


def _say(text: str) -> None:
    """Print for the user; a terminal that went away (a hang-up) is not an error."""
    try:
        print(text, file=sys.stderr, flush=True)
    except OSError:
        pass
