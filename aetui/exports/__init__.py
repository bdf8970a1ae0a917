"""Exports of what a run recorded: tables (CSV, Parquet) and TensorBoard event files.

A layer of its own above sessions, render and study and below cli: each export reads through
`aetui.open_session` / `aetui.open_study` and loads its library (pyarrow, tensorboardX) only
when used; those are optional extras (`aetui[data]`, `aetui[tensorboard]`).
"""
