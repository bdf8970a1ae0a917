"""One condition over several seeds: each metric's mean and 95% interval, from the per-seed JSON.

Works on the per-seed dicts of ConditionResult.to_json, so the summary says exactly what the
single-seed output says, per condition: `heldout_loss` becomes the mean over seeds, beside it
`heldout_loss_ci` = [low, high] (Student t, aetui/study/intervals.py), and so on for every
number, nested ones too (`sparsity.lifetime`, `sparsity.lifetime_ci`). A diverged run has no
metrics, so a mean is over the seeds that have the number (`n` in `counts`).
"""

from __future__ import annotations

from aetui.study.intervals import mean_interval

SAME = ("condition", "activation", "init", "weight_scale", "samples", "loss")  # equal across seeds
MEANS = ("heldout_loss", "start_heldout_loss", "heldout_at_tenth", "heldout_mse", "locality", "spread", "contrast",
         "start_cosine", "dead_units", "total_samples")
NESTED = ("similarity", "sparsity", "bias", "bias_recovery")


def summarise_seeds(runs: list[dict]) -> list[dict]:
    """Per condition (in the order first seen): the shared fields, `seeds`, means with `_ci`, and the runs."""
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(run["condition"], []).append(run)
    return [_summary(group) for group in groups.values()]


def _summary(group: list[dict]) -> dict:
    out = {key: group[0][key] for key in SAME}
    out["seeds"] = len(group)
    out["sessions"] = [r["session"] for r in group]
    for key in MEANS:
        out.update(_mean_and_ci(key, [r[key] for r in group]))
    for key in NESTED:
        parts = [r[key] for r in group if r[key] is not None]
        if not parts:
            out[key] = None
            continue
        out[key] = {}
        for name in parts[0]:
            out[key].update(_mean_and_ci(name, [p[name] for p in parts]))
    out["diverged_runs"] = sum(1 for r in group if r["diverged"])
    out["diverged"] = out["diverged_runs"] > 0
    out["runs"] = group
    return out


def _mean_and_ci(key: str, values: list) -> dict:
    i = mean_interval(v for v in values if v is not None)
    return {key: i.mean, f"{key}_ci": None if i.low is None else [i.low, i.high]}
