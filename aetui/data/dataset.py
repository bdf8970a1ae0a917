"""A labelled set of same-sized greyscale images, and its stratified held-out split."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from aetui.errors import ConfigError, DataError


# eq=False: ndarray fields make field-wise == ambiguous; identity equality and hashing instead.
@dataclass(frozen=True, eq=False)
class Dataset:
    """N images of rows x cols uint8 pixels with int64 labels 0..n_classes-1.

    images is (N, rows*cols) uint8, C-contiguous, each row one image in row-major order;
    pixels * scale are the network inputs in [0, 1]. Treat the arrays as read-only.
    Labels are kept as given (IDX files may start at 1), so n_classes is max label + 1.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    shape: tuple[int, int]
    scale: float
    source: str

    def __post_init__(self) -> None:
        images = np.asarray(self.images)
        labels = np.asarray(self.labels)
        rows, cols = (int(n) for n in self.shape)
        if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != rows * cols:
            raise DataError(
                f"{self.name}: images must be (N, {rows * cols}) uint8 for {rows}x{cols} images,"
                f" got {images.shape} {images.dtype}"
            )
        if labels.shape != (images.shape[0],) or (labels.size and labels.dtype.kind not in "iu"):
            raise DataError(
                f"{self.name}: expected {images.shape[0]} integer labels, got {labels.shape} {labels.dtype}"
            )
        labels = labels.astype(np.int64, copy=False)
        if labels.size and labels.min() < 0:
            raise DataError(f"{self.name}: negative label {labels.min()}")
        # Frozen: normalise through object.__setattr__ (no copies when already in form).
        object.__setattr__(self, "images", np.ascontiguousarray(images))
        object.__setattr__(self, "labels", np.ascontiguousarray(labels))
        object.__setattr__(self, "shape", (rows, cols))
        object.__setattr__(self, "scale", float(self.scale))

    @cached_property
    def fingerprint(self) -> str:
        """A digest of the images and labels (sha256, 16 hex digits): a session records it, so a
        resume notices when the data under its name has changed (about 30 ms for 60k images)."""
        digest = hashlib.sha256(f"{self.shape} {self.images.shape}".encode())
        digest.update(self.images.data)
        digest.update(self.labels.data)
        return digest.hexdigest()[:16]

    @property
    def n_visible(self) -> int:
        """Pixels per image (rows * cols)."""
        return self.images.shape[1]

    @property
    def n_classes(self) -> int:
        """Largest label + 1 (0 for an empty set)."""
        return int(self.labels.max()) + 1 if self.labels.size else 0

    def __len__(self) -> int:
        return self.images.shape[0]

    def subset(self, index: np.ndarray, name: str) -> Dataset:
        """The images at index (ints, in that order) as a new Dataset with the same shape/scale/source."""
        return Dataset(name, self.images[index], self.labels[index], self.shape, self.scale, self.source)


def held_out_count(count: int, fraction: float) -> int:
    """How many of a class's count samples go to held-out: round(fraction*count), half up,
    at least 1 when the class has >= 2 samples, never the class's last sample."""
    if fraction == 0 or count < 2:
        return 0
    return min(max(math.floor(fraction * count + 0.5), 1), count - 1)


def split_heldout(ds: Dataset, fraction: float = 0.1, seed: int = 0) -> tuple[Dataset, Dataset]:
    """(train, heldout): a seeded split stratified by label; both keep the original order.

    Each class gives held_out_count(its count, fraction) samples to held-out; the result depends
    only on (ds, fraction, seed). Names: ds.name and ds.name + ":heldout".
    """
    if not 0 <= fraction < 1:
        raise ConfigError(f"held-out fraction must be in [0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for label in range(ds.n_classes):  # fixed class order keeps the RNG stream reproducible
        members = np.flatnonzero(ds.labels == label)
        n_held = held_out_count(members.size, fraction)
        if n_held:
            held.append(rng.choice(members, size=n_held, replace=False))
    if fraction > 0 and not held:
        raise DataError(
            f"{ds.name}: too small to hold out {fraction:g} of it ({len(ds)} images, no class has 2)"
        )
    is_held = np.zeros(len(ds), dtype=bool)
    if held:
        is_held[np.concatenate(held)] = True
    return (
        ds.subset(np.flatnonzero(~is_held), ds.name),
        ds.subset(np.flatnonzero(is_held), f"{ds.name}:heldout"),
    )
