"""`aetui bench --attached`: what a dashboard costs the training it watches, and what it moves.

A trainer process trains the default configuration. In alternating rounds nobody watches it,
then a dashboard (the real app, drawing at 120x40 without a terminal) is attached in a process
of its own; each round's rate is read from the trainer. Also: the bytes the trainer sent per
second while watched, the time from starting `aetui attach` to its first drawn frame, the share
of a 40 Hz timer's ticks the dashboard got and how long its keys took to be handled, while the
trainer trains; and at the end how long stopping the training trainer took, its save included
(what `q` waits for).

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
            alone, watched, traffic, first_frame, ticks, keys = [], [], [], [], [], []
            for r in range(rounds):
                on_round(f"round {r + 1} of {rounds}: nobody watching")
                alone.append(_rate(socket, seconds)[0])
                on_round(f"round {r + 1} of {rounds}: a dashboard attached at {SIZE[0]}x{SIZE[1]}")
                t0 = time.time()
                # the viewer's key presses change view settings: in a config folder of the bench's own
                env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]),
                           XDG_CONFIG_HOME=str(Path(root) / "config"))
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
                seen = json.loads(out.strip().splitlines()[-1])
                first_frame.append(seen["first_frame_seconds"])
                ticks.append(seen["ticks"] / seen["ticks_expected"] if seen["ticks_expected"] > 0 else float("nan"))
                keys.append(seen["key_seconds"])
            on_round("stopping the training trainer (saving)")
            link = TrainerClient.attach(Path(socket))
            t = time.perf_counter()
            outcome = link.stop(save=True)
            stop_seconds = time.perf_counter() - t
            link.close()
            if not outcome["stopped"]:
                raise AetuiError(f"the trainer did not stop: {outcome['error']}")
        finally:
            try:
                TrainerClient.attach(Path(socket)).stop(save=False)
            except Exception:  # noqa: BLE001 - the benchmark's session is thrown away anyway
                pass
    ratio = [w / a for a, w in zip(alone, watched)]
    return {"seconds": seconds, "rounds": rounds, "size": list(SIZE), "alone_samples_per_second": alone,
            "watched_samples_per_second": watched, "watched_over_alone": ratio,
            "bytes_per_second_watched": traffic, "first_frame_seconds": first_frame,
            "timer_hz": TIMER_HZ, "ticks_share": ticks, "key_seconds": keys, "stop_seconds": stop_seconds}


def _rate(socket: str, seconds: float) -> tuple[float, float]:
    """(samples/s, bytes sent/s) of the trainer over `seconds`."""
    t0, a = _probe(socket)
    time.sleep(seconds)
    t1, b = _probe(socket)
    return (b.samples - a.samples) / (t1 - t0), (b.bytes_sent - a.bytes_sent) / (t1 - t0)


TIMER_HZ = 40.0  # the watching dashboard's own timer beside its refresh: ticks it gets while training
KEY_EVERY = 0.25  # seconds between the key presses whose handling it times
SETTLE = 1.0  # seconds after its first frame before it starts counting (everything drawn once)


def _watch(socket: str, seconds: float, launched: float) -> None:
    """The watching dashboard: attach, draw without a terminal for `seconds`, detach. Prints its
    time to the first frame, the ticks a TIMER_HZ timer got and the time from each key press (f)
    to its action running, both while the trainer trains."""
    from textual import events

    from aetui.render import DisplayMode
    from aetui.sessions.store import SessionStore
    from aetui.training.client import TrainerClient
    from aetui.tui.app import AetuiApp, one_blas_thread

    shown: dict = {"ticks": 0, "keys": []}

    class Watching(AetuiApp):
        def on_mount(self) -> None:  # Textual runs AetuiApp.on_mount as well, after this one
            self.call_after_refresh(lambda: shown.setdefault("at", time.time() - launched))
            self.set_timer(SETTLE, self._start_measuring)
            self.set_timer(seconds, self._stop_watching)
            toggle = self.action_toggle_normalization

            def timed_toggle() -> None:
                if "pressed" in shown:
                    shown["keys"].append(time.perf_counter() - shown.pop("pressed"))
                toggle()

            self.action_toggle_normalization = timed_toggle

        def _start_measuring(self) -> None:
            shown["from"] = time.perf_counter()
            self.set_interval(1 / TIMER_HZ, self._count_tick)
            self.set_interval(KEY_EVERY, self._press_f)

        def _count_tick(self) -> None:
            shown["ticks"] += 1

        def _press_f(self) -> None:
            if "pressed" not in shown:  # the one before was handled
                shown["pressed"] = time.perf_counter()
                self._driver.send_message(events.Key("f", "f"))  # as a terminal's key arrives

        def _stop_watching(self) -> None:
            shown["to"] = time.perf_counter()
            self.action_detach()

    one_blas_thread()  # as run_dashboard does
    link = TrainerClient.attach(Path(socket))
    app = Watching(link, store=SessionStore(Path(link.hello.path).parent), open_trainer=lambda name: link,
                   mode=DisplayMode.COLOR)
    app.run(headless=True, size=SIZE)
    measured = shown.get("to", float("nan")) - shown.get("from", float("nan"))
    print(json.dumps({"first_frame_seconds": round(shown.get("at", float("nan")), 3),
                      "ticks": shown["ticks"], "ticks_expected": round(measured * TIMER_HZ, 1),
                      "key_seconds": [round(k, 4) for k in shown["keys"]]}))


if __name__ == "__main__":
    _watch(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
