"""time_column agrees with how the heatmap resamples time."""

import numpy as np
import pytest

from aetui.render.heatmap import resample
from aetui.render.time_column import time_column


@pytest.mark.parametrize("count, width", [(1, 10), (7, 10), (10, 10), (11, 10), (1000, 37), (2001, 80)])
def test_the_column_shows_the_entry(count, width):
    shown = resample(np.arange(count, dtype=np.float64)[None, :], width, axis=1)[0]
    for i in range(count):
        c = time_column(i, count, width)
        assert 0 <= c < width
        if count <= width:  # the column repeats exactly that entry
            assert shown[c] == i and (c == 0 or shown[c - 1] != i)
        else:  # the column's bin holds it: its mean lies within the bin's entries around i
            edges = (np.arange(width + 1) * count) // width
            assert edges[c] <= i < edges[c + 1]


def test_out_of_range_is_clamped():
    assert time_column(-5, 10, 4) == 0 and time_column(99, 10, 4) == 3 and time_column(0, 0, 4) == 0
