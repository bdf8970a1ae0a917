"""The comparison's loss chart: every run's held-out loss overlaid, a colour (or glyph) per run."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.geometry import Size

from aetui.render import DisplayMode, Series, line_chart
from aetui.render.palette import style_for
from aetui.tui.blocks import Block, block, vstack
from aetui.tui.compare.compare_state import RUN_MARKERS, RUN_STYLES, CompareState
from aetui.tui.panes.pane import Pane


def chart_mode(mode: DisplayMode) -> DisplayMode:
    """Braille lines tell runs apart only by colour: without colour, each run draws its own glyph."""
    return mode if mode is DisplayMode.COLOR else DisplayMode.ASCII


def run_series(state: CompareState) -> list[Series]:
    """Each run's held-out loss (in its own loss: ce or se) against samples, or its held-out mse at
    its snapshots and now."""
    out = []
    for k, view in enumerate(state.views):
        h = view.history
        xs, ys = h.samples.astype(np.float64), h.heldout_loss
        if state.show_mse:
            _, xs, ys = state.mse_curves.get(view.name, (None, np.zeros(0), np.zeros(0)))
            now = state.metrics.get(view.name, {}).get("heldout_mse")
            if now is not None and (not xs.size or view.samples > xs[-1]):
                xs, ys = np.append(xs, float(view.samples)), np.append(ys, now)
        out.append(Series(view.name, xs, ys, style=RUN_STYLES[k], marker=RUN_MARKERS[k]))
    return out


def run_markers(state: CompareState) -> list[tuple[float, str]]:
    """Each run's segment starts after its first, labelled with the run's glyph and the segment."""
    seen, marks = set(), []
    for k, view in enumerate(state.views):
        for start, label in view.history.segments[1:]:
            x = float(start)
            if (x, label) in seen:  # runs that share a past share its segment starts
                continue
            seen.add((x, label))
            marks.append((x, f"{RUN_MARKERS[k]}{label}"))
    return marks


class CompareLossPane(Pane):
    """Held-out loss of every run, log-y (y) and log-x (x) as toggled on the screen."""

    TITLE = "held-out loss (l: mse)"

    def data_key(self, state: CompareState) -> tuple:
        return (state.version,)

    def draw(self, state: CompareState, size: Size) -> Block:
        what = "mse at snapshots and now" if state.show_mse else "ce: cross-entropy, se: squared error"
        self.set_subtitle(f"{'log' if state.log_y else 'linear'} y, {'log' if state.log_x else 'linear'} x  ({what})")
        mode = chart_mode(self.mode)
        legend = run_legend(state, mode, size.width)
        # the chart's own one-line legend (its first line) gives way to ours, which wraps
        chart = line_chart(run_series(state), width=size.width, height=max(1, size.height - legend.height + 1),
                           mode=mode, log_y=state.log_y, log_x=state.log_x,
                           x_label=f"samples ({'log' if state.log_x else 'linear'})", markers=run_markers(state))
        drawn = block(chart, width=size.width)
        return vstack([legend, Block(drawn.lines[1:], drawn.width)], width=size.width)


def run_legend(state: CompareState, mode: DisplayMode, width: int) -> Block:
    """Each run's glyph (twice, as the chart draws it) and colour, short name and loss, flowed over lines."""
    items = [(f"{RUN_MARKERS[k] * 2} " if not mode.color else "── ", RUN_STYLES[k],
              label if state.show_mse else f"{label} ({view.loss_short})")
             for k, (view, label) in enumerate(zip(state.views, state.labels))]
    rows, line, used = [], Text(no_wrap=True), 0
    for glyph, style, label in items:
        need = len(glyph) + len(label) + 2
        if used and used + need > width:
            rows.append(line)
            line, used = Text(no_wrap=True), 0
        line.append(glyph, style_for(mode, style))
        line.append(label + "  ")
        used += need
    rows.append(line)
    return vstack([block(r, width=width) for r in rows], width=width)


def run_label(state: CompareState, k: int, mode: DisplayMode, width: int) -> Block:
    """One run's name with its glyph and colour, lineage and samples: the caption of its column."""
    view = state.views[k]
    st = style_for(mode, f"bold {RUN_STYLES[k]}")
    text = Text.assemble((f"{RUN_MARKERS[k]} {state.labels[k]}", st), (f"  {view.lineage}", style_for(mode, "dim")),
                         (f"  {view.samples:,}", ""))
    return vstack([block(text, width=width)], width=width)
