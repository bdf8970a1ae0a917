"""Numba kernels for aetui: no state, no I/O, never imports aetui."""
