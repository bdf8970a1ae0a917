"""The command line: dashboard, headless training, sessions, benchmark, experiments, export."""

from __future__ import annotations

import argparse
import math
import os
import sys

from aetui.errors import AetuiError, ConfigError

EXIT_RUNTIME = 1
EXIT_USAGE = 2
COMMANDS = ("train", "sessions", "bench", "experiment", "export")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one line and exits 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise ConfigError(message)


def _whole_number(minimum: int):
    """An argparse type: a whole number >= minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive_int = _whole_number(1)
_nonneg_int = _whole_number(0)


def _thread_count(text: str) -> int:
    """An argparse type: compute threads, 1 up to what this machine's kernels can run."""
    from aetui.model.threads import available

    value = _positive_int(text)
    if value > available():
        raise argparse.ArgumentTypeError(f"this machine runs at most {available()} (set NUMBA_NUM_THREADS for more)")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


# Options that map one to one onto TrainConfig fields: (flag, field, type, help).
CONFIG_OPTIONS = (
    ("--data", "data", str, "mnist5k (embedded), fashion, bars, bars16, or a path to IDX files or their folder"),
    ("--hidden", "hidden", _positive_int, "hidden units (default 100)"),
    ("--activation", "activation", str, "hidden activation (default sigmoid)"),
    ("--output-activation", "output_activation", str, "same (default), sigmoid or linear"),
    ("--loss", "loss", str, "auto (default: cross-entropy for sigmoid output), cross_entropy, squared_error"),
    ("--batch", "batch", _positive_int, "mini-batch size (default 20)"),
    ("--lr", "lr", _number, "learning rate (default: per activation, e.g. sigmoid 0.26)"),
    ("--bias-lr-scale", "bias_lr_scale", _number, "bias learning rate as a multiple of lr (sigmoid 3.1, else 1)"),
    ("--momentum", "momentum", _number, "SGD momentum in [0, 1) (default 0)"),
    ("--weight-decay", "weight_decay", _number, "L2 weight decay (default 0)"),
    ("--sparsity-target", "sparsity_target", _number, "KL sparsity target rho (default 0.05)"),
    ("--sparsity-weight", "sparsity_weight", _number, "KL sparsity weight beta (default 0: off)"),
    ("--noise", "noise", _number, "masking noise: share of input pixels zeroed (default 0.3)"),
    ("--dropout", "dropout", _number, "hidden dropout probability (default 0.4)"),
    ("--seed", "seed", _nonneg_int, "random seed (default 0)"),
)


def _add_training_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model and training (a resumed session keeps its own)")
    for flag, dest, typ, help_text in CONFIG_OPTIONS:
        g.add_argument(flag, dest=dest, type=typ, default=argparse.SUPPRESS, help=help_text)
    g.add_argument("--untied", dest="tied", action="store_false", default=argparse.SUPPRESS,
                   help="own decoder weights instead of W transposed")
    g.add_argument("--balanced", dest="balanced", action="store_true", default=argparse.SUPPRESS,
                   help="class-balanced batches (as the study) instead of shuffling")
    r = p.add_argument_group("run")
    r.add_argument("--session", help="session name: resumed if it exists, else created")
    r.add_argument("--sessions-dir", help="folder of sessions (default ./sessions or $AETUI_SESSIONS)")
    r.add_argument("--samples", type=_positive_int, help="train this many more samples (headless default 100000)")
    r.add_argument("--threads", type=_thread_count, default=1,
                   help="compute threads for the kernels and BLAS (default 1; leave a core for the dashboard)")
    r.add_argument("--headless", action="store_true", help="no dashboard: progress bar on stderr")
    r.add_argument("--json", action="store_true", help="headless: print one JSON summary on stdout")
    r.add_argument("--ascii", action="store_true", help="dashboard: ASCII-only drawing")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="aetui", description="Watch a single-hidden-layer autoencoder learn, in your terminal.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    train = sub.add_parser("train", help="train in the dashboard (default) or --headless")
    _add_training_options(train)
    sessions = sub.add_parser("sessions", help="list sessions, or `sessions show NAME`")
    sessions.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    sessions.add_argument("name", nargs="?")
    sessions.add_argument("--sessions-dir")
    sessions.add_argument("--json", action="store_true")
    bench = sub.add_parser("bench", help="training speed: engine vs NumPy reference (and PyTorch if installed)")
    bench.add_argument("--seconds", type=_number, default=2.0, help="time per measurement (default 2)")
    bench.add_argument("--threads", type=_thread_count, default=1)
    bench.add_argument("--quick", action="store_true", help="only the study's configuration")
    bench.add_argument("--json", action="store_true")
    from aetui.cli.experiment import add_experiment_parser, add_export_parser

    add_experiment_parser(sub)
    add_export_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    fast_exit = argv is None  # the console script itself, not a caller in this process
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["train", *argv]
    try:
        args = build_parser().parse_args(argv)
        args.fast_exit = fast_exit
        return _dispatch(args)
    except ConfigError as exc:
        print(f"aetui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except AetuiError as exc:
        print(f"aetui: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        print("aetui: interrupted", file=sys.stderr)
        return 130


def _dispatch(args) -> int:
    if args.command == "train":
        return cmd_train(args)
    if args.command == "sessions":
        from aetui.cli.sessions import cmd_sessions

        return cmd_sessions(args)
    if args.command == "bench":
        from aetui.study.bench import cmd_bench

        return cmd_bench(args)
    if args.command in ("experiment", "export"):
        from aetui.cli import experiment as experiment_cli

        return experiment_cli.cmd_experiment(args) if args.command == "experiment" else experiment_cli.cmd_export(args)
    raise ConfigError(f"unknown command {args.command}")  # pragma: no cover


def config_from_args(args) -> tuple["TrainConfig", dict]:  # noqa: F821
    """The TrainConfig the options ask for, and the options given explicitly (for resume checks)."""
    from aetui.model.config import TrainConfig

    fields = [dest for _, dest, _, _ in CONFIG_OPTIONS] + ["tied", "balanced"]
    explicit = {k: getattr(args, k) for k in fields if hasattr(args, k)}
    return TrainConfig(**explicit).validated(), explicit


def cmd_train(args) -> int:
    from aetui.sessions.store import SessionStore

    if args.json and not args.headless:
        raise ConfigError("--json goes with --headless")
    config, explicit = config_from_args(args)
    from aetui.training.launch import open_trainer

    store = SessionStore(args.sessions_dir)
    trainer = open_trainer(store, args.session, config, explicit)
    if args.headless:
        from aetui.cli.headless import run_headless

        return run_headless(trainer, samples=args.samples or 100_000, threads=args.threads, as_json=args.json)
    if args.samples is not None:
        from aetui.training.launch import close_trainer

        close_trainer(trainer, save=False)
        raise ConfigError("--samples goes with --headless (the dashboard trains until you quit)")
    from aetui.tui.app import run_dashboard

    code = run_dashboard(trainer, store=store, threads=args.threads, force_ascii=args.ascii)
    if args.fast_exit:
        # The session is saved and unlocked: skip the ~0.3 s interpreter teardown with Numba and
        # LLVM loaded, so q returns to the shell promptly.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
