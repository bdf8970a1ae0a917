"""The entry point: one parser with a sub-command per module of aetui.cli, errors as one line."""

from __future__ import annotations

import importlib
import sys

from aetui.cli.options import Parser
from aetui.errors import EXIT_INTERRUPTED, AetuiError

# Sub-command -> its module in aetui.cli (each has add_parser(subparsers) and run(args)).
# The modules import the core inside run(), so building the parser stays cheap.
COMMANDS = {
    "train": "aetui.cli.train",
    "attach": "aetui.cli.attach",
    "stop": "aetui.cli.stop",
    "sessions": "aetui.cli.sessions",
    "bench": "aetui.cli.bench",
    "experiment": "aetui.cli.experiment",
    "study": "aetui.cli.study",
    "export": "aetui.cli.export",
    "report": "aetui.cli.report",
    "replay": "aetui.cli.replay",
    "compare": "aetui.cli.compare",
    "serve": "aetui.cli.serve",
}


def build_parser() -> Parser:
    parser = Parser(prog="aetui", description="Watch a single-hidden-layer autoencoder learn, in your terminal.")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns its exit code (see aetui.errors)."""
    fast_exit = argv is None  # the console script itself, not a caller in this process
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["train", *argv]
    try:
        args = build_parser().parse_args(argv)
        args.fast_exit = fast_exit
        return importlib.import_module(COMMANDS[args.command]).run(args)
    except AetuiError as exc:  # one line; a located one (a plan file's PLAN:LINE:COL: ...) as compilers print it
        print(str(exc) if getattr(exc, "located", False) else f"aetui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("aetui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
