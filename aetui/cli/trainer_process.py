"""The trainer process a dashboard starts: `python -m aetui.cli.trainer_process` (not for users).

It opens (or creates) the session, reports on --ready-fd either where it serves or the one line
that kept it from starting, then trains and serves until a client stops it or it gets SIGTERM
(both save). It has no terminal: SIGHUP and SIGINT are ignored, so a closing SSH link or a
Ctrl-C in the dashboard's terminal does not reach it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from aetui.errors import EXIT_FAILURE, EXIT_OK, AetuiError


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="aetui-trainer")
    p.add_argument("--sessions-dir", required=True)
    p.add_argument("--session")
    p.add_argument("--config", required=True, help="the TrainConfig as JSON")
    p.add_argument("--explicit", default="{}", help="the options the user gave, as JSON (resume checks)")
    p.add_argument("--from", dest="origin", help="start a new session from this Origin (JSON)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--paused", action="store_true")
    p.add_argument("--ready-fd", type=int, required=True)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    for sig in (signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    terminated = []
    signal.signal(signal.SIGTERM, lambda *_: terminated.append(True))
    ready = os.fdopen(args.ready_fd, "w")
    try:
        from aetui.model.config import TrainConfig
        from aetui.sessions.store import SessionStore
        from aetui.training.branch import acquire_branch
        from aetui.training.launch import acquire_trainer
        from aetui.training.origin import Origin
        from aetui.training.server import TrainerServer

        config, explicit = TrainConfig.from_dict(json.loads(args.config)), json.loads(args.explicit)
        store = SessionStore(args.sessions_dir)
        if args.origin:
            trainer = acquire_branch(store, Origin(**json.loads(args.origin)), args.session, explicit)
        else:
            trainer = acquire_trainer(store, args.session, config, explicit)
        try:
            server = TrainerServer(trainer, threads=args.threads, paused=args.paused).start()
        except BaseException:
            trainer.session.unlock()
            raise
    except AetuiError as exc:
        _report(ready, {"error": str(exc), "exit_code": exc.exit_code})
        return exc.exit_code
    _report(ready, {"session": trainer.session.name, "pid": os.getpid(), "socket": str(server.path)})
    while not server.wait(0.2):
        if terminated and server.stop(save=True).stopped is False:
            terminated.clear()  # the save failed: go on, as a dashboard's q would (retried at autosave)
    server.close_clients()
    return EXIT_OK if server.outcome and server.outcome.stopped else EXIT_FAILURE


def _report(stream, message: dict) -> None:
    try:
        stream.write(json.dumps(message) + "\n")
        stream.close()
    except OSError:  # the dashboard that started us is gone: nobody to tell
        pass


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # A compile may still run in the runner's daemon thread: leave without interpreter teardown.
    os._exit(code)
