"""Asking the terminal what it can draw, once, before the dashboard takes the terminal over.

One round trip: a kitty graphics-protocol query (for a Unicode-placeholder image) followed by a primary device attributes request
(DA1, ESC [ c), which every terminal since the VT100 answers. A terminal that speaks the kitty
protocol answers the query before the DA1 reply (the order kitty's documentation recommends, so
no timeout is waited for in the common case); the DA1 reply lists 4 when the terminal draws
sixel. Keys typed during the ~millisecond of the question may be lost, as with any such query.
"""

from __future__ import annotations

import os
import re
import select
import sys
import time

from aetui.tui.graphics.graphics_mode import TerminalAnswers

# U=1 (a Unicode-placeholder placement, the way textual-image places images) makes terminals that
# speak the protocol but predate placeholders (kitty < 0.28: "invalid key character: 0x55") refuse
# the query instead of answering OK: seen with kitty 0.26.5, which drew the placeholders as boxes.
KITTY_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24,U=1;AAAA\x1b\\"
DA1_QUERY = "\x1b[c"
_DA1_REPLY = re.compile(r"\x1b\[\?([0-9;]*)c")
_KITTY_REPLY = re.compile(r"\x1b_Gi=31;([^\x1b]*)\x1b\\")


def parse_answers(reply: str) -> TerminalAnswers | None:
    """The terminal's reply to KITTY_QUERY + DA1_QUERY -> what it can draw (None: no DA1 reply)."""
    da1 = _DA1_REPLY.search(reply)
    if da1 is None:
        return None
    kitty = _KITTY_REPLY.search(reply[: da1.start()])
    return TerminalAnswers(sixel="4" in da1.group(1).split(";"), kitty=kitty is not None and kitty.group(1) == "OK")


def ask_terminal(timeout: float = 0.5) -> TerminalAnswers | None:
    """Send the queries to the controlling terminal and read the answers (None: no terminal, or
    no answer within `timeout` seconds)."""
    import termios
    import tty

    stdin, stdout = sys.__stdin__, sys.__stdout__
    if stdin is None or stdout is None or not (stdin.isatty() and stdout.isatty()):
        return None
    fd = stdin.fileno()
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        return None
    reply = ""
    try:
        tty.setcbreak(fd)  # no echo, no line buffering: the reply is read as it comes
        stdout.write(KITTY_QUERY + DA1_QUERY)
        stdout.flush()
        deadline = time.monotonic() + timeout
        while _DA1_REPLY.search(reply) is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            reply += os.read(fd, 1024).decode("latin-1")
    except OSError:
        return None
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
    return parse_answers(reply)
