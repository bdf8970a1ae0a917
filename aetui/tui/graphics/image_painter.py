"""Pictures drawn as real images (kitty graphics protocol or sixel) in the cells a pane gives them.

The panes lay out their pictures in cells as always (one cell: one pixel wide, two tall in the
half-block renderer); with a graphics protocol, the cells of a picture are covered by an image
of the picture at its own full resolution, scaled up (nearest neighbour: pixels stay square and
sharp) to the cells' size in screen pixels. textual-image does the protocols:

- kitty: the image is sent once (PNG, base64, in chunks) with a virtual placement, and the cells
  hold Unicode placeholders whose foreground colour names the image; the terminal draws the
  image where the placeholders are, so the pane's text layout (and Textual's repaints of changed
  lines) stays as it is. The placeholders' colour must reach the terminal exactly: Textual is
  told the terminal has true colour (kitty always has; over SSH COLORTERM is often not sent).
- sixel: the cells are blanks; the last line of the picture carries, after its blanks, a
  zero-width control segment: save the cursor, go back to the picture's first cell, the sixel
  data, restore the cursor. Whenever Textual repaints that line the image is drawn again.

Images a pane drew before are deleted from the terminal after the pane drew its next ones.
textual-image is imported only here, and only when a protocol is in use (`ImagePainter` is made
by the CLI when the graphics mode asks for images).
"""

from __future__ import annotations

import io
import os
import re

import numpy as np
from rich.console import Console
from rich.segment import ControlType, Segment

from aetui.tui.blocks import Block
from aetui.tui.graphics.graphics_mode import Graphics

SAVE_CURSOR, RESTORE_CURSOR = "\x1b7", "\x1b8"
_ZERO_WIDTH = ((ControlType.CURSOR_FORWARD, 0),)  # marks a segment as control: no cells, passed as is


def upscale(rgb: np.ndarray, width_px: int, height_px: int) -> np.ndarray:
    """Nearest-neighbour resize of an (h, w, 3) uint8 image to (height_px, width_px, 3)."""
    h, w = rgb.shape[:2]
    rows = (np.arange(height_px) * h) // max(1, height_px)
    cols = (np.arange(width_px) * w) // max(1, width_px)
    return rgb[rows][:, cols]


_COLOUR_DEFINITION = re.compile(r"#(\d+);2;(\d+);(\d+);(\d+)")
_RASTER = re.compile(r'q"\d+;\d+;\d+;\d+')


def colours_first(sixel: str) -> str:
    """The sixel data with every colour register defined up front, right after the raster attributes.

    textual-image defines each register where it is first used; xterm (-ti vt340) then paints the
    first band of an image in the register's old colour (seen under Xvfb: a green top line on
    every picture). Defining them all first is the same image to any sixel decoder, so this is
    done only when no register is defined twice.
    """
    found = _COLOUR_DEFINITION.findall(sixel)
    raster = _RASTER.search(sixel)
    definitions = {}
    for reg, *rgb in found:
        if definitions.setdefault(reg, rgb) != rgb:
            return sixel
    if raster is None or not found:
        return sixel
    head = "".join(f"#{reg};2;{r};{g};{b}" for reg, (r, g, b) in definitions.items())
    body = _COLOUR_DEFINITION.sub(lambda m: f"#{m.group(1)}", sixel[raster.end():])
    return sixel[:raster.end()] + head + body


def crop_without_images() -> None:
    """Make Textual's Strip.crop leave out control segments (sixel data) when it cuts a line short.

    Strip.crop measures every segment's text as cells, control segments too (Rich's own
    Segment.divide does not): a line cut where a toast or a dialog overlaps it split the sixel
    data in two and printed its tail as text (seen in xterm: '9#6;2;35;3' beside a dialog). A
    line shown only in part draws no image; the image comes back with the next whole line.
    """
    from textual.strip import Strip

    original = Strip.crop
    if getattr(original, "aetui_images", False):
        return

    def crop(self, start: int, end: int | None = None) -> Strip:
        stop = self.cell_length if end is None else min(self.cell_length, end)
        if (start > 0 or stop < self.cell_length) and any(seg.control for seg in self._segments):
            self = Strip([seg for seg in self._segments if not seg.control], self.cell_length)
        return original(self, start, end)

    crop.aetui_images = True
    Strip.crop = crop


class ImagePainter:
    """Makes Blocks that show RGB pictures as kitty or sixel images; keeps track of what to free."""

    def __init__(self, graphics: Graphics) -> None:
        """Call before Textual starts: textual-image asks the terminal for its cell size (once)."""
        if not graphics.images:
            raise ValueError(f"{graphics.value} draws no images")
        from textual_image.renderable import sixel, tgp
        # The cell size textual-image scales images to (ioctl, else an escape-sequence query, else
        # 10 x 20): the pictures are made at exactly that size, so it never resamples them.
        from textual_image._terminal import get_cell_size

        self.graphics = graphics
        self.cell = tuple(get_cell_size())  # (width, height) of a cell in pixels
        self._renderable = tgp.Image if graphics is Graphics.KITTY else sixel.Image
        # owner -> {picture key: (image, Block)}: its pictures on screen, and those of its next frame
        self._shown: dict[object, dict] = {}
        self._new: dict[object, dict] = {}
        if graphics is Graphics.KITTY:
            os.environ["COLORTERM"] = "truecolor"  # placeholders' colours are image ids: no downgrade
        else:
            crop_without_images()

    def _pil(self, rgb: np.ndarray, width: int, height: int):
        from PIL import Image as PILImage

        px = upscale(np.ascontiguousarray(rgb, dtype=np.uint8), width * self.cell[0], height * self.cell[1])
        return PILImage.fromarray(np.ascontiguousarray(px), "RGB")

    def block(self, rgb: np.ndarray, width: int, height: int, owner: object = None) -> Block:
        """A `width` x `height` cell Block showing the (h, w, 3) uint8 image `rgb` over all of it."""
        width, height = max(1, int(width)), max(1, int(height))
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        key = (width, height, rgb.shape, hash(rgb.tobytes()))
        new = self._new.setdefault(owner, {})
        # A picture that has not changed since the owner's last frame (the inputs of the
        # reconstructions, a converged filter) is not encoded and sent again: a sixel row of
        # filters takes ~35 ms to encode.
        done = new.get(key) or self._shown.get(owner, {}).get(key)
        if done is not None:
            new[key] = done
            return done[1]
        image = self._renderable(self._pil(rgb, width, height), width=width, height=height)
        blk = self._make_block(image, width, height)
        new[key] = (image, blk)
        return blk

    def _make_block(self, image, width: int, height: int) -> Block:
        console = Console(file=io.StringIO(), width=width, height=height, color_system="truecolor",
                          force_terminal=True, legacy_windows=False)
        segments = list(console.render(image, console.options.update(width=width, height=height)))
        if self.graphics is Graphics.KITTY:
            lines, line = [], []
            for seg in segments:
                text = seg.text.rstrip("\n")
                if text:
                    line.append(Segment(text, seg.style))
                if seg.text.endswith("\n"):
                    lines.append(line)
                    line = []
            return Block(tuple(lines[:height]), width)
        data = colours_first("".join(seg.text for seg in segments if seg.text.startswith("\x1bP")))
        # After the picture's last cells: back over them and up to its first line. Terminals that
        # erase an image where text is written (mlterm) must get the blanks before the image.
        back = f"\x1b[{width}D" + (f"\x1b[{height - 1}A" if height > 1 else "")
        blank = [Segment(" " * width)]
        last = [Segment(" " * width), Segment(SAVE_CURSOR + back + data + RESTORE_CURSOR, None, _ZERO_WIDTH)]
        return Block(tuple([blank] * (height - 1) + [last]), width)

    def frame_done(self, owner: object = None) -> None:
        """`owner` showed the Blocks made since its last frame: free the images of its frame before."""
        old = self._shown.pop(owner, {})
        kept = self._new.pop(owner, {})
        self._shown[owner] = kept
        still = {id(image) for image, _ in kept.values()}
        for image, _ in old.values():
            if id(image) not in still:
                image.cleanup()
