"""A session's record as TensorBoard event files (tensorboardX, aetui[tensorboard]; no TensorFlow).

One run folder per session (DIR/NAME/), so a study's runs overlay in TensorBoard. The step of
every record is the samples seen at it, its wall time the record's own (the report point's, the
snapshot's, the session's creation for the texts):

- scalars at each report point: loss/train, loss/heldout, lr, b/min|mean|max, c/min|mean|max,
  W/min|mean|max, samples_per_second (a point without the value has no record);
- at each stored snapshot (period, user and thin, in time order): the image `filters` (the
  filter grid, as `aetui export --png` draws it) and the histograms `b` and `W`;
- texts: `config`, `lineage` and `events` (Markdown), and `damaged` naming snapshots whose files
  could not be read (left out, as the dashboard leaves them out; the rest is exported).

The events are built with tensorboardX's summary functions and written by its synchronous
EventsWriter, so a failed write is an error here, not a lost background thread.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from pathlib import Path

import numpy as np

from aetui.errors import SessionError
from aetui.exports.staging import staged_folder
from aetui.sessions.optional import require
from aetui.sessions.reading import SessionRecord

# tag -> the history column it records
SCALARS = {"loss/train": "train_loss", "loss/heldout": "heldout_loss", "lr": "lr",
           "b/min": "b_min", "b/mean": "b_mean", "b/max": "b_max", "c/min": "c_min", "c/mean": "c_mean",
           "c/max": "c_max", "W/min": "w_min", "W/mean": "w_mean", "W/max": "w_max",
           "samples_per_second": "samples_per_second"}
IMAGE_TAG, HISTOGRAMS = "filters", ("b", "W")
TEXTS = ("config", "lineage", "events")


def export_tensorboard(records: list[SessionRecord], out_dir: str | Path) -> list[Path]:
    """Write one run folder per session into out_dir (replacing an earlier export of that session); returns
    the event files."""
    tbx = _tensorboardx()
    out = Path(out_dir)
    with staged_folder(out) as staging:
        for record in records:
            write_run(tbx, record, staging / record.name)
    return [path for record in records for path in sorted((out / record.name).glob("events.out.tfevents.*"))]


def _tensorboardx():
    require("tensorboardX", "TensorBoard export")
    from tensorboardX import summary
    from tensorboardX.event_file_writer import EventsWriter
    from tensorboardX.proto.event_pb2 import Event

    return summary, EventsWriter, Event


def write_run(tbx, record: SessionRecord, folder: Path) -> None:
    """All of one session's records into an event file in `folder`."""
    summary, EventsWriter, Event = tbx
    folder.mkdir()
    writer = EventsWriter(str(folder / "events"), ".aetui")
    try:
        def put(step: int, wall: float, proto) -> None:
            writer.write_event(Event(wall_time=wall, step=int(step), summary=proto))

        h = record.history
        created = wall_time(record.created, 0.0)
        walls = [wall_time(t, created) for t in h["time"]]
        for tag, column in SCALARS.items():
            for step, wall, value in zip(h["samples"].tolist(), walls, h[column].tolist()):
                if math.isfinite(value):
                    put(step, wall, summary.scalar(tag, value))
        damaged = {}
        for snap in record.snapshots:
            try:
                weights = snap.weights()
            except SessionError as exc:  # marked, as everywhere: the rest of the session is exported
                damaged[snap.name] = str(exc)
                continue
            wall = wall_time(snap.created, created)
            put(snap.samples, wall, image_summary(summary, IMAGE_TAG, filter_grid(weights["W"], record.image_shape)))
            for tag in HISTOGRAMS:
                put(snap.samples, wall, summary.histogram(tag, weights[tag].astype(np.float64), "auto"))
        for tag, text in texts(record, damaged).items():
            put(0, created, summary.text(tag, text))
        writer.flush()
    finally:
        writer.close()


def filter_grid(W: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """The filter grid as an (height, width, 3) uint8 image, small enough for TensorBoard's cards."""
    from aetui.study.pictures import filter_image

    zoom = 2 if W.shape[0] <= 256 else 1
    return np.asarray(filter_image(W, image_shape, zoom=zoom).convert("RGB"))


def image_summary(summary, tag: str, rgb: np.ndarray):
    """An image summary as tensorboardX's `summary.image` makes it, its PNG encoded fast: at zlib
    level 6 (Pillow's default, which tensorboardX uses) the encoding took 19 of a hidden-100
    session's 28 s (178 snapshots); level 1 takes a fifth of that for files about 1.3x larger."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
    height, width, channels = rgb.shape
    image = summary.Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=buf.getvalue())
    return summary.Summary(value=[summary.Summary.Value(tag=tag, image=image)])


def texts(record: SessionRecord, damaged: dict[str, str] | None = None) -> dict[str, str]:
    """The config, lineage and events as Markdown (and `damaged`: snapshots whose files could not be read)."""
    lineage = ["| segment | activation | source | weight scale | biases | lr | start sample |",
               "|---|---|---|---|---|---|---|"]
    for seg in record.lineage:
        src = seg["source"]
        origin = src["kind"] if src["kind"] != "snapshot" else f"snapshot {src['name']}"
        lineage.append(f"| {seg['index']} | {seg['activation']} | {origin} | {seg['weight_scale']:g} | "
                       f"{'reset' if seg['reset_biases'] else 'kept'} | {seg['lr']:g} | {seg['start_samples']:,} |")
    events = ["| sample | step | segment | event | details |", "|---|---|---|---|---|"]
    for e in record.events:
        events.append(f"| {e['samples']:,} | {e['step']:,} | {e['segment']} | {e['kind']} | "
                      f"{json.dumps(e['details'], sort_keys=True)} |")
    out = {"config": "```\n" + json.dumps(record.config, indent=1, sort_keys=True) + "\n```",
           "lineage": "\n".join(lineage), "events": "\n".join(events) if record.events else "no events"}
    if damaged:
        out["damaged"] = "\n".join(f"- {name}: {problem}" for name, problem in damaged.items())
    return out


def wall_time(iso: str | None, default: float) -> float:
    """Seconds since the epoch of an ISO 8601 time, `default` when there is none."""
    if not iso:
        return default
    try:
        return dt.datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return default
