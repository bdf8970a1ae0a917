"""`aetui bench`: the engine's training speed beside its peers, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import os

from aetui.cli.options import add_threads, number, positive_int


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("bench", help="training speed: engine vs NumPy reference (and PyTorch if installed)")
    p.add_argument("--seconds", type=number, default=2.0, help="time per measurement (default 2)")
    add_threads(p)
    p.add_argument("--quick", action="store_true", help="only the study's configuration")
    p.add_argument("--scale", action="store_true",
                   help="cost at scale: hidden 100-2000 on mnist5k and Fashion-MNIST (speed, memory, session size, save time)")
    p.add_argument("--attached", action="store_true",
                   help="what an attached dashboard (120x40) costs the trainer process, its traffic, time to attach")
    p.add_argument("--web", action="store_true",
                   help="what browser tabs of aetui serve cost the trainer (needs playwright and Debian's chromium)")
    p.add_argument("--cold-start", action="store_true",
                   help="a first start: the train command with an empty Numba cache and a warm one, "
                        "and where the compiling time goes")
    p.add_argument("--rounds", type=positive_int, default=3,
                   help="--attached, --cold-start, --web: rounds (default 3)")
    p.add_argument("--json", action="store_true")
    return p


def run(args) -> int:
    from rich.console import Console

    from aetui.study.bench import run_bench

    console = Console(stderr=True)
    if os.environ.get("OPENBLAS_CORETYPE"):
        # Set on some shared machines for old OpenBLAS builds: NumPy's BLAS then runs that CPU's
        # kernel, and the sgemm yardstick and the NumPy peer come out slower than this CPU can go.
        console.print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} is set, so NumPy's BLAS (the sgemm "
                      "yardstick, the numpy peer) runs that CPU's kernel; unset it and OPENBLAS_L2_SIZE for this "
                      "CPU's figures")
    if args.scale:
        return _run_scale(args, console)
    if args.attached:
        return _run_attached(args, console)
    if args.cold_start:
        return _run_cold_start(args, console)
    if args.web:
        from aetui.cli.bench_web import run_web_bench, web_table

        with console.status("starting...") as status:
            result = run_web_bench(args.seconds, args.rounds, on_round=status.update)
        _show(args, result, lambda: [web_table(result)])
        return 0
    with console.status("compiling kernels...") as status:
        result = run_bench(args.threads, args.quick, args.seconds,
                           on_case=lambda label: status.update(f"measuring {label} ..."))
    _show(args, result, lambda: [result_table(result["cases"], result["cpu"])])
    return 0


def _show(args, result: dict, tables) -> None:
    """The result on stdout: one JSON object with --json, else the tables tables() makes, on a
    console at least WIDE columns wide."""
    if args.json:
        print(json.dumps(result))
        return
    from rich.console import Console

    out = Console(width=max(Console().width, WIDE))
    for table in tables():
        out.print(table)


WIDE = 110  # columns the benches' tables are drawn in, at least


def result_table(rows: list[dict], cpu: dict | None = None) -> "Table":  # noqa: F821
    """One row per implementation and case, with the sgemm yardstick of the same rounds."""
    from rich.table import Table

    from aetui.study.bench import ONE_THREAD, PEERS

    where = "" if cpu is None else f"\nCPU: {cpu['line']}; kernels: {cpu['kernels']}; NumPy's BLAS: {cpu['blas']}"
    table = Table(title="aetui bench: samples/s and GFLOP/s (10 x visible x hidden FLOPs per sample), "
                        "interleaved with a one-thread sgemm (1024^3) in the same rounds" + where)
    for col in ("case", "threads", "implementation", "samples/s", "GFLOP/s", "% of sgemm", "engine is"):
        table.add_column(col, justify="left" if col in ("case", "implementation") else "right")
    table.caption = ("peers: " + "; ".join(f"{name}: {what}" for name, what in PEERS.items())
                     + f"; {ONE_THREAD}: the engine on one thread in the same rounds (engine is: what the threads gain)")
    for row in rows:
        eng = row["samples_per_second"]["engine"]
        gemm = row["sgemm_gflops_1thread"]
        for name, rate in row["samples_per_second"].items():
            g = row["gflops"][name]
            ratio = "" if name == "engine" else f"{eng / rate:.2f}x"
            threads = "1" if name == ONE_THREAD else str(row["threads"])
            table.add_row(row["case"], threads, name, f"{rate:,.0f}", f"{g:.1f}", f"{100 * g / gemm:.0f}%", ratio)
        table.add_row(row["case"], "1", "sgemm 1024^3", "", f"{gemm:.1f}", "100%", "")
        table.add_section()
    return table


def _run_scale(args, console) -> int:
    from aetui.study.scale import run_scale

    with console.status("measuring...") as status:
        result = run_scale(args.seconds, on_case=lambda label: status.update(f"measuring {label} (a process each)..."))
    _show(args, result, lambda: [scale_table(result["cases"])])
    if not args.json:
        for data, why in result["skipped"].items():
            console.print(f"{data} skipped: {why}")
    return 0


def scale_table(rows: list[dict]) -> "Table":  # noqa: F821
    """One row per data set and hidden size."""
    from rich.table import Table

    table = Table(title="aetui bench --scale: one process per case, one thread; training includes its reports")
    for col in ("data", "hidden", "samples/s", "% of sgemm", "reports", "start s", "peak MB", "session MB",
                "thin MB", "save s"):
        table.add_column(col, justify="left" if col == "data" else "right")
    for r in rows:
        table.add_row(r["data"], str(r["hidden"]), f"{r['samples_per_second']:,.0f}",
                      f"{100 * r['gflops'] / r['sgemm_gflops_1thread']:.0f}%", f"{100 * r['report_share']:.1f}%",
                      f"{r['start_seconds']:.2f}", f"{r['peak_memory_mb']:,.0f}", f"{r['session_mb']:.1f}",
                      f"{r['thin_mb']:.1f}", f"{r['save_seconds']:.2f}")
    return table


def _run_attached(args, console) -> int:
    from aetui.cli.bench_attached import run_attached_bench

    with console.status("starting a trainer...") as status:
        result = run_attached_bench(args.seconds, args.rounds, on_round=status.update)
    _show(args, result, lambda: [attached_table(result, args.seconds)])
    return 0


def attached_table(result: dict, seconds: float) -> "Table":  # noqa: F821
    """One row per round (alone and watched), then their medians; the stop in the caption."""
    import statistics

    from rich.table import Table

    median = statistics.median
    table = Table(title=f"aetui bench --attached: the default configuration, one trainer process, rounds of "
                        f"{seconds:g} s alternating")
    for col in ("round", "alone samples/s", "watched samples/s", "watched / alone", "KB/s to the dashboard",
                "attach to first frame", f"{result['timer_hz']:g} Hz ticks", "key handled in (median, max)"):
        table.add_column(col, justify="right")
    every_key = [k for keys in result["key_seconds"] for k in keys]

    def keys_cell(keys: list[float]) -> str:
        return f"{1000 * median(keys):.0f} ms, {1000 * max(keys):.0f} ms" if keys else "-"

    for i, (a, w, r, b, f, t, k) in enumerate(zip(result["alone_samples_per_second"], result["watched_samples_per_second"],
                                                  result["watched_over_alone"], result["bytes_per_second_watched"],
                                                  result["first_frame_seconds"], result["ticks_share"],
                                                  result["key_seconds"]), 1):
        table.add_row(str(i), f"{a:,.0f}", f"{w:,.0f}", f"{100 * r:.1f}%", f"{b / 1000:,.0f}", f"{f:.2f} s",
                      f"{100 * t:.0f}%", keys_cell(k))
    table.add_row("median", f"{median(result['alone_samples_per_second']):,.0f}",
                  f"{median(result['watched_samples_per_second']):,.0f}", f"{100 * median(result['watched_over_alone']):.1f}%",
                  f"{median(result['bytes_per_second_watched']) / 1000:,.0f}", f"{median(result['first_frame_seconds']):.2f} s",
                  f"{100 * median(result['ticks_share']):.0f}%", keys_cell(every_key), style="bold")
    table.caption = (f"ticks: the share a {result['timer_hz']:g} Hz timer of the dashboard got while the trainer "
                     f"trained; keys: press (f) to its action; then stopping the training trainer, its save "
                     f"included (what q waits for): {result['stop_seconds']:.2f} s")
    return table


def _run_cold_start(args, console) -> int:
    from aetui.study.cold_start import run_cold_start

    with console.status("timing...") as status:
        result = run_cold_start(args.rounds, on_run=lambda what: status.update(f"timing {what}..."))
    _show(args, result, lambda: cold_start_tables(result))
    return 0


def cold_start_tables(result: dict) -> list:
    """The runs (median and range per cache) and the kernels that took longest to compile."""
    import statistics

    from rich.table import Table

    runs = Table(title=f"aetui bench --cold-start: `{result['command']}`, a fresh process each, "
                       f"{max(r['round'] for r in result['runs'])} round(s)")
    for col in ("Numba cache", "to the first mini-batch", "range", "whole command", "range", "kernels compiled"):
        runs.add_column(col, justify="left" if col == "Numba cache" else "right")
    to_first = {}
    for cache in ("empty", "warm"):
        first = [r["to_first_batch"] for r in result["runs"] if r["cache"] == cache]
        whole = [r["whole_command"] for r in result["runs"] if r["cache"] == cache]
        compiled = sorted({r["kernels_compiled"] for r in result["runs"] if r["cache"] == cache})
        to_first[cache] = statistics.median(first)
        runs.add_row(cache, f"{to_first[cache]:.2f} s", f"{min(first):.2f}-{max(first):.2f}",
                     f"{statistics.median(whole):.2f} s", f"{min(whole):.2f}-{max(whole):.2f}",
                     str(compiled[0]) if len(compiled) == 1 else f"{compiled[0]}-{compiled[-1]}")
    runs.caption = f"warm / empty cache, to the first mini-batch (medians): {to_first['warm'] / to_first['empty']:.2f}"
    kernels = Table(title="compiling with an empty cache (first round): seconds per kernel, not counting "
                          "the kernels it calls")
    for col in ("process", "kernel", "seconds"):
        kernels.add_column(col, justify="right" if col == "seconds" else "left")
    for r in result["kernels"][:KERNEL_ROWS]:
        kernels.add_row(r["process"], r["kernel"], f"{r['seconds']:.2f}")
    for process in sorted({r["process"] for r in result["kernels"]}):
        mine = [r["seconds"] for r in result["kernels"] if r["process"] == process]
        kernels.add_row(process, f"all {len(mine)} kernels", f"{sum(mine):.2f}", style="bold")
    return [runs, kernels]


KERNEL_ROWS = 12  # kernels listed, longest first
