"""Which way the dashboard draws its pictures: a pure choice from the request, the environment and
the terminal's answers.

kitty  the Kitty graphics protocol, as textual-image places it (Unicode placeholders: kitty and
       Ghostty; WezTerm and Konsole speak the protocol but not the placeholders, and get sixel)
sixel  Sixel images (xterm -ti vt340, foot, WezTerm, mlterm, iTerm2, tmux built with sixel)
cells  half-blocks (or shades with NO_COLOR): today's renderer, every Unicode terminal
ascii  7-bit characters only

`auto` asks the terminal (textual-image sends the queries: primary device attributes for sixel,
a graphics-protocol query for kitty) only when the environment leaves a chance: never without a
terminal, in the Linux console, under NO_COLOR (pictures in colour) or without Unicode. Inside
tmux or screen the kitty protocol does not pass (textual-image does not wrap it for passthrough),
so there only sixel counts, when tmux itself answers that it draws sixel. Over SSH the queries
travel to the user's terminal and back like any key, so the answer is the real terminal's.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from aetui.render import DisplayMode

REQUESTS = ("auto", "kitty", "sixel", "cells", "ascii")


class Graphics(enum.Enum):
    KITTY = "kitty"
    SIXEL = "sixel"
    CELLS = "cells"
    ASCII = "ascii"

    @property
    def images(self) -> bool:
        """True when pictures are real images (a graphics protocol), not characters."""
        return self in (Graphics.KITTY, Graphics.SIXEL)


@dataclass(frozen=True)
class TerminalAnswers:
    """What the terminal said to the queries: it draws sixel / it speaks the kitty protocol."""

    sixel: bool = False
    kitty: bool = False


@dataclass(frozen=True)
class GraphicsChoice:
    graphics: Graphics
    why: str  # for the help screen: "asked for with --graphics", "tmux: ...", "the terminal draws sixel"


def in_multiplexer(env: Mapping[str, str]) -> bool:
    return bool(env.get("TMUX")) or env.get("TERM", "").startswith(("screen", "tmux"))


def places_kitty_images(env: Mapping[str, str]) -> bool:
    """Terminals known to draw the kitty protocol's Unicode placeholders (textual-image's way)."""
    return (env.get("TERM") in ("xterm-kitty", "xterm-ghostty") or bool(env.get("KITTY_WINDOW_ID"))
            or env.get("TERM_PROGRAM", "").lower() == "ghostty")


def worth_asking(request: str, env: Mapping[str, str], display: DisplayMode) -> bool:
    """Whether to query the terminal at all (only `auto`, only where an image could show)."""
    if request != "auto" or display is not DisplayMode.COLOR:
        return False
    return env.get("TERM", "") not in ("", "dumb", "linux", "vt100", "vt220")


def choose_graphics(request: str, env: Mapping[str, str], display: DisplayMode,
                    answers: TerminalAnswers | None) -> GraphicsChoice:
    """The graphics mode for `request` (one of REQUESTS) in this terminal.

    `display` is the character mode (COLOR, SHADE with NO_COLOR, ASCII without Unicode);
    `answers` the terminal's answers, None when it was not (or could not be) asked.
    """
    if request not in REQUESTS:
        raise ValueError(f"unknown graphics mode {request!r}; expected one of {', '.join(REQUESTS)}")
    cells = Graphics.ASCII if display is DisplayMode.ASCII else Graphics.CELLS
    if request == "ascii":
        return GraphicsChoice(Graphics.ASCII, "asked for with --graphics ascii")
    if request == "cells":
        return GraphicsChoice(cells, "asked for with --graphics cells"
                              + ("" if cells is Graphics.CELLS else " (no Unicode here: ASCII)"))
    if request in ("kitty", "sixel"):
        return GraphicsChoice(Graphics(request), f"asked for with --graphics {request}")
    if display is DisplayMode.ASCII:
        return GraphicsChoice(Graphics.ASCII, "no Unicode (TERM=dumb, a non-UTF-8 locale or --ascii)")
    if display is DisplayMode.SHADE:
        return GraphicsChoice(Graphics.CELLS, "NO_COLOR: pictures in shades")
    if not worth_asking(request, env, display):
        return GraphicsChoice(Graphics.CELLS, f"TERM={env.get('TERM', '')!s} draws no images")
    if answers is None:
        return GraphicsChoice(Graphics.CELLS, "the terminal could not be asked")
    if in_multiplexer(env):
        if answers.sixel:
            return GraphicsChoice(Graphics.SIXEL, "tmux/screen draws sixel")
        return GraphicsChoice(Graphics.CELLS, "tmux/screen: kitty graphics do not pass through")
    if answers.kitty and places_kitty_images(env):
        return GraphicsChoice(Graphics.KITTY, "the terminal speaks the kitty graphics protocol")
    if answers.sixel:
        return GraphicsChoice(Graphics.SIXEL, "the terminal draws sixel")
    if answers.kitty:
        return GraphicsChoice(Graphics.CELLS, "the terminal speaks the kitty protocol but places no "
                              "Unicode-placeholder images, and draws no sixel")
    return GraphicsChoice(Graphics.CELLS, "the terminal answered that it draws no images")
