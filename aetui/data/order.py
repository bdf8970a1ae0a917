"""The order in which samples are visited: a pure function of (labels, batch, seed, epoch)."""

from __future__ import annotations

import numpy as np


def epoch_order(labels: np.ndarray, batch: int, seed: int, epoch: int, balanced: bool) -> np.ndarray:
    """Sample indices for one epoch, int64, length (N // batch) * batch (the last partial batch is dropped).

    Shuffled: a fresh permutation per epoch. Balanced: each class shuffled, then interleaved
    round-robin, so every batch holds the classes in equal counts (within one) as in the study.
    """
    rng = np.random.default_rng([seed, 1, epoch])
    n = labels.shape[0]
    usable = (n // batch) * batch
    if not balanced:
        return rng.permutation(n)[:usable].astype(np.int64)
    return classes_in_turn(labels, rng)[:usable].astype(np.int64)


def classes_in_turn(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """All indices, each class shuffled, then the classes taken in turn (in a shuffled class
    order), so every prefix holds the classes in equal counts (within one)."""
    classes = np.unique(labels)
    per_class = [rng.permutation(np.flatnonzero(labels == k)) for k in classes]
    # Round-robin: position p of class k goes to slot p * n_classes + rank of k in a shuffled
    # class order, so early batches are balanced; unequal class sizes fill in at the end.
    order_of_classes = rng.permutation(len(classes))
    keys = np.concatenate([np.arange(len(idx)) * len(classes) + order_of_classes[i] for i, idx in enumerate(per_class)])
    return np.concatenate(per_class)[np.argsort(keys, kind="stable")]
