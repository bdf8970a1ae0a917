"""aetui: watch a single-hidden-layer autoencoder learn, in a terminal.

What a run recorded, for notebooks and scripts (read-only, safe on a session that is training):

    open_session(path)                       a session folder
    open_session(name, sessions_dir=...)     a session by name (default $AETUI_SESSIONS or ./sessions)
        .name .config .lineage .events .history (NumPy columns) .snapshots (.weights())
        .running .saved_samples .to_pandas()
    open_study(prefix, sessions_dir=...)     the transfer experiment's sessions PREFIX-...
        .results (one row per condition and seed) .conditions (means and 95% intervals)
        .claims (verdicts) .runs (each run's session) .to_pandas()

Both are loaded when first used: `import aetui` stays light (the dashboard never loads the
training engine).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# The public surface: name -> the module that defines it (imported on first use).
_PUBLIC = {
    "open_session": "aetui.sessions.reading",
    "open_study": "aetui.study.reading",
    "SessionRecord": "aetui.sessions.reading",
    "Snapshot": "aetui.sessions.reading",
    "StudyRecord": "aetui.study.reading",
    "AetuiError": "aetui.errors",
}
__all__ = sorted(_PUBLIC)

if TYPE_CHECKING:  # pragma: no cover
    from aetui.errors import AetuiError
    from aetui.sessions.reading import SessionRecord, Snapshot, open_session
    from aetui.study.reading import StudyRecord, open_study


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'aetui' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
