"""A report to share: one self-contained HTML file of sessions or of a study.

Everything is in the file: the charts are matplotlib SVG, the strip a PNG and the film an
animated WebP, each embedded as a data: URI; the styles are inline and there is no script,
so it opens offline in any browser and prints to PDF (a run per page). Read through
`aetui.open_session` / `aetui.open_study`.

Per session: the lineage, the config, the events, the loss and bias charts, the strip (auto
units) and the film of those units (at most FILM_FRAMES stored snapshots, lossy WebP: a
hidden-100 run's lossless film is 24 MB). A study adds its conditions table (means and 95%
intervals), the claims with their verdicts and the transfer strip; its runs get charts and
strips, and the film is of the run the strip ends with (sigmoid -> relu x0.1).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from aetui.sessions.atomic import write_export
from aetui.sessions.lineage import segment_starts
from aetui.sessions.reading import SessionRecord

FILM_FRAMES = 48  # stored snapshots a report's film shows at most
FILM_FPS = 6.0
FILM_QUALITY = 70  # lossy WebP
STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111; margin: 2em auto;
       max-width: 1400px; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; display: block; margin: 0.3em 0 1em; }
.holds { color: #176b2c; font-weight: bold; } .contradicted { color: #b00020; font-weight: bold; }
.muted { color: #666; } code { font-size: 12px; }
@media print { body { margin: 0; max-width: none; } section.run { break-before: page; }
               img, table { break-inside: avoid; } }
"""


def _uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _img(data: bytes, mime: str, alt: str) -> str:
    return f'<img src="{_uri(data, mime)}" alt="{html.escape(alt)}">'


def _num(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return html.escape(str(v))


def _table(header: Sequence[str], rows: Sequence[Sequence], classes: Sequence[str | None] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        cells = "".join(f'<td class="n">{_num(v)}</td>' if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                        else f"<td>{_num(v) if not isinstance(v, _Raw) else v}</td>" for v in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw(str):
    """HTML put in a cell as it is."""


# -- one session -------------------------------------------------------------------------------------
def charts_svg(record: SessionRecord) -> tuple[bytes, bytes]:
    """The loss and bias charts of a session as SVG."""
    from aetui.study.pictures import bias_chart, loss_chart

    h = record.history
    samples = h["samples"].astype(np.float64)
    segments = segment_starts(record.lineage)
    diverged = tuple((e["samples"], e["kind"]) for e in record.events if e["kind"] == "diverged")
    title = f"{record.name}: {record.lineage_label}, {record.samples:,} samples"
    return (loss_chart(samples, h["train_loss"], h["heldout_loss"], segments, diverged, title=title, svg=True),
            bias_chart(h["b"].T, samples, segments, title=f"hidden bias b - {title}", svg=True))


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def film_bytes(record: SessionRecord, units: Sequence[int]) -> bytes:
    """The report's film of `units`: animated lossy WebP of at most FILM_FRAMES snapshots."""
    from aetui.exports.film import export_film

    with tempfile.TemporaryDirectory(prefix="aetui-report-") as tmp:
        path = export_film(record, Path(tmp) / "film.webp", units=units, fps=FILM_FPS, max_frames=FILM_FRAMES,
                           quality=FILM_QUALITY)
        return path.read_bytes()


def session_section(record: SessionRecord, *, film: bool = True, units: Sequence[int] | None = None) -> str:
    """A session's part of the report (HTML)."""
    from aetui.exports.strip import record_strip

    parts = [f'<section class="run" id="{html.escape(record.name)}"><h2>{html.escape(record.name)}: '
             f"{html.escape(record.lineage_label)}</h2>"]
    state = f"running (pid {record.pid}): its last save is shown" if record.running else "saved"
    parts.append(f'<p>{record.samples:,} samples, {record.step:,} mini-batches, {len(record):,} report points, '
                 f'{len(record.snapshots):,} stored snapshots; {state} {html.escape(record.saved or "")}'
                 f'{"; <b>diverged</b>" if record.diverged else ""}.</p>')
    parts.append("<h3>Lineage</h3>")
    rows = []
    for seg in record.lineage:
        src = seg["source"]
        origin = src["kind"] if src["kind"] != "snapshot" else f"snapshot {src['name']}"
        if "session" in src:
            origin += f" of {src['session']}"
        rows.append((seg["index"], seg["activation"], origin, float(seg["weight_scale"]),
                     "reset" if seg["reset_biases"] else "kept", float(seg["lr"]), int(seg["start_samples"])))
    parts.append(_table(("segment", "activation", "weights from", "weight scale", "biases", "lr", "start sample"), rows))
    loss, bias = charts_svg(record)
    parts.append("<h3>Loss</h3>" + _img(loss, "image/svg+xml", f"loss of {record.name}"))
    parts.append("<h3>Hidden bias</h3>" + _img(bias, "image/svg+xml", f"hidden bias of {record.name}"))
    strip_units = units
    if record.snapshots:
        image, strip_units, cols = record_strip(record, units="auto" if units is None else units)
        parts.append(f"<h3>Strip</h3><p class=\"muted\">Units {', '.join(map(str, strip_units))} (the 10 whose "
                     f"filters changed most across the segment starts) over the {len(cols)} period and user "
                     "snapshots; segment starts marked.</p>" + _img(_png(image), "image/png", f"strip of {record.name}"))
        if film:
            parts.append(f"<h3>Film</h3><p class=\"muted\">The same units at up to {FILM_FRAMES} stored snapshots, "
                         f"{FILM_FPS:g} frames per second (aetui export {html.escape(record.name)} --film FILE for "
                         "every snapshot and unit).</p>"
                         + _img(film_bytes(record, strip_units), "image/webp", f"film of {record.name}"))
    parts.append("<h3>Events</h3>")
    if record.events:
        parts.append(_table(("sample", "step", "segment", "event", "details"),
                            [(e["samples"], e["step"], e["segment"], e["kind"],
                              _Raw(f"<code>{html.escape(json.dumps(e['details'], sort_keys=True))}</code>"))
                             for e in record.events]))
    else:
        parts.append("<p>none</p>")
    parts.append("<h3>Config</h3>" + _table(("setting", "value"),
                                            [(k, _Raw(f"<code>{html.escape(json.dumps(v))}</code>"))
                                             for k, v in sorted(record.config.items())]))
    parts.append("</section>")
    return "\n".join(parts)


def page(title: str, body: str) -> str:
    """The whole document."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{body}\n"
            f'<p class="muted">Written by aetui; every image is in this file.</p>\n</body></html>\n')


def sessions_report(records: Sequence[SessionRecord], *, film: bool = True) -> str:
    """The report of one or more sessions (HTML)."""
    names = ", ".join(r.name for r in records)
    toc = "" if len(records) < 2 else "<p>" + " · ".join(
        f'<a href="#{html.escape(r.name)}">{html.escape(r.name)}</a>' for r in records) + "</p>"
    return page(f"aetui report: {names}", toc + "\n".join(session_section(r, film=film) for r in records))


# -- a study ---------------------------------------------------------------------------------------------
def study_strip_runs(study) -> list[str]:
    """The study's strip runs: the first seed's reuse runs, base -> base first, then each other
    activation at its smallest weight scale (as `aetui experiment transfer --png` draws them)."""
    first = min(study.seeds)
    reuse = [r for r in study.results if r["init"] != "random" and r["seed"] == first]
    same = [r["session"] for r in reuse if r["activation"] == r["init"]]
    others: dict[str, dict] = {}
    for r in reuse:
        if r["activation"] != r["init"] and (r["activation"] not in others
                                             or r["weight_scale"] < others[r["activation"]]["weight_scale"]):
            others[r["activation"]] = r
    return [name for name in same + [r["session"] for r in others.values()] if name in study.runs]


def _ci(c: dict, key: str) -> str:
    v, ci = c.get(key), c.get(f"{key}_ci")
    if v is None:
        return ""
    return _num(v) + (f" [{_num(ci[0])}, {_num(ci[1])}]" if ci else "")


def study_report(study, *, film: bool = True) -> str:
    """The report of a transfer study (HTML): table, claims, the transfer strip, every run."""
    from aetui.exports.strip import stacked_strip

    body = [f"<p>{len(study.runs)} runs, seeds {', '.join(map(str, study.seeds))}, "
            f"{study.samples:,} samples per condition, sessions in <code>{html.escape(str(study.sessions_dir))}</code>"
            + (f"; not finished: {html.escape(', '.join(p['condition'] for p in study.pending))}" if study.pending else "")
            + ".</p>", "<h2>Conditions</h2><p class=\"muted\">Means over the seeds, with their 95% intervals "
            "(Student t) when there are two seeds or more.</p>"]
    keys = ("heldout_loss", "heldout_mse", "locality", "contrast", "start_cosine", "dead_units")
    body.append(_table(("condition", "seeds", *keys, "diverged runs"),
                       [(c["condition"], c["seeds"], *(_Raw(_ci(c, k)) for k in keys), c.get("diverged_runs"))
                        for c in study.conditions]))
    body.append("<h2>Claims</h2>")
    body.append(_table(("observation", "statement", "effect", "95% interval", "pairs", "verdict"),
                       [(c["observation"], c["statement"], c["effect"],
                         "" if c["ci"] is None else f"[{_num(c['ci'][0])}, {_num(c['ci'][1])}]", c["pairs"],
                         _Raw(f'<span class="{html.escape(c["verdict"].replace(" ", "-"))}">'
                              f'{html.escape(c["verdict"])}</span>')) for c in study.claims]))
    runs = study_strip_runs(study)
    units = None
    if runs:
        image, units = stacked_strip([study.runs[name] for name in runs])
        body.append("<h2>The transfer strip</h2><p class=\"muted\">The same units (the 10 whose filters changed "
                    f"most across the restart of {html.escape(runs[-1])}) over each run's period and user "
                    "snapshots, one run above the other.</p>" + _img(_png(image), "image/png", "the transfer strip"))
    filmed = runs[-1] if runs else None
    body += [session_section(r, film=film and name == filmed, units=units) for name, r in study.runs.items()]
    return page(f"aetui report: the study {study.prefix}", "\n".join(body))


def write_report(text: str, path: str | Path) -> Path:
    """Write the HTML atomically; a folder or disk problem is a SaveError naming the file."""
    return write_export(path, text.encode())
