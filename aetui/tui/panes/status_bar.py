"""The status line: state word, lineage, settings, progress, session; flowed over 2-3 lines."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from aetui.training.frame import Frame
from aetui.render import DisplayMode, format_si
from aetui.render.palette import style_for
from aetui.tui import theme
from aetui.tui.blocks import block
from aetui.tui.panes.canvas import Canvas

SEPARATOR = "  "


@dataclass(frozen=True)
class Field:
    """One piece of the status line; lower priority numbers are dropped last."""

    name: str
    text: Text
    priority: int


def fields(frame: Frame, mode: DisplayMode, state: str, note: str = "") -> list[Field]:
    """The status fields in display order; `note` (the history view's point) after the state."""
    st = lambda spec: style_for(mode, spec)  # noqa: E731
    cfg = frame.config

    def kv(name: str, label: str, value: str, priority: int, value_style: str = theme.VALUE) -> Field:
        return Field(name, Text.assemble((label + " ", st(theme.LABEL)), (value, st(value_style))), priority)

    user_snaps = sum(1 for s in frame.snapshots if s.get("kind") == "user")
    out = [
        Field("state", Text(f" {state} ", style=theme.state_style(mode, state)), 0),
        *([Field("note", Text(note, style=st(theme.VALUE)), 0)] if note else []),
        Field("lineage", Text(frame.lineage, style=st(theme.LINEAGE)), 0),
        kv("hidden", "hidden", str(cfg.hidden), 2),
        kv("batch", "batch", str(cfg.batch), 3),
        kv("lr", "lr", f"{frame.lr:.4g}", 1),
        kv("noise", "noise", f"{cfg.noise:g}", 5),
        kv("dropout", "dropout", f"{cfg.dropout:g}", 5),
        kv("data", "data", frame.data_name, 4),
        kv("samples", "samples", f"{frame.samples:,}", 1),
        kv("epoch", "epoch", str(frame.epoch), 3),
        Field("speed", Text.assemble((format_si(frame.samples_per_second), st(theme.VALUE)),
                                     (" samples/s", st(theme.LABEL))), 4),
        kv("train", "train", "-" if frame.train_loss is None else f"{frame.train_loss:.4g}", 2),
        kv("heldout", "held-out", "-" if frame.heldout_loss is None else f"{frame.heldout_loss:.4g}", 2),
        kv("snapshots", "snapshots:", str(user_snaps), 3),
        kv("session", "session", frame.session, 2),
        Field("saved", Text("saved" if frame.saved else "unsaved",
                            style=st(theme.SAVED if frame.saved else theme.UNSAVED)), 1),
    ]
    if frame.compile_note and state == "COMPILING":
        out.append(Field("compiling", Text(frame.compile_note, style=st(theme.CAPTION)), 0))
    if frame.save_error:  # kept in view until a save works: the last save on disk is older
        out.append(Field("save_error", Text(f"SAVE FAILED: {frame.save_error}", style=st(theme.SAVE_FAILED)), 0))
    return out


def flow(items: list[Field], width: int, max_lines: int) -> list[list[Field]]:
    """Greedy lines of at most `width` cells; drops the least important fields until all fit."""
    items = list(items)
    while True:
        rows: list[list[Field]] = [[]]
        used = 0
        for f in items:
            need = len(f.text) + (len(SEPARATOR) if rows[-1] else 0)
            if rows[-1] and used + need > width:
                rows.append([])
                used, need = 0, len(f.text)
            rows[-1].append(f)
            used += need
        if len(rows) <= max_lines or len(items) <= 2:
            return rows[:max_lines]
        worst = max(range(len(items)), key=lambda i: (items[i].priority, i))
        items.pop(worst)


class StatusBar(Canvas):
    """Docked at the top; `update_status` is cheap and called at the poll rate."""

    DEFAULT_CSS = """
    StatusBar { dock: top; height: 2; padding: 0 1; }
    """

    def __init__(self, mode: DisplayMode, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode = mode
        self.state = ""
        self._last: tuple | None = None

    def update_status(self, frame: Frame, state: str | None = None, note: str = "") -> None:
        state = state or frame.state
        width = max(20, self.size.width or self.app.size.width - 2)
        key = (frame.version, state, width, note)
        if key == self._last:
            return
        self._last = key
        self.state = state
        max_lines = 2 if width >= 100 else 3
        rows = flow(fields(frame, self.mode, state, note), width, max_lines)
        texts = [Text(SEPARATOR).join(f.text for f in row) for row in rows]
        out = Text("\n").join(texts)
        if self.styles.height is None or self.styles.height.value != len(rows):
            self.styles.height = len(rows)
        self.show(block(out, width=width))

    def on_resize(self) -> None:
        self._last = None
