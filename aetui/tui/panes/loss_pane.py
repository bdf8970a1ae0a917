"""Training and held-out loss against samples seen: raw + smoothed, segment and divergence marks.

The axes (log or linear) and the smoothing are the user's (`x`, `y`, `m`; see ChartModes).
"""

from __future__ import annotations

import numpy as np
from textual import events
from textual.geometry import Size
from textual.message import Message

from aetui.training.frame import Frame
from aetui.render import PlotArea, Series, line_chart, smooth
from aetui.render.chart_modes import ChartModes
from aetui.tui import theme
from aetui.tui.blocks import Block, block
from aetui.tui.panes.pane import Pane


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
    # Where thinning merged points, the highest loss they stood for, under the raw curve: spikes stay.
    with np.errstate(invalid="ignore"):
        spiked = view.loss_max.size == xs.size and (view.loss_max > view.train_loss * (1 + 1e-6)).any()
    if spiked:
        series.append(Series("max (thinned)", xs, view.loss_max, style=theme.SERIES_TRAIN_MAX, marker="^"))
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

    class Picked(Message):
        """A click on the chart picked the report point at `samples` (for the history view)."""

        def __init__(self, samples: int) -> None:
            super().__init__()
            self.samples = samples

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.modes = ChartModes()
        self._area: PlotArea | None = None  # where the last drawing put its plot, to map a click back
        self._xs = np.zeros(0)

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
        self.set_subtitle(f"train {train}  held-out {held}" if self.point is None else point_caption(self.point))
        modes, xs = self.modes, frame.history.samples
        log_x = modes.log_x(xs)
        title = f"loss  {modes.words(xs)}"
        if self.border_title != title:  # setting it repaints the whole pane
            self.border_title = title
        area: list[PlotArea] = []
        cursor = None if self.point is None else (float(self.point.samples), self.point.label)
        chart = line_chart(loss_series(frame, modes.smoothing), width=size.width, height=size.height,
                           mode=self.mode, log_y=modes.log_y, log_x=log_x,
                           x_label=f"samples ({'log' if log_x else 'linear'})", markers=loss_markers(frame),
                           cursor=cursor, area=area)
        self._area, self._xs = area[0] if area else None, xs
        return block(chart, width=size.width)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        samples = None if offset is None else self.samples_at(offset.x, offset.y)
        if samples is not None:
            self.post_message(self.Picked(samples))

    def samples_at(self, x: int, y: int) -> int | None:
        """The samples of the report point drawn nearest column x of the plot (None off the plot)."""
        a, xs = self._area, self._xs
        if a is None or not xs.size or not (a.top <= y < a.top + a.height and a.left <= x < a.left + a.width):
            return None
        cols = np.array([a.column(float(v)) for v in xs])
        gap = np.abs(cols - (x - a.left))
        nearest = np.flatnonzero(gap == gap.min())
        return int(xs[nearest[len(nearest) // 2]])  # a column of many points: the middle one


def point_caption(point) -> str:
    """The loss pane's subtitle in the history view: the values at the viewed point."""
    def value(v):
        return "-" if v is None else f"{v:.4g}"
    spike = f" (max {point.loss_max:.4g})" if point.loss_max is not None and point.train_loss is not None \
        and point.loss_max > point.train_loss * (1 + 1e-6) else ""
    return f"at {point.samples:,}: train {value(point.train_loss)}{spike}  held-out {value(point.heldout_loss)}"
