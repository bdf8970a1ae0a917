"""Offered once per divergence: restart from the last snapshot (or the last finite weights), smaller."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from aetui.training.frame import Frame
from aetui.render import format_si
from aetui.model.config import restart_weight_scale
from aetui.tui.restart.restart_dialog import RestartRequest

SHRINK = 0.5  # the suggested restart halves the weight scale and the learning rate

ADJUST = "adjust"


def suggest_recovery(frame: Frame) -> RestartRequest:
    """Same activation, from the newest snapshot (else the kept weights), weights and lr x SHRINK."""
    act = frame.config.activation
    snaps = frame.snapshots
    newest = max(snaps, key=lambda s: (s.get("samples", 0), s.get("created", ""))) if snaps else None
    if newest is not None:
        src, src_act = newest["name"], newest.get("activation", act)
    else:
        src, src_act = None, act
    return RestartRequest(act, src, restart_weight_scale(src_act, act) * SHRINK, True, frame.lr * SHRINK)


class DivergenceOffer(ModalScreen[RestartRequest | str | None]):
    """Restart now (the suggestion), adjust it in the restart dialog, or keep looking."""

    BINDINGS = [Binding("escape", "dismiss_offer", "not now", show=False)]

    def __init__(self, frame: Frame) -> None:
        super().__init__()
        self.frame = frame
        self.suggestion = suggest_recovery(frame)

    def compose(self) -> ComposeResult:
        s = self.suggestion
        src = "the last finite weights" if s.source is None else f"snapshot {s.source}"
        snap = next((x for x in self.frame.snapshots if x["name"] == s.source), None)
        if snap is not None:
            src += f" (sample {format_si(snap.get('samples', 0))})"
        with Vertical(id="dialog", classes="danger") as box:
            box.border_title = "Training diverged"
            yield Static(self.frame.message or "the loss or weights went non-finite", id="message")
            yield Static(f"The weights shown are the last finite ones. Suggested: restart under "
                         f"{s.activation} from {src} with weights x{s.weight_scale:g} and learning rate "
                         f"{s.lr:.4g} (was {self.frame.lr:.4g}), biases reset.", id="suggestion")
            with Horizontal(id="buttons"):
                yield Button("Restart", id="ok", variant="primary", compact=True)
                yield Button("Adjust...", id="adjust", compact=True)
                yield Button("Not now", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(self.suggestion)

    @on(Button.Pressed, "#adjust")
    def _adjust(self) -> None:
        self.dismiss(ADJUST)

    @on(Button.Pressed, "#cancel")
    def action_dismiss_offer(self) -> None:
        self.dismiss(None)
