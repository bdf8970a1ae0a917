"""Damaged IDX files, fuzzed: each loads (if still a valid pair) or is one DataError naming the file."""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aetui.data import load_dataset
from aetui.errors import DataError
from tests.data.test_datasets import idx_pair

pytestmark = pytest.mark.slow  # 150 damaged IDX files read: seconds

FUZZ = settings(max_examples=int(os.environ.get("AETUI_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture],
                derandomize=os.environ.get("AETUI_FUZZ_EXAMPLES") is None)

MUTATION = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 0.2), st.integers(1, 255)), min_size=1, max_size=6)),
    st.tuples(st.just("flip-anywhere"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), min_size=1,
                                                  max_size=6)),
    st.tuples(st.just("splice"), st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=16))),
    st.tuples(st.just("replace"), st.binary(max_size=64)),
)


def mutate(data: bytes, mutation) -> bytes:
    kind, arg = mutation
    if kind == "truncate":
        return data[:int(arg * len(data))]
    if kind == "replace":
        return arg
    if kind == "splice":
        i = int(arg[0] * len(data))
        return data[:i] + arg[1] + data[i:]
    out = bytearray(data)
    for where, mask in arg:  # "flip": mostly the header, where the sizes are
        i = min(int(where * len(out)), len(out) - 1)
        out[i] ^= mask
    return bytes(out)


@FUZZ
@given(which=st.sampled_from(["images", "labels"]), mutation=MUTATION, gz=st.sampled_from(["", ".gz"]),
       gz_layer=st.booleans())
def test_a_damaged_idx_file_is_one_line_naming_it(which, mutation, gz, gz_layer):
    folder = Path(tempfile.mkdtemp(prefix="aetui-idx-"))
    try:
        images_path, images, labels = idx_pair(folder, gz=gz, n=12)
        target = images_path if which == "images" else folder / f"train-labels-idx1-ubyte{gz}"
        raw = gzip.decompress(target.read_bytes()) if gz else target.read_bytes()
        # damage the IDX bytes inside the gzip layer, or the gzip file itself
        damaged = gzip.compress(mutate(raw, mutation)) if gz and gz_layer else mutate(target.read_bytes(), mutation) \
            if gz else mutate(raw, mutation)
        target.write_bytes(damaged)
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        try:
            ds = load_dataset(str(images_path))
        except DataError as exc:
            message = str(exc)
            assert "\n" not in message and str(folder) in message
        else:
            assert ds.images.dtype == np.uint8 and ds.images.ndim == 2 and len(ds.labels) == len(ds.images) >= 1
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    finally:
        shutil.rmtree(folder, ignore_errors=True)
