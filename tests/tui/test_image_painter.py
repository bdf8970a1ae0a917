"""Pictures as real images: the escape sequences made for a known small image decode to the right
size and pixels (kitty: PNG in base64 chunks and a placement; sixel: colour registers and bands),
and the cells that hold them."""

from __future__ import annotations

import base64
import io
import re
import sys

import numpy as np
import pytest
from PIL import Image

from aetui.tui.graphics.graphics_mode import Graphics
from aetui.tui.graphics.image_painter import ImagePainter, upscale


def picture() -> np.ndarray:
    """A 3 x 4 image of distinct colours (a corner red, one blue, the rest shades of grey)."""
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[..., :] = np.arange(12, dtype=np.uint8).reshape(3, 4, 1) * 20
    rgb[0, 0] = (255, 0, 0)
    rgb[2, 3] = (0, 0, 255)
    return rgb


@pytest.fixture
def terminal(monkeypatch):
    """What textual-image writes to the terminal (it writes to sys.__stdout__ directly)."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "__stdout__", out)
    return out


def kitty_messages(written: str) -> list[tuple[dict, str]]:
    out = []
    for keys, payload in re.findall(r"\x1b_G([^;\x1b]*);?([^\x1b]*)\x1b\\", written):
        out.append((dict(kv.split("=", 1) for kv in keys.split(",") if kv), payload))
    return out


def decode_sixel(data: str) -> np.ndarray:
    """A sixel DCS string -> (H, W, 3) uint8 (unset pixels black), from its raster attributes."""
    body = data[data.index("q") + 1: data.rindex("\x1b\\")]
    raster = re.match(r'"(\d+);(\d+);(\d+);(\d+)', body)
    width, height = int(raster.group(3)), int(raster.group(4))
    body = body[raster.end():]
    img = np.zeros((height, width, 3), np.uint8)
    colours: dict[int, tuple] = {}
    colour, x, band, i = 0, 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "#":
            m = re.match(r"#(\d+)(?:;2;(\d+);(\d+);(\d+))?", body[i:])
            colour = int(m.group(1))
            if m.group(2) is not None:
                colours[colour] = tuple(round(int(m.group(k)) * 255 / 100) for k in (2, 3, 4))
            i += m.end()
            continue
        count = 1
        if ch == "!":
            m = re.match(r"!(\d+)", body[i:])
            count = int(m.group(1))
            i += m.end()
            ch = body[i]
        if ch == "$":
            x = 0
        elif ch == "-":
            x, band = 0, band + 1
        elif "?" <= ch <= "~":
            bits = ord(ch) - 63
            for dy in range(6):
                if bits >> dy & 1 and band * 6 + dy < height:
                    img[band * 6 + dy, x:x + count] = colours[colour]
            x += count
        i += 1
    return img


def test_upscale_repeats_pixels():
    rgb = picture()
    big = upscale(rgb, 8, 9)
    assert big.shape == (9, 8, 3)
    assert (big[:3, :2] == rgb[0, 0]).all() and (big[6:, 6:] == rgb[2, 3]).all()


def test_kitty_sends_the_picture_at_its_cells_size_and_places_it_under_placeholders(terminal):
    painter = ImagePainter(Graphics.KITTY)
    cw, ch = painter.cell
    rgb = picture()
    blk = painter.block(rgb, 4, 3, owner="pane")
    messages = kitty_messages(terminal.getvalue())
    data = [(k, p) for k, p in messages if k.get("f") == "100"]
    assert data and data[-1][0]["m"] == "0" and all(k["m"] == "1" for k, _ in data[:-1])
    image_id = int(data[0][0]["i"])
    png = Image.open(io.BytesIO(base64.b64decode("".join(p for _, p in data))))
    assert png.size == (4 * cw, 3 * ch)
    pixels = np.asarray(png.convert("RGB"))
    assert (pixels == upscale(rgb, 4 * cw, 3 * ch)).all()  # nearest neighbour: every pixel exact
    place = [k for k, _ in messages if k.get("a") == "p"]
    assert place == [{"a": "p", "i": str(image_id), "c": "4", "r": "3", "U": "1", "q": "2"}]
    # The cells: 3 lines of 4 placeholders (U+10EEEE and its row/column diacritics), coloured with the id.
    assert blk.height == 3 and blk.width == 4
    for y, line in enumerate(blk.lines):
        text = "".join(seg.text for seg in line)
        assert text.count("\U0010eeee") == 4 and sum(seg.cell_length for seg in line) == 4
        colour = line[0].style.color.triplet
        assert (colour.red << 16 | colour.green << 8 | colour.blue) == image_id & 0xFFFFFF
    # The same picture in the next frame is the same image: nothing sent, nothing deleted.
    painter.frame_done("pane")
    sent = len(terminal.getvalue())
    assert painter.block(rgb.copy(), 4, 3, owner="pane") is blk
    painter.frame_done("pane")
    assert len(terminal.getvalue()) == sent
    # A changed picture is a new image; the old one is deleted from the terminal after the frame.
    changed = rgb.copy()
    changed[1, 1] = (0, 255, 0)
    painter.block(changed, 4, 3, owner="pane")
    assert "a=d" not in terminal.getvalue()
    painter.frame_done("pane")
    deletes = [k for k, _ in kitty_messages(terminal.getvalue()) if k.get("a") == "d"]
    assert deletes == [{"a": "d", "I": str(image_id)}]


def test_sixel_draws_the_picture_from_the_last_line_up(terminal):
    painter = ImagePainter(Graphics.SIXEL)
    cw, ch = painter.cell
    rgb = picture()
    blk = painter.block(rgb, 4, 3)
    assert blk.height == 3 and blk.width == 4
    assert [seg.text for seg in blk.lines[0]] == ["    "] and blk.text == "\n".join(["    "] * 3)
    blanks, control = blk.lines[-1]  # the blanks first: mlterm erases an image where text comes after it
    assert blanks.text == "    " and control.control and control.cell_length == 0
    assert control.text.startswith("\x1b7\x1b[4D\x1b[2A\x1bP") and control.text.endswith("\x1b\\\x1b8")
    data = control.text[len("\x1b7\x1b[4D\x1b[2A"):-len("\x1b8")]
    # Every colour register is defined before the first pixel (xterm paints the first band wrong
    # otherwise), each once.
    definitions = re.findall(r"#(\d+);2;", data)
    assert len(definitions) == len(set(definitions)) >= 2
    head = re.match(r'\x1bP[0-9;]*q"\d+;\d+;\d+;\d+((?:#\d+;2;\d+;\d+;\d+)+)', data)
    assert head and len(re.findall("#", head.group(1))) == len(definitions)
    pixels = decode_sixel(data)
    assert pixels.shape == (3 * ch, 4 * cw, 3)
    expected = upscale(rgb, 4 * cw, 3 * ch).astype(int)
    assert np.abs(pixels.astype(int) - expected).max() <= 3  # sixel colours are in whole percent
    assert terminal.getvalue() == ""  # sixel goes out with the screen's lines, not on its own


def test_colours_first_moves_definitions_up_unless_a_register_changes():
    from aetui.tui.graphics.image_painter import colours_first

    data = '\x1bP0;0;0q"1;1;4;6#2;2;0;0;78!4~-#0;2;100;100;100!4~$#2!4B\x1b\\'
    assert colours_first(data) == '\x1bP0;0;0q"1;1;4;6#2;2;0;0;78#0;2;100;100;100#2!4~-#0!4~$#2!4B\x1b\\'
    changed = data.replace("#2!4B", "#2;2;50;0;0!4B")
    assert colours_first(changed) == changed


def test_a_line_cut_short_draws_no_sixel_data():
    from rich.segment import Segment
    from textual.strip import Strip

    ImagePainter(Graphics.SIXEL)  # sixel in use: cropping is made safe
    data = Segment("\x1b7\x1bP0;0;0q#1;2;0;0;0!9~\x1b\\\x1b8", None, (("CURSOR_FORWARD", 0),))
    strip = Strip([Segment("ab"), data, Segment("cdef")], 6)
    assert strip.crop(0, 6) is strip  # whole: the image is drawn
    for start, end in ((1, 6), (0, 4), (3, 5)):
        part = strip.crop(start, end)
        assert part.text == "abcdef"[start:end] and part.cell_length == end - start
        assert not any(seg.control for seg in part)
    plain = Strip([Segment("abcdef")], 6)
    assert plain.crop(1, 3).text == "bc"


def test_cells_modes_make_no_painter():
    with pytest.raises(ValueError):
        ImagePainter(Graphics.CELLS)


@pytest.mark.parametrize("graphics", [Graphics.KITTY, Graphics.SIXEL])
async def test_filters_zoom_and_reconstructions_are_images(graphics, terminal, tui_make_trainer, tui_store, tui_wait):
    from aetui.render import DisplayMode
    from aetui.training.frame import PAUSED
    from aetui.tui.graphics.graphics_mode import GraphicsChoice
    from aetui.tui.graphics_setup import GraphicsSetup
    from tests.helpers.training import train
    from tests.helpers.tui import BIG, make_app

    trainer = tui_make_trainer(data="bars16")  # 16 x 16 pictures
    train(trainer, 2000)
    app = make_app(trainer, tui_store)
    painter = ImagePainter(graphics)
    app.graphics = GraphicsSetup(graphics.value, GraphicsChoice(graphics, "test"), DisplayMode.COLOR, painter)

    def images(pane) -> int:
        if graphics is Graphics.KITTY:
            return sum(seg.text.count("\U0010eeee") for line in pane.block.lines for seg in line)
        return sum(1 for line in pane.block.lines for seg in line if seg.control and "\x1bP" in seg.text)

    async with app.run_test(size=BIG) as pilot:
        await tui_wait(pilot, lambda: app.frame is not None and app.frame.state == PAUSED)
        app._draw_all()
        await pilot.pause()
        filters, recon = app.pane("filters"), app.pane("recon")
        rows = -(-filters.per_page // filters.columns)
        tile_lines = (-(-16 // filters.factor) + 1) // 2
        if graphics is Graphics.KITTY:  # every cell of every tile is a placeholder
            assert images(filters) == rows * tile_lines * (filters.columns * (-(-16 // filters.factor) + 1) - 1)
        else:  # one image per row of tiles
            assert images(filters) == rows
        assert "\u2580" not in filters.text  # no half-blocks left
        assert filters.text.splitlines()[0].startswith("\u25b60")  # the labels stay text
        k = app.frame.recon_inputs.shape[0]
        assert images(recon) > 0 and "\u2580" not in recon.text and "zero" in recon.text
        if graphics is Graphics.SIXEL:
            assert images(recon) == 2 * k  # input and output of each example
        if graphics is Graphics.SIXEL:  # a change repaints the whole pane: its images are drawn again
            from rich.segment import Segment as Seg
            from aetui.tui.blocks import Block

            calls = []
            refresh = filters.refresh
            filters.refresh = lambda *regions, **kw: (calls.append(regions), refresh(*regions, **kw))[1]
            lines = list(filters.block.lines)
            lines[0] = [Seg("x" * filters.block.width)]
            filters.show(Block(tuple(lines), filters.block.width))
            assert calls == [()]
            del filters.refresh
        from aetui.tui.panes.filters_pane import Comparison

        app._set_comparison(Comparison("snap", 0, "sigmoid", app.frame.session, app.frame.W * 0.5, app.frame.b))
        await pilot.pause()
        # Both grids (now, and the snapshot beside it) are images, with as many rows each.
        assert filters.compare is not None and images(filters) > 0 and "\u2580" not in filters.text
        if graphics is Graphics.SIXEL:
            assert images(filters) == 2 * -(-filters.per_page // filters.columns)
        app._set_comparison(None)
        await pilot.pause()
        await pilot.press("z")  # waited for: a press may return before a starved app handled it
        await tui_wait(pilot, lambda: filters.zoom and "unit 0 now" in filters.text, what="the zoom")
        assert images(filters) > 0
        rows = sorted(filters._control_rows)
        assert (len(rows) > 0) is (graphics is Graphics.SIXEL)
        await pilot.press("question_mark")
        from aetui.tui.help_screen import HelpScreen, help_text

        await tui_wait(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        # Under a dialog the sixel data is left out: it would draw over the dialog.
        assert all(not seg.control for y in rows for seg in filters.render_line(y))

        assert isinstance(app.screen, HelpScreen) and app.screen.pictures == f"{graphics.value} (test)"
        lines = app.console.render_lines(help_text(DisplayMode.COLOR, app.screen.pictures),
                                         app.console.options.update_width(100))
        assert any(f"Pictures: {graphics.value} (test)" in "".join(seg.text for seg in line) for line in lines)
        await pilot.press("escape")
        await tui_wait(pilot, lambda: not isinstance(app.screen, HelpScreen), what="the help closed")
        await tui_wait(pilot, lambda: all(any(seg.control for seg in filters.render_line(y)) for y in rows),
                       what="the sixel data back")
        app.stop_training()
    if graphics is Graphics.KITTY:  # images of frames before were deleted as new ones came
        assert "a=d" in terminal.getvalue()
