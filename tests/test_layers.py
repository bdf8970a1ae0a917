"""The layers of DESIGN.md hold: import-linter's contracts, and the core running without the dashboard."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ("data", "model", "sessions", "training", "study", "render")


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    return str(beside) if beside.exists() else shutil.which("lint-imports")


def test_import_contracts_are_kept():
    out = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "5 kept, 0 broken" in out.stdout


@pytest.mark.slow
def test_every_core_module_imports_without_textual_the_dashboard_or_the_cli():
    # Import every module of the core packages in a fresh interpreter and look at sys.modules:
    # the contracts see static imports, this sees what really loads (lazy imports included).
    modules = sorted(f"aetui.{p.relative_to(ROOT / 'aetui').with_suffix('').as_posix().replace('/', '.')}"
                     for pkg in CORE for p in (ROOT / "aetui" / pkg).rglob("*.py") if p.name != "__init__.py")
    assert len(modules) > 30
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}:\n"
            "    if m != 'aetui.study.torch_peer':  # imports torch, which is optional\n"
            "        importlib.import_module(m)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual' "
            "or m.startswith(('aetui.tui', 'aetui.cli')))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


@pytest.mark.slow
def test_the_dashboard_loads_neither_numba_nor_llvmlite_nor_matplotlib():
    # The dashboard is a client of a trainer process: it must come up at once, without the
    # kernels' machinery (llvmlite alone is ~50 ms of every start) or the charts' (matplotlib:
    # loaded by aetui/study/charts.py only when a chart is drawn).
    code = ("import json, sys, aetui.cli.main, aetui.cli.attach, aetui.cli.dashboard, aetui.tui.app\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite', 'matplotlib'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []

