"""The experiment's numbers per run, runs across and metrics down (six runs fit 80 columns)."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size

from aetui.render.palette import style_for
from aetui.tui.blocks import Block, block, vstack
from aetui.tui.compare.compare_state import RUN_MARKERS, RUN_STYLES, CompareState
from aetui.tui.panes.pane import Pane

LABEL_W = 17
# (label, metrics key or view attribute, format); the definitions are study/metrics.py's.
ROWS = (
    ("held-out (own)", None, None),
    ("held-out mse", "heldout_mse", "{:.4f}"),
    ("locality", "locality", "{:.3f}"),
    ("spread", "spread", "{:.3f}"),
    ("contrast", "contrast", "{:.2f}"),
    ("max cosine", "max_cosine", "{:.2f}"),
    ("duplicates", "duplicates", "{:d}"),
    ("mean code", "mean_code", "{:.3f}"),
    ("lifetime sparsity", "lifetime_sparsity", "{:.3f}"),
    ("dead units", "dead_units", "{:d}"),
)


def cell(state: CompareState, k: int, row: str, key: str | None, fmt: str | None) -> str:
    view = state.views[k]
    if row == "held-out (own)":  # in the run's own loss, which its legend line names
        return "-" if view.heldout_loss is None else f"{view.heldout_loss:.4f}"
    value = state.metrics.get(view.name, {}).get(key)
    return "..." if view.name not in state.metrics else ("-" if value is None else fmt.format(value))


class CompareMetricsPane(Pane):
    """Metrics of every run's current weights on its held-out set (recomputed as live runs train)."""

    TITLE = "metrics"

    def data_key(self, state: CompareState) -> tuple:
        return (state.version,)

    def draw(self, state: CompareState, size: Size) -> Block:
        n = len(state.runs)
        col_w = max(6, min(22, (size.width - LABEL_W) // n - 1))
        dim = style_for(self.mode, "dim")
        # first a line per run (glyph, name, loss, lineage, state, samples); then the numbers under the glyphs
        rows = []
        for k, (view, label) in enumerate(zip(state.views, state.labels)):
            rows.append(block(Text.assemble((f"{RUN_MARKERS[k]} {label} ({view.loss_short})",
                                             style_for(self.mode, f"bold {RUN_STYLES[k]}")),
                                            (f"  {view.lineage}", dim), f"  {view.state.lower()} {view.samples:,}",
                                            no_wrap=True), width=size.width))
        head = Text(" " * LABEL_W, no_wrap=True)
        for k, label in enumerate(state.labels):
            name = label if len(label) + 2 <= col_w else ""  # too narrow: the glyph alone, as in the lines above
            head.append(f" {RUN_MARKERS[k]} {name}".rjust(col_w + 1)[: col_w + 1],
                        style_for(self.mode, f"bold {RUN_STYLES[k]}"))
        rows.append(block(head, width=size.width))
        for label, key, fmt in ROWS:
            line = Text(label.ljust(LABEL_W), style=dim, no_wrap=True)
            for k in range(n):
                text = cell(state, k, label, key, fmt)
                line.append(" " + (text if len(text) <= col_w else text[: col_w - 1] + "~").rjust(col_w))
            rows.append(block(line, width=size.width))
        self.set_subtitle("held-out mse: squared error per pixel, comparable across losses")
        return vstack(rows, width=size.width)
