"""The command line as a user types it: exit codes, one-line errors, JSON, resume rules."""

import json
import re
import subprocess
import sys

import pytest

from aetui.cli.main import main
from aetui.data import load_dataset


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_headless_json_summary_and_resume(tmp_path, capsys):
    base = ["train", "--headless", "--json", "--sessions-dir", str(tmp_path), "--session", "r", "--data", "bars8", "--hidden", "8"]
    code, out, err = run(capsys, *base, "--samples", "3000")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["session"] == "r" and summary["samples"] == 3000 and summary["total_samples"] == 3000
    assert summary["samples_per_second"] > 0 and summary["seconds"] > 0
    assert 0 < summary["heldout_loss"] < 1 and 0 < summary["train_loss"] < 1
    assert summary["diverged"] is False
    # Resume: the same options agree with the session; more samples add up.
    code, out, _ = run(capsys, *base, "--samples", "1000")
    assert code == 0 and json.loads(out)["total_samples"] == 4000
    # Conflicting options are refused, and nothing is trained.
    code, out, err = run(capsys, "train", "--headless", "--sessions-dir", str(tmp_path), "--session", "r", "--hidden", "9")
    assert code == 2 and out == ""
    assert err.strip() == "aetui: session r keeps its own settings; conflicting options: --hidden 9 (session has 8)"
    # Listing shows it.
    code, out, _ = run(capsys, "sessions", "--sessions-dir", str(tmp_path), "--json")
    (row,) = json.loads(out)
    assert row["name"] == "r" and row["samples"] == 4000 and row["lineage"] == "sigmoid"
    code, out, _ = run(capsys, "sessions", "show", "r", "--sessions-dir", str(tmp_path))
    assert code == 0 and "random init" in out and "8 hidden" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "--headless", "--noise", "1.5"], "--noise must be in [0, 1), not 1.5"),
    (["train", "--headless", "--batch", "0"], "argument --batch: must be at least 1, got 0"),
    (["train", "--headless", "--hidden", "-3"], "argument --hidden: must be at least 1, got -3"),
    (["train", "--headless", "--activation", "swish"], "unknown activation 'swish'"),
    (["train", "--headless", "--lr", "abc"], "argument --lr: expected a number, got 'abc'"),
    (["train", "--headless", "--dropout", "1"], "--dropout must be in [0, 1), not 1.0"),
    (["train", "--headless", "--loss", "cross_entropy", "--activation", "relu"], "cross_entropy needs outputs in (0, 1)"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--json"], "--json goes with --headless"),
    (["train", "--headless", "--threads", "9999"], "argument --threads: this machine runs at most 2"),
    (["sessions", "show"], "needs a session NAME"),
    (["train", "--headless", "--data", "/no/such/file"], "/no/such/file: file or folder not found"),
    (["train", "--headless", "--data", "nonexistent"], "nonexistent: unknown data set name and no such file"),
    (["train", "--headless", "--data", "mnist6k"], "unknown data set"),
    (["train", "--headless", "--data", "bars99"], "bars99: unknown data set; bars size must be 4..32"),
    *[(["train", "--headless", "--session", name], f"bad session name {name!r}: use letters")
      for name in ("../evil", "a/b", ".hidden", "", "a" * 65)],
])
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, argv, message):
    code, out, err = run(capsys, *argv, "--sessions-dir", str(tmp_path)) if argv[0] == "train" else run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("aetui: ") and message in err
    assert not any(tmp_path.iterdir())


def test_runtime_errors_exit_1_with_one_line(tmp_path, capsys):
    images, labels = tmp_path / "x-images-idx3-ubyte", tmp_path / "x-labels-idx1-ubyte"
    images.write_bytes(b"garbage!")  # data that is there, but damaged
    labels.write_bytes(b"g")
    sessions = str(tmp_path / "sessions")
    code, out, err = run(capsys, "train", "--headless", "--sessions-dir", sessions, "--data", str(images))
    assert code == 1 and err == f"aetui: {images}: not an IDX images file: magic 0x67617262, expected 0x00000803\n"
    assert not (tmp_path / "sessions").exists()
    # A session whose data is gone is no bad option either.
    code, out, err = run(capsys, "train", "--headless", "--sessions-dir", sessions, "--session", "v", "--data", "bars8",
                         "--hidden", "4", "--samples", "10")
    assert code == 0, err
    raw = json.loads((tmp_path / "sessions" / "v" / "session.json").read_text())
    raw["config"]["data"] = str(tmp_path / "gone-images-idx3-ubyte")
    (tmp_path / "sessions" / "v" / "session.json").write_text(json.dumps(raw))
    code, out, err = run(capsys, "train", "--headless", "--sessions-dir", sessions, "--session", "v", "--samples", "10")
    assert code == 1 and err == "aetui: session v was trained on data that is not there: " \
                                f"{tmp_path / 'gone-images-idx3-ubyte'}: file or folder not found\n"


def test_a_session_whose_data_changed_is_not_resumed(tmp_path, capsys):
    """Exact resume needs the same images: a session keeps the data's fingerprint and checks it."""
    from tests.data.test_datasets import idx_bytes, idx_pair

    images_path, images, _ = idx_pair(tmp_path / "data", n=40, rows=4, cols=4)
    sessions = tmp_path / "sessions"
    args = ("train", "--headless", "--sessions-dir", str(sessions), "--session", "d", "--samples", "20")
    code, _, err = run(capsys, *args, "--data", str(images_path), "--hidden", "4", "--batch", "5")
    assert code == 0, err
    saved = json.loads((sessions / "d" / "session.json").read_text())["data_fingerprint"]
    assert len(saved) == 16 and saved == load_dataset(str(images_path)).fingerprint
    code, _, err = run(capsys, *args)  # the same data: resumes
    assert code == 0, err
    images[3, 1, 2] ^= 0xFF  # one pixel of one image
    images_path.write_bytes(idx_bytes(images))
    now = load_dataset(str(images_path)).fingerprint
    before = (sessions / "d" / "session.json").read_bytes()
    code, _, err = run(capsys, *args)
    assert code == 1 and err == (f"aetui: session d was trained on other data: {images_path} has changed since "
                                 f"(fingerprint {saved} then, {now} now), so resuming would not continue the same "
                                 f"run; put the original data back, or start a new session\n")
    assert (sessions / "d" / "session.json").read_bytes() == before
    # A session saved before fingerprints were kept adopts the data it finds, and keeps it from then on.
    raw = json.loads(before)
    del raw["data_fingerprint"]
    (sessions / "d" / "session.json").write_text(json.dumps(raw))
    code, _, err = run(capsys, *args)
    assert code == 0, err
    assert json.loads((sessions / "d" / "session.json").read_text())["data_fingerprint"] == now


def test_missing_session_for_show(tmp_path, capsys):
    code, _, err = run(capsys, "sessions", "show", "ghost", "--sessions-dir", str(tmp_path))
    assert code == 1 and "no session named ghost" in err


@pytest.mark.slow
def test_python_dash_m_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "aetui", "train", "--headless", "--json", "--samples", "200",
                           "--data", "bars8", "--hidden", "4", "--sessions-dir", str(tmp_path), "--session", "m"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["samples"] == 200
    assert (tmp_path / "m" / "state.npz").is_file()


def _training(folder, proc, timeout: float = 120.0):
    """Wait until the trainer of the session in `folder` says it has trained (its socket's hello:
    RUNNING, samples > 0), failing if `proc` ends first or it never does; the hello."""
    import time

    from aetui.errors import AetuiError
    from aetui.training.client import connect
    from aetui.training.sockets import socket_path

    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"the command ended (exit code {proc.returncode}) before it trained"
        try:
            sock, hello = connect(socket_path(folder), kind="probe")
            sock.close()
            if hello.state == "RUNNING" and hello.samples > 0:
                return hello
        except (AetuiError, OSError):
            pass  # not listening yet
        assert time.monotonic() < deadline, f"no training in {folder.name} within {timeout:.0f} s"
        time.sleep(0.05)


@pytest.mark.slow
def test_ctrl_c_saves_and_exits(tmp_path):
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "aetui", "train", "--headless", "--json", "--samples", "100000000",
                             "--data", "bars8", "--hidden", "8", "--sessions-dir", str(tmp_path), "--session", "c"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = _training(tmp_path / "c", proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # never leave a trainer running: it holds the session and a core
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    summary = json.loads(out)
    assert summary["interrupted"] is True and summary["samples"] >= seen.samples > 0
    saved = json.loads((tmp_path / "c" / "session.json").read_text())
    assert saved["samples"] == summary["total_samples"] == summary["samples"]


@pytest.mark.slow  # measures for seconds
def test_bench_reports_every_implementation_and_the_sgemm_yardstick(capsys):
    code, out, _ = run(capsys, "bench", "--quick", "--seconds", "0.2", "--json")
    assert code == 0
    result = json.loads(out)
    case, clean = result["cases"]
    cpu = result["cpu"]  # what the figures were measured on
    assert cpu["isa"] in ("AVX-512", "AVX2", "SSE") and cpu["vector_bits"] in (256, 512)
    assert cpu["model"] and cpu["line"].startswith(cpu["model"]) and cpu["kernels"].startswith(f"{cpu['vector_bits']}-bit")
    assert cpu["blas"].startswith("openblas")
    assert case["batch"] == 20 and case["hidden"] == 100 and case["threads"] == 1
    assert clean["case"] == "study without noise and dropout"
    assert {"engine", "numpy", "numpy reference"} <= set(case["samples_per_second"])
    assert all(v > 0 for v in case["samples_per_second"].values())
    assert case["sgemm_gflops_1thread"] > 0
    eng = case["samples_per_second"]["engine"]
    assert case["gflops"]["engine"] == pytest.approx(eng * 10 * 784 * 100 / 1e9)


@pytest.mark.slow
def test_bench_attached_reports_ticks_keys_and_the_stop_while_training(capsys):
    """The dashboard's pace while its trainer trains and the time q waits for are this bench's
    figures (not a test's bounds): each is there, measured."""
    import math

    from aetui.cli.bench import attached_table

    code, out, err = run(capsys, "bench", "--attached", "--seconds", "1", "--rounds", "1", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["timer_hz"] == 40
    (share,), (keys,) = result["ticks_share"], result["key_seconds"]
    assert 0 < share < 1.5  # ticks the dashboard's 40 Hz timer got, of those due, while watching
    assert keys and all(0 < k < 30 for k in keys)  # each f pressed was handled
    assert math.isfinite(result["stop_seconds"]) and result["stop_seconds"] > 0
    assert result["watched_samples_per_second"][0] > 0 and result["first_frame_seconds"][0] > 0
    table = attached_table(result, 1.0)
    assert table.row_count == 2  # the round, then the medians
    assert list(table.columns[6].cells) == [f"{100 * share:.0f}%"] * 2
    assert f"(what q waits for): {result['stop_seconds']:.2f} s" in table.caption


def test_sessions_show_lists_the_events(tmp_path, capsys):
    from aetui.model.config import TrainConfig
    from aetui.sessions.store import SessionStore
    from aetui.training.launch import acquire_trainer, release_trainer
    from tests.helpers.training import train

    store = SessionStore(tmp_path)
    t = acquire_trainer(store, "ev", TrainConfig(data="bars8", hidden=8, batch=10).validated(), {})
    train(t, 300)
    t.set_lr(0.5)
    t.snapshot("mark")
    t.restart("relu", "mark", None, False, 0.01)
    release_trainer(t)
    assert main(["sessions", "show", "ev", "--sessions-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "learning rate 0.26 -> 0.5" in out and "│ snapshot │ mark" in out
    assert re.search(r"snapshots 1 named \(mark\), \d+ period snapshots, [1-9]\d* thin-stored "
                     r"\(\d+\.\d MB of 64 MB\)\n", out)
    from aetui.cli.sessions import event_details

    restart = next(e for e in t.session.history.events if e["kind"] == "restart")
    assert event_details(restart) == "under relu from snapshot mark, weights x0.1, biases kept, lr 0.01"
    assert main(["sessions", "show", "ev", "--json", "--sessions-dir", str(tmp_path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [e["kind"] for e in shown["events"]] == ["lr", "snapshot", "restart"]
    assert shown["damaged_snapshots"] == {} and shown["record_gap"] is None


@pytest.mark.parametrize("failure", ["bug", "expected"])
def test_headless_whose_training_thread_fails_does_not_report_success(tmp_path, capsys, monkeypatch, failure):
    import errno
    import os

    from aetui.sessions.lock import SessionLock
    from aetui.sessions.session import read_session
    from aetui.training.trainer import Trainer

    base = ["train", "--headless", "--json", "--sessions-dir", str(tmp_path), "--session", "f", "--data", "bars8",
            "--hidden", "8", "--batch", "10"]
    assert run(capsys, *base, "--samples", "200")[0] == 0

    def crash(self, max_batches=None):
        if failure == "bug":
            raise ZeroDivisionError("a bug in training")
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(Trainer, "train_chunk", crash)
    if failure == "bug":  # a bug is a traceback (the console script exits 1), never "0 samples" and exit 0
        with pytest.raises(ZeroDivisionError, match="a bug in training") as raised:
            main([*base, "--samples", "200"])
        assert raised.value.__notes__ == ["aetui: the training thread of session f stopped on this bug; "
                                          "the last save (200 samples) is intact"]
        assert capsys.readouterr().out == ""
    else:
        code, out, err = run(capsys, *base, "--samples", "200")
        assert code == 1 and out == ""
        assert err == f"aetui: training of session f stopped: {os.strerror(errno.EIO)}; the last save " \
                      "(200 samples) is intact\n"
    assert read_session(tmp_path / "f").samples == 200
    with SessionLock(tmp_path / "f"):  # released
        pass
