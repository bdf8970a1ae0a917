"""The web server of `aetui serve`: textual-serve's, with a token at the door and a tab per process.

textual-serve runs a command per websocket (per browser tab) and draws its Textual app in the
page. Here that command is one more dashboard attached to a trainer, so tabs are clients like
terminals: closing a tab ends its process, which detaches. What this adds to textual-serve:

- the token door (token_door.py) on every route, and no access log (it would hold the token);
- the page's websocket address from the address the browser used (textual-serve's own is built
  from --host, which is 0.0.0.0 with --allow-remote), and no font from another site;
- without a session, a page listing the sessions, each opening its own dashboard;
- a record of the tab processes, so a stopped server stops them (each detaches) and leaves none.
"""

from __future__ import annotations

import asyncio
import html
import logging
import shlex
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from aetui.web.token_door import token_door

TEMPLATES = Path(__file__).with_name("templates")
TAB_QUIT_SECONDS = 10.0  # a tab told to quit detaches from its trainer: a few hundred ms; then SIGTERM, SIGKILL
SHUTDOWN_SECONDS = 5.0
log = logging.getLogger("aetui.web")


@dataclass(frozen=True)
class SessionRow:
    """One line of the page that lists the sessions (all strings, as shown)."""

    name: str
    lineage: str
    samples: str
    heldout: str
    running: str


class TabService(AppService):
    """textual-serve's app service, recording its process in the server's set while it runs."""

    def __init__(self, *args, processes: set, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._processes = processes

    async def _open_app_process(self, width: int = 80, height: int = 24):
        process = await super()._open_app_process(width, height)
        self._processes.add(process)
        return process

    async def run(self) -> None:
        await super().run()
        # The app ended (q, or a tab that could not start: its one line is on the server's console):
        # close the page's socket, so that the page says the session ended instead of waiting.
        await self.remote_close()

    async def finish(self) -> None:
        """Stop the tab's app (it detaches) and wait for its process; kill it if it hangs."""
        try:
            await asyncio.wait_for(self.stop(), TAB_QUIT_SECONDS)
        except (asyncio.TimeoutError, ConnectionError, RuntimeError):
            pass
        process = self._process
        if process is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if process.returncode is not None:
                break
            try:
                await asyncio.wait_for(process.wait(), TAB_QUIT_SECONDS if sig is signal.SIGTERM else 0.1)
                break
            except asyncio.TimeoutError:
                try:
                    process.send_signal(sig)
                except ProcessLookupError:
                    break
        if process.returncode is None:
            await process.wait()
        self._processes.discard(process)


class DashboardServer(Server):
    """Serve `tab_command(name)` (argv of one tab's dashboard) per websocket, behind `token`.

    `session` None: the front page lists `list_sessions()`, each opening that session's
    dashboard, and `tab_command(None)` is a new session's.
    """

    def __init__(self, tab_command: Callable[[str | None], list[str]], *, token: str, host: str, port: int,
                 title: str, session: str | None, list_sessions: Callable[[], list[SessionRow]]) -> None:
        super().__init__(shlex.join(tab_command(session)), host=host, port=port, title=title,
                         templates_path=TEMPLATES)
        self.tab_command = tab_command
        self.token = token
        self.session = session
        self.list_sessions = list_sessions
        self.processes: set = set()  # the tab processes running now
        self.tabs: set[TabService] = set()
        self.tabs_started = 0
        self.runner: web.AppRunner | None = None

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[token_door(self.token)])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        routes = [web.get("/download/{key}", self.handle_download, name="download"),
                  web.static("/static", self.statics_path, name="static")]
        if self.session is not None:
            routes += [web.get("/", self._page(self.session, "/ws"), name="index"),
                       web.get("/ws", self._socket(lambda request: self.session), name="websocket")]
        else:
            routes += [web.get("/", self.handle_picker, name="index"),
                       web.get("/session/{name}", self._session_page),
                       web.get("/ws/session/{name}", self._socket(self._listed_name)),
                       web.get("/new", self._page("new session", "/ws/new")),
                       web.get("/ws/new", self._socket(lambda request: None))]
        app.add_routes(routes)
        app.on_shutdown.append(self._stop_tabs)
        return app

    # -- pages -------------------------------------------------------------------------------------
    def _page(self, title: str, socket_path: str):
        async def page(request: web.Request) -> web.Response:
            scheme = "wss" if request.secure else "ws"
            context = {"font_size": _font_size(request), "app_websocket_url": f"{scheme}://{request.host}{socket_path}",
                       "config": {"static": {"url": "/static/"}}, "application": {"name": f"aetui: {title}"}}
            response = aiohttp_jinja2.render_template("app_index.html", request, context)
            response.headers["Cache-Control"] = "no-store"
            return response

        return page

    async def _session_page(self, request: web.Request) -> web.Response:
        name = self._listed_name(request)
        return await self._page(name, f"/ws/session/{quote(name, safe='')}")(request)

    def _listed_name(self, request: web.Request) -> str:
        name = request.match_info["name"]
        if name not in {row.name for row in self.list_sessions()}:
            raise web.HTTPNotFound(text=f"no session named {name}\n")
        return name

    async def handle_picker(self, request: web.Request) -> web.Response:
        """The sessions of the folder, each a link to its dashboard, and a new session's."""
        rows = await asyncio.get_running_loop().run_in_executor(None, self.list_sessions)
        e = html.escape
        lines = "\n".join(
            f'<tr><td><a href="/session/{quote(r.name, safe="")}">{e(r.name)}</a></td><td>{e(r.lineage)}</td>'
            f'<td class="n">{e(r.samples)}</td><td class="n">{e(r.heldout)}</td><td>{e(r.running)}</td></tr>'
            for r in rows) or '<tr><td colspan="5">no sessions yet</td></tr>'
        body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>aetui: sessions</title>{PICKER_STYLE}"
                f"</head><body><h1>aetui: open a session</h1><table><tr><th>session</th><th>lineage</th>"
                f"<th>samples</th><th>held-out loss</th><th>running</th></tr>\n{lines}\n</table>"
                f'<p><a href="/new">a new session</a> (with the options <code>aetui serve</code> was given)</p>'
                f"</body></html>")
        return web.Response(text=body, content_type="text/html", headers={"Cache-Control": "no-store"})

    # -- tabs --------------------------------------------------------------------------------------
    def _socket(self, name_of: Callable[[web.Request], str | None]):
        async def socket(request: web.Request) -> web.WebSocketResponse:
            name = name_of(request)
            return await self._run_tab(request, "exec " + shlex.join(self.tab_command(name)))

        return socket

    async def _run_tab(self, request: web.Request, command: str) -> web.WebSocketResponse:
        """textual-serve's websocket handler, with a TabService that the server can stop."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _query_int(request, "width", 80)
        height = _query_int(request, "height", 24)
        service = TabService(command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                             close=websocket.close, download_manager=self.download_manager, debug=False,
                             processes=self.processes)
        self.tabs.add(service)
        try:
            await websocket.prepare(request)
            self.tabs_started += 1
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - one tab's failure is that tab's, not the server's
            log.exception(error)
        finally:
            await service.finish()
            self.tabs.discard(service)
        return websocket

    async def _stop_tabs(self, app: web.Application) -> None:
        await asyncio.gather(*(tab.finish() for tab in list(self.tabs)), return_exceptions=True)

    # -- running -----------------------------------------------------------------------------------
    async def start(self) -> int:
        """Listen (no access log: its request lines would hold the token); returns the port."""
        self.runner = web.AppRunner(await self._make_app(), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        return int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop listening, stop every tab (each detaches from its trainer) and wait for them."""
        if self.runner is not None:
            await self.runner.cleanup()
        await self._stop_tabs(None)


PICKER_STYLE = """<style>
body { background: #0c181f; color: #e0e0e0; font-family: monospace; margin: 2em; }
a { color: #7fd4ff; } table { border-collapse: collapse; } td, th { padding: 0.3em 1em; text-align: left; }
td.n { text-align: right; } tr:nth-child(even) { background: #12232d; }
</style>"""


def _font_size(request: web.Request) -> int:
    return _query_int(request, "fontsize", 16)


def _query_int(request: web.Request, key: str, default: int) -> int:
    try:
        return int(request.query.get(key, default))
    except ValueError:
        return default
