"""Helpers shared by the dashboard tests (tests/tui/).

The dashboard is always a client: `make_app` serves the trainer on a real Unix socket from a
TrainerServer in this process (kernels compiled once per test run, not per test) and attaches
the app to it, so every dashboard test goes through the channel. `stop_servers` ends them.
"""

from __future__ import annotations

import contextlib

from aetui.render import DisplayMode
from aetui.training.client import TrainerClient
from aetui.training.frame import PAUSED
from aetui.training.launch import acquire_trainer
from aetui.training.server import TrainerServer
from aetui.tui.app import AetuiApp
from aetui.tui.panes.status_bar import StatusBar

BIG = (120, 40)
SMALL = (80, 24)

_servers: list[TrainerServer] = []


def serve(trainer, *, start_paused: bool = True, **kw) -> TrainerServer:
    """A TrainerServer for `trainer`, started (stopped again by stop_servers)."""
    server = TrainerServer(trainer, paused=start_paused, **kw).start()
    _servers.append(server)
    return server


def make_app(trainer, store, *, mode=DisplayMode.COLOR, start_paused: bool = True, **kw) -> AetuiApp:
    """The dashboard in colour mode on a served `trainer`, starting paused unless told otherwise.

    Other sessions opened from it (`o`, resume) are served the same way, paused.
    """
    server = serve(trainer, start_paused=start_paused, **kw)

    def open_trainer(name: str) -> TrainerClient:
        for s in _servers:
            if not s.finished and s.trainer.session.name == name and s.trainer.session.path.parent == store.root:
                return TrainerClient.attach(s.path)
        other = acquire_trainer(store, name, trainer.config, {})
        return TrainerClient.attach(serve(other).path)

    return AetuiApp(TrainerClient.attach(server.path), store=store, open_trainer=open_trainer, mode=mode)


def stop_servers() -> None:
    """Stop every server the helpers started (saving), so no session stays locked."""
    while _servers:
        server = _servers.pop()
        server.stop(save=True, keep_training=False)
        server.close_clients(0.0)


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


@contextlib.asynccontextmanager
async def dashboard(trainer, store, wait, size=BIG):
    """The dashboard on `trainer`, paused and drawn, as (app, pilot); stopped (saved) after."""
    app = make_app(trainer, store)
    async with app.run_test(size=size) as pilot:
        await wait(pilot, lambda: app.frame is not None and app.frame.state == PAUSED, what="paused")
        await pilot.pause()
        yield app, pilot
        app.stop_training()
