"""`aetui train` (and plain `aetui`): the dashboard, or a headless run with --headless."""

from __future__ import annotations

import argparse
import os
import sys

from aetui.cli.options import add_config_options, add_sessions_dir, add_threads, config_from_args, positive_int
from aetui.errors import ConfigError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("train", help="train in the dashboard (default) or --headless")
    add_config_options(p)
    r = p.add_argument_group("run")
    r.add_argument("--session", help="session name: resumed if it exists, else created")
    add_sessions_dir(r)
    r.add_argument("--samples", type=positive_int, help="train this many more samples (headless default 100000)")
    add_threads(r, "compute threads for the kernels and BLAS (default 1; leave a core for the dashboard)")
    r.add_argument("--headless", action="store_true", help="no dashboard: progress bar on stderr")
    r.add_argument("--json", action="store_true", help="headless: print one JSON summary on stdout")
    r.add_argument("--ascii", action="store_true", help="dashboard: ASCII-only drawing")
    return p


def run(args) -> int:
    from aetui.sessions.store import SessionStore
    from aetui.training.launch import acquire_trainer

    if args.json and not args.headless:
        raise ConfigError("--json goes with --headless")
    if args.samples is not None and not args.headless:
        raise ConfigError("--samples goes with --headless (the dashboard trains until you quit)")
    config, explicit = config_from_args(args)
    store = SessionStore(args.sessions_dir)
    trainer = acquire_trainer(store, args.session, config, explicit)
    if args.headless:
        from aetui.cli.headless import run_headless

        return run_headless(trainer, samples=args.samples or 100_000, threads=args.threads, as_json=args.json)
    from aetui.tui.app import run_dashboard

    code = run_dashboard(trainer, store=store, threads=args.threads, force_ascii=args.ascii)
    if args.fast_exit:
        # The session is saved and unlocked: skip the ~0.3 s interpreter teardown with Numba and
        # LLVM loaded, so q returns to the shell promptly.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code

