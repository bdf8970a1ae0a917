"""Arrays -> Rich Text: images, filter grids, heatmaps and line charts for the dashboard.

Pure functions of NumPy arrays; imports numpy and rich only (never Textual, never the core).
Every drawing function takes a DisplayMode (see `detect_mode`) and returns a rich.text.Text.
"""

from .chart import PlotArea, Series, format_si, format_tick, line_chart, log_ticks, nice_ticks, smooth
from .colormaps import NAN_RGB, NEUTRAL_RGB, Cmap, diverging, gray, normalize
from .grid import filter_grid, grid_geometry, grid_size
from .heatmap import heatmap_text, resample
from .image import image_text, pixels_to_text
from .modes import DisplayMode, Glyphs, detect_mode, glyphs, locale_is_utf8
from .segments import segment_lines

__all__ = [
    "NAN_RGB",
    "NEUTRAL_RGB",
    "PlotArea",
    "Cmap",
    "DisplayMode",
    "Glyphs",
    "Series",
    "detect_mode",
    "diverging",
    "filter_grid",
    "format_si",
    "format_tick",
    "glyphs",
    "gray",
    "grid_geometry",
    "grid_size",
    "heatmap_text",
    "image_text",
    "line_chart",
    "locale_is_utf8",
    "log_ticks",
    "nice_ticks",
    "normalize",
    "pixels_to_text",
    "resample",
    "segment_lines",
    "smooth",
]
