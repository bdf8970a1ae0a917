"""`aetui serve [NAME]`: the dashboard in a browser (textual-serve), each tab one more attached dashboard.

The session's trainer is started here, once, before serving (or attached to when it runs); every
tab then attaches to it. Without NAME the front page lists the sessions. Nobody gets in without
the token printed once at start (aetui/web/token_door.py); it listens on loopback unless
--allow-remote. Ctrl-C (or SIGTERM) stops the server and its tabs: they detach, training goes on.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys

from aetui.cli.options import add_config_options, add_sessions_dir, config_from_args, whole_number
from aetui.errors import EXIT_OK, AetuiError, ConfigError

WEB_EXTRA = "pip install 'aetui[web]'"


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("serve", help="the dashboard in a browser: a web server behind a token (textual-serve)")
    p.add_argument("name", nargs="?", help="the session (resumed, attached if running, else created); "
                                           "without it the page lists the sessions")
    add_config_options(p)
    w = p.add_argument_group("web server")
    w.add_argument("--port", type=whole_number(0), default=8000, help="TCP port (default 8000; 0: any free one)")
    w.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, this machine only)")
    w.add_argument("--allow-remote", action="store_true",
                   help="allow a --host other machines can reach (prefer ssh -L 8000:127.0.0.1:8000 HOST)")
    add_sessions_dir(w)
    w.add_argument("--ascii", action="store_true", help="the pages draw with ASCII only")
    return p


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args) -> int:
    if not is_loopback(args.host) and not args.allow_remote:
        raise ConfigError(f"--host {args.host} lets other machines reach the dashboard: add --allow-remote, "
                          f"or better keep 127.0.0.1 and use ssh -L {args.port or 8000}:127.0.0.1:{args.port or 8000} HOST")
    try:
        import textual_serve  # noqa: F401 - the optional extra, checked before anything starts
    except ImportError:
        raise AetuiError(f"aetui serve needs textual-serve: {WEB_EXTRA}") from None
    import asyncio
    import signal

    from aetui.cli.web_tab import tab_command
    from aetui.sessions.store import SessionStore
    from aetui.web.tab_server import DashboardServer
    from aetui.web.token_door import new_token

    config, explicit = config_from_args(args)
    store = SessionStore(args.sessions_dir)
    store.check_root()
    name = args.name
    root = store.root.resolve()
    token = new_token()

    def command(session: str | None) -> list[str]:
        return tab_command(root, session, config.to_dict(), explicit, args.ascii)

    server = DashboardServer(command, token=token, host=args.host, port=args.port,
                             title=name or "sessions", session=name, list_sessions=lambda: _rows(store))

    async def serve() -> None:
        try:
            port = await server.start()
        except OSError as exc:
            raise AetuiError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
        if name is not None:
            try:  # once the port is ours, so that a port in use leaves no trainer behind; no tab can
                _start_once(store, name, config, explicit)  # come in before the token is printed
            except BaseException:
                await server.stop()
                raise
        host = args.host
        if host in ("0.0.0.0", "::", ""):  # every address of this machine: name it as others reach it
            import socket

            host = socket.gethostname()
        host = f"[{host}]" if ":" in host else host
        # The one place the token is written: this terminal (never a log or the session folder).
        print(f"aetui serves {'session ' + name if name else 'the sessions in ' + str(root)} at\n"
              f"  http://{host}:{port}/?token={token}\n"
              f"(Ctrl-C stops the server; training goes on)", flush=True)
        if not is_loopback(args.host):
            print("aetui: other machines can reach this port, and plain HTTP carries the token unencrypted: "
                  f"prefer --host 127.0.0.1 and ssh -L {port}:127.0.0.1:{port} HOST", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(serve())
    if name is not None:
        print(f"aetui: stopped serving; the tabs detached and session {name} trains on "
              f"(if no tab stopped it).\n  watch it:  {store.command('attach', name)}\n"
              f"  stop it:   {store.command('stop', name)}", file=sys.stderr, flush=True)
    else:
        print("aetui: stopped serving; the tabs detached and their sessions train on "
              f"(see {store.command('sessions')})", file=sys.stderr, flush=True)
    return EXIT_OK


def _start_once(store, name: str, config, explicit: dict) -> str:
    """Start session `name`'s trainer unless it runs (then training options are refused, as for
    the dashboard); the tabs attach to it."""
    from aetui.training.process import running_as_asked, start_trainer

    hello = running_as_asked(store, name, explicit, "serve it")
    if hello is not None:
        return hello.session
    return start_trainer(store, name, config, explicit).session


def _rows(store) -> list:
    """The front page's lines: each session as `aetui sessions` lists it."""
    from aetui.training.process import running
    from aetui.web.tab_server import SessionRow

    rows = []
    for s in store.summaries():
        if s.problem:
            rows.append(SessionRow(s.name, f"unreadable: {s.problem}", "", "", ""))
            continue
        hello = running(store.path(s.name))
        samples = s.samples if hello is None else hello.samples
        held = s.heldout_loss if hello is None else hello.heldout_loss
        rows.append(SessionRow(s.name, s.lineage, f"{samples:,}", "-" if held is None else f"{held:.4f}",
                               "no" if hello is None else f"{hello.state.lower()}, pid {hello.pid}"))
    return rows
