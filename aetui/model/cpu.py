"""What the CPU is, as far as the kernels care: its model, the instruction set Numba compiles
for (AVX-512 or AVX2: NUMBA_CPU_FEATURES when set, which is also how AVX-512 is masked to
measure an AVX2-only CPU), the vector width the kernels use, and its caches. `aetui bench`
prints it beside every speed figure, since the figures differ from one CPU to the next."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CACHE_DIR = Path("/sys/devices/system/cpu/cpu0/cache")


@dataclass(frozen=True)
class CpuInfo:
    model: str  # /proc/cpuinfo's model name, e.g. "AMD EPYC"
    core: str  # LLVM's name for the core, e.g. "znver4", "sapphirerapids"
    isa: str  # "AVX-512", "AVX2" or "SSE" (what the kernels are compiled for)
    vector_bits: int  # the kernels' SIMD width (kernels/simd.py)
    masked: bool  # NUMBA_CPU_FEATURES leaves out AVX-512 the CPU has
    caches: dict[str, int]  # "L1d", "L2", "L3" -> bytes (per core for L1/L2), as far as known

    def line(self) -> str:
        """One line for a report: 'AMD EPYC (znver4), AVX-512, 512-bit vectors, L2 1 MB, L3 32 MB'."""
        sizes = ", ".join(f"{k} {_size(v)}" for k, v in self.caches.items() if k != "L1d")
        masked = " (AVX-512 masked by NUMBA_CPU_FEATURES)" if self.masked else ""
        return f"{self.model} ({self.core}), {self.isa}{masked}, {self.vector_bits}-bit vectors" + (f", {sizes}" if sizes else "")

    def to_json(self) -> dict:
        return {"model": self.model, "core": self.core, "isa": self.isa, "vector_bits": self.vector_bits,
                "avx512_masked": self.masked, "caches": dict(self.caches)}


@lru_cache(maxsize=1)
def cpu_info() -> CpuInfo:
    import llvmlite.binding as llvm

    from kernels.simd import VECTOR_BYTES

    host = llvm.get_host_cpu_features()
    compiled = os.environ.get("NUMBA_CPU_FEATURES") or host.flatten()
    on = {f[1:] for f in compiled.split(",") if f.startswith("+")}
    isa = "AVX-512" if "avx512f" in on else "AVX2" if "avx2" in on else "SSE"
    return CpuInfo(_model_name(), llvm.get_host_cpu_name(), isa, VECTOR_BYTES * 8,
                   bool(host.get("avx512f")) and "avx512f" not in on, _caches())


def _model_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def _caches() -> dict[str, int]:
    out: dict[str, int] = {}
    for index in sorted(CACHE_DIR.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        name = f"L{level}d" if level == "1" else f"L{level}"
        out[name] = int(size[:-1]) * {"K": 1024, "M": 1024**2, "G": 1024**3}[size[-1]] if size[-1] in "KMG" else int(size)
    return out


def _size(n: int) -> str:
    return f"{n // 1024**2} MB" if n >= 1024**2 and n % 1024**2 == 0 else f"{n // 1024} KB"
