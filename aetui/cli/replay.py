"""`aetui replay NAME --session NEW`: rebuild a session from its record alone and compare."""

from __future__ import annotations

import argparse
import json

from aetui.cli.options import add_sessions_dir, add_threads
from aetui.errors import EXIT_FAILURE, EXIT_OK, SaveError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "replay", help="rebuild a session from its record (config, lineage, events, seed) and compare the weights",
        description="Train a new session NEW from NAME's record alone: its first settings and seed, then every "
                    "learning-rate change, snapshot and restart at the step it happened. Ends by comparing NEW's "
                    "weights with NAME's: they are bit-identical when the record is complete.")
    p.add_argument("name", metavar="NAME", help="the session to replay")
    p.add_argument("--session", metavar="NEW", help="name of the rebuilt session (default NAME-replay)")
    add_sessions_dir(p)
    add_threads(p)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return p


def run(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from aetui.sessions.atomic import why
    from aetui.sessions.lock import lock_holder
    from aetui.sessions.store import SessionStore
    from aetui.training.launch import release_trainer
    from aetui.training.replay import replay

    store = SessionStore(args.sessions_dir)
    source = store.load(args.name)
    name = args.session or f"{args.name}-replay"
    console = Console(stderr=True)
    training = lock_holder(source.path)
    if training is not None:  # its files are its last save; what it trained since is not on disk yet
        console.print(f"note: {source.name} is training in another process (pid {training}); this replays "
                      f"its last save ({source.samples:,} samples)", highlight=False, soft_wrap=True)
    columns = (TextColumn("[bold]replaying {task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(f"{source.name} as {name}", total=source.samples)
        result = replay(source, store, name, threads=args.threads,
                        progress=lambda t: bar.update(task, completed=t.session.samples))
    new = result.trainer.session
    try:
        release_trainer(result.trainer)
    except SaveError as exc:  # no partly built session is left behind
        store.discard_new(new)
        reason = why(exc.__context__) if isinstance(exc.__context__, OSError) else str(exc)
        raise SaveError(f"could not save the replay {new.name} in {store.root}: {reason}; "
                        f"nothing was kept") from None
    except BaseException:  # Ctrl-C
        store.discard_new(new)
        raise
    summary = {"session": source.name, "replay": new.name, "path": str(new.path), "samples": new.samples,
               "interventions": result.interventions, "identical": result.identical,
               "max_difference": result.max_difference, "source_was_training": training is not None}
    if args.json:
        print(json.dumps(summary))
    elif result.identical:
        console.print(f"replayed {source.name} as {new.name}: {new.samples:,} samples, {result.interventions} "
                      f"interventions; weights bit-identical to {source.name}'s")
    else:
        console.print(f"[red]replayed {source.name} as {new.name}, but the weights differ (largest difference "
                      f"{result.max_difference:.3g}): the record is not complete[/red]")
    return EXIT_OK if result.identical else EXIT_FAILURE
