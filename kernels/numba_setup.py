"""Numba's set-up for the kernels, which must run before Numba itself is imported.

Every module that imports Numba imports this one first: a cache folder per version of the kernel
sources, and the widest vectors the CPU has. It lives apart from kernels/__init__.py so that
the kernels' plain-Python parts (activation names) load without it: the dashboard process,
which never trains, then never loads llvmlite (about 50 ms of every start).
"""

import hashlib
import os
import sys
from pathlib import Path


def _numba_cache_dir() -> None:
    """Give Numba's on-disk cache a folder per version of the kernels' source.

    Numba keys a cached function on its own file's timestamp only, so after a kernel it calls
    changes (in another file) it would load stale machine code. A folder named by a hash of all
    kernel sources makes any change start afresh. It must run before Numba is imported.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    base = os.environ.get("AETUI_NUMBA_CACHE_BASE") or os.environ.get("NUMBA_CACHE_DIR") \
        or os.path.join(os.path.expanduser("~"), ".cache", "aetui", "numba")
    os.environ["AETUI_NUMBA_CACHE_BASE"] = base
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(base, digest.hexdigest()[:16])


def _wide_vectors() -> None:
    """Let LLVM vectorise the kernels with 512-bit registers where the CPU has AVX-512.

    LLVM prefers 256-bit vectors even on AVX-512 machines (a tuning default for mixed code).
    The kernels are long runs of multiply-adds, for which the full width is faster: W X^T alone
    1.5x, the whole study step 65-69% of the sgemm rate against 56-63% (alternating runs of
    `aetui bench --quick`). It must run before Numba is imported; a NUMBA_CPU_FEATURES the user
    set wins. Numba's cache keys compiled code on these features, so nothing stale loads.
    """
    if "NUMBA_CPU_FEATURES" in os.environ:
        return
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features()
    if features.get("avx512f"):
        os.environ["NUMBA_CPU_FEATURES"] = features.flatten() + ",-prefer-256-bit"


if "numba" not in sys.modules:  # once Numba is loaded it has read its settings: too late to change them
    _numba_cache_dir()
    _wide_vectors()
