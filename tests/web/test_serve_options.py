"""`aetui serve`'s options, refused before anything starts: another --host needs --allow-remote."""

from __future__ import annotations

import pytest

from aetui.cli.main import main
from aetui.cli.serve import is_loopback
from aetui.cli.web_tab import browser_config_home, tab_command


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org", ""])
def test_other_hosts(host):
    assert not is_loopback(host)


def test_another_host_without_allow_remote_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["serve", "web1", "--host", "0.0.0.0", "--sessions-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--allow-remote" in err and "ssh -L 8000:127.0.0.1:8000" in err
    assert not (tmp_path / "s").exists()  # nothing started, nothing created


def test_a_tab_is_the_dashboard_of_the_session_or_of_a_new_one(tmp_path):
    named = tab_command(tmp_path, "web1", {"hidden": 16}, {"hidden": 16}, ascii=False)
    assert named[1:] == ["-m", "aetui.cli.web_tab", "--sessions-dir", str(tmp_path), "--session", "web1"]
    new = tab_command(tmp_path, None, {"hidden": 16}, {"hidden": 16}, ascii=True)
    assert "--config" in new and new[-1] == "--ascii" and "--session" not in new


def test_a_tabs_view_settings_are_kept_apart_from_the_terminals():
    assert browser_config_home({"XDG_CONFIG_HOME": "/c"}) == "/c/aetui/browser"


def test_without_chromium_the_browser_tests_name_the_package_to_install(monkeypatch):
    from tests.web import browser

    monkeypatch.setattr(browser, "CHROMIUM", "/nowhere/chromium")
    assert browser.missing_browser() == "the browser tests need Debian's chromium: apt-get install chromium"


def test_a_port_in_use_is_one_line_and_starts_no_trainer(tmp_path, capsys):
    import socket

    pytest.importorskip("textual_serve", reason="aetui serve needs textual-serve: pip install -e '.[test]'")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "web1", "--data", "bars8", "--port", str(port), "--sessions-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err
    assert not (tmp_path / "s").exists()  # the port is taken before the session's trainer is started
