"""Reconstructions: one held-out sample of each class, an all-zero and the mean input, with outputs."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size

from aetui.frame import Frame
from aetui.render import image_text
from aetui.tui import theme
from aetui.tui.blocks import Block, block, hstack, vstack
from aetui.tui.units import pool, pool_factors
from aetui.tui.widgets.canvas import Pane

GAP = 1


def recon_layout(k: int, shape: tuple[int, int], width: int, height: int) -> tuple[int, int, int]:
    """(pool factor, columns, shown) so that k input/output pairs fit width x height cells."""
    best = (1, 1, 0)
    for f in pool_factors(shape):
        h2, w2 = -(-shape[0] // f), -(-shape[1] // f)
        tile_lines = 1 + 2 * ((h2 + 1) // 2)
        cols = max(0, (width + GAP) // (w2 + GAP))
        rows = max(0, height // tile_lines)
        shown = min(k, cols * rows)
        if shown > best[2]:
            best = (f, max(1, cols), shown)
        if shown >= k:
            break
    return best


class ReconPane(Pane):
    """Inputs above their reconstructions; outputs are drawn on the input scale [0, 1]."""

    TITLE = "reconstructions"

    def draw(self, frame: Frame, size: Size) -> Block:
        st = lambda spec: theme.style(self.mode, spec)  # noqa: E731
        X, Y, labels = frame.recon_inputs, frame.recon_outputs, frame.recon_labels
        k = X.shape[0]
        if frame.state == "COMPILING":
            self.border_subtitle = ""
            return block(Text("reconstructions appear once the kernels are compiled", style=st(theme.CAPTION)))
        f, cols, shown = recon_layout(k, frame.image_shape, size.width, size.height)
        Xp, shape = pool(X, frame.image_shape, f)
        Yp, _ = pool(Y, frame.image_shape, f)
        tiles = []
        for i in range(shown):
            label = labels[i] if i < len(labels) else str(i)
            label = label[: shape[1]]
            tiles.append(vstack([
                block(Text(label.center(shape[1]), style=st(theme.CAPTION))),
                block(image_text(Xp[i].reshape(shape), mode=self.mode, cmap="gray", lo=0.0, hi=1.0)),
                block(image_text(Yp[i].reshape(shape), mode=self.mode, cmap="gray", lo=0.0, hi=1.0)),
            ], width=shape[1]))
        rows = [hstack(tiles[r:r + cols], gap=GAP) for r in range(0, len(tiles), cols)]
        note = f"input above output{'  1:' + str(f) if f > 1 else ''}"
        if shown < k:
            note += f"  {shown} of {k} fit"
        self.border_subtitle = note
        return vstack(rows)
