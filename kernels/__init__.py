"""Numba kernels for aetui: no state, no I/O, never imports aetui.

Every module here that imports Numba first imports kernels.numba_setup, which sets Numba up
(cache folder, vector width) before Numba reads its settings; code outside that imports Numba
does the same.
"""
