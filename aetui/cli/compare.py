"""`aetui compare NAME NAME...`: 2 to 6 sessions side by side, saved or running (running ones live);
`aetui compare --study PREFIX`: a study's conditions of one seed, also while the study runs."""

from __future__ import annotations

import argparse

from aetui.cli.dashboard import require_terminal
from aetui.cli.options import add_sessions_dir, nonneg_int
from aetui.errors import ConfigError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("compare", help="compare 2 to 6 sessions: loss curves, filters, biases, metrics")
    p.add_argument("names", nargs="*", metavar="NAME", help="sessions to compare (running ones update live)")
    p.add_argument("--study", metavar="PREFIX", help="compare the conditions of the study PREFIX (aetui study run), "
                   "one seed's, as they train and when they are done")
    p.add_argument("--seed", type=nonneg_int, metavar="S", help="with --study: that seed's runs (default the first)")
    add_sessions_dir(p)
    p.add_argument("--ascii", action="store_true", help="ASCII-only drawing")
    return p


def run(args) -> int:
    from aetui.sessions.store import SessionStore

    store = SessionStore(args.sessions_dir)
    if args.study is None:
        if args.seed is not None:
            raise ConfigError("--seed is for --study: name the sessions to compare, or give --study PREFIX")
        if not args.names:
            raise ConfigError("compare takes 2 to 6 sessions (NAME NAME...) or --study PREFIX")
        return show_comparison(store, args.names, force_ascii=args.ascii)
    if args.names:
        raise ConfigError("give sessions to compare or --study PREFIX, not both")
    names, note = study_runs(store, args.study, args.seed)
    return show_comparison(store, names, force_ascii=args.ascii, note=note)


def study_runs(store, prefix: str, seed: int | None) -> tuple[list[str], str]:
    """The sessions of study PREFIX's conditions for `seed` (default the first) that exist so far, at
    most MAX_RUNS, and a note for the screen's head; ConfigError when fewer than two exist."""
    from aetui.errors import SessionError
    from aetui.sessions.format import check_name
    from aetui.study.comparison import MAX_RUNS
    from aetui.study.saved_plan import read_saved_plan

    try:
        check_name(prefix, "study")
        plan = read_saved_plan(store, prefix)
    except SessionError as exc:
        raise ConfigError(str(exc)) from None
    if plan is None:
        raise ConfigError(f"no study {prefix!r} in {store.root} (its plan {prefix}.plan.toml is written when "
                          f"aetui study run starts)")
    seed = plan.seed if seed is None else seed
    if seed not in plan.seed_list:
        raise ConfigError(f"the study {prefix} has seeds {plan.seed_list[0]}..{plan.seed_list[-1]}, not {seed}")
    units = [c for c in plan.units() if c.seed == seed]
    there = [c.session for c in units if store.exists(c.session)]
    if len(there) < 2:
        raise ConfigError(f"the study {prefix} has {len(there)} of its {len(units)} runs of seed {seed} so far: "
                          f"compare needs 2 (try again in a moment)")
    shown = there[:MAX_RUNS]
    note = f"study {prefix}, seed {seed}: {len(shown)} of {len(units)} conditions"
    if len(there) > len(shown):
        note += f" (the first {MAX_RUNS})"
    return shown, note


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
