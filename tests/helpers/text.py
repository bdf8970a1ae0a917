"""Questions about rendered Text that tests (render and TUI alike) ask: colours, characters."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

__all__ = ["has_colour", "is_7bit", "style_at", "styles_of"]


def _parse(style: str | Style | None) -> Style:
    if isinstance(style, Style):
        return style
    return Style.parse(style) if style else Style.null()


def styles_of(text: Text) -> list[Style]:
    """The base style and every span's style, parsed."""
    return [_parse(text.style)] + [_parse(span.style) for span in text.spans]


def has_colour(text: Text) -> bool:
    """True if any style of `text` sets a foreground or background colour."""
    return any(s.color is not None or s.bgcolor is not None for s in styles_of(text))


def is_7bit(text: Text | str) -> bool:
    """True if every character is 7-bit ASCII."""
    plain = text.plain if isinstance(text, Text) else text
    return all(ord(ch) < 128 for ch in plain)


def style_at(text: Text, offset: int) -> Style:
    """The combined style at character `offset` of `text.plain` (later spans win, as in Rich)."""
    style = _parse(text.style)
    for span in text.spans:
        if span.start <= offset < span.end:
            style = style + _parse(span.style)
    return style
