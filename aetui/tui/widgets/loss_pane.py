"""Training and held-out loss against samples seen: raw + smoothed, segment and divergence marks.

The axes (log or linear) and the smoothing are the user's (`x`, `y`, `m`; see ChartModes).
"""

from __future__ import annotations

import numpy as np
from textual.geometry import Size

from aetui.training.frame import Frame
from aetui.render import Series, line_chart, smooth
from aetui.render.chart_modes import ChartModes
from aetui.tui import theme
from aetui.tui.blocks import Block, block
from aetui.tui.widgets.pane import Pane


def loss_markers(frame: Frame) -> list[tuple[float, str]]:
    """Segment starts labelled with their activation (and weight scale), divergences as 'diverged'."""
    view = frame.history
    marks = [(float(start), label) for start, label in view.segments]
    marks += [(float(at), label) for at, label in view.events]
    return marks


def loss_series(frame: Frame, smoothing: float = ChartModes().smoothing) -> list[Series]:
    """Raw training loss (dim), its smoothed curve drawn over it (unless smoothing is 0: off), and
    the held-out loss."""
    view = frame.history
    xs = view.samples
    series = []
    if np.isfinite(view.train_loss).any() and smoothing > 0:
        series.append(Series("train", xs, view.train_loss, style=theme.SERIES_TRAIN_RAW, marker="."))
        series.append(Series("smoothed", xs, smooth(view.train_loss, 1.0 - smoothing),
                             style=theme.SERIES_TRAIN, marker="*"))
    elif np.isfinite(view.train_loss).any():
        series.append(Series("train", xs, view.train_loss, style=theme.SERIES_TRAIN, marker="*"))
    # The dense early points may hold a fixed subset's loss: a series of their own, named so.
    n = view.heldout_n
    full = np.nanmax(n) if np.isfinite(n).any() else 0
    whole = np.isnan(n) | (n == full)
    part = ~whole & (n > 0)
    series.append(Series("held-out" if not part.any() else f"held-out (all {int(full):,})", xs[whole],
                         view.heldout_loss[whole], style=theme.SERIES_HELDOUT, marker="o"))
    if part.any():
        series.append(Series(f"held-out ({int(np.nanmax(n[part])):,}-sample subset)", xs[part],
                             view.heldout_loss[part], style=theme.SERIES_HELDOUT_SUBSET, marker="+"))
    return series


class LossPane(Pane):
    """The loss chart; redrawn when the history changed (new report point, segment, event)."""

    TITLE = "loss"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.modes = ChartModes()

    def data_key(self, frame: Frame) -> tuple:
        return (frame.history.version, frame.session)

    def view_key(self) -> tuple:
        return (self.modes,)

    def set_modes(self, modes: ChartModes) -> None:
        self.modes = modes
        self.update_view()

    def samples(self):
        """The x values the chart shows (for the automatic x scale)."""
        return self.frame.history.samples if self.frame is not None else np.zeros(0)

    def draw(self, frame: Frame, size: Size) -> Block:
        held = "-" if frame.heldout_loss is None else f"{frame.heldout_loss:.4g}"
        train = "-" if frame.train_loss is None else f"{frame.train_loss:.4g}"
        self.set_subtitle(f"train {train}  held-out {held}")
        modes, xs = self.modes, frame.history.samples
        log_x = modes.log_x(xs)
        title = f"loss  {modes.words(xs)}"
        if self.border_title != title:  # setting it repaints the whole pane
            self.border_title = title
        chart = line_chart(loss_series(frame, modes.smoothing), width=size.width, height=size.height,
                           mode=self.mode, log_y=modes.log_y, log_x=log_x,
                           x_label=f"samples ({'log' if log_x else 'linear'})", markers=loss_markers(frame))
        return block(chart, width=size.width)
