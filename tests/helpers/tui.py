"""Helpers shared by the dashboard tests (tests/tui/)."""

from __future__ import annotations

from aetui.render import DisplayMode
from aetui.tui.app import AetuiApp
from aetui.tui.widgets.status_bar import StatusBar

BIG = (120, 40)
SMALL = (80, 24)


def make_app(trainer, store, **kw) -> AetuiApp:
    """The dashboard in colour mode, starting paused unless told otherwise."""
    kw.setdefault("mode", DisplayMode.COLOR)
    kw.setdefault("start_paused", True)
    return AetuiApp(trainer, store=store, **kw)


def record_notices(app) -> list[tuple[str, str]]:
    """Wrap app.notify to keep (message, severity) of every notification."""
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message, **kw):
        seen.append((str(message), kw.get("severity", "information")))
        return original(message, **kw)

    app.notify = notify
    return seen


def status_text(app) -> str:
    bar = app.query_one(StatusBar)
    return "\n".join(bar.render_line(y).text for y in range(bar.size.height))
