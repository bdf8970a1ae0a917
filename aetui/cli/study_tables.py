"""A study's output on the terminal and on disk: the comparison table (one seed or many), the
claims with their verdicts, and the pictures (--png)."""

from __future__ import annotations

from pathlib import Path

SHEET_FILE = "{prefix}-filters.png"  # every finished condition's filters side by side
STRIP_FILE = "{prefix}-strip.png"  # the reuse runs' units over their stored snapshots, one strip above the other


def write_pictures(store, result, out_dir: str) -> list[Path]:
    """The side-by-side filter sheet, then each finished condition's pictures in DIR/SESSION/."""
    from aetui.study.runner import sheet_panels
    from aetui.study.pictures import export_named, filter_sheet, write_png

    if not result.conditions:
        return []
    panels, shape = sheet_panels(store, result)
    prefix = result.plan.prefix
    paths = [write_png(filter_sheet(panels, shape), Path(out_dir) / SHEET_FILE.format(prefix=prefix))] if panels else []
    runs = strip_runs(result)
    if runs:
        from aetui.exports.strip import stacked_strip
        from aetui.sessions.reading import open_session

        image, _ = stacked_strip([open_session(name, store.root) for name in runs])
        paths.append(write_png(image, Path(out_dir) / STRIP_FILE.format(prefix=prefix)))
    for r in result.conditions:
        paths += export_named(store, r.session, Path(out_dir) / r.session)
    return paths


def strip_runs(result) -> list[str]:
    """The sessions of the strip: the first seed's runs that start from another condition, those under
    their source's activation first, then each other activation at its smallest weight scale
    (sigmoid -> sigmoid, sigmoid -> relu x0.1)."""
    plan = result.plan
    reuse = [r.condition for r in result.conditions if r.condition.source is not None and r.condition.seed == plan.seed]
    kept = [c for c in reuse if c.activation == plan.condition(c.source).activation]
    others: dict[str, object] = {}
    for c in reuse:
        if c not in kept and (c.activation not in others or c.weight_scale < others[c.activation].weight_scale):
            others[c.activation] = c
    return [c.session for c in kept] + [c.session for c in others.values()]


def study_title(plan) -> str:
    return plan.title or f"study {plan.prefix}"


def result_table(result) -> "Table":  # noqa: F821
    """The comparison table: one row per finished condition."""
    from rich.table import Table

    cfg = result.plan.config
    table = Table(title=f"{study_title(result.plan)}: {cfg.data}, {cfg.hidden} hidden, {result.plan.samples:,} samples "
                        f"per condition, seed {cfg.seed}; sessions {result.plan.prefix}-* in {result.sessions_dir}",
                  caption="held-out: each activation's own loss (ce cross-entropy, se squared error) at the end, "
                          "at the condition's start and after 10% of its samples; mse: squared error per pixel, "
                          "comparable across all; start cos: filters vs the condition's first ones; b recovery: b vs "
                          "b before the (last) reset (correlation r, mean |b| ratio). Definitions: "
                          "aetui study run --help")
    for name in ("condition", "held-out", "start", "@10%", "mse", "locality", "contrast", "start cos",
                 "mean code", "lifetime", "dead", "b min/mean/max", "b recovery", "diverged"):
        table.add_column(name, justify="left" if name in ("condition", "diverged") else "right", no_wrap=True)
    for r in result.conditions:
        f, k, b, rec = r.filters, r.codes, r.bias, r.bias_recovery
        table.add_row(
            r.condition.name, f"{_fmt(r.heldout_loss, 4)} {_short_loss(r.loss)}", _fmt(r.start_heldout_loss, 4),
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
    table = Table(title=f"{study_title(plan)}: {cfg.data}, {cfg.hidden} hidden, {plan.samples:,} samples per condition, "
                        f"seeds {plan.seed_list[0]}..{plan.seed_list[-1]}; sessions {plan.prefix}-*-seedS in "
                        f"{result.sessions_dir}",
                  caption="mean ± half-width of the 95% Student-t interval over the seeds (over the seeds that did not "
                          "diverge); columns as with one seed. Definitions: aetui study run --help")
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
    """The plan's claims, each as a comparison over paired seeds with its verdict."""
    from rich.table import Table

    table = Table(title="the study's claims, tested on paired seeds (each seed's conditions against the same seed's, "
                        "a reuse run against the run it started from)",
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


def _fmt(v, decimals: int, signed: bool = False) -> str:
    """A number with fixed decimals, or 3 significant digits when it is huge (diverged weights)."""
    if v is None or v != v:
        return "-"
    sign = "+" if signed else ""
    return format(v, f"{sign}.3g" if abs(v) >= 1e4 else f"{sign}.{decimals}f")


def _short_loss(name: str) -> str:
    return {"cross_entropy": "ce", "squared_error": "se"}.get(name, "")


def plan_table(plan) -> "Table":  # noqa: F821
    """What a plan expands to: one row per condition, with where it starts and its restarts part-way."""
    from rich.table import Table

    seeds = plan.seed_list
    table = Table(title=f"{study_title(plan)}: {plan.config.data}, {plan.config.hidden} hidden, {plan.samples:,} "
                        f"samples per condition, seed{'s' if len(seeds) > 1 else ''} "
                        f"{seeds[0] if len(seeds) == 1 else f'{seeds[0]}..{seeds[-1]}'}")
    for name in ("condition", "activation", "starts from", "settings", "then", "sessions"):
        table.add_column(name, no_wrap=name in ("condition", "activation", "sessions"))
    for c in plan.conditions:
        names = [plan.session_name(c.name, s) for s in seeds]
        settings = ", ".join(f"{k.replace('_', '-')} {v}" for k, v in settings_of(c).items())
        table.add_row(c.name, c.activation, start_of(c), settings or "-",
                      "; ".join(_step_text(st) for st in c.steps) or "-",
                      names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]}")
    return table


def start_of(c) -> str:
    """'random init', or 'sigmoid@tenth x0.1, biases reset'."""
    if c.source is None:
        return "random init"
    at = c.source if c.snapshot is None else f"{c.source}@{c.snapshot}"
    return f"{at} x{c.weight_scale:g}, biases {'kept' if c.keep_biases else 'reset'}"


def settings_of(c) -> dict:
    """The condition's training options that differ from aetui train's defaults (data, hidden, activation aside)."""
    from aetui.model.config import TrainConfig

    defaults = TrainConfig()
    return {k: v for k, v in c.config.to_dict().items()
            if k not in ("data", "hidden", "activation", "seed") and v != getattr(defaults, k)}


def steps_of(c) -> list[dict]:
    return [{"at": st.at, "activation": st.activation, "weight_scale": st.weight_scale,
             "keep_biases": st.keep_biases, "lr": st.lr} for st in c.steps]


def _step_text(st) -> str:
    return (f"at {st.at:,}: {st.activation} x{st.weight_scale:g}, biases {'kept' if st.keep_biases else 'reset'}"
            + ("" if st.lr is None else f", lr {st.lr:g}"))
