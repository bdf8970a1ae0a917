"""The e key: the screen as SVG and the frame's pictures as PNG, in the session's exports/<samples>/
folder. A mixin of AetuiApp (it uses the app's frame and notices).
"""

from __future__ import annotations

from pathlib import Path

from textual import work

from aetui.errors import AetuiError
from aetui.sessions.atomic import why, write_bytes
from aetui.training.frame import Frame


class ExportActions:
    """Exporting what the dashboard shows (see the module doc)."""

    def action_export(self) -> None:
        if self._busy("export", compiling_ok=True):
            return
        frame = self.frame
        out_dir = Path(frame.path) / "exports" / f"{frame.samples}"
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            write_bytes(out_dir / "screen.svg", self.export_screenshot().encode())
        except OSError as exc:
            self.notify(f"export: cannot write {out_dir}: {why(exc)}", severity="error")
            return
        screen = str(out_dir / "screen.svg")
        self._export_pictures(frame, out_dir, screen)

    @work(thread=True, exclusive=True, group="export")
    def _export_pictures(self, frame: Frame, out_dir, screen: str) -> None:
        # Pillow work off the UI thread; the frame holds copies, so training may go on meanwhile.
        from aetui.study.pictures import export_frame

        try:
            paths = export_frame(frame, out_dir)
        except (AetuiError, OSError) as exc:
            self.call_from_thread(self.notify, f"export failed: {exc}", severity="error")
            return
        names = ", ".join(p.name for p in paths) + ", screen.svg"
        self.call_from_thread(self.notify, f"exported {names} to {out_dir}", timeout=6)
