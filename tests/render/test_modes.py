"""Display mode detection and glyph tables."""

import pytest

from aetui.render import DisplayMode, detect_mode, glyphs

UTF8 = {"LANG": "en_US.UTF-8"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (UTF8, DisplayMode.COLOR),
        ({"LANG": "C.UTF-8"}, DisplayMode.COLOR),
        ({"LANG": "de_DE.utf8"}, DisplayMode.COLOR),
        ({"LANG": "C"}, DisplayMode.ASCII),
        ({"LANG": "POSIX"}, DisplayMode.ASCII),
        ({"LANG": "en_US.ISO-8859-1"}, DisplayMode.ASCII),
        ({}, DisplayMode.ASCII),  # no locale at all: the C locale applies
        ({"LANG": "", "LC_ALL": ""}, DisplayMode.ASCII),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, DisplayMode.ASCII),  # LC_ALL overrides LANG
        ({"LANG": "C", "LC_ALL": "en_US.UTF-8"}, DisplayMode.COLOR),
        ({"LANG": "C", "LC_CTYPE": "en_US.UTF-8"}, DisplayMode.COLOR),  # LC_CTYPE before LANG
        ({"LC_ALL": "", "LANG": "en_US.UTF-8"}, DisplayMode.COLOR),  # empty values are skipped
        ({"LC_CTYPE": "C", "LANG": "en_US.UTF-8"}, DisplayMode.ASCII),
        ({**UTF8, "TERM": "dumb"}, DisplayMode.ASCII),
        ({**UTF8, "TERM": "xterm-256color"}, DisplayMode.COLOR),
        ({**UTF8, "NO_COLOR": "1"}, DisplayMode.SHADE),
        ({**UTF8, "NO_COLOR": "0"}, DisplayMode.SHADE),  # any non-empty value
        ({**UTF8, "NO_COLOR": ""}, DisplayMode.COLOR),  # empty means unset
        ({"LANG": "C", "NO_COLOR": "1"}, DisplayMode.ASCII),  # ASCII wins over SHADE
        ({**UTF8, "TERM": "dumb", "NO_COLOR": "1"}, DisplayMode.ASCII),
    ],
)
def test_detect_mode(env, expected):
    assert detect_mode(env) is expected


def test_force_ascii_wins():
    assert detect_mode(UTF8, force_ascii=True) is DisplayMode.ASCII
    assert detect_mode({**UTF8, "NO_COLOR": "1"}, force_ascii=True) is DisplayMode.ASCII


def test_mode_properties():
    assert DisplayMode.COLOR.color and DisplayMode.COLOR.unicode
    assert not DisplayMode.SHADE.color and DisplayMode.SHADE.unicode
    assert not DisplayMode.ASCII.color and not DisplayMode.ASCII.unicode


@pytest.mark.parametrize("mode", list(DisplayMode))
def test_glyphs_are_single_cells(mode):
    g = glyphs(mode)
    for name in (
        "dead",
        "saturated",
        "nan",
        "other_mark",
        "vline",
        "hline",
        "tick_y",
        "marker",
        "cursor",
        "ellipsis",
    ):
        assert len(getattr(g, name)) == 1, name
    assert len(g.ramp) % 2 == 1  # zero of signed data sits on the middle character
    assert g.ramp[0] == " "
    assert len({g.dead, g.saturated, g.nan}) == 3
    assert g.mark("dead") == g.dead and g.mark("saturated") == g.saturated
    assert g.mark("something else") == g.other_mark


def test_ascii_glyphs_are_7bit():
    g = glyphs(DisplayMode.ASCII)
    text = "".join(str(v) for v in vars(g).values())
    assert all(ord(ch) < 128 for ch in text)
    assert g.ramp == " .,:-=+*#%@"
    assert glyphs(DisplayMode.SHADE).ramp == " ░▒▓█"
