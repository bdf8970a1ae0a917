"""The restart dialog: a new segment under an activation, from current weights or a snapshot."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from aetui.model.config import DEFAULT_LR
from aetui.render import DisplayMode, format_si
from aetui.model.config import restart_weight_scale
from aetui.tui.panes.snapshots_pane import listed
from kernels.activation_codes import ACTIVATIONS

CURRENT = "current"


@dataclass(frozen=True)
class RestartRequest:
    """What TrainingRunner.restart needs; source None means the current weights."""

    activation: str
    source: str | None
    weight_scale: float
    reset_biases: bool
    lr: float
    fork: bool = False  # the run goes on; a new session starts from these weights (tui/compare/fork.py)

    def describe(self) -> str:
        src = "current weights" if self.source is None else self.source
        return (f"{self.activation} from {src}, weights x{self.weight_scale:g}, lr {self.lr:g}"
                f"{', biases reset' if self.reset_biases else ''}")


@dataclass(frozen=True)
class Source:
    id: str  # CURRENT or a snapshot name
    label: str
    activation: str


def sources(activation: str, samples: int, snapshots: tuple[dict, ...]) -> list[Source]:
    """Current weights first, then snapshots as the snapshots pane lists them."""
    out = [Source(CURRENT, f"current weights ({activation}) @ {format_si(samples)}", activation)]
    for s in listed(snapshots):
        out.append(Source(s["name"], f"{s['name']} ({s.get('activation', '?')}) @ {format_si(s.get('samples', 0))}",
                          s.get("activation", activation)))
    return out


def parse_positive(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) and v > 0 else None


def fmt(v: float) -> str:
    return f"{v:.4g}"


def ascii_checkbox(box: Checkbox, mode: DisplayMode) -> Checkbox:
    """Checkbox drawn with 7-bit characters where Unicode is not available."""
    if not mode.unicode:
        box.BUTTON_LEFT, box.BUTTON_RIGHT = "[", "]"
    return box


class RestartDialog(ModalScreen[RestartRequest | None]):
    """Activation (with its default lr), source, weight scale, reset biases, lr.

    The weight scale follows restart_weight_scale(source activation, new activation) and the lr
    follows the activation's default while the user has not typed another value.
    """

    BINDINGS = [Binding("escape", "cancel", "cancel", show=False)]

    def __init__(self, *, activation: str, samples: int, snapshots: tuple[dict, ...], mode: DisplayMode,
                 title: str = "Restart training", note: str = "", choose_activation: str | None = None,
                 choose_source: str | None = None, weight_scale: float | None = None, lr: float | None = None,
                 reset_biases: bool = True, can_fork: bool = False) -> None:
        super().__init__()
        self.can_fork = can_fork
        self.mode = mode
        self.current_activation = activation
        self.sources = sources(activation, samples, snapshots)
        self.dialog_title = title
        self.note = note
        self.activation = choose_activation or activation
        self.source = choose_source or CURRENT
        if self.source not in {s.id for s in self.sources}:
            self.source = CURRENT
        self._fixed_scale = weight_scale  # a suggested value, kept until the user changes a choice
        self._fixed_lr = lr
        self.reset_biases = reset_biases
        self._auto_scale = ""
        self._auto_lr = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = self.dialog_title
            if self.note:
                yield Static(self.note, id="note")
            with Horizontal(id="choices"):
                with Vertical(id="activation-box"):
                    yield Label("activation  (default lr)")
                    yield OptionList(*[Option(f"{name:<16}{DEFAULT_LR[name]:g}", id=name) for name in ACTIVATIONS],
                                     id="activation", compact=True)
                with Vertical(id="source-box"):
                    yield Label("start from")
                    yield OptionList(*[Option(s.label, id=s.id) for s in self.sources], id="source", compact=True)
            with Horizontal(classes="field"):
                yield Label("weight scale", classes="field-label")
                yield Input(id="scale", compact=True)
                yield Label("learning rate", classes="field-label")
                yield Input(id="lr", compact=True)
            yield ascii_checkbox(Checkbox("reset biases to zero", value=self.reset_biases, id="reset", compact=True),
                                 self.mode)
            yield Static("", id="why")
            with Horizontal(id="buttons"):
                yield Button("Restart", id="ok", variant="primary", compact=True)
                if self.can_fork:
                    yield Button("Fork", id="fork", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            if self.can_fork:
                yield Static("Fork: this run goes on, and a new session starts from these weights in a second "
                             "trainer (on 2 cores each runs at about half speed)", id="fork-note")

    def on_mount(self) -> None:
        acts = self.query_one("#activation", OptionList)
        acts.highlighted = ACTIVATIONS.index(self.activation)
        src = self.query_one("#source", OptionList)
        src.highlighted = [s.id for s in self.sources].index(self.source)
        self._refresh_defaults(initial=True)
        acts.focus()

    # -- live defaults ----------------------------------------------------------------------------
    def source_activation(self) -> str:
        return next(s.activation for s in self.sources if s.id == self.source)

    def default_scale(self) -> float:
        return restart_weight_scale(self.source_activation(), self.activation)

    def _refresh_defaults(self, initial: bool = False) -> None:
        scale_in = self.query_one("#scale", Input)
        lr_in = self.query_one("#lr", Input)
        if not initial:  # the user changed a choice: suggestions give way to the defaults
            self._fixed_scale = self._fixed_lr = None
        scale = self._fixed_scale if self._fixed_scale is not None else self.default_scale()
        lr = self._fixed_lr if self._fixed_lr is not None else DEFAULT_LR[self.activation]
        # Only overwrite values the user has not typed over.
        if initial or scale_in.value == self._auto_scale:
            self._auto_scale = fmt(scale)
            scale_in.value = self._auto_scale
        if initial or lr_in.value == self._auto_lr:
            self._auto_lr = fmt(lr)
            lr_in.value = self._auto_lr
        src_act = self.source_activation()
        if src_act == self.activation:
            why = f"default scale x1: the weights were learned under {src_act} already"
        else:
            why = f"default scale x0.1: {src_act} weights under {self.activation} (reused weights often diverge)"
        self.query_one("#why", Static).update(why)

    @on(OptionList.OptionHighlighted, "#activation")
    def _activation_changed(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.activation:
            self.activation = event.option.id
            self._refresh_defaults()

    @on(OptionList.OptionHighlighted, "#source")
    def _source_changed(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.source:
            self.source = event.option.id
            self._refresh_defaults()

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.focus_next()

    # -- result ------------------------------------------------------------------------------------
    def request(self) -> RestartRequest | None:
        """The dialog's values, or None (with a message shown) when one is not a positive number."""
        scale = parse_positive(self.query_one("#scale", Input).value)
        lr = parse_positive(self.query_one("#lr", Input).value)
        why = self.query_one("#why", Static)
        if scale is None:
            why.update("weight scale must be a positive number")
            return None
        if lr is None:
            why.update("learning rate must be a positive number")
            return None
        return RestartRequest(self.activation, None if self.source == CURRENT else self.source, scale,
                              self.query_one("#reset", Checkbox).value, lr)

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        req = self.request()
        if req is not None:
            self.dismiss(req)

    @on(Button.Pressed, "#fork")
    def _fork(self) -> None:
        req = self.request()
        if req is not None:
            self.dismiss(dataclasses.replace(req, fork=True))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
