"""The e key: a dialog (export_dialog.py) offering the screen as SVG with the session's pictures
as PNG, or the session's strip or film, in the session's exports/<samples>/ folder. A mixin of
AetuiApp (it uses the app's frame, link, history cursor and notices).

The screen is written here. Everything else is of what the session stored (read through
aetui.open_session): the trainer saves first, then `aetui export` draws it in a process of its
own, so the dashboard never loads matplotlib or the exports, and a film of a long run does not
slow its ticks. In the history view the strip and the film end at the cursor.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from textual import work

from aetui.sessions.atomic import why, write_bytes
from aetui.tui.export_dialog import FILM, PICTURES, STRIP, ExportDialog

SAVE_WAIT = 10.0  # s: how long the strip and the film wait for the trainer's save
FILES = {STRIP: "strip.png", FILM: "film.gif"}


class ExportActions:
    """Exporting what the dashboard shows (see the module doc)."""

    def action_export(self) -> None:
        if self._busy("export", compiling_ok=True):
            return
        cursor = self.history_cursor
        until = None if cursor is None else int(cursor.samples)
        self.push_screen(ExportDialog(until, self.frame.samples), self._export_chosen)

    def _export_chosen(self, what: str | None) -> None:
        if what is None or self._busy("export", compiling_ok=True):
            return
        frame = self.frame
        if what == PICTURES:
            out = Path(frame.path) / "exports" / f"{frame.samples}"
            if not self._export_screen(out):
                return
            self.link.save()  # the pictures are of the session as saved now
            self._export_stored("png", Path(frame.path), out, None, frame.samples, also=["screen.svg"])
            return
        cursor = self.history_cursor
        until = None if cursor is None else int(cursor.samples)
        out = Path(frame.path) / "exports" / f"{until if until is not None else frame.samples}" / FILES[what]
        self.link.save()  # the strip and the film are of what is stored: the newest snapshots too
        self.notify(f"export: drawing the {what} of {frame.session}" + (f" up to {until:,} samples" if until else ""),
                    timeout=3)
        self._export_stored(what, Path(frame.path), out, until, frame.samples)

    def _export_screen(self, out_dir: Path) -> bool:
        """The screen as SVG in out_dir (Textual's own export: no drawing library); False if it cannot."""
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            write_bytes(out_dir / "screen.svg", self.export_screenshot().encode())
        except OSError as exc:
            self.notify(f"export: cannot write {out_dir}: {why(exc)}", severity="error")
            return False
        return True

    @work(thread=True, exclusive=True, group="export-stored")
    def _export_stored(self, what: str, session: Path, out: Path, until: int | None, samples: int,
                       also: list[str] = ()) -> None:
        """`aetui export SESSION --WHAT OUT` once the save asked for is on disk; a notice names what
        it wrote (and the files in `also` written before)."""
        _wait_for_save(session, samples)
        argv = [sys.executable, "-m", "aetui", "export", str(session), f"--{what}", str(out)]
        if until is not None:
            argv += ["--until", str(until)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.call_from_thread(self.notify, f"export of the {what} failed: {exc}", severity="error")
            return
        if done.returncode != 0:
            err = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            self.call_from_thread(self.notify, f"export of the {what} failed: {err.removeprefix('aetui: ')}",
                                  severity="error")
            return
        if what == "png":  # a folder: the command prints each file it wrote
            names = ", ".join([Path(line).name for line in done.stdout.splitlines() if line] + list(also))
            self.call_from_thread(self.notify, f"exported {names} to {out}", timeout=6)
        else:
            self.call_from_thread(self.notify, f"exported {out.name} to {out.parent}", timeout=6)


def _wait_for_save(session: Path, samples: int) -> None:
    """Until the session's last save has `samples` (the save asked for), at most SAVE_WAIT seconds."""
    from aetui.errors import SessionError
    from aetui.sessions.reading import open_session

    deadline = time.monotonic() + SAVE_WAIT
    while time.monotonic() < deadline:
        try:
            if open_session(session).saved_samples >= samples:
                return
        except SessionError:
            pass  # between two renames of a save: read again
        time.sleep(0.1)
