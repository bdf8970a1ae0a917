"""`aetui bench`: training speed of the engine against the NumPy reference (and PyTorch if present).

Implementations are measured interleaved in one process, in short rounds, so a noisy shared
machine slows them alike; ratios are what to read. The machine's one-thread sgemm rate is
measured in the same run as the yardstick.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from aetui.model.config import TrainConfig
from aetui.data import load_dataset
from aetui.model.engine import Engine, pixel_table
from aetui.model.warm_up import warm_up
from aetui.model.state import ModelState
from aetui.model.reference import ReferenceTrainer
from aetui.study.numpy_peer import PlainNumpyTrainer
from aetui.model.threads import compute_threads

ROUNDS = 5
ONE_THREAD = "engine, 1 thread"  # beside a case with more threads


@dataclass(frozen=True)
class Case:
    label: str
    config: TrainConfig
    threads: int = 1


def cases(threads: int, quick: bool) -> list[Case]:
    study = TrainConfig().validated()  # 784-100-784, tied, sigmoid, cross-entropy, batch 20
    out = [Case("study: 784-100-784 batch 20", study, threads),
           Case("study without noise and dropout", study.replace(noise=0.0, dropout=0.0), threads)]
    if not quick:
        out += [
            Case("batch 1", study.replace(batch=1), threads),
            Case("batch 100", study.replace(batch=100), threads),
            Case("hidden 500", study.replace(hidden=500), threads),
            Case("hidden 1000", study.replace(hidden=1000), threads),
            Case("hidden 2000", study.replace(hidden=2000), threads),
            Case("untied", study.replace(tied=False), threads),
        ]
        if threads == 1:  # two threads, each case beside the engine on one thread in the same rounds
            out += [Case(f"{label}, --threads 2", config, 2) for label, config in
                    (("study", study), ("hidden 500", study.replace(hidden=500)),
                     ("hidden 1000", study.replace(hidden=1000)), ("hidden 2000", study.replace(hidden=2000)))]
    return out


class Sgemm:
    """The machine's float32 matrix-product rate on one thread (NumPy's BLAS, 1024^3), measured
    in the same rounds as the trainers so that load on a shared machine hits it alike."""

    name = "sgemm"
    N = 1024

    def __init__(self):
        self.a = np.random.default_rng(0).random((self.N, self.N), dtype=np.float32)
        self.out = np.empty_like(self.a)
        self.flops = 0.0
        self.seconds = 0.0

    def run(self, seconds: float) -> None:
        with compute_threads(1):
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                np.dot(self.a, self.a, out=self.out)
                self.flops += 2.0 * self.N**3
            self.seconds += time.perf_counter() - t0

    @property
    def gflops(self) -> float:
        return self.flops / self.seconds / 1e9 if self.seconds else 0.0


class _Runner:
    """One implementation on one case: trains batches from a fixed order, counting samples."""

    def __init__(self, name: str, case: Case, data, make):
        self.name = name
        self.case = case
        self.data = data
        self.order = np.random.default_rng(1).permutation(len(data.images)).astype(np.int64)
        self.batches_per_epoch = len(self.order) // case.config.batch
        self.train = make(case.config, ModelState.initial(case.config.hidden, data.n_visible, True, 0), case.threads)
        self.samples = 0
        self.seconds = 0.0
        self.step = 0

    def run(self, seconds: float) -> None:
        B = self.case.config.batch
        with compute_threads(self.case.threads):
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                pos = self.step % self.batches_per_epoch
                n = min(self.batches_per_epoch - pos, max(1, 4000 // B))
                self.train(self.data.images, self.order, pos * B, n, self.step)
                self.step += n
                self.samples += n * B
            self.seconds += time.perf_counter() - t0

    @property
    def rate(self) -> float:
        return self.samples / self.seconds if self.seconds else 0.0


def _engine(config, state, threads=1):
    eng = Engine(config, state)
    return lambda data, order, start, n, step: eng.train(data, 1 / 255, order, start, n, 0, step)


def _plain_numpy(config, state, threads=1):
    peer = PlainNumpyTrainer(config, state)
    return lambda data, order, start, n, step: peer.train(data, order, start, n)


def _reference(config, state, threads=1):
    ref = ReferenceTrainer(config, state, pixel_table(1 / 255), exact_masks=False)
    return lambda data, order, start, n, step: ref.train(data, order, start, n, 0, step)


def _torch(kind: str):
    """The PyTorch peer of that kind ('manual' or 'autograd'), or None without a working torch."""
    try:
        import torch  # noqa: F401  (only to learn whether PyTorch is importable)
    except Exception:  # absent, or broken in this environment: bench without it
        return None
    from aetui.study.torch_peer import TorchAutogradTrainer, TorchManualTrainer

    cls = TorchManualTrainer if kind == "manual" else TorchAutogradTrainer

    def make(config, state, threads=1):
        peer = cls(config, state, threads)
        return lambda data, order, start, n, step: peer.train(data, order, start, n)

    return make


# What the engine is compared with, the plain peers first: what a user would write themselves.
PEERS = {
    "numpy": "plain batched NumPy (study/numpy_peer.py)",
    "pytorch": "PyTorch, gradients written out (study/torch_peer.py)",
    "numpy reference": "aetui's NumPy reference, hash masks (model/reference.py)",
    "pytorch autograd": "PyTorch with autograd (study/torch_peer.py)",
}


def implementations() -> dict:
    makers = {"engine": _engine, "numpy": _plain_numpy}
    if (manual := _torch("manual")) is not None:
        makers["pytorch"] = manual
    makers["numpy reference"] = _reference
    if (autograd := _torch("autograd")) is not None:
        makers["pytorch autograd"] = autograd
    return makers


def measure(case: Case, seconds: float, data) -> tuple[dict[str, float], float]:
    """samples/s per implementation on `case` and the sgemm GFLOP/s, interleaved over ROUNDS rounds."""
    runners = [_Runner(name, case, data, make) for name, make in implementations().items()]
    if case.threads > 1:  # what the threads gain, measured in the same rounds as they are
        runners.insert(1, _Runner(ONE_THREAD, Case(case.label, case.config, 1), data, _engine))
    for r in runners:  # warm: compile, allocate, fault pages in
        r.run(0.05)
        r.samples, r.seconds = 0, 0.0
    gemm = Sgemm()
    for _ in range(ROUNDS):
        for r in runners:
            r.run(seconds / ROUNDS)
        gemm.run(seconds / ROUNDS / 2)
    return {r.name: r.rate for r in runners}, gemm.gflops


def run_bench(threads: int, quick: bool, seconds: float, on_case=None) -> dict:
    """Every case measured: {"cpu": what the CPU is and which kernels and BLAS run, "cases": [{case,
    batch, hidden, threads, samples_per_second, gflops, sgemm_gflops_1thread}]}; on_case(label) is
    called before each one is measured."""
    warm_up()
    data = load_dataset("mnist5k")
    rows = []
    for case in cases(threads, quick):
        if on_case is not None:
            on_case(case.label)
        rates, gemm = measure(case, seconds, data)
        flops = 10.0 * data.n_visible * case.config.hidden  # per sample, tied or untied alike
        rows.append({"case": case.label, "batch": case.config.batch, "hidden": case.config.hidden,
                     "threads": case.threads, "samples_per_second": rates, "sgemm_gflops_1thread": gemm,
                     "gflops": {k: v * flops / 1e9 for k, v in rates.items()}})
    return {"cpu": machine(), "cases": rows}


def machine() -> dict:
    """The CPU (aetui/model/cpu.py), the kernels' path and NumPy's BLAS: what a speed figure was measured on."""
    from threadpoolctl import threadpool_info

    from aetui.model.cpu import cpu_info

    cpu = cpu_info()
    blas = next((f"{i.get('internal_api')} {i.get('architecture') or ''}".strip() for i in threadpool_info()
                 if i.get("user_api") == "blas"), "unknown")
    return {**cpu.to_json(), "line": cpu.line(), "kernels": f"{cpu.vector_bits}-bit SIMD ({cpu.isa})", "blas": blas}
