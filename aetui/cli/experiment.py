"""`aetui experiment transfer`: options, progress, the comparison table, the filter sheet."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

from aetui.cli.options import add_sessions_dir, add_threads, nonneg_int, positive_int
from aetui.errors import EXIT_INTERRUPTED, ConfigError

# Rich, NumPy and the core are imported inside the command: building the parser stays cheap.

SHEET_FILE = "transfer-filters.png"
TABLE_METRICS = ("locality", "contrast", "mean_code", "lifetime_sparsity", "dead_units")


def _definitions_epilog() -> str:
    from aetui.study.metrics import METRIC_DEFINITIONS

    lines = ["metrics:"] + [f"  {name}: {line}" for name, line in METRIC_DEFINITIONS.items()]
    return "\n".join(lines)


def _with_definitions(parser_class: type) -> type:
    """parser_class whose help ends with the metric definitions (read only when help is shown)."""

    class WithDefinitions(parser_class):
        def format_help(self) -> str:
            self.epilog = _definitions_epilog()
            return super().format_help()

    return WithDefinitions


def add_parser(subparsers) -> argparse.ArgumentParser:
    """`experiment transfer`: the study's weight-reuse experiment in one command."""
    exp = subparsers.add_parser("experiment", help="run a study end to end (transfer: reuse learned weights)")
    kinds = exp.add_subparsers(dest="experiment", parser_class=_with_definitions(type(exp)), required=True,
                               metavar="EXPERIMENT")
    p = kinds.add_parser(
        "transfer", help="sigmoid, then its weights under sigmoid again and under relu (x0.1 and x1), vs random init",
        description="Train sigmoid from random init; reuse its weights under sigmoid (biases reset) and under "
                    "ACTIVATION scaled x0.1 and x1; train ACTIVATION from random init as the control. Each "
                    "condition is a session PREFIX-... with its lineage, trained SAMPLES in its own segment.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=positive_int, default=300_000, help="samples per condition (default 300000)")
    p.add_argument("--data", default="mnist5k", help="data set (default mnist5k)")
    p.add_argument("--hidden", type=positive_int, default=100, help="hidden units (default 100)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--activation", default="relu", help="the activation the sigmoid weights move to (default relu)")
    p.add_argument("--name", default="transfer", metavar="PREFIX", help="session name prefix (default transfer)")
    add_sessions_dir(p)
    add_threads(p)
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="finish an earlier (interrupted) run with this prefix")
    again.add_argument("--force", action="store_true", help="delete this prefix's sessions and run again")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of the table")
    p.add_argument("--png", metavar="DIR", help=f"also write DIR/{SHEET_FILE} and each session's pictures in DIR/SESSION/")
    p.add_argument("--compare", action="store_true", help="when it finishes, open the conditions as one comparison "
                   "(as aetui compare does)")
    return p


def run(args) -> int:
    from aetui.model.config import TrainConfig
    from aetui.model.warm_up import warm_up
    from aetui.study.transfer import TransferPlan, prepare_store, run_transfer
    from aetui.sessions.store import SessionStore
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if args.experiment != "transfer":  # pragma: no cover - argparse limits the choices
        raise ConfigError(f"unknown experiment {args.experiment}")
    config = TrainConfig(data=args.data, hidden=args.hidden, seed=args.seed).validated()
    plan = TransferPlan(samples=args.samples, prefix=args.name, activation=args.activation, config=config).validated()
    store = SessionStore(args.sessions_dir)
    if args.compare:  # refused before anything trains
        from aetui.cli.dashboard import require_terminal

        if args.json:
            raise ConfigError("--compare opens a screen and --json prints for programs: use one of them")
        require_terminal()
    mode = "resume" if args.resume else "force" if args.force else "new"
    if mode == "new":
        prepare_store(store, plan.conditions(), mode)  # refuse before compiling anything
    console = Console(stderr=True)
    stop = _StopOnInterrupt(console)
    with console.status("loading the kernels...", spinner="dots") as status:
        warm_up(lambda kernel, begun, total: status.update(
            f"compiling kernels, first run only ({begun} of about {total}: {kernel})..."), args.threads)
    columns = (TextColumn("[bold]{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("loss {task.fields[loss]:>8} {task.fields[note]}"), TimeRemainingColumn())
    with stop, Progress(*columns, console=console, disable=not console.is_terminal and args.json) as bar:
        tasks = {c.index: bar.add_task(c.label, total=plan.samples, loss="-", note="")
                 for c in plan.conditions()}

        def progress(p) -> None:
            note = "[red]diverged[/red]" if p.diverged else ("done" if p.phase == "done" else "")
            bar.update(tasks[p.condition.index], completed=min(p.done, p.total), note=note,
                       loss="-" if p.heldout_loss is None else f"{p.heldout_loss:.4f}")

        result = run_transfer(store, plan, mode=mode, progress=progress, should_stop=stop, threads=args.threads)
    written = write_pictures(store, result, args.png) if args.png else []
    if args.json:
        out = result.to_json()
        out["pictures"] = [str(p) for p in written]
        print(json.dumps(out))
    else:
        Console(width=max(Console().width, 220)).print(result_table(result))
        for path in written[:1]:
            console.print(f"filter sheet: {path}")
    if result.interrupted:
        done = ", ".join(r.condition.label for r in result.conditions) or "none"
        left = ", ".join(f"{p['condition']} ({p['samples']:,} samples)" for p in result.pending)
        console.print(f"interrupted: finished {done}; not finished: {left}. "
                      f"Finish with the same command and --resume.")
        return EXIT_INTERRUPTED
    if args.compare:
        from aetui.cli.compare import show_comparison

        return show_comparison(store, [r.session for r in result.conditions],
                               note=f"the transfer experiment, {plan.samples:,} samples per condition")
    return 0


def write_pictures(store, result, out_dir: str) -> list[Path]:
    """The side-by-side filter sheet, then each finished condition's pictures in DIR/SESSION/."""
    from aetui.study.transfer import sheet_panels
    from aetui.study.pictures import export_named, filter_sheet, write_png

    if not result.conditions:
        return []
    panels, shape = sheet_panels(store, result)
    paths = [write_png(filter_sheet(panels, shape), Path(out_dir) / SHEET_FILE)]
    for r in result.conditions:
        paths += export_named(store, r.session, Path(out_dir) / r.session)
    return paths


def result_table(result) -> "Table":  # noqa: F821
    """The comparison table: one row per finished condition."""
    from rich.table import Table

    cfg = result.plan.config
    table = Table(title=f"transfer experiment: {cfg.data}, {cfg.hidden} hidden, {result.plan.samples:,} samples "
                        f"per condition, seed {cfg.seed}; sessions {result.plan.prefix}-* in {result.sessions_dir}",
                  caption="held-out: each activation's own loss (ce cross-entropy, se squared error) at the end, "
                          "at the condition's start and after 10% of its samples; mse: squared error per pixel, "
                          "comparable across all; start cos: filters vs the segment's first ones; b recovery: b vs "
                          "condition 1's b before the reset (correlation r, mean |b| ratio). Definitions: "
                          "aetui experiment transfer --help")
    for name in ("condition", "held-out", "start", "@10%", "mse", "locality", "contrast", "start cos",
                 "mean code", "lifetime", "dead", "b min/mean/max", "b recovery", "diverged"):
        table.add_column(name, justify="left" if name in ("condition", "diverged") else "right", no_wrap=True)
    for r in result.conditions:
        f, k, b, rec = r.filters, r.codes, r.bias, r.bias_recovery
        table.add_row(
            r.condition.label, f"{_fmt(r.heldout_loss, 4)} {_short_loss(r.loss)}", _fmt(r.start_heldout_loss, 4),
            _fmt(r.heldout_at_tenth, 4), _fmt(r.heldout_mse, 4), _fmt(f["locality_mean"], 3),
            _fmt(f["contrast_mean"], 2), _fmt(r.start_cosine, 3), _fmt(k["mean_code"], 3),
            _fmt(k["lifetime_sparsity_mean"], 3), f"{k['dead_units']}/{cfg.hidden}",
            "/".join(_fmt(b[key], 2, signed=True) for key in ("min", "mean", "max")),
            "-" if rec is None else f"r {_fmt(rec['corr'], 2)}, x{_fmt(rec['ratio'], 2)}",
            f"[red]yes, at {r.diverged_at:,}[/red]" if r.diverged else "no")
    return table


class _StopOnInterrupt:
    """A should_stop callable: the first Ctrl-C asks the experiment to stop after the current chunk,
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


def _fmt(v, decimals: int, signed: bool = False) -> str:
    """A number with fixed decimals, or 3 significant digits when it is huge (diverged weights)."""
    if v is None or v != v:
        return "-"
    sign = "+" if signed else ""
    return format(v, f"{sign}.3g" if abs(v) >= 1e4 else f"{sign}.{decimals}f")


def _short_loss(name: str) -> str:
    return {"cross_entropy": "ce", "squared_error": "se"}.get(name, "")
