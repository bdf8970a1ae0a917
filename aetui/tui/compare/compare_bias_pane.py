"""Bias development of two runs side by side: b (units x time) on one colour scale, and its mean."""

from __future__ import annotations

import numpy as np
from textual.geometry import Size

from aetui.render import Series, heatmap_text, line_chart
from aetui.render.heat_scale import fit_heat_scale
from aetui.tui.blocks import Block, block, crop, hstack, vstack
from aetui.tui.compare.compare_state import RUN_MARKERS, RUN_STYLES, CompareState
from aetui.tui.compare.compare_loss_pane import chart_mode, run_label
from aetui.tui.panes.pane import Pane

GAP = 2


class CompareBiasPane(Pane):
    """The pair's hidden-bias heatmaps (one scale for both) above both runs' mean b over time."""

    TITLE = "biases side by side"

    def data_key(self, state: CompareState) -> tuple:
        return (state.version,)

    def draw(self, state: CompareState, size: Size) -> Block:
        i, j = state.pair
        half = max(1, (size.width - GAP) // 2)
        pair = [state.views[i], state.views[j]]
        # One colour scale for both (the dashboard's robust one), so the same colour is the same b.
        scale = fit_heat_scale(np.concatenate([v.history.bias.ravel() for v in pair]), "robust")
        chart_h = max(0, (size.height - 1) // 3) if size.height >= 12 else 0
        heat_h = max(1, size.height - 1 - chart_h)
        cols = []
        for k, view in zip((i, j), pair):
            parts = [run_label(state, k, self.mode, half)]
            if view.history.bias.size:
                parts.append(block(heatmap_text(scale.apply(view.history.bias), mode=self.mode, width=half,
                                                height=heat_h, cmap="diverging", lo=-1.0, hi=1.0), width=half))
            cols.append(crop(vstack(parts, width=half), half))
        self.set_subtitle(f"b: units down, time across, {scale.lo:.3g} to {scale.hi:.3g} ({scale.words()})  "
                          f"other pair: [ ]")
        top = hstack(cols, gap=GAP)
        if not chart_h:
            return top
        series = [Series(f"{state.labels[k]} mean b", v.history.samples, v.history.b_mean, style=RUN_STYLES[k],
                         marker=RUN_MARKERS[k]) for k, v in zip((i, j), pair) if v.history.samples.size]
        chart = line_chart(series, width=size.width, height=chart_h, mode=chart_mode(self.mode), log_y=False,
                           x_label="samples")
        return vstack([top, block(chart, width=size.width)], width=size.width)
