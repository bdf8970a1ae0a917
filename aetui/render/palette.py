"""Every text style the renderers use besides the colour maps, in one place.

Styles are Rich style strings; `style_for` strips their colours outside COLOR mode, keeping
attributes such as bold, dim and reverse (NO_COLOR forbids colour, not emphasis).
"""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style

from .modes import DisplayMode

__all__ = [
    "AXIS_STYLE",
    "LABEL_STYLE",
    "MARKER_STYLE",
    "MARK_STYLES",
    "OTHER_MARK_STYLE",
    "SELECTED_STYLE",
    "SERIES_STYLES",
    "style_for",
]

LABEL_STYLE = "dim"  # unit numbers above filter tiles
SELECTED_STYLE = "reverse bold"  # label of the selected unit
MARK_STYLES = {"dead": "bold red", "saturated": "bold yellow", "nan": "bold magenta"}
OTHER_MARK_STYLE = "bold magenta"
AXIS_STYLE = "dim"  # chart axes and tick labels
MARKER_STYLE = "yellow"  # vertical chart markers and their labels
SERIES_STYLES = ("bright_cyan", "bright_white", "green", "magenta", "yellow", "blue")


@lru_cache(maxsize=256)
def style_for(mode: DisplayMode, spec: str) -> Style:
    """Parse `spec` once; outside COLOR mode drop its colours."""
    style = Style.parse(spec) if spec else Style.null()
    return style if mode is DisplayMode.COLOR else style.without_color
