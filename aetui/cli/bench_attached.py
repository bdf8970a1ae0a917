"""`aetui bench --attached`: what a dashboard costs the training it watches, and what it moves.

A trainer process trains the default configuration. In alternating rounds nobody watches it,
then a dashboard (the real app, drawing at 120x40 without a terminal) is attached in a process
of its own; each round's rate is read from the trainer. Also: the bytes the trainer sent per
second while watched, and the time from starting `aetui attach` to its first drawn frame.

`python -m aetui.cli.bench_attached SOCKET SECONDS T0` is the watching dashboard itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE = (120, 40)


def _probe(socket: str):
    from aetui.training.client import connect

    sock, hello = connect(Path(socket), kind="probe")
    sock.close()
    return time.perf_counter(), hello


def run_attached_bench(seconds: float, rounds: int, on_round=lambda text: None) -> dict:
    """Alternate unwatched and watched rounds of `seconds` each on one trainer process."""
    from aetui.errors import AetuiError
    from aetui.model.config import TrainConfig
    from aetui.sessions.store import SessionStore
    from aetui.training.client import TrainerClient

    from aetui.training.process import start_trainer

    with tempfile.TemporaryDirectory(prefix="aetui-bench-") as root:
        store = SessionStore(Path(root) / "sessions")
        hello = start_trainer(store, "bench", TrainConfig(), {})
        socket = hello.socket
        try:
            on_round("waiting for the kernels")
            while _probe(socket)[1].state == "COMPILING":
                time.sleep(0.2)
            time.sleep(1.0)  # past the first report points
            alone, watched, traffic, first_frame = [], [], [], []
            for r in range(rounds):
                on_round(f"round {r + 1} of {rounds}: nobody watching")
                alone.append(_rate(socket, seconds)[0])
                on_round(f"round {r + 1} of {rounds}: a dashboard attached at {SIZE[0]}x{SIZE[1]}")
                t0 = time.time()
                env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]))
                viewer = subprocess.Popen([sys.executable, "-m", "aetui.cli.bench_attached", socket,
                                           str(seconds + 2.0), str(t0)], stdout=subprocess.PIPE, text=True, env=env)
                try:
                    time.sleep(1.5)  # the viewer starts and draws everything once
                    rate, sent = _rate(socket, seconds)
                    out, _ = viewer.communicate(timeout=seconds + 30)
                finally:
                    if viewer.poll() is None:
                        viewer.kill()
                if viewer.returncode != 0 or not out.strip():
                    raise AetuiError(f"the watching dashboard failed (exit code {viewer.returncode})")
                watched.append(rate)
                traffic.append(sent)
                first_frame.append(json.loads(out.strip().splitlines()[-1])["first_frame_seconds"])
        finally:
            try:
                TrainerClient.attach(Path(socket)).stop(save=False)
            except Exception:  # noqa: BLE001 - the benchmark's session is thrown away anyway
                pass
    ratio = [w / a for a, w in zip(alone, watched)]
    return {"seconds": seconds, "rounds": rounds, "size": list(SIZE), "alone_samples_per_second": alone,
            "watched_samples_per_second": watched, "watched_over_alone": ratio,
            "bytes_per_second_watched": traffic, "first_frame_seconds": first_frame}


def _rate(socket: str, seconds: float) -> tuple[float, float]:
    """(samples/s, bytes sent/s) of the trainer over `seconds`."""
    t0, a = _probe(socket)
    time.sleep(seconds)
    t1, b = _probe(socket)
    return (b.samples - a.samples) / (t1 - t0), (b.bytes_sent - a.bytes_sent) / (t1 - t0)


def _watch(socket: str, seconds: float, launched: float) -> None:
    """The watching dashboard: attach, draw without a terminal for `seconds`, detach."""
    from aetui.render import DisplayMode
    from aetui.sessions.store import SessionStore
    from aetui.training.client import TrainerClient
    from aetui.tui.app import AetuiApp, one_blas_thread

    shown = {}

    class Watching(AetuiApp):
        def on_mount(self) -> None:  # Textual runs AetuiApp.on_mount as well, after this one
            self.call_after_refresh(lambda: shown.setdefault("at", time.time() - launched))
            self.set_timer(seconds, self.action_detach)

    one_blas_thread()  # as run_dashboard does
    link = TrainerClient.attach(Path(socket))
    app = Watching(link, store=SessionStore(Path(link.hello.path).parent), open_trainer=lambda name: link,
                   mode=DisplayMode.COLOR)
    app.run(headless=True, size=SIZE)
    print(json.dumps({"first_frame_seconds": round(shown.get("at", float("nan")), 3)}))


if __name__ == "__main__":
    _watch(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
