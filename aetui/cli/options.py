"""Option types and option groups shared by the commands; a bad value is one line, exit 2."""

from __future__ import annotations

import argparse
import math

from aetui.errors import ConfigError


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as a ConfigError (one line, exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise ConfigError(message)


def whole_number(minimum: int):
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


positive_int = whole_number(1)
nonneg_int = whole_number(0)


def number(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def comma_list(item):
    """An argparse type: one or more comma-separated values, each parsed by `item` (a tuple)."""

    def parse(text: str) -> tuple:
        parts = [part.strip() for part in text.split(",")]
        if not all(parts):
            raise argparse.ArgumentTypeError(f"expected comma-separated values without empty entries, got {text!r}")
        return tuple(item(part) for part in parts)

    return parse


def positive_number(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def thread_count(text: str) -> int:
    """An argparse type: compute threads, 1 up to what this machine's kernels can run."""
    from aetui.model.threads import available

    value = positive_int(text)
    if value > available():
        raise argparse.ArgumentTypeError(f"this machine runs at most {available()} (set NUMBA_NUM_THREADS for more)")
    return value


def add_sessions_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sessions-dir", help="folder of sessions (default ./sessions or $AETUI_SESSIONS)")


def add_threads(parser: argparse.ArgumentParser, help_text: str = "compute threads (default 1)") -> None:
    parser.add_argument("--threads", type=thread_count, default=1, help=help_text)


# Options that map one to one onto TrainConfig fields: (flag, field, type, help).
CONFIG_OPTIONS = (
    ("--data", "data", str, "mnist5k (embedded), fashion, bars, bars16, or a path to IDX files or their folder"),
    ("--hidden", "hidden", positive_int, "hidden units (default 100)"),
    ("--activation", "activation", str, "hidden activation (default sigmoid)"),
    ("--output-activation", "output_activation", str, "same (default), sigmoid or linear"),
    ("--loss", "loss", str, "auto (default: cross-entropy for sigmoid output), cross_entropy, squared_error"),
    ("--batch", "batch", positive_int, "mini-batch size (default 20)"),
    ("--lr", "lr", number, "learning rate (default: per activation, e.g. sigmoid 0.26)"),
    ("--bias-lr-scale", "bias_lr_scale", number, "bias learning rate as a multiple of lr (sigmoid 3.1, else 1)"),
    ("--momentum", "momentum", number, "SGD momentum in [0, 1) (default 0)"),
    ("--weight-decay", "weight_decay", number, "L2 weight decay (default 0)"),
    ("--sparsity-target", "sparsity_target", number, "KL sparsity target rho (default 0.05)"),
    ("--sparsity-weight", "sparsity_weight", number, "KL sparsity weight beta (default 0: off)"),
    ("--noise", "noise", number, "masking noise: share of input pixels zeroed (default 0.3)"),
    ("--dropout", "dropout", number, "hidden dropout probability (default 0.4)"),
    ("--seed", "seed", nonneg_int, "random seed (default 0)"),
)
FLAG_FIELDS = ("tied", "balanced")  # the two on/off options: --untied, --balanced


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """Every TrainConfig field as an option; only those given end up in the namespace."""
    g = parser.add_argument_group("model and training (a resumed session keeps its own)")
    for flag, dest, typ, help_text in CONFIG_OPTIONS:
        g.add_argument(flag, dest=dest, type=typ, default=argparse.SUPPRESS, help=help_text)
    g.add_argument("--untied", dest="tied", action="store_false", default=argparse.SUPPRESS,
                   help="own decoder weights instead of W transposed")
    g.add_argument("--balanced", dest="balanced", action="store_true", default=argparse.SUPPRESS,
                   help="class-balanced batches (as the study) instead of shuffling")


def config_from_args(args) -> tuple["TrainConfig", dict]:  # noqa: F821
    """The TrainConfig the options ask for, and the options given explicitly (for resume checks)."""
    from aetui.model.config import TrainConfig

    fields = [dest for _, dest, _, _ in CONFIG_OPTIONS] + list(FLAG_FIELDS)
    explicit = {k: getattr(args, k) for k in fields if hasattr(args, k)}
    return TrainConfig(**explicit).validated(), explicit
