"""`aetui study check|run|show`: a study written down as a plan file, checked, run, and read back.

    aetui study check PLAN         the conditions it expands to, what each starts from, the order
                                   they can run in, the claims; trains nothing
    aetui study run PLAN           run it (as `experiment transfer` runs the shipped `transfer` plan)
    aetui study show PREFIX        the table and verdicts from the saved sessions (also of a study
                                   still running or interrupted: what is finished)

PLAN is a TOML file or the name of a shipped plan (`transfer`); aetui/study/plan_file.py has
the format.
"""

from __future__ import annotations

import argparse
import json

from aetui.cli.options import add_sessions_dir, positive_int
from aetui.cli.study_run import add_run_options, run_plan, with_definitions


def add_parser(subparsers) -> argparse.ArgumentParser:
    study = subparsers.add_parser("study", help="a study as a plan file: check it, run it, show its verdicts")
    kinds = study.add_subparsers(dest="action", parser_class=with_definitions(type(study)), required=True,
                                 metavar="ACTION")
    check = kinds.add_parser("check", help="print the conditions a plan expands to and the order they run in; "
                             "trains nothing", description="Read PLAN, check every option as aetui train would, "
                             "and print its conditions, what each starts from, the order they can run in and its "
                             "claims. Nothing is trained and no session is created.",
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    _plan_args(check)
    check.add_argument("--json", action="store_true", help="print one JSON object instead")
    run = kinds.add_parser("run", help="run a plan: every condition and seed, then the table and the claims",
                           description="Run every condition of PLAN for every seed, each a session "
                           "PREFIX-NAME (PREFIX-NAME-seedS with several seeds), then print the table and the "
                           "claims judged on paired seeds. Ctrl-C stops after the current chunk; --resume "
                           "finishes the rest.", formatter_class=argparse.RawDescriptionHelpFormatter)
    _plan_args(run)
    add_run_options(run)
    show = kinds.add_parser("show", help="the table and verdicts of a study from its saved sessions",
                            description="Measure the finished conditions of the study PREFIX from its saved "
                            "sessions (read-only; a study still running or interrupted shows what is finished) "
                            "and print the table and the claims.",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    show.add_argument("prefix", metavar="PREFIX", help="the study's name ([study] name, the sessions' prefix)")
    add_sessions_dir(show)
    show.add_argument("--json", action="store_true", help="print one JSON object instead")
    return study


def _plan_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("plan", metavar="PLAN", help="a plan file (TOML), or a shipped plan's name: transfer, bias")
    p.add_argument("--seeds", type=positive_int, metavar="N", help="run every condition with N seeds (default: "
                   "the plan's [study] seeds)")
    p.add_argument("--data", help="train every condition on this data set instead of the plan's [study] data")
    p.add_argument("--name", metavar="PREFIX", help="the sessions' prefix instead of the plan's [study] name")


def run(args) -> int:
    from aetui.study.plan_file import read_plan

    if args.action == "show":
        return _show(args)
    plan = read_plan(args.plan, args.seeds, args.data, args.name)
    if args.action == "check":
        return _check(plan, args.json)
    return run_plan(args, plan)


def _check(plan, as_json: bool) -> int:
    from rich.console import Console

    from aetui.cli.study_tables import plan_table

    if as_json:
        print(json.dumps(plan_json(plan)))
        return 0
    console = Console(width=max(Console().width, 160))
    console.print(plan_table(plan))
    waves = plan.order()
    for k, wave in enumerate(waves, 1):
        after = "at once" if k == 1 else "once the conditions they start from are done"
        console.print(f"order {k}: {', '.join(wave)} ({after})")
    for spec in plan.claims:
        console.print(f"claim: {spec.text}: [bold]{spec.statement}[/bold]")
    runs = len(plan.units())
    console.print(f"{len(plan.conditions)} conditions x {plan.seeds} seed{'s' if plan.seeds != 1 else ''} = "
                  f"{runs} run{'s' if runs != 1 else ''} of {plan.samples:,} samples; nothing was trained")
    return 0


def plan_json(plan) -> dict:
    """What `study check --json` prints: the plan as it will run."""
    from aetui.cli.study_tables import settings_of, start_of, steps_of

    return {"prefix": plan.prefix, "title": plan.title, "samples": plan.samples, "seeds": plan.seed_list,
            "data": plan.config.data, "hidden": plan.config.hidden,
            "conditions": [{"name": c.name, "activation": c.activation, "starts_from": start_of(c),
                            "source": c.source, "snapshot": c.snapshot, "weight_scale": c.weight_scale,
                            "keep_biases": c.keep_biases, "settings": settings_of(c), "then": steps_of(c),
                            "sessions": [plan.session_name(c.name, s) for s in plan.seed_list]}
                           for c in plan.conditions],
            "order": plan.order(), "claims": [{"text": s.text, "compare": s.statement} for s in plan.claims]}


def _show(args) -> int:
    from rich.console import Console

    from aetui.cli.study_tables import claims_table, result_table, seeds_table
    from aetui.study.reading import open_study

    record = open_study(args.prefix, args.sessions_dir)
    result = record.result
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    wide = Console(width=max(Console().width, 220))
    wide.print(result_table(result) if result.plan.seeds == 1 else seeds_table(result))
    if result.plan.claims:
        wide.print(claims_table(result))
    if result.pending:
        left = ", ".join(f"{p['session']} ({p['samples']:,} of {result.plan.samples:,} samples)" for p in result.pending)
        Console(stderr=True).print(f"not finished: {left}")
    return 0
