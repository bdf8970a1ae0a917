"""The view settings that persist between runs, in a small JSON file in the user's config folder.

$XDG_CONFIG_HOME/aetui/settings.json (else ~/.config/aetui/settings.json): the filters'
normalisation, the loss chart's modes, the bias heatmap's scale, the enlarged pane and the
graphics mode asked for. Written atomically whenever one changes. A missing file means the
defaults; a damaged or unreadable one means the defaults and one warning line, never a crash;
a value this version does not know (a newer aetui's, a typo) is that setting's default.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aetui.render.chart_modes import ChartModes
from aetui.render.heat_scale import HEAT_SCALES
from aetui.sessions.atomic import why, write_bytes
from aetui.tui.graphics.graphics_mode import REQUESTS as GRAPHICS_REQUESTS

NORMALIZATIONS = ("tile", "global")
PANE_NAMES = ("loss", "bias", "filters", "recon", "snapshots")


@dataclass(frozen=True)
class ViewSettings:
    """What the user chose to see; the defaults are a first start's view."""

    normalization: str = "tile"
    chart: ChartModes = field(default_factory=ChartModes)
    heat_scale: str = HEAT_SCALES[0]
    solo: str | None = None  # the enlarged pane (keys 1-5 on a large terminal), or all panes
    graphics: str = "auto"  # as asked for with --graphics (detected anew at every start when auto)

    def to_json(self) -> dict:
        return {"normalization": self.normalization, "x_scale": self.chart.x_scale, "log_y": self.chart.log_y,
                "smoothing": self.chart.smoothing, "heat_scale": self.heat_scale, "enlarged_pane": self.solo,
                "graphics": self.graphics}

    @classmethod
    def from_json(cls, data: Mapping) -> ViewSettings:
        d = cls()

        def pick(key: str, allowed, default):
            value = data.get(key, default)
            return value if value in allowed else default

        return cls(normalization=pick("normalization", NORMALIZATIONS, d.normalization),
                   chart=ChartModes.checked(data.get("x_scale"), data.get("log_y"), data.get("smoothing")),
                   heat_scale=pick("heat_scale", HEAT_SCALES, d.heat_scale),
                   solo=pick("enlarged_pane", PANE_NAMES + (None,), None),
                   graphics=pick("graphics", GRAPHICS_REQUESTS, d.graphics))


def settings_path(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/aetui/settings.json, else ~/.config/aetui/settings.json (the XDG rule: a
    relative XDG_CONFIG_HOME is ignored)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    folder = Path(base) if base and os.path.isabs(base) else Path(env.get("HOME") or Path.home()) / ".config"
    return folder / "aetui" / "settings.json"


def load_settings(path: Path) -> tuple[ViewSettings, str | None]:
    """The settings stored at `path`, and a one-line warning when the file could not be used."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return ViewSettings(), None
    except OSError as exc:
        return ViewSettings(), f"cannot read the settings file {path}: {why(exc)}; using the defaults"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = f"not JSON ({exc.msg}, line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        return ViewSettings(), f"the settings file {path} is damaged: {reason}; using the defaults"
    if not isinstance(data, dict):
        return ViewSettings(), f"the settings file {path} is damaged: not a JSON object; using the defaults"
    return ViewSettings.from_json(data), None


def save_settings(path: Path, settings: ViewSettings) -> None:
    """Write `settings` to `path` atomically (its folder is made if need be); raises OSError."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, (json.dumps(settings.to_json(), indent=2) + "\n").encode())
