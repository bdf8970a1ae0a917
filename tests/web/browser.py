"""`aetui serve` for real, in Debian's headless chromium driven by Playwright (never `playwright install`).

What a tab shows is read from the page's terminal itself: an init script keeps xterm.js's Terminal
object when textual-serve's page creates it, and the test reads its buffer's rows (the page draws
them on a canvas, so they are not in the DOM). Every process a helper starts (servers, trainers,
browsers) is ended by the fixture that asked for it, and every wait has a deadline that names
what it waited for.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.helpers.waiting import wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path("/tmp/aetui-web-screenshots")  # a copy of every screenshot, to look at after a run
TINY = ["--data", "bars8", "--hidden", "16"]
VIEWPORT = {"width": 1400, "height": 900}  # about 150x45 cells at textual-serve's 16 px font: every pane

# Keep the page's xterm.js Terminal (textual-serve's page sets `this.terminal = new Terminal(...)`).
KEEP_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {configurable: true, set(value) {
  if (value && value.buffer && value.open) { window.__aetuiTerminal = value; }
  Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true, enumerable: true});
}});
"""
READ_SCREEN = """() => {
  const t = window.__aetuiTerminal;
  if (!t) return null;
  const rows = [];
  for (let y = 0; y < t.rows; y++) {
    const line = t.buffer.active.getLine(y);
    rows.push(line ? line.translateToString(true) : '');
  }
  return rows.join('\\n');
}"""


def missing_browser() -> str | None:
    """One line naming what to install when the browser tests cannot run here, else None."""
    if not Path(CHROMIUM).exists():
        return "the browser tests need Debian's chromium: apt-get install chromium"
    for module, package in (("playwright", "playwright"), ("textual_serve", "textual-serve")):
        try:
            __import__(module)
        except ImportError:
            return f"the browser tests need {package}: pip install -e '.[test]'"
    return None


def wait(predicate, seconds: float, what: str):
    """predicate()'s first true value within `seconds`, else the test fails naming `what`."""
    return wait_until(predicate, seconds, what, poll=0.1)


def aetui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aetui", *args], capture_output=True, text=True, timeout=timeout)


def sessions_json(sessions_dir: Path) -> dict[str, dict]:
    """`aetui sessions --json`, by name."""
    done = aetui("sessions", "--json", "--sessions-dir", str(sessions_dir))
    assert done.returncode == 0, done.stderr
    return {s["name"]: s for s in json.loads(done.stdout)}


def process_ended(pid: int) -> bool:
    """Gone, or a zombie nobody reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def processes_with(*words: str) -> list[int]:
    """Live processes whose command line holds every one of `words` (a scan of /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = " ".join(a.decode(errors="replace") for a in argv)
        if all(w in line for w in words) and not process_ended(int(entry.name)):
            found.append(int(entry.name))
    return found


def tab_processes(sessions_dir: Path) -> list[int]:
    """The tab processes (aetui.cli.web_tab) serving pages of this sessions folder."""
    return processes_with("aetui.cli.web_tab", str(sessions_dir.resolve()))


def stop_trainers(sessions_dir: Path) -> None:
    """Stop every running trainer of the folder (saved); kill one that does not answer."""
    if not sessions_dir.exists():
        return
    for name, s in sessions_json(sessions_dir).items():
        if not s["running"]:
            continue
        done = aetui("stop", name, "--sessions-dir", str(sessions_dir))
        if done.returncode != 0 and not process_ended(s["pid"]):
            os.kill(s["pid"], signal.SIGKILL)
        wait(lambda: process_ended(s["pid"]), 15, f"the trainer of {name} (pid {s['pid']}) to end")


class Serve:
    """`aetui serve ...` as a process of its own on a free port; `url` is the one it printed (with the token)."""

    def __init__(self, sessions_dir: Path, *args: str, env: dict | None = None) -> None:
        self.sessions_dir = sessions_dir
        self.process = subprocess.Popen([sys.executable, "-m", "aetui", "serve", *args, "--sessions-dir",
                                         str(sessions_dir), "--port", "0"], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.stdout = self._read_until(re.compile(rb"http://\S+\?token=\S+"), 90)
        self.url = re.search(r"http://\S+\?token=\S+", self.stdout).group(0)
        self.token = self.url.split("?token=", 1)[1]
        self.base = self.url.split("?", 1)[0].rstrip("/")
        self.output: list[bytes] = []  # what it prints later (a tab's stderr goes there): read, so it never blocks
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        for chunk in iter(lambda: os.read(self.process.stdout.fileno(), 65536), b""):
            self.output.append(chunk)

    def _read_until(self, pattern: re.Pattern, seconds: float) -> str:
        data = b""
        deadline = time.monotonic() + seconds
        while not pattern.search(data):
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.poll() is not None else ""
                self.kill()
                pytest.fail(f"aetui serve printed no URL within {seconds:g} s (exit {self.process.returncode}): "
                            f"{data.decode(errors='replace')!r} {err!r}")
            if select.select([self.process.stdout], [], [], min(left, 0.5))[0]:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                data += chunk
        return data.decode()

    def stop(self, seconds: float = 30) -> tuple[int, str, str]:
        """SIGTERM (as Ctrl-C); its exit code and the rest of its stdout and stderr."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"aetui serve did not end within {seconds:g} s of SIGTERM")
        self._drainer.join(10)  # its last read: it ends at the end of the output
        if self._drainer.is_alive():
            pytest.fail("aetui serve ended but its output did not close within 10 s")
        return self.process.returncode, b"".join(self.output).decode(), self.process.stderr.read().decode()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class Browser:
    """Headless chromium with a fresh profile; pages keep their terminal readable (READ_SCREEN)."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self.profile = tempfile.mkdtemp(prefix="aetui-chromium-")
        self._playwright = sync_playwright().start()
        try:
            self.context = self._playwright.chromium.launch_persistent_context(
                self.profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport=VIEWPORT)
        except BaseException:
            self._playwright.stop()
            raise
        self.context.add_init_script(KEEP_TERMINAL)

    def open(self, url: str):
        page = self.context.new_page()
        page.goto(url, timeout=15_000)
        return page

    def close(self) -> None:
        try:
            self.context.close()
        finally:
            self._playwright.stop()
            shutil.rmtree(self.profile, ignore_errors=True)


def screen(page) -> str:
    """The rows the page's terminal shows now ('' before it exists)."""
    return page.evaluate(READ_SCREEN) or ""


def wait_screen(page, text: str | re.Pattern, seconds: float, what: str | None = None) -> str:
    """The page's rows once they contain `text` (a string or a pattern), within `seconds`."""
    def found():
        rows = screen(page)
        ok = text.search(rows) if isinstance(text, re.Pattern) else text in rows
        return rows if ok else None

    try:
        return wait(found, seconds, what or f"{text!r} in the page")
    except pytest.fail.Exception as exc:
        raise pytest.fail.Exception(f"{exc}; the page showed:\n{screen(page)}") from None


def press(page, key: str) -> None:
    """A key pressed in the page's terminal (focused first, as a click would)."""
    page.locator(".xterm-helper-textarea").focus()
    page.keyboard.press(key)


def samples_shown(rows: str) -> int | None:
    """The live sample count of the status line ('samples 1,234,000')."""
    match = re.search(r"samples ([\d,]+)", rows)
    return int(match.group(1).replace(",", "")) if match else None


def keep_screenshot(page, folder: Path, name: str) -> Path:
    """A PNG of the page in `folder`, copied to SCREENSHOTS; returns the kept copy's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    kept = SCREENSHOTS / path.name
    shutil.copyfile(path, kept)
    print(f"screenshot: {path} (copy: {kept})")
    return kept
