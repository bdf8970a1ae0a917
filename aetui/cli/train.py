"""`aetui train` (and plain `aetui`): the dashboard, a headless run, or a run in the background.

The dashboard starts the session's trainer as a process of its own and attaches to it; when the
session is running already, it attaches to that one.
"""

from __future__ import annotations

import argparse

from aetui.cli.dashboard import add_dashboard_options, require_terminal, run_attached
from aetui.cli.options import (add_config_options, add_sessions_dir, add_threads, config_from_args, positive_int,
                               positive_number)
from aetui.errors import ConfigError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("train", help="train in the dashboard (default), --headless or --detach")
    add_config_options(p)
    r = p.add_argument_group("run")
    r.add_argument("--session", help="session name: resumed if it exists (attached if running), else created")
    f = p.add_argument_group("start from another session (as the restart key a does, in a new session)")
    f.add_argument("--from", dest="origin", metavar="NAME[@SNAPSHOT]",
                   help="a new session from session NAME's last saved weights, or its snapshot SNAPSHOT, "
                        "under --activation (default: NAME's); named NAME-ACTIVATION unless --session")
    f.add_argument("--weight-scale", type=positive_number, help="--from: multiply the weights by this "
                   "(default x0.1 across activations, x1 under the same one)")
    f.add_argument("--keep-biases", action="store_true", help="--from: keep the source's biases (default: reset to 0)")
    add_sessions_dir(r)
    r.add_argument("--samples", type=positive_int, help="train this many more samples (headless default 100000)")
    add_threads(r, "compute threads for the kernels and BLAS (default 1; leave a core for the dashboard)")
    r.add_argument("--headless", action="store_true", help="no dashboard: progress bar on stderr (attachable)")
    r.add_argument("--detach", action="store_true", help="start training in the background and return; "
                   "attach later with aetui attach NAME")
    r.add_argument("--json", action="store_true", help="headless: print one JSON summary on stdout")
    add_dashboard_options(r)
    return p


def run(args) -> int:
    from aetui.sessions.store import SessionStore

    if args.json and not args.headless:
        raise ConfigError("--json goes with --headless")
    if args.samples is not None and not args.headless:
        raise ConfigError("--samples goes with --headless (the dashboard trains until you quit)")
    if args.headless and args.detach:
        raise ConfigError("--detach and --headless do not go together: --detach already runs without a terminal")
    config, explicit = config_from_args(args)
    origin = origin_from_args(args, explicit)
    store = SessionStore(args.sessions_dir)
    if args.headless:
        from aetui.cli.headless import run_headless
        from aetui.training.branch import acquire_branch
        from aetui.training.launch import acquire_trainer

        if origin is not None:
            trainer = acquire_branch(store, origin, args.session, explicit)
        else:
            trainer = acquire_trainer(store, args.session, config, explicit)
        return run_headless(trainer, samples=args.samples or 100_000, threads=args.threads, as_json=args.json)
    if args.detach:
        from aetui.training.process import start_trainer

        hello = start_trainer(store, args.session, config, explicit, threads=args.threads, origin=origin)
        print(f"session {hello.session} trains in the background (pid {hello.pid}).\n"
              f"  watch it:  {store.command('attach', hello.session)}\n"
              f"  stop it:   {store.command('stop', hello.session)}")
        return 0
    from aetui.training.process import open_trainer

    require_terminal()
    store.check_root()
    link = open_trainer(store, args.session, config, explicit, threads=args.threads, origin=origin)
    return run_attached(link, store, args)


def origin_from_args(args, explicit: dict):
    """The Origin `--from` asks for (None without it); --weight-scale and --keep-biases need it."""
    if args.origin is None:
        for flag, given in (("--weight-scale", args.weight_scale is not None), ("--keep-biases", args.keep_biases)):
            if given:
                raise ConfigError(f"{flag} goes with --from NAME")
        return None
    from aetui.training.origin import Origin

    return Origin.parse(args.origin, activation=explicit.get("activation"), weight_scale=args.weight_scale,
                        reset_biases=not args.keep_biases, lr=explicit.get("lr"))
