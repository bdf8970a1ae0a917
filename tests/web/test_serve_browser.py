"""`aetui serve` in a real browser (headless chromium) against a real server and trainer: the page
shows the session, keys steer it, the token keeps everyone else out, tabs are clients that leave
nothing behind, q stops the trainer (saved), and a stopped server leaves the training running.

Screenshots are kept in the test's folder and copied to /tmp/aetui-web-screenshots/.
"""

from __future__ import annotations

import http.client
import os
import re
import warnings
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from tests.web.browser import (TINY, Browser, Serve, aetui, keep_screenshot, press, process_ended, processes_with,
                               samples_shown, screen, sessions_json, stop_trainers, tab_processes, wait,
                               wait_screen, missing_browser)

pytestmark = pytest.mark.slow

_missing = missing_browser()
if _missing:
    warnings.warn(_missing)
    pytest.skip(_missing, allow_module_level=True)

NAME = "web1"
SHOWN_WITHIN = 10.0  # the bound: the page shows RUNNING and the session's name


@pytest.fixture(scope="module")
def sessions_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("web") / "sessions"
    yield folder
    stop_trainers(folder)


@pytest.fixture(scope="module")
def served(sessions_dir, tmp_path_factory):
    """`aetui serve web1 --data bars8 --hidden 16` (its trainer started by the server, once)."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path_factory.mktemp("config")))
    serve = Serve(sessions_dir, NAME, *TINY, env=env)
    yield serve
    if serve.process.poll() is None:
        serve.stop()


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def _open_dashboard(browser, served, within: float = SHOWN_WITHIN):
    page = browser.open(served.url)
    wait_screen(page, re.compile(rf"RUNNING[\s\S]*session {NAME}\b"), within, f"RUNNING and session {NAME} in the page")
    return page


def _close(page, served) -> None:
    page.close()
    wait(lambda: not tab_processes(served.sessions_dir), 15, "the closed tab's process to end")


def test_page_shows_the_running_session_within_10_s(served, browser, tmp_path):
    assert served.url.startswith("http://127.0.0.1:") and len(served.token) >= 43
    page = _open_dashboard(browser, served)
    assert page.url.rstrip("/") == served.base  # the token went into a cookie, out of the address bar
    cookie = {c["name"]: c for c in browser.context.cookies()}["aetui_token"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # Pictures come as half-block cells: the filters pane draws them, no kitty or sixel image.
    wait_screen(page, "filters", 10)
    wait(lambda: "▀" in screen(page) or "▄" in screen(page), 10, "half-block cells in the page")
    page.wait_for_timeout(1500)  # every pane drawn once
    keep_screenshot(page, tmp_path, "aetui-serve-dashboard")
    _close(page, served)


def _status(url: str, headers: dict | None = None) -> int:
    try:
        with urlopen(Request(url, headers=headers or {}), timeout=10) as response:
            return response.status
    except HTTPError as exc:
        return exc.code


def _websocket_status(base: str, path: str, headers: dict | None = None) -> int:
    host = base.split("//", 1)[1]
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request("GET", path, headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                       "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", **(headers or {})})
    status = conn.getresponse().status
    conn.close()
    return status


def test_without_the_token_nothing_answers_and_nothing_starts(served, sessions_dir):
    before = sessions_json(sessions_dir)[NAME]
    wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    assert _status(served.base + "/") == 403
    assert _status(served.base + f"/?token={wrong}") == 403
    assert _status(served.base + "/?token=") == 403
    assert _status(served.base + "/", {"Cookie": f"aetui_token={wrong}"}) == 403
    assert _status(served.base + "/static/js/textual.js") == 403
    assert _status(served.base + "/download/anything") == 403
    assert _websocket_status(served.base, "/ws?width=80&height=24") == 403
    assert _websocket_status(served.base, f"/ws?token={wrong}") == 403
    # Another site's page cannot open a tab either, token or not.
    assert _websocket_status(served.base, f"/ws?token={served.token}",
                             {"Origin": "http://evil.example", "Cookie": f"aetui_token={served.token}"}) == 403
    assert not tab_processes(sessions_dir)
    after = sessions_json(sessions_dir)[NAME]
    assert after["dashboards"] == 0 and after["pid"] == before["pid"]
    # With it: the static files answer (by cookie, as the page fetches them).
    assert _status(served.base + "/static/js/textual.js", {"Cookie": f"aetui_token={served.token}"}) == 200


def test_the_token_is_written_nowhere_but_the_terminal(served, sessions_dir, browser):
    page = _open_dashboard(browser, served)
    _close(page, served)
    runtime = Path(os.environ["AETUI_RUNTIME_DIR"])
    for folder in (sessions_dir, runtime):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_socket():
                assert served.token.encode() not in path.read_bytes(), path


def test_space_in_the_page_pauses_the_trainer(served, browser, sessions_dir):
    page = _open_dashboard(browser, served)
    press(page, " ")
    wait(lambda: sessions_json(sessions_dir)[NAME]["state"] == "PAUSED", 10, "aetui sessions --json to say PAUSED")
    wait_screen(page, "PAUSED", 5)
    press(page, " ")
    wait(lambda: sessions_json(sessions_dir)[NAME]["state"] == "RUNNING", 10, "the trainer to run again")
    _close(page, served)


def test_two_tabs_both_show_the_live_count_and_each_others_actions(served, browser, sessions_dir):
    first, second = _open_dashboard(browser, served), _open_dashboard(browser, served)
    assert sessions_json(sessions_dir)[NAME]["dashboards"] == 2
    counts = [samples_shown(screen(first)), samples_shown(screen(second))]
    assert all(counts)
    for page, count in zip((first, second), counts):
        wait(lambda: (samples_shown(screen(page)) or 0) > count, 5, "the sample count to grow in both tabs")
    press(first, " ")
    wait_screen(second, re.compile(r"the dashboard of pid \d+ paused training"), 10, "the other tab's pause as a notice")
    wait_screen(second, "PAUSED", 5)
    press(second, " ")
    wait_screen(first, re.compile(r"the dashboard of pid \d+ resumed training"), 10, "the other tab's resume as a notice")
    first.close()
    wait(lambda: len(tab_processes(sessions_dir)) == 1, 15, "the first tab's process to end")
    # Closing a tab detached it: the trainer goes on, the other tab with it.
    count = samples_shown(screen(second)) or 0
    wait(lambda: (samples_shown(screen(second)) or 0) > count, 5, "training to go on after a tab closed")
    _close(second, served)


def test_twenty_tabs_opened_and_closed_leave_no_process_behind(served, browser, sessions_dir):
    trainer = sessions_json(sessions_dir)[NAME]["pid"]
    for _ in range(20):
        page = _open_dashboard(browser, served)
        page.close()
    wait(lambda: not tab_processes(sessions_dir), 20, "all 20 tab processes to end")
    wait(lambda: sessions_json(sessions_dir)[NAME]["dashboards"] == 0, 10, "the trainer to count no dashboard")
    # The server's children now: the trainer it started, and nothing else (no tab, no shell).
    children = [pid for pid in processes_with("") if _parent(pid) == served.process.pid]
    assert children == [trainer]
    state = sessions_json(sessions_dir)[NAME]
    assert state["running"] and state["pid"] == trainer and state["state"] == "RUNNING"


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_q_in_the_page_stops_the_trainer_saved(served, browser, sessions_dir):
    pid = sessions_json(sessions_dir)[NAME]["pid"]
    page = _open_dashboard(browser, served)
    shown = samples_shown(screen(page))
    press(page, "q")
    wait(lambda: process_ended(pid), 20, f"the trainer (pid {pid}) to end after q")
    state = sessions_json(sessions_dir)[NAME]
    assert not state["running"] and state["samples"] >= shown  # saved: the folder holds what it trained
    wait(lambda: page.evaluate("document.body.classList.contains('-closed')"), 10, "the page to say the session ended")
    assert page.locator(".closed-dialog .message").inner_text() == "Session ended."
    # The page's Restart opens it again: the session resumes from its save, in a trainer of its own.
    page.click("text=Restart")
    wait_screen(page, re.compile(rf"RUNNING[\s\S]*session {NAME}\b"), 30, "the session resumed by Restart")
    again = sessions_json(sessions_dir)[NAME]
    assert again["running"] and again["pid"] != pid and again["samples"] >= state["samples"]
    press(page, "q")
    wait(lambda: process_ended(again["pid"]), 20, f"the resumed trainer (pid {again['pid']}) to end after q")
    page.close()
    wait(lambda: not tab_processes(sessions_dir), 15, "the tab's process to end")


# -- no NAME: the page lists the sessions; a stopped server leaves the training running ----------
@pytest.fixture
def picker_dir(tmp_path):
    folder = tmp_path / "sessions"
    yield folder
    stop_trainers(folder)


def test_without_a_name_the_page_lists_the_sessions_and_a_stopped_server_leaves_them_training(
        picker_dir, browser, tmp_path):
    done = aetui("train", "--detach", "--session", "p1", *TINY, "--sessions-dir", str(picker_dir))
    assert done.returncode == 0, done.stderr
    serve = Serve(picker_dir, *TINY, env=dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config")))
    try:
        page = browser.open(serve.url)
        wait(lambda: "p1" in page.locator("table").inner_text(), 10, "session p1 listed")
        assert "running" in page.locator("table").inner_text()
        keep_screenshot(page, tmp_path, "aetui-serve-sessions")
        page.click("text=p1")
        wait_screen(page, re.compile(r"RUNNING[\s\S]*session p1\b"), SHOWN_WITHIN, "session p1's dashboard")
        assert sessions_json(picker_dir)["p1"]["dashboards"] == 1
        # `a new session`: one more session, with the options aetui serve was given.
        other = browser.open(serve.base + "/")
        other.click("text=a new session")
        rows = wait_screen(other, re.compile(r"RUNNING[\s\S]*session (?!p1\b)\S+"), 30, "a new session's dashboard")
        assert "hidden 16" in rows and "data bars8" in rows
        assert len(sessions_json(picker_dir)) == 2
        code, out, err = serve.stop()
    finally:
        serve.kill()
    assert code == 0, err
    assert "stopped serving; the tabs detached" in err and serve.token not in err + out
    wait(lambda: not tab_processes(picker_dir), 15, "the tab to end with the server")
    state = sessions_json(picker_dir)["p1"]
    assert state["running"] and state["dashboards"] == 0  # it detached: training goes on
    page.close()
    other.close()
