"""The dashboard's view keys for the charts (x, y, m, b) and the view settings kept between runs.

A mixin of AetuiApp: it reads the settings file when the app starts, applies it to the panes,
and writes it again (atomically) after every change of the view, so the next start looks the
same. A settings file that cannot be written is said once and otherwise ignored: it is a
convenience, the training never depends on it.
"""

from __future__ import annotations

from pathlib import Path

from aetui.render.heat_scale import HEAT_SCALES
from aetui.sessions.atomic import why
from aetui.tui.settings_file import ViewSettings, load_settings, save_settings, settings_path


class ViewActions:
    """Chart modes, heatmap scale and the settings file (mixed into AetuiApp)."""

    settings_file: Path | None = None  # None: settings_path() of the environment at start
    graphics_request = "auto"  # what --graphics (or the settings file) asked for; kept in the file
    _saved_settings: ViewSettings | None = None
    _settings_failed = False

    def load_view_settings(self) -> None:
        """Read the settings file and show the panes as it says (one warning when it is damaged)."""
        if self.settings_file is None:
            self.settings_file = settings_path()
        settings, warning = load_settings(self.settings_file)
        if warning:
            self.notify(warning, severity="warning", timeout=8)
        self._saved_settings = settings
        if getattr(self, "graphics", None) is None:  # no graphics set up (tests): keep the file's request
            self.graphics_request = settings.graphics
        elif self.graphics_request != settings.graphics:  # a --graphics given this time is kept
            self.save_view_settings()
        self.filters.normalization = settings.normalization
        self.pane("loss").modes = settings.chart
        self.pane("bias").heat_scale = settings.heat_scale
        if settings.solo is not None:
            self._set_solo(settings.solo)

    def view_settings(self) -> ViewSettings:
        """The view as it is now (an enlargement the zoom made itself is not the user's choice)."""
        solo = None if self._zoom_enlarged else self.solo
        return ViewSettings(normalization=self.filters.normalization, chart=self.pane("loss").modes,
                            heat_scale=self.pane("bias").heat_scale, solo=solo, graphics=self.graphics_request)

    def save_view_settings(self) -> None:
        """Write the settings file if the view changed since it was last read or written."""
        settings = self.view_settings()
        if settings == self._saved_settings or self.settings_file is None:
            return
        try:
            save_settings(self.settings_file, settings)
        except OSError as exc:
            if not self._settings_failed:
                self._settings_failed = True
                self.notify(f"cannot save the view settings to {self.settings_file}: {why(exc)}",
                            severity="warning", timeout=6)
            return
        self._saved_settings = settings

    # -- the keys -----------------------------------------------------------------------------------
    def _set_chart(self, modes) -> None:
        loss = self.pane("loss")
        loss.set_modes(modes)
        self.notify(f"loss chart: {modes.words(loss.samples())}", timeout=2)
        self.save_view_settings()

    def action_toggle_log_x(self) -> None:
        loss = self.pane("loss")
        self._set_chart(loss.modes.toggle_x(loss.samples()))

    def action_toggle_log_y(self) -> None:
        self._set_chart(self.pane("loss").modes.toggle_y())

    def action_cycle_smoothing(self) -> None:
        self._set_chart(self.pane("loss").modes.next_smoothing())

    def action_cycle_heat_scale(self) -> None:
        bias = self.pane("bias")
        kind = HEAT_SCALES[(HEAT_SCALES.index(bias.heat_scale) + 1) % len(HEAT_SCALES)]
        bias.set_heat_scale(kind)
        self.notify(f"bias heatmap: {kind} colour scale", timeout=2)
        self.save_view_settings()
