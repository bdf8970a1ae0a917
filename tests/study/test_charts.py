"""The charts with axes, drawn with matplotlib: lines where pictures.Axes says, SVG that stands alone."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from aetui.study.pictures import SEGMENT_RGB, bias_axes, bias_chart, bias_chart_size, loss_chart


def test_the_bias_chart_marks_a_segment_start_on_its_column():
    samples = np.arange(0, 5_001, 250, dtype=float)
    bias = np.outer(np.linspace(-1, 1, 12), np.ones(samples.size)).astype(np.float32)
    img = bias_chart(bias, samples, ((0, "sigmoid"), (3_000, "relu x0.1")))
    assert img.size == bias_chart_size(12)
    ax = bias_axes(bias, samples)
    px = np.asarray(img)
    col = ax.x(3_000)
    assert (px[ax.top + 2:ax.bottom - 2, col] == SEGMENT_RGB).all(axis=1).mean() > 0.9
    assert not (px[ax.top + 2:ax.bottom - 2, ax.x(1_500)] == SEGMENT_RGB).all(axis=1).any()


def test_svg_charts_stand_alone():
    samples = np.arange(0, 5_001, 250, dtype=float)
    loss = np.linspace(0.5, 0.1, samples.size)
    for svg in (loss_chart(samples, loss, loss * 0.9, ((0, "sigmoid"),), svg=True),
                bias_chart(np.ones((3, samples.size)), samples, svg=True)):
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        text = svg.decode()
        assert 'href="http' not in text and "<script" not in text and "url(http" not in text
    assert "data:image/png;base64," in svg.decode()  # the bias picture is embedded
