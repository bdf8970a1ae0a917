"""Reconstructions: one held-out sample of each class, an all-zero and the mean input, with outputs."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.geometry import Size

from aetui.training.frame import Frame
from aetui.render import image_text
from aetui.render.colormaps import to_rgb
from aetui.render.palette import style_for
from aetui.tui import theme
from aetui.tui.blocks import Block, block, hstack, vstack
from aetui.render.fit import pool, pool_factors
from aetui.tui.panes.pane import Pane

GAP = 1  # between tiles whose output is below the input
SIDE_GAP = 3  # between input|output pairs side by side, so pairs read as pairs


@dataclass(frozen=True)
class ReconLayout:
    factor: int  # block-mean pooling of the images
    columns: int
    shown: int  # examples that fit (all, ideally)
    side: bool  # output right of the input (else below it)


def recon_layout(k: int, shape: tuple[int, int], width: int, height: int) -> ReconLayout:
    """The layout showing most of the k input/output pairs in width x height cells.

    Ties go to larger images (smaller pooling), then to outputs below their inputs.
    """
    best = ReconLayout(1, 1, 0, False)
    for f in pool_factors(shape):
        h2, w2 = -(-shape[0] // f), -(-shape[1] // f)
        img_lines = (h2 + 1) // 2
        for side in (False, True):
            tile_w = 2 * w2 + 1 if side else w2
            tile_lines = 1 + (img_lines if side else 2 * img_lines)
            gap = SIDE_GAP if side else GAP
            cols = max(0, (width + gap) // (tile_w + gap))
            rows = max(0, height // tile_lines)
            shown = min(k, cols * rows)
            if shown > best.shown:
                best = ReconLayout(f, max(1, cols), shown, side)
        if best.shown >= k:
            break
    return best


class ReconPane(Pane):
    """Inputs above their reconstructions; outputs are drawn on the input scale [0, 1]."""

    TITLE = "reconstructions"
    SHOWS_WEIGHTS = True

    def draw(self, frame: Frame, size: Size) -> Block:
        st = lambda spec: style_for(self.mode, spec)  # noqa: E731
        X, Y, labels = frame.recon_inputs, frame.recon_outputs, frame.recon_labels
        k = X.shape[0]
        if frame.state == "COMPILING":
            self.set_subtitle("")
            return block(Text("reconstructions appear once the kernels are compiled", style=st(theme.CAPTION)))
        lay = recon_layout(k, frame.image_shape, size.width, size.height)
        Xp, shape = pool(X, frame.image_shape, lay.factor)
        Yp, _ = pool(Y, frame.image_shape, lay.factor)
        tiles = []
        tile_w = 2 * shape[1] + 1 if lay.side else shape[1]
        for i in range(lay.shown):
            label = (labels[i] if i < len(labels) else str(i))[:tile_w]
            if self.painter is not None:  # full resolution in the same cells
                lines_ = (shape[0] + 1) // 2
                pics = [self.painter.block(to_rgb(img.reshape(frame.image_shape), "gray", 0.0, 1.0), shape[1], lines_,
                                           owner=self) for img in (X[i], Y[i])]
            else:
                pics = [block(image_text(Xp[i].reshape(shape), mode=self.mode, cmap="gray", lo=0.0, hi=1.0)),
                        block(image_text(Yp[i].reshape(shape), mode=self.mode, cmap="gray", lo=0.0, hi=1.0))]
            pair = hstack(pics, gap=1) if lay.side else vstack(pics)
            tiles.append(vstack([block(Text(label.center(tile_w), style=st(theme.CAPTION))), pair], width=tile_w))
        gap = SIDE_GAP if lay.side else GAP
        rows = [hstack(tiles[r:r + lay.columns], gap=gap) for r in range(0, len(tiles), lay.columns)]
        note = "input left of output" if lay.side else "input above output"
        if lay.factor > 1:
            note += f"  1:{lay.factor}"
        if lay.shown < k:
            note += f"  {lay.shown} of {k} fit"
        self.set_subtitle(note)
        return vstack(rows)
