"""The graphics mode: chosen from the request, the environment and the terminal's answers; the
answers parsed from what a terminal sends back; --graphics on the command line."""

from __future__ import annotations

import sys

import pytest

from aetui.cli.dashboard import GRAPHICS_REQUESTS
from aetui.render import DisplayMode
from aetui.tui.graphics.graphics_mode import REQUESTS, Graphics, TerminalAnswers, choose_graphics, worth_asking
from aetui.tui.graphics.terminal_query import DA1_QUERY, KITTY_QUERY, parse_answers

COLOR, SHADE, ASCII = DisplayMode.COLOR, DisplayMode.SHADE, DisplayMode.ASCII
KITTY = {"TERM": "xterm-kitty", "LANG": "en_US.UTF-8"}
XTERM = {"TERM": "xterm-256color", "LANG": "en_US.UTF-8"}
TMUX = {"TERM": "tmux-256color", "TMUX": "/tmp/tmux-0/default,1,0", "LANG": "en_US.UTF-8"}
SIXEL = TerminalAnswers(sixel=True)
TGP = TerminalAnswers(kitty=True)
NOTHING = TerminalAnswers()


@pytest.mark.parametrize("request_, env, display, answers, expected", [
    # auto: what the terminal answered, where it can pass
    ("auto", KITTY, COLOR, TGP, Graphics.KITTY),
    ("auto", XTERM, COLOR, SIXEL, Graphics.SIXEL),  # xterm -ti vt340, foot, mlterm
    ("auto", {"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, COLOR, TerminalAnswers(True, True),
     Graphics.SIXEL),  # speaks kitty without placeholders: sixel
    ("auto", {"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, COLOR, TGP, Graphics.CELLS),
    ("auto", XTERM, COLOR, NOTHING, Graphics.CELLS),
    ("auto", XTERM, COLOR, None, Graphics.CELLS),  # no answer (no terminal, or it kept silent)
    ("auto", KITTY, COLOR, None, Graphics.CELLS),
    # tmux: kitty images do not pass; sixel when tmux itself draws it
    ("auto", dict(TMUX, KITTY_WINDOW_ID="1"), COLOR, TGP, Graphics.CELLS),
    ("auto", {"TERM": "screen-256color"}, COLOR, TGP, Graphics.CELLS),
    ("auto", TMUX, COLOR, SIXEL, Graphics.SIXEL),
    # what the characters can show decides first
    ("auto", KITTY, SHADE, TGP, Graphics.CELLS),  # NO_COLOR
    ("auto", KITTY, ASCII, TGP, Graphics.ASCII),  # LANG=C, TERM=dumb, --ascii
    ("auto", {"TERM": "linux"}, COLOR, SIXEL, Graphics.CELLS),  # the console draws no images
    # asked for: given
    ("kitty", TMUX, COLOR, None, Graphics.KITTY),
    ("sixel", XTERM, SHADE, None, Graphics.SIXEL),
    ("cells", KITTY, COLOR, TGP, Graphics.CELLS),
    ("cells", KITTY, ASCII, TGP, Graphics.ASCII),
    ("ascii", KITTY, COLOR, TGP, Graphics.ASCII),
])
def test_choice(request_, env, display, answers, expected):
    choice = choose_graphics(request_, env, display, answers)
    assert choice.graphics is expected and choice.why


def test_the_terminal_is_asked_only_where_an_image_could_show():
    assert worth_asking("auto", XTERM, COLOR)
    assert not worth_asking("auto", XTERM, SHADE) and not worth_asking("auto", XTERM, ASCII)
    assert not worth_asking("kitty", XTERM, COLOR) and not worth_asking("cells", XTERM, COLOR)
    for term in ("", "dumb", "linux"):
        assert not worth_asking("auto", {"TERM": term}, COLOR)


def test_unknown_request_is_refused():
    with pytest.raises(ValueError):
        choose_graphics("x11", XTERM, COLOR, None)
    assert GRAPHICS_REQUESTS == REQUESTS  # the CLI's own spelling of the choices


@pytest.mark.parametrize("reply, expected", [
    ("\x1b_Gi=31;OK\x1b\\\x1b[?62;c", TerminalAnswers(sixel=False, kitty=True)),  # kitty
    ("\x1b[?63;1;2;4;6;9;15;16;22;28c", TerminalAnswers(sixel=True, kitty=False)),  # xterm -ti vt340
    ("\x1b[?65;1;9c", TerminalAnswers(sixel=False, kitty=False)),  # plain xterm
    ("\x1b_Gi=31;ENOTSUPPORTED:nope\x1b\\\x1b[?62;4c", TerminalAnswers(sixel=True, kitty=False)),
    ("\x1b[?62;4c\x1b_Gi=31;OK\x1b\\", TerminalAnswers(sixel=True, kitty=False)),  # after DA1: not an answer
    ("x\x1b[?1;2c", TerminalAnswers()),  # a key typed meanwhile is no answer
    ("", None),
    ("\x1b_Gi=31;OK\x1b\\", None),  # no DA1 reply: cannot tell
])
def test_answers_parsed(reply, expected):
    assert parse_answers(reply) == expected


def test_the_queries_are_the_documented_ones():
    assert KITTY_QUERY.startswith("\x1b_G") and "a=q" in KITTY_QUERY and KITTY_QUERY.endswith("\x1b\\")
    assert ",U=1" in KITTY_QUERY  # kitty < 0.28 refuses it: no placeholders there (seen: kitty 0.26.5)
    assert DA1_QUERY == "\x1b[c"


@pytest.mark.slow
def test_the_dashboard_loads_textual_image_only_for_images():
    # Without a terminal, auto finds no graphics: the dashboard starts as it did without
    # textual-image (neither it nor Pillow imported).
    import json
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("import json, sys\n"
            "import aetui.cli.main, aetui.cli.dashboard, aetui.tui.app\n"
            "from aetui.tui.graphics_setup import setup_graphics\n"
            "s = setup_graphics(None)\n"
            "print(json.dumps([s.choice.graphics.value, sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('textual_image', 'PIL'))]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(root), "TERM": "xterm-kitty"}, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == ["cells", []]


def test_a_bad_graphics_option_is_one_line_and_exit_2(tmp_path):
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for command in (["train"], ["attach", "x"]):
        out = subprocess.run([sys.executable, "-m", "aetui", *command, "--graphics", "x11", "--sessions-dir",
                              str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        assert out.returncode == 2 and out.stdout == ""
        assert out.stderr.strip().splitlines() == [
            "aetui: argument --graphics: invalid choice: 'x11' (choose from 'auto', 'kitty', 'sixel', 'cells', 'ascii')"]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("request_, given, force_ascii, env, display, expected", [
    ("kitty", True, False, TMUX, COLOR, "kitty"),  # given this time: as asked
    ("kitty", False, False, TMUX, COLOR, "auto"),  # kept from a run in kitty, now inside tmux
    ("sixel", False, False, TMUX, COLOR, "sixel"),  # tmux may draw sixel
    ("sixel", False, False, {"TERM": "linux"}, COLOR, "auto"),  # now on the console
    ("kitty", False, False, KITTY, ASCII, "auto"),  # now with LANG=C
    ("kitty", False, False, KITTY, COLOR, "kitty"),
    ("kitty", True, True, KITTY, ASCII, "ascii"),  # --ascii wins
    ("cells", False, False, KITTY, COLOR, "cells"),
])
def test_a_kept_request_is_used_only_where_it_can_work(request_, given, force_ascii, env, display, expected):
    from aetui.tui.graphics_setup import effective_request

    assert effective_request(request_, given, force_ascii, env, display) == expected
