"""Settling the graphics mode before the dashboard starts: the request, the terminal's answers, the painter.

Runs before Textual takes the terminal (the terminal can be asked only then). textual-image is
imported only when the mode draws images; in `cells` and `ascii` mode, and wherever `auto` finds
no graphics, the dashboard starts exactly as without it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aetui.render import DisplayMode
from aetui.tui.graphics_mode import GraphicsChoice, Graphics, choose_graphics, worth_asking
from aetui.tui.settings_file import load_settings, settings_path
from aetui.tui.terminal import display_mode, terminal_env


@dataclass
class GraphicsSetup:
    request: str  # as asked (--graphics, else the settings file, else auto): kept in the settings
    choice: GraphicsChoice
    mode: DisplayMode  # characters and colours of everything else
    painter: object | None  # an ImagePainter when choice.graphics draws images


def setup_graphics(request: str | None, force_ascii: bool = False) -> GraphicsSetup:
    """The graphics for this start: `request` from --graphics (None: the settings file's, else auto)."""
    if request is None:
        request = load_settings(settings_path())[0].graphics  # its warning is the dashboard's to say
    mode = display_mode(force_ascii or request == "ascii")
    env = terminal_env()
    answers = None
    if worth_asking(request, env, mode):
        from aetui.tui.terminal_query import ask_terminal

        answers = ask_terminal()
    choice = choose_graphics(request, env, mode, answers)
    painter = None
    if choice.graphics.images:
        from aetui.tui.image_painter import ImagePainter

        painter = ImagePainter(choice.graphics)
    if choice.graphics is Graphics.ASCII:
        mode = DisplayMode.ASCII
    return GraphicsSetup(request, choice, mode, painter)
