"""Text -> per-line Segments for widgets that draw lines themselves."""

import numpy as np
from rich.console import Console
from rich.style import Style
from rich.text import Span, Text

from aetui.render import DisplayMode, Series, filter_grid, line_chart, segment_lines
from tests.helpers.text import style_at


def check_matches(text: Text) -> None:
    lines = segment_lines(text)
    plain_lines = text.plain.split("\n")
    assert len(lines) == len(plain_lines)
    offset = 0
    for segments, plain in zip(lines, plain_lines):
        assert "".join(s.text for s in segments) == plain
        pos = offset
        for seg in segments:
            assert "\n" not in seg.text and seg.text
            expected = style_at(text, pos)
            assert (seg.style or Style.null()) == expected
            pos += len(seg.text)
        offset += len(plain) + 1


def test_grid_and_chart_round_trip():
    W = np.random.default_rng(0).normal(size=(7, 64))
    check_matches(
        filter_grid(W, (8, 8), mode=DisplayMode.COLOR, columns=3, marks={2: "dead"}, selected=1)
    )
    check_matches(filter_grid(W, (8, 8), mode=DisplayMode.ASCII, columns=3, labels=False))
    s = Series("loss", np.arange(50.0), np.linspace(1, 0.1, 50))
    check_matches(
        line_chart([s], width=40, height=10, mode=DisplayMode.COLOR, markers=[(20, "relu")])
    )


def test_base_style_blank_lines_and_spans_across_newlines():
    text = Text("ab\n\ncd\n", style="bold")
    text.stylize("red", 1, 6)
    check_matches(text)
    assert segment_lines(Text("")) == [[]]


def test_overlapping_spans_fall_back_to_rich():
    text = Text("abcdef")
    text.stylize("red", 0, 4)
    text.stylize("bold", 2, 6)
    lines = segment_lines(text)
    assert "".join(s.text for s in lines[0]) == "abcdef"
    console = Console(width=20, color_system="truecolor")
    expected = [s for s in text.render(console) if s.text and s.text != "\n"]
    assert [(s.text, s.style) for s in lines[0]] == [(s.text, s.style) for s in expected]


def test_empty_spans_are_ignored():
    text = Text("abc", spans=[Span(1, 1, Style(bold=True)), Span(1, 3, Style(italic=True))])
    (line,) = segment_lines(text)
    assert [(s.text, s.style) for s in line] == [("a", None), ("bc", Style(italic=True))]
