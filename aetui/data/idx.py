"""Read IDX files (the MNIST format): images (idx3) and labels (idx1), plain or gzip.

A file is a big-endian header - magic 0x0000 0x08 (unsigned bytes) ndim, then ndim uint32
sizes - followed by the data. Names follow the MNIST convention, in either spelling:
train-images-idx3-ubyte or train-images.idx3-ubyte, each with or without .gz.
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np

from aetui.errors import DataError, UnknownDataError

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dims: count, rows, cols
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dim: count
GZIP_MAGIC = b"\x1f\x8b"

# prefix, "images"/"labels", separator, "idx3"/"idx1", "-ubyte", optional ".gz"
_NAME = re.compile(r"^(?P<prefix>.*)(?P<kind>images|labels)(?P<sep>[-.])idx[13]-ubyte(?P<gz>\.gz)?$")


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic (whatever its name)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path}: gzip data is corrupt ({error})") from None


def _parse(path: Path, data: bytes, magic: int, what: str) -> tuple[tuple[int, ...], memoryview]:
    """(dims, payload) of an IDX file whose magic must be `magic`."""
    if len(data) < 4:
        raise DataError(f"{path}: truncated: {len(data)} bytes, too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DataError(f"{path}: not an IDX {what} file: magic 0x{found:08x}, expected 0x{magic:08x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated: {len(data)} bytes, the IDX header needs {header}")
    dims = tuple(int(n) for n in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    need = int(np.prod(dims, dtype=np.int64))
    have = len(data) - header
    if have != need:
        problem = "truncated" if have < need else "has extra bytes"
        raise DataError(
            f"{path}: {problem}: header says {' x '.join(map(str, dims))} ({need:,} bytes)"
            f" but {have:,} bytes follow"
        )
    return dims, memoryview(data)[header:]


def read_images(path: Path) -> np.ndarray:
    """Images of an idx3-ubyte file as (N, rows, cols) uint8, writable and C-contiguous."""
    dims, payload = _parse(path, read_bytes(path), IMAGES_MAGIC, "images")
    if 0 in dims:
        raise DataError(f"{path}: empty: header says {' x '.join(map(str, dims))} images")
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims).copy()


def read_labels(path: Path) -> np.ndarray:
    """Labels of an idx1-ubyte file as (N,) int64."""
    _, payload = _parse(path, read_bytes(path), LABELS_MAGIC, "labels")
    return np.frombuffer(payload, dtype=np.uint8).astype(np.int64)


def partner_candidates(path: Path) -> list[Path] | None:
    """Possible names of the labels file for an images file (or vice versa), best first;
    None when the name does not follow the MNIST convention."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    other, idx = ("labels", "idx1") if match["kind"] == "images" else ("images", "idx3")
    other_sep = "." if match["sep"] == "-" else "-"
    # Same spelling first, same compression first; the other spelling as a last resort.
    gz_orders = [".gz", ""] if match["gz"] else ["", ".gz"]
    names = [
        f"{match['prefix']}{other}{sep}{idx}-ubyte{gz}"
        for sep in (match["sep"], other_sep)
        for gz in gz_orders
    ]
    return [path.with_name(name) for name in names]


def find_labels(images: Path) -> Path:
    """The labels file beside an images file."""
    candidates = partner_candidates(images)
    if candidates is None:
        raise DataError(
            f"{images}: cannot tell which labels file belongs to it;"
            " expected a name like train-images-idx3-ubyte[.gz]"
        )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DataError(f"{images}: labels file not found (looked for {candidates[0].name})")


def find_pair(path: Path) -> tuple[Path, Path]:
    """(images, labels) paths for a path to an images file, a labels file, or a folder.

    A folder gives its train-images/train-labels pair, else its only pair.
    """
    if path.is_dir():
        return _pair_in_folder(path)
    if not path.exists():
        raise UnknownDataError(f"{path}: file or folder not found")
    match = _NAME.match(path.name)
    if match is not None and match["kind"] == "labels":
        for candidate in partner_candidates(path) or []:
            if candidate.is_file():
                return candidate, path
        raise DataError(f"{path}: is a labels file and no images file was found beside it")
    return path, find_labels(path)


def _pair_in_folder(folder: Path) -> tuple[Path, Path]:
    pairs: dict[str, tuple[Path, Path]] = {}
    # sorted and plain before .gz: when both forms exist, the uncompressed one wins.
    for images in sorted(folder.iterdir(), key=lambda p: (p.name.endswith(".gz"), p.name)):
        match = _NAME.match(images.name)
        if match is None or match["kind"] != "images" or not images.is_file():
            continue
        key = match["prefix"]  # both spellings of one name are the same data
        for candidate in partner_candidates(images) or []:
            if candidate.is_file():
                pairs.setdefault(key, (images, candidate))
                break
    train = [pair for key, pair in pairs.items() if key.rstrip("-._").endswith("train")]
    if len(train) == 1:
        return train[0]
    if len(pairs) == 1:
        return next(iter(pairs.values()))
    if not pairs:
        raise DataError(
            f"{folder}: no IDX images/labels pair in this folder"
            " (expected e.g. train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz])"
        )
    names = ", ".join(sorted(pair[0].name for pair in pairs.values()))
    raise DataError(f"{folder}: several IDX pairs ({names}); pass the images file to use")


def read_pair(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, rows, cols) uint8, labels (N,) int64) of a matching IDX pair."""
    pixels = read_images(images)
    targets = read_labels(labels)
    if len(targets) != len(pixels):
        raise DataError(
            f"{images.name} has {len(pixels):,} images but {labels.name} has {len(targets):,}"
            f" labels (count mismatch, in {images.parent})"
        )
    return pixels, targets
