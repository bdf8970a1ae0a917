"""The data layer: built-in and IDX data sets as uint8 image matrices with labels."""

from aetui.data.bars import bar_patterns
from aetui.data.catalog import DATASET_NAMES, load_dataset
from aetui.data.dataset import Dataset, split_heldout

__all__ = ["DATASET_NAMES", "Dataset", "bar_patterns", "load_dataset", "split_heldout"]
