"""Which column of a units x time heatmap shows time index i (as `heatmap.resample` lays time out)."""

from __future__ import annotations

__all__ = ["time_column"]


def time_column(index: int, count: int, width: int) -> int:
    """The column (0 .. width-1) that draws entry `index` of `count` time entries resampled to
    `width` columns: the bin holding it when shrinking, the first column repeating it when growing."""
    if count <= 0 or width <= 0:
        return 0
    index = min(max(int(index), 0), count - 1)
    if count >= width:  # bins start at (c * count) // width
        lo, hi = 0, width - 1
        while lo < hi:  # the last column whose bin starts at or before index
            mid = (lo + hi + 1) // 2
            if (mid * count) // width <= index:
                lo = mid
            else:
                hi = mid - 1
        return lo
    return -(-index * width // count)  # the first c with (c * count) // width == index
