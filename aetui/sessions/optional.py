"""Optional libraries (pandas, pyarrow, tensorboardX): imported only when a feature needs them.

A missing one is one line naming the extra that brings it, e.g. `Parquet export needs pyarrow:
pip install 'aetui[data]'`, and the CLI exits 2 as for any option this installation cannot honour.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from aetui.errors import ConfigError

EXTRAS = {"pandas": "data", "pyarrow": "data", "tensorboardX": "tensorboard"}


class MissingExtraError(ConfigError):
    """A feature whose optional library is not installed."""


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` (e.g. "pyarrow.parquet"), or MissingExtraError: '<purpose> needs <package>: pip install ...'."""
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(top)
        how = f"pip install 'aetui[{extra}]'" if extra else f"pip install {top}"
        raise MissingExtraError(f"{purpose} needs {top}: {how}") from None
