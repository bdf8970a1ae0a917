"""What the terminal can show: the display mode, from the environment as the user set it."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from textual.scrollbar import ScrollBar, ScrollBarRender

from aetui.render import DisplayMode, detect_mode


def terminal_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with Python's own locale coercion undone.

    Why: under a C/POSIX locale (LANG=C, or a UTF-8 locale that is not installed) Python turns on
    UTF-8 mode and sets LC_CTYPE=C.UTF-8 in os.environ (PEP 538/540), which would make the
    terminal look Unicode-capable. Automatic UTF-8 mode is the sign that this happened.
    """
    env = dict(os.environ if environ is None else environ)
    coerced = sys.flags.utf8_mode and "PYTHONUTF8" not in env and "utf8" not in sys._xoptions
    if coerced and env.get("LC_CTYPE") in ("C.UTF-8", "C.utf8"):
        del env["LC_CTYPE"]
    return env


def display_mode(force_ascii: bool = False, environ: Mapping[str, str] | None = None) -> DisplayMode:
    """COLOR, SHADE (NO_COLOR) or ASCII (TERM=dumb, a non-UTF-8 locale, or --ascii).

    Call before creating the Textual App: it removes NO_COLOR from os.environ.
    """
    return detect_mode(terminal_env(environ), force_ascii=force_ascii)


class AsciiScrollBarRender(ScrollBarRender):
    """Scroll bars drawn with background colour only: no eighth-block glyphs."""

    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


def use_ascii_widgets() -> None:
    """Make Textual's own widgets 7-bit where they would draw block glyphs (scroll bars).

    Borders, toasts and checkboxes are switched in app.tcss and by the dialogs.
    """
    ScrollBar.renderer = AsciiScrollBarRender
