"""Display modes: which characters and colours the terminal can show, and the marks drawn in each.

COLOR  Unicode half-blocks with RGB colours (Rich/Textual downgrade them to 256 or 16 colours).
SHADE  Unicode without colour (NO_COLOR): grey ramp ' ░▒▓█', braille charts.
ASCII  7-bit characters only (TERM=dumb, LANG=C, or forced): ramp ' .,:-=+*#%@'.

Every mode draws an image with the same footprint: one cell is one pixel wide and two pixels
tall (COLOR: the two pixels are the half-block's fg/bg; SHADE/ASCII: their mean), so a
widget's geometry never depends on the mode.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DisplayMode", "Glyphs", "detect_mode", "glyphs", "locale_is_utf8"]


class DisplayMode(enum.Enum):
    """How images and charts are drawn."""

    COLOR = "color"
    SHADE = "shade"
    ASCII = "ascii"

    @property
    def unicode(self) -> bool:
        """True when non-ASCII characters may be drawn."""
        return self is not DisplayMode.ASCII

    @property
    def color(self) -> bool:
        """True when colours may be drawn."""
        return self is DisplayMode.COLOR


def locale_is_utf8(env: Mapping[str, str]) -> bool:
    """True when the effective locale (first non-empty of LC_ALL, LC_CTYPE, LANG) is UTF-8."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name, "")
        if value:
            # "C" and "POSIX" fall through here too: neither names a UTF-8 codeset.
            normalized = value.lower().replace("-", "").replace("_", "")
            return "utf8" in normalized
    # Nothing set: the C locale applies, so Unicode output is not safe.
    return False


def detect_mode(env: Mapping[str, str], *, force_ascii: bool = False) -> DisplayMode:
    """Pick the richest mode the terminal described by `env` (e.g. os.environ) can show."""
    if force_ascii:
        return DisplayMode.ASCII
    if env.get("TERM", "") == "dumb":
        return DisplayMode.ASCII
    if not locale_is_utf8(env):
        return DisplayMode.ASCII
    # no-color.org: present and not empty, whatever the value.
    if env.get("NO_COLOR", ""):
        return DisplayMode.SHADE
    return DisplayMode.COLOR


@dataclass(frozen=True)
class Glyphs:
    """Single characters for marks widgets draw; every field is one terminal cell wide."""

    dead: str  # unit that never activates
    saturated: str  # unit stuck at its maximum
    nan: str  # a value that is NaN (SHADE/ASCII images; COLOR uses NAN_RGB)
    other_mark: str  # any other mark name
    vline: str  # separator between panes, y axis
    hline: str  # separator line
    tick_y: str  # y axis tick
    marker: str  # vertical chart marker (segment boundary, divergence)
    cursor: str  # current selection
    ellipsis: str  # text cut short
    ramp: str  # grey levels, darkest first (odd length: zero of signed data is the middle one)

    def mark(self, name: str) -> str:
        """The glyph for a unit mark such as "dead" or "saturated"."""
        return {"dead": self.dead, "saturated": self.saturated, "nan": self.nan}.get(
            name, self.other_mark
        )


_UNICODE = Glyphs(
    dead="✕",
    saturated="▲",
    nan="?",
    other_mark="•",
    vline="│",
    hline="─",
    tick_y="┤",
    marker="┊",
    cursor="▶",
    ellipsis="…",
    ramp=" ░▒▓█",
)

_ASCII = Glyphs(
    dead="x",
    saturated="^",
    nan="?",
    other_mark="*",
    vline="|",
    hline="-",
    tick_y="+",
    marker="|",
    cursor=">",
    ellipsis="~",
    ramp=" .,:-=+*#%@",
)


def glyphs(mode: DisplayMode) -> Glyphs:
    """The mark table for `mode` (ASCII mode gets 7-bit characters only)."""
    return _UNICODE if mode.unicode else _ASCII
