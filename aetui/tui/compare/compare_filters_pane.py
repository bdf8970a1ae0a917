"""Filters of two runs side by side, unit beside unit or beside its best cosine match (key p)."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.geometry import Size

from aetui.render import filter_grid, grid_geometry
from aetui.render.fit import pool, pool_factors
from aetui.render.palette import style_for
from aetui.study.comparison import pair_units
from aetui.tui.blocks import Block, block, crop, hstack, vstack
from aetui.tui.compare.compare_state import CompareState
from aetui.tui.compare.compare_loss_pane import run_label
from aetui.tui.panes.pane import Pane

GAP = 2
MIN_TILES = 4  # pool the tiles (2x2, ...) rather than show fewer units than this per side


class CompareFiltersPane(Pane):
    """The pair's filters: left run's units in order, right run's units paired with them."""

    TITLE = "filters side by side"

    def data_key(self, state: CompareState) -> tuple:
        return (state.version,)

    def draw(self, state: CompareState, size: Size) -> Block:
        i, j = state.pair
        a, b = state.views[i], state.views[j]
        half = max(1, (size.width - GAP) // 2)
        if tuple(a.image_shape) != tuple(b.image_shape):
            self.set_subtitle("")
            return block(f"{a.name} and {b.name} have images of different sizes: no side by side", width=size.width)
        order, cos = pair_units(a.W, b.W, state.by_cosine)
        n = len(order)
        shape = tuple(a.image_shape)
        factor, columns, per = 1, 1, 1
        for f in pool_factors(shape):
            tile = (-(-shape[0] // f), -(-shape[1] // f))
            columns, _, per = grid_geometry(half, max(1, size.height - 1), tile, self.mode, n)
            factor = f
            if per >= min(n, MIN_TILES):
                break
        per = min(per, n)
        Wa, pshape = pool(a.W[:per], shape, factor)
        Wb, _ = pool(b.W[order[:per]], shape, factor)
        left = block(filter_grid(Wa, pshape, mode=self.mode, columns=columns))
        how = "best cosine match" if state.by_cosine else "unit by unit"
        self.set_subtitle(f"{how} (p)  mean cos {float(np.mean(cos)):.2f}  units 0-{per - 1} of {n}  other pair: [ ]")
        left_col = vstack([run_label(state, i, self.mode, half), left], width=half)
        right = block(filter_grid(Wb, pshape, mode=self.mode, columns=columns))
        if state.by_cosine:  # the right run's tiles stand beside their matches: say which units they are
            shown = ", ".join(str(int(u)) for u in order[:per])
            caption = block(Text(f"beside units 0-{per - 1}: its units {shown}", style=style_for(self.mode, "dim")),
                            width=half)
            left_col = vstack([run_label(state, i, self.mode, half), block(" "), left], width=half)
            right_col = vstack([run_label(state, j, self.mode, half), caption, right], width=half)
        else:
            right_col = vstack([run_label(state, j, self.mode, half), right], width=half)
        return hstack([crop(left_col, half), crop(right_col, half)], gap=GAP)
