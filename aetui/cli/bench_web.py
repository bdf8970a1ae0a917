"""`aetui bench --web`: what browser tabs of `aetui serve` cost the trainer they watch.

A trainer process trains the default configuration; `aetui serve` (a process of its own, as a
user runs it) serves it, and Debian's headless chromium opens its page through Playwright. In
alternating rounds of `seconds` each: nobody watches; one tab is open (1400x900 pixels, about
150x45 cells); tabs are opened and closed one after another (each waits until its dashboard is
attached). Each round's rate is read from the trainer, in samples/s and in samples per CPU second
of the trainer (what a tab adds to its work per sample, however busy the machine is otherwise).
Then 20 more tabs are opened and closed one after another, and the tab processes left counted;
then `rounds` rounds with no tab again (their medians). Needs `pip install playwright` and
`apt-get install chromium` (never `playwright install`: it downloads a browser of its own).
"""

from __future__ import annotations

import os
import re
import statistics
import select
import signal
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
ATTACH_SECONDS = 30.0


def _hello(socket: str):
    from aetui.training.client import connect

    sock, hello = connect(Path(socket), kind="probe")
    sock.close()
    return time.perf_counter(), hello


def _wait(predicate, seconds: float, what: str):
    from aetui.errors import AetuiError

    deadline = time.monotonic() + seconds
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AetuiError(f"bench --web: timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.05)
    return value


def _tab_processes(root: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "aetui.cli.web_tab" in line and str(root) in line:
            found.append(int(entry.name))
    return found


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes `pids` have used so far (those still there)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _browser_processes(profile: str) -> list[int]:
    """The browser started on `profile` and every process below it (renderers, GPU, utilities)."""
    parent, roots = {}, []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if profile in (entry / "cmdline").read_bytes().decode(errors="replace"):
                roots.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += [child for child, up in parent.items() if up == pid]
    return sorted(found)


def run_web_bench(seconds: float, rounds: int, on_round=lambda text: None) -> dict:
    """Alternate rounds alone / one tab / tabs coming and going on one trainer; samples/s of each."""
    from aetui.errors import AetuiError
    from aetui.model.config import TrainConfig
    from aetui.sessions.store import SessionStore
    from aetui.training.client import TrainerClient
    from aetui.training.process import start_trainer

    if not Path(CHROMIUM).exists():
        raise AetuiError("bench --web needs Debian's chromium: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise AetuiError("bench --web needs playwright: pip install playwright (not `playwright install`)") from None
    with tempfile.TemporaryDirectory(prefix="aetui-bench-web-") as folder:
        root = Path(folder) / "sessions"
        store = SessionStore(root)
        hello = start_trainer(store, "bench", TrainConfig(), {})
        socket = hello.socket
        server = None
        playwright = None
        try:
            on_round("waiting for the kernels")
            _wait(lambda: _hello(socket)[1].state != "COMPILING", 120, "the kernels")
            server = subprocess.Popen([sys.executable, "-m", "aetui", "serve", "bench", "--sessions-dir", str(root),
                                       "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      env=dict(os.environ, XDG_CONFIG_HOME=folder), start_new_session=True)
            url = _read_url(server)
            playwright = sync_playwright().start()
            context = playwright.chromium.launch_persistent_context(
                str(Path(folder) / "chromium"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                viewport=VIEWPORT)

            def open_tab():
                page = context.new_page()
                page.goto(url, timeout=15_000)
                _wait(lambda: _hello(socket)[1].clients >= 1, ATTACH_SECONDS, "a tab's dashboard to attach")
                return page

            def closed():
                _wait(lambda: _hello(socket)[1].clients == 0 and not _tab_processes(root), ATTACH_SECONDS,
                      "the closed tabs' processes to end")

            time.sleep(1.0)
            alone, one_tab, churn, churn_tabs = [], [], [], []
            cpu = {"tab": [], "server": [], "browser": []}  # cores each used while one tab was open
            # Samples per CPU second of the trainer: what a tab adds to its work per sample, whatever
            # else the machine runs (samples/s also moves with how much of a core it gets).
            work = {"alone": [], "one_tab": [], "coming_and_going": []}
            for r in range(rounds):
                on_round(f"round {r + 1} of {rounds}: no tab")
                rate, per_cpu = _rate(socket, seconds)
                alone.append(rate)
                work["alone"].append(per_cpu)
                on_round(f"round {r + 1} of {rounds}: one tab open")
                page = open_tab()
                time.sleep(1.5)  # the tab draws everything once
                groups = {"tab": _tab_processes(root), "server": [server.pid],
                          "browser": _browser_processes(str(Path(folder) / "chromium"))}
                before = {k: _cpu_seconds(v) for k, v in groups.items()}
                t0 = time.perf_counter()
                rate, per_cpu = _rate(socket, seconds)
                one_tab.append(rate)
                work["one_tab"].append(per_cpu)
                elapsed = time.perf_counter() - t0
                for k, v in groups.items():
                    cpu[k].append((_cpu_seconds(v) - before[k]) / elapsed)
                page.close()
                closed()
                on_round(f"round {r + 1} of {rounds}: tabs opened and closed one after another")
                t0, a = _hello(socket)
                c0 = _cpu_seconds([a.pid])
                tabs = 0
                while time.perf_counter() - t0 < seconds:
                    open_tab().close()
                    _wait(lambda: _hello(socket)[1].clients == 0, ATTACH_SECONDS, "a closed tab to detach")
                    tabs += 1
                t1, b = _hello(socket)
                churn.append((b.samples - a.samples) / (t1 - t0))
                work["coming_and_going"].append((b.samples - a.samples) / max(_cpu_seconds([a.pid]) - c0, 1e-9))
                churn_tabs.append(tabs)
                closed()
            on_round("20 tabs opened and closed one after another, then no tab")
            for _ in range(20):
                open_tab().close()
                _wait(lambda: _hello(socket)[1].clients == 0, ATTACH_SECONDS, "a closed tab to detach")
            closed()
            left = _tab_processes(root)
            on_round(f"no tab again, {rounds} rounds")
            later = [_rate(socket, seconds) for _ in range(rounds)]
            after = statistics.median(rate for rate, _ in later)
            work["after_20_tabs"] = statistics.median(per_cpu for _, per_cpu in later)
        finally:
            if playwright is not None:
                try:
                    context.close()
                except Exception:  # noqa: BLE001 - the browser may be gone already
                    pass
                playwright.stop()
            if server is not None and server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
            try:
                TrainerClient.attach(Path(socket)).stop(save=False)
            except Exception:  # noqa: BLE001 - the benchmark's session is thrown away anyway
                pass
            shutil.rmtree(Path(folder) / "chromium", ignore_errors=True)
    return {"seconds": seconds, "rounds": rounds, "viewport": VIEWPORT, "alone_samples_per_second": alone,
            "one_tab_samples_per_second": one_tab, "tabs_coming_and_going_samples_per_second": churn,
            "tabs_per_round": churn_tabs, "one_tab_over_alone": [t / a for a, t in zip(alone, one_tab)],
            "coming_and_going_over_alone": [c / a for a, c in zip(alone, churn)],
            "alone_after_20_tabs_samples_per_second": after, "tab_processes_left": len(left),
            "one_tab_cores": cpu, "samples_per_trainer_cpu_second": work, "load_average": os.getloadavg()}


def _read_url(server: subprocess.Popen) -> str:
    from aetui.errors import AetuiError

    data = b""
    deadline = time.monotonic() + 60
    while (match := re.search(rb"http://\S+\?token=\S+", data)) is None:
        left = deadline - time.monotonic()
        if left <= 0 or server.poll() is not None:
            raise AetuiError(f"bench --web: aetui serve printed no URL (exit code {server.poll()})")
        if select.select([server.stdout], [], [], min(left, 0.5))[0]:
            data += os.read(server.stdout.fileno(), 4096)
    return match.group(0).decode()


def _rate(socket: str, seconds: float) -> tuple[float, float]:
    """(samples/s, samples per CPU second of the trainer) over `seconds`."""
    t0, a = _hello(socket)
    c0 = _cpu_seconds([a.pid])
    time.sleep(seconds)
    t1, b = _hello(socket)
    return (b.samples - a.samples) / (t1 - t0), (b.samples - a.samples) / max(_cpu_seconds([a.pid]) - c0, 1e-9)


def web_table(result: dict) -> "Table":  # noqa: F821
    """One row per round, then the medians; what 20 tabs left behind in the caption."""
    import statistics

    from rich.table import Table

    median = statistics.median
    table = Table(title=f"aetui bench --web: the default configuration, one trainer process served by aetui serve, "
                        f"headless chromium, rounds of {result['seconds']:g} s alternating")
    for col in ("round", "no tab samples/s", "one tab samples/s", "one tab / none", "tabs coming and going samples/s",
                "coming and going / none", "tabs in the round"):
        table.add_column(col, justify="right")
    rows = zip(result["alone_samples_per_second"], result["one_tab_samples_per_second"], result["one_tab_over_alone"],
               result["tabs_coming_and_going_samples_per_second"], result["coming_and_going_over_alone"],
               result["tabs_per_round"])
    for i, (a, t, tr, c, cr, n) in enumerate(rows, 1):
        table.add_row(str(i), f"{a:,.0f}", f"{t:,.0f}", f"{100 * tr:.1f}%", f"{c:,.0f}", f"{100 * cr:.1f}%", str(n))
    table.add_row("median", f"{median(result['alone_samples_per_second']):,.0f}",
                  f"{median(result['one_tab_samples_per_second']):,.0f}", f"{100 * median(result['one_tab_over_alone']):.1f}%",
                  f"{median(result['tabs_coming_and_going_samples_per_second']):,.0f}",
                  f"{100 * median(result['coming_and_going_over_alone']):.1f}%", str(median(result["tabs_per_round"])),
                  style="bold")
    after = result["alone_after_20_tabs_samples_per_second"] / median(result["alone_samples_per_second"])
    table.caption = (f"after 20 more tabs opened and closed: {result['tab_processes_left']} tab processes left, "
                     f"no tab {result['alone_after_20_tabs_samples_per_second']:,.0f} samples/s (median of "
                     f"{result['rounds']} rounds, {100 * after:.1f}% of the median before); with one tab open, cores used by its "
                     f"process {median(result['one_tab_cores']['tab']):.2f}, the server "
                     f"{median(result['one_tab_cores']['server']):.2f}, the browser (here on the same machine) "
                     f"{median(result['one_tab_cores']['browser']):.2f} (medians); load average at the end "
                     f"{result['load_average'][0]:.1f}")
    work = result.get("samples_per_trainer_cpu_second")
    if work:
        base = median(work["alone"])
        table.caption += (f"; samples per CPU second of the trainer (the work per sample, whatever else runs): "
                          f"no tab {base:,.0f}, one tab {100 * median(work['one_tab']) / base:.1f}% of that, "
                          f"tabs coming and going {100 * median(work['coming_and_going']) / base:.1f}%, "
                          f"after the 20 tabs {100 * work['after_20_tabs'] / base:.1f}%")
    return table
