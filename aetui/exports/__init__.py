"""Exports of what a run recorded: tables (CSV, Parquet), TensorBoard event files, the strip (units
x stored snapshots), the film (a frame per stored snapshot) and the self-contained HTML report.

A layer of its own above sessions, render and study and below cli: each export reads through
`aetui.open_session` / `aetui.open_study` and loads its library (pyarrow, tensorboardX,
imageio-ffmpeg, matplotlib) only when used; the large ones are optional extras (`aetui[data]`,
`aetui[tensorboard]`, `aetui[film]`).
"""
