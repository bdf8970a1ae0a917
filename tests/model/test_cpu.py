"""What aetui says the CPU is: the instruction set follows what Numba compiles for (so masking
AVX-512 with NUMBA_CPU_FEATURES reads as AVX2), and the caches come from sysfs."""

import subprocess
import sys

import llvmlite.binding as llvm
import pytest

from aetui.model.cpu import _caches, cpu_info


def test_the_cpu_is_described_as_the_kernels_see_it():
    cpu = cpu_info()
    host = llvm.get_host_cpu_features()
    assert cpu.core == llvm.get_host_cpu_name()
    from kernels.simd import VECTOR_BYTES

    assert cpu.vector_bits == VECTOR_BYTES * 8
    assert (cpu.isa == "AVX-512") == (cpu.vector_bits == 512)
    assert cpu.masked is False or host.get("avx512f")
    line = cpu.line()
    assert line.startswith(f"{cpu.model} ({cpu.core}), {cpu.isa}") and f"{cpu.vector_bits}-bit vectors" in line


def test_caches_are_read_in_bytes(tmp_path, monkeypatch):
    for i, (level, kind, size) in enumerate([("1", "Data", "48K"), ("1", "Instruction", "32K"), ("2", "Unified", "2048K"),
                                             ("3", "Unified", "105M")]):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(level + "\n")
        (d / "type").write_text(kind + "\n")
        (d / "size").write_text(size + "\n")
    monkeypatch.setattr("aetui.model.cpu.CACHE_DIR", tmp_path)
    assert _caches() == {"L1d": 48 * 1024, "L2": 2048 * 1024, "L3": 105 * 1024**2}


@pytest.mark.slow
def test_masking_avx512_reads_as_avx2():
    host = llvm.get_host_cpu_features()
    if not host.get("avx512f"):
        pytest.skip("this CPU has no AVX-512 to mask")
    masked = ",".join(("-" if k.startswith("avx512") else "+" if v else "-") + k for k, v in host.items())
    out = subprocess.run([sys.executable, "-c", "from aetui.model.cpu import cpu_info; c = cpu_info(); "
                          "print(c.isa, c.vector_bits, c.masked)"], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "NUMBA_CPU_FEATURES": masked}, timeout=60)
    assert out.stdout.split() == ["AVX2", "256", "True"]
