"""The training-curve charts: their data, colors and the smoothing they show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cnnlab.plots import RUN_COLORS, accuracy_chart, loss_chart, smooth

LOSS_LABELS = {"title": "Loss", "x": "step", "y": "loss", "raw": "raw", "smoothed": "smoothed"}
ACC_LABELS = {"title": "Accuracy", "x": "epoch", "y": "%", "train": "train", "test": "test"}


def test_smooth_matches_pandas_ewm():
    values = list(np.random.default_rng(0).random(50))
    # A bias-corrected exponential moving average is pandas' adjusted EWM with alpha = 1 - w.
    expected = pd.Series(values).ewm(alpha=0.1, adjust=True).mean()
    np.testing.assert_allclose(smooth(values, 0.9), expected, rtol=1e-12)


def test_loss_chart_data_has_raw_and_smoothed():
    chart = loss_chart([("run A", [1, 2, 3], [2.0, 1.0, 0.5])], LOSS_LABELS)
    raw = chart.data[chart.data["curve"] == "raw"]
    smoothed = chart.data[chart.data["curve"] == "smoothed"]
    assert list(raw["loss"]) == [2.0, 1.0, 0.5]
    np.testing.assert_allclose(smoothed["loss"], smooth([2.0, 1.0, 0.5]))
    assert set(chart.data["run"]) == {"run A"}
    assert chart.spec["title"] == "Loss"


def test_loss_chart_colors_runs_in_order():
    series = [(f"run {i}", [1, 2], [1.0, 0.5]) for i in range(3)]
    color = loss_chart(series, LOSS_LABELS).spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["domain"] == ["run 0", "run 1", "run 2"]
    assert color["scale"]["range"] == list(RUN_COLORS[:3])


def test_accuracy_chart_in_percent():
    chart = accuracy_chart([("run", [1, 2], [0.5, 0.9], [0.4, 0.875])], ACC_LABELS)
    test_rows = chart.data[chart.data["split"] == "test"]
    assert list(test_rows["accuracy"]) == pytest.approx([40.0, 87.5])
    assert list(test_rows["epoch"]) == [1, 2]
    assert len(chart.data) == 4


def test_charts_without_runs_are_empty():
    assert loss_chart([], LOSS_LABELS).data.empty
    assert accuracy_chart([], ACC_LABELS).data.empty
