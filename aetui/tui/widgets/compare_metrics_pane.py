"""The experiment's numbers per run, runs across and metrics down (six runs fit 80 columns)."""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size

from aetui.render.palette import style_for
from aetui.tui.blocks import Block, block, vstack
from aetui.tui.compare_state import RUN_MARKERS, RUN_STYLES, CompareState
from aetui.tui.widgets.pane import Pane

LABEL_W = 17
# (label, metrics key or view attribute, format); the definitions are study/metrics.py's.
ROWS = (
    ("lineage", None, None),
    ("state", None, None),
    ("samples", None, None),
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
    if row == "lineage":
        return view.lineage
    if row == "state":
        return view.state.lower()
    if row == "samples":
        return f"{view.samples:,}"
    if row == "held-out (own)":
        return "-" if view.heldout_loss is None else f"{view.heldout_loss:.4f} {view.loss_short}"
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
        head = Text(" " * LABEL_W, no_wrap=True)
        for k, view in enumerate(state.views):
            head.append(f" {RUN_MARKERS[k]} {view.name}"[: col_w + 1].ljust(col_w + 1),
                        style_for(self.mode, f"bold {RUN_STYLES[k]}"))
        rows = [block(head, width=size.width)]
        for label, key, fmt in ROWS:
            line = Text(label.ljust(LABEL_W), style=dim, no_wrap=True)
            for k in range(n):
                text = cell(state, k, label, key, fmt)
                if len(text) > col_w:  # a lineage's last segments say most: cut from the left
                    text = "~" + text[len(text) - col_w + 1:] if label == "lineage" else text[: col_w - 1] + "~"
                line.append(" " + text.rjust(col_w) if label not in ("lineage",) else " " + text.ljust(col_w), "")
            rows.append(block(line, width=size.width))
        self.set_subtitle("mse compares runs of different losses")
        note = Text("held-out mse: squared error per pixel on each run's held-out set", style=dim)
        return vstack(rows + [block(Text("")), block(note, width=size.width)], width=size.width)
