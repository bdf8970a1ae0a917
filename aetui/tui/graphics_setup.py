"""Settling the graphics mode before the dashboard starts: the request, the terminal's answers, the painter.

Runs before Textual takes the terminal (the terminal can be asked only then). textual-image is
imported only when the mode draws images; in `cells` and `ascii` mode, and wherever `auto` finds
no graphics, the dashboard starts exactly as without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aetui.render import DisplayMode
from aetui.tui.graphics.graphics_mode import GraphicsChoice, Graphics, choose_graphics, in_multiplexer, worth_asking
from aetui.tui.settings_file import load_settings, settings_path
from aetui.tui.graphics.terminal import display_mode, terminal_env


def effective_request(request: str, given: bool, force_ascii: bool, env: Mapping[str, str],
                      mode: DisplayMode) -> str:
    """What to choose by: --ascii wins; a protocol kept from an earlier run (not given this time) is
    used only where auto would look for images at all (and kitty not inside tmux/screen), since
    this start may be in another terminal (a console, tmux, LANG=C) than the one it was chosen in."""
    if force_ascii:
        return "ascii"
    if not given and request in ("kitty", "sixel"):
        if not worth_asking("auto", env, mode) or (request == "kitty" and in_multiplexer(env)):
            return "auto"
    return request


@dataclass
class GraphicsSetup:
    request: str  # as asked (--graphics, else the settings file, else auto): kept in the settings
    choice: GraphicsChoice
    mode: DisplayMode  # characters and colours of everything else
    painter: object | None  # an ImagePainter when choice.graphics draws images


def setup_graphics(request: str | None, force_ascii: bool = False) -> GraphicsSetup:
    """The graphics for this start: `request` from --graphics (None: the settings file's, else auto)."""
    given = request is not None
    if not given:
        request = load_settings(settings_path())[0].graphics  # its warning is the dashboard's to say
    mode = display_mode(force_ascii or request == "ascii")
    env = terminal_env()
    asked = effective_request(request, given, force_ascii, env, mode)
    answers = None
    if worth_asking(asked, env, mode):
        from aetui.tui.graphics.terminal_query import ask_terminal

        answers = ask_terminal()
    choice = choose_graphics(asked, env, mode, answers)
    painter = None
    if choice.graphics.images:
        from aetui.tui.graphics.image_painter import ImagePainter

        painter = ImagePainter(choice.graphics)
    if choice.graphics is Graphics.ASCII:
        mode = DisplayMode.ASCII
    return GraphicsSetup(request, choice, mode, painter)
