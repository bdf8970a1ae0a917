"""Restarting the training: the a key's dialog, and the offer when the training diverged. A mixin
of AetuiApp (it uses the app's link, frame and mode); a restart that forks goes to the app's
`_fork` (tui/compare/compare_actions.py).
"""

from __future__ import annotations

from textual.screen import ModalScreen

from aetui.training.frame import DIVERGED, Frame
from aetui.tui.restart.divergence_offer import ADJUST, DivergenceOffer, suggest_recovery
from aetui.tui.restart.restart_dialog import RestartDialog, RestartRequest


class RestartActions:
    """The restart dialog and the divergence offer (see the module doc)."""

    _offered = 0  # divergences offered so far (count of "diverged" events)

    def _offer_divergence(self, frame: Frame) -> None:
        if frame.state != DIVERGED or self.switching or isinstance(self.screen, ModalScreen):
            return
        count = sum(1 for _, label in frame.history.events if label == "diverged")
        if count <= self._offered:
            return
        self._offered = count
        self._draw_all()  # the marker on the loss chart shows at once
        self.push_screen(DivergenceOffer(frame), self._divergence_choice)

    def _divergence_choice(self, choice: RestartRequest | str | None) -> None:
        if isinstance(choice, RestartRequest):
            self._restart(choice)
        elif choice == ADJUST and self.frame is not None:
            s = suggest_recovery(self.frame)
            self._open_restart_dialog(title="Restart after divergence", note=self.frame.message,
                                      choose_source=s.source, weight_scale=s.weight_scale, lr=s.lr)

    def action_restart(self) -> None:
        if self._busy("restart"):
            return
        self._open_restart_dialog()

    def _open_restart_dialog(self, **kwargs) -> None:
        f = self.frame
        dialog = RestartDialog(activation=f.config.activation, samples=f.samples, snapshots=f.snapshots,
                               mode=self.mode, can_fork=True, **kwargs)
        self.push_screen(dialog, self._restart)

    def _restart(self, request: RestartRequest | None) -> None:
        if request is None or self.link is None:
            return
        if request.fork:
            self._fork(request)
            return
        self.link.restart(request.activation, request.source, request.weight_scale, request.reset_biases,
                            request.lr)
        self._lr_target = None
