"""A one-line tab bar for small terminals: the panes by number; click or press 1-5."""

from __future__ import annotations

from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from aetui.tui import theme



class PaneTabs(Static):
    """Shows which pane is active; hidden (CSS) on large terminals while all panes show."""

    DEFAULT_CSS = """
    PaneTabs { height: 1; padding: 0 1; }
    """

    def __init__(self, titles: list[str], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.titles = titles
        self.active = 0

    def set_active(self, index: int, hint: str = "") -> None:
        self.active = index
        parts = []
        for i, title in enumerate(self.titles):
            label = f" {i + 1} {escape(title)} "
            style = theme.TAB_ACTIVE if i == index else theme.TAB
            parts.append(f"[{style} @click=app.show_pane({i + 1})]{label}[/]")
        if hint:
            parts.append(f"  [{theme.TAB} @click=app.back]{escape(hint)}[/]")
        self.update(Content.from_markup(" ".join(parts)))

    def on_mount(self) -> None:
        self.set_active(self.active)
