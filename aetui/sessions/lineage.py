"""A session's lineage: one record per segment (activation, where its weights came from)."""

from __future__ import annotations

import datetime as dt

from aetui.model.config import TrainConfig


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def new_segment(index: int, config: TrainConfig, source: dict, source_activation: str | None,
                weight_scale: float, reset_biases: bool, start_step: int, start_samples: int) -> dict:
    """One lineage entry: a segment trained under `config` from `source` (random, current or a snapshot).

    `lr` and `config` are the segment's settings at its start; later changes are events.
    """
    return {"index": index, "activation": config.activation, "output_activation": config.out_activation,
            "loss": config.loss_name, "lr": config.learning_rate, "bias_lr": config.bias_learning_rate,
            "source": source, "source_activation": source_activation, "weight_scale": float(weight_scale),
            "reset_biases": bool(reset_biases), "start_step": start_step, "start_samples": start_samples,
            "started": now_iso(), "config": config.to_dict()}


def segment_label(seg: dict) -> str:
    """A segment's activation, with its weight scale when it reused scaled weights: 'relu x0.1'."""
    if seg["index"] > 0 and seg["weight_scale"] != 1.0:
        return f"{seg['activation']} x{seg['weight_scale']:g}"
    return seg["activation"]


def lineage_label(lineage: list[dict]) -> str:
    """The activations of a lineage's segments, e.g. 'sigmoid > relu x0.1'."""
    return " > ".join(segment_label(seg) for seg in lineage)


def segment_starts(lineage: list[dict]) -> tuple[tuple[int, str], ...]:
    """(start samples, label) per segment, for marking segment boundaries on charts."""
    return tuple((seg["start_samples"], segment_label(seg)) for seg in lineage)


def branch_parent(lineage: list[dict]) -> dict | None:
    """The source record of the last segment that came from another session ({'session', 'samples',
    'kind', ...}), or None for a session that started from random weights of its own."""
    return next((seg["source"] for seg in reversed(lineage) if "session" in seg.get("source", {})), None)
