"""Running a study from the command line, whichever command built its plan (`study run PLAN`,
`experiment transfer`): where the units run, progress, Ctrl-C, the tables, the pictures."""

from __future__ import annotations

import argparse
import json
import signal

from aetui.cli.options import add_sessions_dir, add_threads, positive_int
from aetui.errors import EXIT_INTERRUPTED, ConfigError

# Rich, NumPy and the core are imported inside the functions: building the parser stays cheap.


def definitions_epilog() -> str:
    from aetui.study.metrics import METRIC_DEFINITIONS

    lines = ["metrics:"] + [f"  {name}: {line}" for name, line in METRIC_DEFINITIONS.items()]
    return "\n".join(lines)


def with_definitions(parser_class: type) -> type:
    """parser_class whose help ends with the metric definitions (read only when help is shown)."""

    class WithDefinitions(parser_class):
        def format_help(self) -> str:
            self.epilog = definitions_epilog()
            return super().format_help()

    return WithDefinitions


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Where and how a study runs, and what it prints: the options every study command shares."""
    add_sessions_dir(p)
    add_threads(p, "compute threads with --workers 1 (default 1)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=1, metavar="N",
                       help="run independent conditions and seeds in N processes here, one thread each (default 1)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run the conditions on a Dask cluster (pip install 'aetui[cluster]')")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="finish an earlier (interrupted) run with this prefix")
    again.add_argument("--force", action="store_true", help="delete this prefix's sessions and run again")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of the table")
    p.add_argument("--png", metavar="DIR", help="also write DIR/PREFIX-filters.png (every condition's filters, the "
                   "first seed's), "
                   "DIR/PREFIX-strip.png (the reuse runs' units over their stored snapshots, one strip above the "
                   "other) and each session's pictures in DIR/SESSION/")
    p.add_argument("--compare", action="store_true", help="when it finishes, open the conditions as one comparison "
                   "(as aetui compare does)")


def run_plan(args, plan) -> int:
    """Run StudyPlan `plan` as the options say; the exit code."""
    from rich.console import Console

    from aetui.cli.study_progress import UnitProgress
    from aetui.cli.study_tables import claims_table, result_table, seeds_table, write_pictures
    from aetui.sessions.store import SessionStore
    from aetui.study.dask_executor import check_address
    from aetui.study.runner import prepare_store, run_study, warm_up_plan

    if args.workers > 1 and args.threads > 1:
        raise ConfigError("--threads is for --workers 1: each worker process trains with one thread")
    if args.scheduler:
        check_address(args.scheduler)
    store = SessionStore(args.sessions_dir)
    if args.compare:  # refused before anything trains
        from aetui.cli.dashboard import require_terminal

        if args.json:
            raise ConfigError("--compare opens a screen and --json prints for programs: use one of them")
        require_terminal()
    mode = "resume" if args.resume else "force" if args.force else "new"
    if mode == "new":
        prepare_store(store, plan.units(), mode)  # refuse before compiling anything
    console = Console(stderr=True)
    stop = StopOnInterrupt(console)
    with console.status(f"connecting to the Dask scheduler at {args.scheduler}..." if args.scheduler
                        else "starting...", spinner="dots"):
        executor = _executor(args, store, plan)  # worker processes start (and load kernels) while this one does
    with executor:
        with console.status("loading the kernels...", spinner="dots") as status:
            warm_up_plan(plan, args.threads, lambda what, part, parts: status.update(
                f"compiling kernels, first use only (part {part} of {parts}, {what})..."))
        display = UnitProgress(plan, console, not console.is_terminal and args.json, _unit_label)
        with stop, display as progress:
            result = run_study(store, plan, mode=mode, progress=progress, should_stop=stop,
                               threads=args.threads, executor=executor)
    written = write_pictures(store, result, args.png) if args.png else []
    if args.json:
        out = result.to_json()
        out["pictures"] = [str(p) for p in written]
        print(json.dumps(out))
    else:
        wide = Console(width=max(Console().width, 220))
        wide.print(result_table(result) if plan.seeds == 1 else seeds_table(result))
        if plan.claims:
            wide.print(claims_table(result))
        for path in written[:2]:
            if path.name == f"{plan.prefix}-filters.png":
                console.print(f"filter sheet: {path}")
            elif path.name == f"{plan.prefix}-strip.png":
                console.print(f"strip: {path}")
    if result.interrupted:
        seeds = plan.seeds > 1
        done = ", ".join(r.condition.name + (f" (seed {r.condition.seed})" if seeds else "")
                         for r in result.conditions) or "none"
        left = ", ".join(_pending_text(p, seeds) for p in result.pending)
        console.print(f"interrupted: finished {done}; not finished: {left}. "
                      f"Finish with the same command and --resume.")
        return EXIT_INTERRUPTED
    if args.compare:
        from aetui.cli.compare import show_comparison
        from aetui.study.comparison import MAX_RUNS

        first = [r.session for r in result.conditions if r.condition.seed == plan.seed][:MAX_RUNS]
        seed = f", seed {plan.seed}" if plan.seeds > 1 else ""
        return show_comparison(store, first, note=f"the {plan.title or 'study ' + plan.prefix}{seed}, "
                                                  f"{plan.samples:,} samples per condition")
    return 0


def _executor(args, store, plan):
    """Where the units run: here one after another, in --workers processes, or on the --scheduler's cluster."""
    from functools import partial

    from aetui.study.executors import InlineExecutor, PoolExecutor
    from aetui.study.runner import warm_up_plan

    if args.scheduler:
        from aetui.study.dask_executor import DaskExecutor

        return DaskExecutor(args.scheduler, store.root)
    if args.workers > 1:
        return PoolExecutor(args.workers, prepare=partial(warm_up_plan, plan, 1))
    return InlineExecutor()


def _pending_text(pending: dict, seeds: bool) -> str:
    seed = f"seed {pending['seed']}, " if seeds else ""
    return f"{pending['condition']} ({seed}{pending['samples']:,} samples)"


def _unit_label(cond, plan) -> str:
    return cond.name if plan.seeds == 1 else f"{cond.name} (seed {cond.seed})"


class StopOnInterrupt:
    """A should_stop callable: the first Ctrl-C asks the study to stop after the current chunk,
    a second one interrupts at once (sessions are saved atomically either way)."""

    def __init__(self, console):
        self.console = console
        self.requested = False
        self._old = None

    def __call__(self) -> bool:
        return self.requested

    def _handler(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.console.print("stopping after this chunk; finished conditions are kept (Ctrl-C again to abort)")

    def __enter__(self):
        try:
            self._old = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: no handler, Ctrl-C behaves as usual
            self._old = None
        return self

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
