"""The biases: hidden b as a units x time heatmap with its min/mean/max, visible c as an image."""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.geometry import Size

from aetui.training.frame import Frame
from aetui.render import Series, heatmap_text, image_text, line_chart
from aetui.render.heat_scale import HEAT_SCALES, fit_heat_scale, heat_legend
from aetui.render.palette import style_for
from aetui.tui import theme
from aetui.tui.blocks import Block, block, hstack, vstack
from aetui.render.fit import fit_image
from aetui.render.time_column import time_column
from aetui.tui.panes.pane import Pane


def _span(a: np.ndarray) -> float:
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size else 0.0


class BiasPane(Pane):
    """Redrawn when the history changed (b over time) or, at the image rate, when c changed."""

    TITLE = "biases"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.heat_scale = HEAT_SCALES[0]  # the b heatmap's colour scale (`b` cycles HEAT_SCALES)

    def data_key(self, frame: Frame) -> tuple:
        return (frame.history.version, frame.session)

    def view_key(self) -> tuple:
        return (self.heat_scale,)

    def set_heat_scale(self, kind: str) -> None:
        self.heat_scale = kind
        self.update_view()

    def draw(self, frame: Frame, size: Size) -> Block:
        w, h = size.width, size.height
        st = lambda spec: style_for(self.mode, spec)  # noqa: E731
        # Visible bias c on the right, as large as a third of the width allows.
        ih, iw = frame.image_shape
        c_img = fit_image(frame.c.reshape(ih, iw).astype(np.float64), max(1, w // 3), max(1, h - 2))
        c_caption = block(Text.assemble(("c ", st(theme.HEADING)), (f"|c|<={_span(frame.c):.3g}", st(theme.CAPTION))))
        c_block = vstack([c_caption, block(image_text(c_img, mode=self.mode, cmap="diverging"))])
        left_w = max(10, w - c_block.width - 2)
        # Hidden bias b: heatmap (units down, time across) above its min/mean/max over time.
        view = frame.history
        bias = view.bias
        # The caption is the colour scale's legend: its two ends, the bar between, which scale.
        scale = fit_heat_scale(bias if bias.size else frame.b, self.heat_scale)
        legend = heat_legend(scale, mode=self.mode, width=max(0, left_w - 2))
        caption = block(Text.assemble(("b ", st(theme.HEADING)), legend), width=left_w)
        rest = max(2, h - 1 - (self.point is not None))  # the history view's pointer line
        chart_h = max(4, int(round(rest * 0.45))) if rest >= 8 else 0
        heat_h = max(1, rest - chart_h)
        units_lines = -(-bias.shape[0] // 2) if bias.ndim == 2 and bias.shape[0] else heat_h
        heat_h = min(heat_h, max(1, units_lines))  # no taller than two units per line needs
        chart_h = rest - heat_h if chart_h else 0
        parts = [caption]
        if self.point is not None:
            parts.append(block(point_line(self.point, bias.shape[1] if bias.ndim == 2 else 0, left_w, self.mode),
                               width=left_w))
        if bias.size:
            heat = heatmap_text(scale.apply(bias), mode=self.mode, width=left_w, height=heat_h, cmap="diverging",
                                lo=-1.0, hi=1.0)
            parts.append(block(heat, width=left_w))
        if chart_h >= 3 and view.samples.size:
            series = [Series("min", view.samples, view.b_min, style=theme.SERIES_B_MIN, marker="-"),
                      Series("mean", view.samples, view.b_mean, style=theme.SERIES_B_MEAN, marker="*"),
                      Series("max", view.samples, view.b_max, style=theme.SERIES_B_MAX, marker="+")]
            chart = line_chart(series, width=left_w, height=chart_h, mode=self.mode, log_y=False,
                               x_label="samples", markers=[(float(s), "") for s, _ in view.segments[1:]],
                               cursor=None if self.point is None else (float(self.point.samples), ""))
            parts.append(block(chart, width=left_w))
        left = vstack(parts, width=left_w)
        return hstack([left, c_block], gap=2)


def point_line(point, count: int, width: int, mode) -> Text:
    """A pointer at the heatmap column of the history view's point, with b's min/mean/max there."""
    if width <= 0:
        return Text("")
    col = time_column(point.index, count, width)
    arrow = "\u25bc" if mode.unicode else "v"

    def value(v):
        return "-" if v is None else f"{v:.3g}"
    values = f"min {value(point.b_min)} mean {value(point.b_mean)} max {value(point.b_max)}"
    line = [" "] * width
    col = min(col, width - 1)
    line[col] = arrow
    for words in (f"b at {point.samples:,}: {values}", values, f"mean {value(point.b_mean)}"):
        start = col + 2 if col + 2 + len(words) <= width else col - 1 - len(words)
        if start >= 0:  # beside the arrow, right of it when it fits, else left
            line[start:start + len(words)] = list(words)
            break
    out = Text("".join(line))
    out.stylize(Style(bold=True, reverse=True), col, col + 1)
    return out
