"""`aetui experiment transfer`: the shipped transfer plan (aetui study run transfer), with options
for other activations, scales, budgets and seeds."""

from __future__ import annotations

import argparse

from aetui.cli.options import comma_list, nonneg_int, positive_int, positive_number
from aetui.cli.study_run import add_run_options, run_plan, with_definitions
from aetui.errors import ConfigError


def add_parser(subparsers) -> argparse.ArgumentParser:
    """`experiment transfer`: the study's weight-reuse experiment in one command."""
    exp = subparsers.add_parser("experiment", help="run a study end to end (transfer: reuse learned weights)")
    kinds = exp.add_subparsers(dest="experiment", parser_class=with_definitions(type(exp)), required=True,
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
    add_run_options(p)
    return p


def run(args) -> int:
    from aetui.model.config import TrainConfig
    from aetui.study.transfer import TransferPlan

    if args.experiment != "transfer":  # pragma: no cover - argparse limits the choices
        raise ConfigError(f"unknown experiment {args.experiment}")
    config = TrainConfig(data=args.data, hidden=args.hidden, seed=args.seed).validated()
    plan = TransferPlan(samples=args.samples, prefix=args.name, activation=args.activation,
                        scales=args.weight_scale, config=config, seeds=args.seeds).validated()
    return run_plan(args, plan.study_plan())
