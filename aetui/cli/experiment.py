"""`aetui experiment transfer`: options, progress, the comparison table, the filter sheet."""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

from aetui.cli.options import add_sessions_dir, add_threads, comma_list, nonneg_int, positive_int, positive_number
from aetui.errors import EXIT_INTERRUPTED, ConfigError

# Rich, NumPy and the core are imported inside the command: building the parser stays cheap.

SHEET_FILE = "transfer-filters.png"
STRIP_FILE = "transfer-strip.png"
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
                    "ACTIVATION scaled x0.1 and x1 (--weight-scale); train ACTIVATION from random init as the "
                    "control. Each condition is a session PREFIX-... with its lineage, trained SAMPLES in its own "
                    "segment; with --seeds N, once per seed (PREFIX-...-seedS), reported as means with 95% "
                    "intervals and the study's claims judged on paired seeds.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=positive_int, default=300_000, help="samples per condition (default 300000)")
    p.add_argument("--data", default="mnist5k", help="data set (default mnist5k)")
    p.add_argument("--hidden", type=positive_int, default=100, help="hidden units (default 100)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="random seed (default 0); with --seeds N the first of N")
    p.add_argument("--seeds", type=positive_int, default=1, metavar="N",
                   help="run every condition with N seeds and give means with 95%% intervals (default 1)")
    p.add_argument("--activation", type=comma_list(str), default=("relu",), metavar="ACTIVATION[,...]",
                   help="the activation(s) the sigmoid weights move to, comma-separated (default relu)")
    p.add_argument("--weight-scale", type=comma_list(positive_number), default=(0.1, 1.0), metavar="SCALE[,...]",
                   help="the scale(s) of the reused weights, comma-separated (default 0.1,1)")
    p.add_argument("--name", default="transfer", metavar="PREFIX", help="session name prefix (default transfer)")
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
    p.add_argument("--png", metavar="DIR", help=f"also write DIR/{SHEET_FILE}, DIR/{STRIP_FILE} (the same units of "
                   "the reuse runs over their stored snapshots, one strip above the other) and each session's "
                   "pictures in DIR/SESSION/")
    p.add_argument("--compare", action="store_true", help="when it finishes, open the conditions as one comparison "
                   "(as aetui compare does)")
    return p


def run(args) -> int:
    from aetui.model.config import TrainConfig
    from aetui.study.dask_executor import check_address
    from aetui.study.transfer import TransferPlan, prepare_store, run_transfer, warm_up_plan
    from aetui.sessions.store import SessionStore
    from rich.console import Console

    from aetui.cli.study_progress import UnitProgress

    if args.experiment != "transfer":  # pragma: no cover - argparse limits the choices
        raise ConfigError(f"unknown experiment {args.experiment}")
    if args.workers > 1 and args.threads > 1:
        raise ConfigError("--threads is for --workers 1: each worker process trains with one thread")
    config = TrainConfig(data=args.data, hidden=args.hidden, seed=args.seed).validated()
    plan = TransferPlan(samples=args.samples, prefix=args.name, activation=args.activation,
                        scales=args.weight_scale, config=config, seeds=args.seeds).validated()
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
        prepare_store(store, plan.conditions(), mode)  # refuse before compiling anything
    console = Console(stderr=True)
    stop = _StopOnInterrupt(console)
    with console.status(f"connecting to the Dask scheduler at {args.scheduler}..." if args.scheduler
                        else "starting...", spinner="dots"):
        executor = _executor(args, store, plan)  # worker processes start (and load kernels) while this one does
    with executor:
        with console.status("loading the kernels...", spinner="dots") as status:
            warm_up_plan(plan, args.threads, lambda what, part, parts: status.update(
                f"compiling kernels, first use only (part {part} of {parts}, {what})..."))
        display = UnitProgress(plan, console, not console.is_terminal and args.json, _unit_label)
        with stop, display as progress:
            result = run_transfer(store, plan, mode=mode, progress=progress, should_stop=stop,
                                  threads=args.threads, executor=executor)
    written = write_pictures(store, result, args.png) if args.png else []
    if args.json:
        out = result.to_json()
        out["pictures"] = [str(p) for p in written]
        print(json.dumps(out))
    else:
        wide = Console(width=max(Console().width, 220))
        wide.print(result_table(result) if plan.seeds == 1 else seeds_table(result))
        wide.print(claims_table(result))
        for path in written[:1]:
            console.print(f"filter sheet: {path}")
        for path in written[1:2]:
            if path.name == STRIP_FILE:
                console.print(f"strip: {path}")
    if result.interrupted:
        seeds = plan.seeds > 1
        done = ", ".join(r.condition.label + (f" (seed {r.condition.seed})" if seeds else "")
                         for r in result.conditions) or "none"
        left = ", ".join(_pending_text(p, seeds) for p in result.pending)
        console.print(f"interrupted: finished {done}; not finished: {left}. "
                      f"Finish with the same command and --resume.")
        return EXIT_INTERRUPTED
    if args.compare:
        from aetui.cli.compare import show_comparison

        return show_comparison(store, [r.session for r in result.conditions],
                               note=f"the transfer experiment, {plan.samples:,} samples per condition")
    return 0


def _executor(args, store, plan):
    """Where the units run: here one after another, in --workers processes, or on the --scheduler's cluster."""
    from functools import partial

    from aetui.study.executors import InlineExecutor, PoolExecutor
    from aetui.study.transfer import warm_up_plan

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
    return cond.label if plan.seeds == 1 else f"{cond.label} (seed {cond.seed})"


def write_pictures(store, result, out_dir: str) -> list[Path]:
    """The side-by-side filter sheet, then each finished condition's pictures in DIR/SESSION/."""
    from aetui.study.transfer import sheet_panels
    from aetui.study.pictures import export_named, filter_sheet, write_png

    if not result.conditions:
        return []
    panels, shape = sheet_panels(store, result)
    paths = [write_png(filter_sheet(panels, shape), Path(out_dir) / SHEET_FILE)]
    runs = strip_runs(result)
    if runs:
        from aetui.exports.strip import stacked_strip
        from aetui.sessions.reading import open_session

        image, _ = stacked_strip([open_session(name, store.root) for name in runs])
        paths.append(write_png(image, Path(out_dir) / STRIP_FILE))
    for r in result.conditions:
        paths += export_named(store, r.session, Path(out_dir) / r.session)
    return paths


def strip_runs(result) -> list[str]:
    """The sessions of the transfer strip: the first seed's reuse runs, base -> base first, then each
    other activation at its smallest weight scale (sigmoid -> sigmoid, sigmoid -> relu x0.1)."""
    reuse = [r.condition for r in result.conditions if r.condition.source is not None
             and r.condition.seed == result.plan.config.seed]
    same = [c.session for c in reuse if c.activation == c.source]
    others: dict[str, object] = {}
    for c in reuse:
        if c.activation != c.source and (c.activation not in others or c.weight_scale < others[c.activation].weight_scale):
            others[c.activation] = c
    return same + [c.session for c in others.values()]


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


def seeds_table(result) -> "Table":  # noqa: F821
    """The comparison table over seeds: per condition each metric's mean ± the half-width of its 95% interval."""
    from rich.table import Table

    cfg, plan = result.plan.config, result.plan
    table = Table(title=f"transfer experiment: {cfg.data}, {cfg.hidden} hidden, {plan.samples:,} samples per condition, "
                        f"seeds {plan.seed_list[0]}..{plan.seed_list[-1]}; sessions {plan.prefix}-*-seedS in "
                        f"{result.sessions_dir}",
                  caption="mean ± half-width of the 95% Student-t interval over the seeds (over the seeds that did not "
                          "diverge); columns as with one seed. Definitions: aetui experiment transfer --help")
    for name in ("condition", "seeds", "held-out", "@10%", "mse", "locality", "spread", "contrast", "start cos",
                 "lifetime", "dead", "b recovery r", "diverged"):
        table.add_column(name, justify="left" if name in ("condition", "diverged") else "right", no_wrap=True)
    for c in result.to_json()["conditions"]:
        rec = c["bias_recovery"]
        table.add_row(
            c["condition"], str(c["seeds"]), f"{_pm(c, 'heldout_loss', 4)} {_short_loss(c['loss'])}",
            _pm(c, "heldout_at_tenth", 4), _pm(c, "heldout_mse", 4), _pm(c, "locality", 3), _pm(c, "spread", 3),
            _pm(c, "contrast", 2), _pm(c, "start_cosine", 3), _pm(c["sparsity"], "lifetime", 3),
            _pm(c, "dead_units", 1), "-" if rec is None else _pm(rec, "corr", 2),
            f"[red]{c['diverged_runs']} of {c['seeds']}[/red]" if c["diverged_runs"] else "none")
    return table


def claims_table(result) -> "Table":  # noqa: F821
    """The study's observations, each as a comparison over paired seeds with its verdict."""
    from rich.table import Table

    table = Table(title="the study's observations, tested on paired seeds (each seed's reuse runs against its own "
                        "sigmoid run and controls)",
                  caption="effect: mean over seeds of the difference (or the mean, or the share of seeds); interval: "
                          "95% Student t (share: exact Clopper-Pearson); holds = the interval lies on the claimed side "
                          "of the reference, contradicted = on the other side, not shown = it holds the reference or "
                          "there are fewer than 2 seeds")
    for name in ("observation", "comparison", "effect", "95% interval", "seeds", "verdict"):
        table.add_column(name, justify="right" if name in ("effect", "95% interval", "seeds") else "left", no_wrap=True)
    colour = {"holds": "green", "contradicted": "red", "not shown": "yellow"}
    for claim in result.claims():
        i = claim.interval
        table.add_row(claim.observation, claim.statement, _fmt(i.mean, 4),
                      "-" if i.low is None else f"[{_fmt(i.low, 4)}, {_fmt(i.high, 4)}]", str(i.n),
                      f"[{colour[claim.verdict]}]{claim.verdict}[/{colour[claim.verdict]}]")
    return table


def _pm(values: dict, key: str, decimals: int) -> str:
    """'mean ±half-width' of values[key] and values[key_ci], '-' when there is no mean."""
    mean, ci = values.get(key), values.get(f"{key}_ci")
    if mean is None:
        return "-"
    return _fmt(mean, decimals) if ci is None else f"{_fmt(mean, decimals)} ±{_fmt((ci[1] - ci[0]) / 2, decimals)}"


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
