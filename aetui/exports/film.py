"""A film of a run: one frame per stored snapshot (period, user and thin), in time order.

Each frame shows the filter grid of the units shown at that snapshot, the loss curve and the
hidden bias of those units with a cursor at its sample count (what comes after it faded), the
segment it is in and the events so far. GIF, WebP and APNG are written with Pillow, MP4 with
imageio-ffmpeg (its own ffmpeg binary; the extra aetui[film]).

Frames are rendered one at a time and handed to the encoder as they come, so memory stays that
of a frame or two and the encoder's compressed output: Pillow's own GIF and APNG writers keep
every frame until the end (to optimise across them), so GIF is written here frame by frame with
Pillow's GIF frame encoder (each frame with its own palette) and APNG chunk by chunk from
Pillow's PNG encoding of each frame; WebP goes through Pillow's animation encoder, fed by an
image whose frames are rendered as the encoder seeks to them. The file is written under a temp
name beside the target and renamed into place: a failure or Ctrl-C leaves no partial file.
"""

from __future__ import annotations

import io
import math
import os
import struct
import tempfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aetui.errors import ConfigError, SaveError, SessionError
from aetui.sessions.atomic import why
from aetui.sessions.lineage import segment_label, segment_starts
from aetui.sessions.optional import MissingExtraError
from aetui.sessions.reading import SessionRecord, Snapshot

FORMATS = {".gif": "gif", ".webp": "webp", ".apng": "apng", ".png": "apng", ".mp4": "mp4"}
FPS = 8.0  # frames per second unless --fps or --seconds
FILM_UNITS = 100  # units shown unless --units: the first 100
CHART_WIDTH = 720  # px of the loss chart (the bias chart is as wide as its own layout)
LOSS_HEIGHT = 300
HEADER = 40  # px: two lines of text above the pictures
PAD = 8
FADE = 0.72  # how much of the paper colour covers what comes after the cursor
EVENT_WORDS = {"lr": lambda d: f"lr {d.get('lr', 0):.3g}", "snapshot": lambda d: d.get("name", "snapshot"),
               "restart": lambda d: f"{d.get('activation', 'restart')} x{d.get('weight_scale') or 1:g}", "diverged": lambda d: "diverged",
               "pause": lambda d: "pause", "resume": lambda d: "resume", "save_failed": lambda d: "save failed"}

Progress = Callable[[int, int], None]  # (frames done, frames in all)


@dataclass(frozen=True)
class FilmPlan:
    """What a film of a record shows: its frames' snapshots, the units, the frame rate."""

    record: SessionRecord
    snapshots: tuple[Snapshot, ...]
    units: tuple[int, ...]
    fps: float

    @property
    def frames(self) -> int:
        return len(self.snapshots)


def film_format(path: str | os.PathLike) -> str:
    """gif, webp, apng or mp4, from the file's ending (.png is APNG)."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ConfigError(f"--film writes .gif, .webp, .apng (or .png) and .mp4 files, not {Path(path).name}")
    return fmt


def plan_film(record: SessionRecord, *, units: Sequence[int] | None = None, fps: float | None = None,
              seconds: float | None = None, until: int | None = None, max_frames: int | None = None) -> FilmPlan:
    """The frames of a film of `record`: every stored snapshot whose file reads (at or before `until`
    samples; at most `max_frames` of them, spread evenly, the period and user ones first), the units
    (default the first FILM_UNITS), frames per second (or `seconds` in all)."""
    snaps = [s for s in record.snapshots if until is None or s.samples <= until]
    damaged = record.snapshot_problems()
    snaps = [s for s in snaps if s.name not in damaged]  # left out, as the dashboard leaves them out
    if max_frames is not None and len(snaps) > max_frames:
        kept = [s for s in snaps if s.kind != "thin"][:max_frames]
        thin = [s for s in snaps if s.kind == "thin"]
        room = max_frames - len(kept)
        if room > 0 and thin:
            kept += [thin[i] for i in np.unique(np.round(np.linspace(0, len(thin) - 1, room)).astype(int))]
        snaps = sorted(kept, key=lambda s: (s.samples, snaps.index(s)))
    if not snaps:
        raise SessionError(f"session {record.name} has no stored snapshots to make a film of")
    n_hidden = int(record.config["hidden"])
    shown = tuple(range(min(FILM_UNITS, n_hidden))) if units is None else tuple(units)
    if fps is not None and seconds is not None:
        raise ConfigError("give --fps or --seconds, not both")
    if seconds is not None:
        if not (math.isfinite(seconds) and seconds > 0):
            raise ConfigError(f"--seconds must be a positive number, not {seconds}")
        fps = len(snaps) / seconds
    fps = FPS if fps is None else float(fps)
    if not (math.isfinite(fps) and 0.1 <= fps <= 100):
        raise ConfigError(f"the frame rate must be between 0.1 and 100 frames per second, not {fps:g}")
    return FilmPlan(record, tuple(snaps), shown, fps)


# -- drawing -------------------------------------------------------------------------------------------
class FrameDrawer:
    """Draws the frames of a FilmPlan; the charts are drawn once and each frame gets a cursor on them."""

    def __init__(self, plan: FilmPlan):
        from aetui.study.pictures import bias_axes, bias_chart, filter_image_size, grid_zoom, loss_axes, loss_chart

        self.plan = plan
        record = plan.record
        h = record.history
        samples = h["samples"].astype(np.float64)
        segments = segment_starts(record.lineage)
        self.events = [e for e in record.events]
        diverged = tuple((e["samples"], e["kind"]) for e in self.events if e["kind"] == "diverged")
        units = list(plan.units)
        size = (CHART_WIDTH, LOSS_HEIGHT)
        self.loss = loss_chart(samples, h["train_loss"], h["heldout_loss"], segments, diverged, size=size,
                               title="loss")
        self.loss_axes = loss_axes(samples, h["train_loss"], h["heldout_loss"], size=size)
        bias = h["b"][:, units].T
        self.bias = bias_chart(bias, samples, segments, title=f"hidden bias b of the {len(units)} units shown")
        ax = bias_axes(bias, samples)
        self.bias_x = ax.x
        self.bias_plot = (ax.left, ax.top, ax.right, ax.bottom)
        self.loss_faded, self.bias_faded = _faded(self.loss), _faded(self.bias)
        self.shape = record.image_shape
        self.zoom = grid_zoom(len(units), self.shape, None, None, minimum=2)
        gw, gh = filter_image_size(len(units), self.shape, self.zoom)
        right_w = max(self.loss.width, self.bias.width)
        width = PAD + gw + PAD + right_w + PAD
        height = HEADER + max(gh, self.loss.height + PAD + self.bias.height) + PAD
        # sizes a multiple of 16: what H.264's macroblocks want (the other formats do not mind)
        self.size = (width + (-width) % 16, height + (-height) % 16)
        self.grid_size = (gw, gh)

    def frame(self, k: int):
        """Frame k (0-based) as a PIL RGB image of self.size."""
        from PIL import Image, ImageDraw

        from aetui.study.pictures import INK_RGB, PAPER_RGB, SEGMENT_RGB, _font, _fit, filter_image

        snap = self.plan.snapshots[k]
        W = snap.weights()["W"]
        grid = filter_image(W[list(self.plan.units)], self.shape, zoom=self.zoom)
        del W
        img = Image.new("RGB", self.size, PAPER_RGB)
        img.paste(grid, (PAD, HEADER))
        x0 = PAD + self.grid_size[0] + PAD
        img.paste(self._with_cursor(self.loss, self.loss_faded, self.loss_axes.x(snap.samples),
                                    (self.loss_axes.left, self.loss_axes.top, self.loss_axes.right, self.loss_axes.bottom)),
                  (x0, HEADER))
        img.paste(self._with_cursor(self.bias, self.bias_faded, self.bias_x(snap.samples), self.bias_plot),
                  (x0, HEADER + self.loss.height + PAD))
        draw = ImageDraw.Draw(img)
        font = _font()
        record = self.plan.record
        seg = record.lineage[snap.segment]
        what = (f"period snapshot 2^{int(snap.name.rsplit('period', 1)[-1])} of the segment" if snap.kind == "period"
                else "weights stored" if snap.kind == "thin" else f"snapshot {snap.name}")
        draw.text((PAD, 6), f"{record.name}   {snap.samples:,} samples   segment {snap.segment}: {segment_label(seg)}"
                  f"   {what}   frame {k + 1}/{self.plan.frames}", fill=INK_RGB, font=font)
        done = [e for e in self.events if e["samples"] <= snap.samples]
        words = [f"{EVENT_WORDS.get(e['kind'], lambda d: e['kind'])(e['details'])} @{e['samples']:,}" for e in done]
        line = "events: " + ("  ".join(words[-8:]) if words else "none yet")
        draw.text((PAD, 22), _fit(draw, line, self.size[0] - 2 * PAD), fill=SEGMENT_RGB if done else INK_RGB, font=font)
        return img

    @staticmethod
    def _with_cursor(chart, faded, x: int, plot: tuple[int, int, int, int]):
        """A copy of `chart` with what lies right of x in its plot faded (taken from `faded`) and a cursor at x."""
        from PIL import ImageDraw

        from aetui.study.pictures import INK_RGB

        out = chart.copy()
        left, top, right, bottom = plot
        x = min(max(x, left), right)
        if x < right:
            out.paste(faded.crop((x + 1, top, right + 1, bottom + 1)), (x + 1, top))
        ImageDraw.Draw(out).line((x, top, x, bottom), fill=INK_RGB, width=1)
        return out


def _faded(chart):
    """`chart` with FADE of the paper colour over it."""
    from PIL import Image

    from aetui.study.pictures import PAPER_RGB

    return Image.blend(chart, Image.new("RGB", chart.size, PAPER_RGB), FADE)


# -- writing -------------------------------------------------------------------------------------------
def export_film(record: SessionRecord, path: str | os.PathLike, *, units: Sequence[int] | None = None,
                fps: float | None = None, seconds: float | None = None, until: int | None = None,
                progress: Progress | None = None, max_frames: int | None = None, quality: int | None = None) -> Path:
    """Write the film of `record` to `path` (.gif, .webp, .apng / .png, .mp4); returns the path.

    Written under a temp name beside `path`, renamed into place when complete; anything that
    stops it (an error, KeyboardInterrupt) removes the temp file. quality: WebP lossy at that
    quality (0-100) instead of lossless (the report's film, where size matters more than pixels).
    """
    path = Path(path)
    fmt = film_format(path)
    if fmt == "mp4":
        _imageio_ffmpeg()
    plan = plan_film(record, units=units, fps=fps, seconds=seconds, until=until, max_frames=max_frames)
    drawer = FrameDrawer(plan)
    if path.is_dir():
        raise SessionError(f"{path} is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise SaveError(f"cannot write {path}: {why(exc)}") from None
    tmp = Path(tmp)
    frames = _frames(drawer, progress)
    try:
        if fmt == "webp":
            _write_webp(tmp, frames, plan.frames, drawer.size, plan.fps, quality)
        else:
            {"gif": _write_gif, "apng": _write_apng, "mp4": _write_mp4}[fmt](tmp, frames, plan.frames, drawer.size,
                                                                             plan.fps)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary file, not mkstemp's 0600
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SaveError(f"cannot write {path}: {why(exc)}; nothing was written") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _frames(drawer: FrameDrawer, progress: Progress | None):
    n = drawer.plan.frames
    for k in range(n):
        frame = drawer.frame(k)
        yield frame
        if progress is not None:
            progress(k + 1, n)


def _durations(n: int, fps: float, unit_ms: int = 1) -> list[int]:
    """Each frame's duration in ms, rounded to `unit_ms` so they add up to n / fps seconds."""
    ends = np.round(np.arange(1, n + 1) * 1000.0 / fps / unit_ms).astype(int) * unit_ms
    return np.diff(np.concatenate([[0], ends])).clip(min=unit_ms).tolist()


def _write_gif(tmp: Path, frames, n: int, size, fps: float) -> None:
    """GIF89a, looping, each frame quantised to its own 256 colours (a local colour table)."""
    from PIL import GifImagePlugin, Image

    durations = _durations(n, fps, unit_ms=10)  # GIF delays are in 1/100 s
    with open(tmp, "wb") as f:
        for k, frame in enumerate(frames):
            q = frame.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)  # 4x faster than median cut
            if k == 0:
                header, _ = GifImagePlugin.getheader(q, None, {"loop": 0})
                f.write(b"".join(header))
            f.write(b"".join(GifImagePlugin.getdata(q, duration=durations[k], include_color_table=True)))
        f.write(b";")
        f.flush()
        os.fsync(f.fileno())


class _RenderedFrames:
    """The frames after the first as one multi-frame image for Pillow's WebP encoder: each is
    rendered when the encoder seeks to it, so only one is held at a time."""

    def __new__(cls, frames, n: int, first):
        from PIL import Image

        class Frames(Image.Image):
            def __init__(self):
                super().__init__()
                self.n_frames, self.is_animated, self._at = n, True, -1
                self._take(first)

            def _take(self, img) -> None:
                self.im, self._mode, self._size = img.im, img.mode, img.size

            def seek(self, k: int) -> None:
                if k == self._at:
                    return
                if k != self._at + 1:
                    raise EOFError("frames are rendered in order")
                self._take(next(frames))
                self._at = k

            def tell(self) -> int:
                return self._at

        return Frames()


def _write_webp(tmp: Path, frames, n: int, size, fps: float, quality: int | None = None) -> None:
    """Animated WebP, lossless (filters are flat colours; lossy blurs their pixels) unless a quality is given."""
    first = next(frames)
    rest = [_RenderedFrames(frames, n - 1, first)] if n > 1 else []
    durations = _durations(n, fps)
    with open(tmp, "wb") as f:
        first.save(f, format="WEBP", save_all=True, append_images=rest, duration=durations, loop=0,
                   lossless=quality is None, quality=80 if quality is None else int(quality), method=0,
                   minimize_size=False)
        f.flush()
        os.fsync(f.fileno())


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_chunks(img) -> list[tuple[bytes, bytes]]:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)
    data, chunks, at = buf.getvalue(), [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        chunks.append((data[at + 4:at + 8], data[at + 8:at + 8 + length]))
        at += 12 + length
    return chunks


def _write_apng(tmp: Path, frames, n: int, size, fps: float) -> None:
    """APNG: each frame Pillow's PNG encoding of it, its IDAT data moved into fdAT chunks."""
    durations = _durations(n, fps)
    seq = 0
    with open(tmp, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        for k, frame in enumerate(frames):
            chunks = _png_chunks(frame)
            if k == 0:
                f.write(_chunk(b"IHDR", dict(chunks)[b"IHDR"]))
                f.write(_chunk(b"acTL", struct.pack(">II", n, 0)))
            f.write(_chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, size[0], size[1], 0, 0, durations[k], 1000, 0, 0)))
            seq += 1
            for kind, data in chunks:
                if kind != b"IDAT":
                    continue
                if k == 0:
                    f.write(_chunk(b"IDAT", data))
                else:
                    f.write(_chunk(b"fdAT", struct.pack(">I", seq) + data))
                    seq += 1
        f.write(_chunk(b"IEND", b""))
        f.flush()
        os.fsync(f.fileno())


def _imageio_ffmpeg():
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MissingExtraError("MP4 film needs imageio-ffmpeg: pip install 'aetui[film]'") from None
    return imageio_ffmpeg


def _write_mp4(tmp: Path, frames, n: int, size, fps: float) -> None:
    """H.264 MP4 through imageio-ffmpeg's ffmpeg, frames piped to it as raw RGB."""
    writer = _imageio_ffmpeg().write_frames(str(tmp), size, fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                         pix_fmt_out="yuv420p", quality=8, macro_block_size=16,
                                         ffmpeg_log_level="error",
                                         # x264's default lookahead of 40 frames on 3 threads took 400 MB at
                                         # 1472x832; 10 frames on 2 threads take a third, for a file as small
                                         output_params=["-movflags", "+faststart", "-threads", "2",
                                                        "-x264-params", "rc-lookahead=10"])
    writer.send(None)
    try:
        for frame in frames:
            writer.send(frame.tobytes())
    finally:
        writer.close()
