"""Thin-stored snapshots: the weights at regular report points, kept within a disk budget.

Besides the study's period snapshots (after 2^n mini-batches of a segment) and the user's, the
trainer keeps the weights of report points at least `Session.weight_spacing` samples apart as
snapshots of kind "thin", so that the history view can rebuild filters and reconstructions near
any point of the run. When they need more than the budget, every other one is dropped (the
newest kept, as the history thins) and the spacing becomes their mean gap, at least double the
old one: they stay spread evenly over the run. Period and user snapshots are never dropped.

They are written with the next save, without fsyncs: a stop writes up to MAX_KEPT of them at
once, and their fsyncs (two per file, ~1.4 ms) made `q` take 1 s instead of 0.3 s on a small
model. A crash of the machine right after a save may so leave the newest ones damaged: they are
marked as such, like any damaged snapshot, and the rest of the session works.
"""

from __future__ import annotations

from aetui.model.state import ModelState

WEIGHT_BUDGET_MB = 64  # disk (and, until a save writes them, memory) for thin snapshots, per session
THIN = "thin"  # the snapshot kind
MIN_KEPT = 4  # kept even when a model is so large that fewer would fit the budget
# Kept at most, however small the model: the history itself keeps at most 2,000 points, and each
# snapshot not yet written costs a file (and an fsync, ~1.4 ms here) at the next save.
MAX_KEPT = 256


def snapshot_bytes(state: ModelState) -> int:
    """Bytes one snapshot of `state` takes (W, b, c and W_dec; the .npz adds a few hundred)."""
    return sum(a.nbytes for a in (state.W, state.b, state.c, state.W_dec) if a is not None)


def budget_count(state: ModelState, budget_mb: float = WEIGHT_BUDGET_MB) -> int:
    """How many thin snapshots of `state` the budget holds (MIN_KEPT to MAX_KEPT)."""
    return min(MAX_KEPT, max(MIN_KEPT, int(budget_mb * (1 << 20)) // max(1, snapshot_bytes(state))))


def thin_records(snapshots: list[dict]) -> list[dict]:
    """The thin snapshots' records, oldest first (the index keeps them in the order they were taken,
    and samples only grow)."""
    return [s for s in snapshots if s["kind"] == THIN]


def dropped_when_thinning(records: list[dict]) -> list[dict]:
    """The records thinning drops: every other one before the newest two (the history's rule)."""
    n = len(records)
    return [records[i] for i in range(n - 3, -1, -2)][::-1]


def store_weights(session, budget_mb: float = WEIGHT_BUDGET_MB) -> dict | None:
    """At a report point: keep the session's weights as a thin snapshot when the spacing has
    passed since the last one, then thin when over budget. Returns the new record, or None."""
    thin = thin_records(session.snapshots)
    if thin and session.samples - thin[-1]["samples"] < max(1, session.weight_spacing):
        return None
    name = f"thin-{session.samples}"
    if any(s["name"] == name for s in session.snapshots):
        return None
    record = session.write_snapshot(name, THIN, session.state, deferred=True, durable=False)
    thin.append(record)
    if len(thin) > budget_count(session.state, budget_mb):
        dropped = dropped_when_thinning(thin)
        session.drop_snapshots([r["name"] for r in dropped])
        names = {r["name"] for r in dropped}
        kept = [r for r in thin if r["name"] not in names]
        gap = (kept[-1]["samples"] - kept[0]["samples"]) // max(1, len(kept) - 1)
        session.weight_spacing = max(2 * session.weight_spacing, int(gap))
    return record


def nearest_snapshot(snapshots: list[dict], samples: int, segment: int | None = None) -> dict | None:
    """The snapshot record nearest `samples` (ties: the earlier one), preferring segment `segment`
    when it has any: a segment's weights are what its points were trained with."""
    pool = [s for s in snapshots if segment is not None and s["segment"] == segment] or list(snapshots)
    if not pool:
        return None
    return min(pool, key=lambda s: (abs(s["samples"] - samples), s["samples"]))


def thin_bytes_on_disk(session) -> int:
    """Bytes the thin snapshots' files take now (those written so far)."""
    total = 0
    for record in thin_records(session.snapshots):
        path = session.path / record["file"]
        if path.is_file():
            total += path.stat().st_size
    return total


__all__ = ["MAX_KEPT", "MIN_KEPT", "THIN", "WEIGHT_BUDGET_MB", "budget_count", "dropped_when_thinning", "nearest_snapshot",
           "snapshot_bytes", "store_weights", "thin_bytes_on_disk", "thin_records"]
