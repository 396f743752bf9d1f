"""Charts for training curves and evaluation. Pure functions: data in, figure or spec out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# One color scale per kind of quantity, used by every page.
DIVERGING_SCALE = "RdBu_r"  # signed values (weights, activations), centred on zero
SEQUENTIAL_SCALE = "Viridis"  # magnitudes, counts, probabilities, heatmaps
RUN_COLORS = ("#3b6fd4", "#e4572e", "#29a36a", "#9b5de5", "#f2a541", "#00a6a6")


def smooth(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average with bias correction (as TensorBoard's smoothing)."""
    result, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        result.append(average / (1 - weight**i))
    return result


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, revision: str) -> go.Figure:
    fig.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=y_title, height=340,
        margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.25),
        uirevision=revision,  # keeps the user's zoom across live updates
    )  # fmt: skip
    return fig


@dataclass(frozen=True)
class VegaChart:
    """A Vega-Lite chart for ``st.vega_lite_chart(chart.data, chart.spec)``.

    The live training curves use Vega-Lite: Streamlit 1.67 updates such a chart in place
    when only its data changes, while a Plotly chart is remounted (and briefly blank) on
    every update, because its element id hashes the whole figure.
    """

    data: pd.DataFrame
    spec: dict[str, Any]


def _run_colors(names: list[str]) -> dict[str, Any]:
    """Return a color encoding that gives the runs ``RUN_COLORS`` in order."""
    domain = list(dict.fromkeys(names))
    colors = [RUN_COLORS[i % len(RUN_COLORS)] for i in range(len(domain))]
    return {"field": "run", "type": "nominal", "title": None,
            "scale": {"domain": domain, "range": colors}, "legend": {"orient": "top"}}  # fmt: skip


# Line styles (raw/smoothed, train/test) have no legend, so pages explain them in a caption.
_STYLE_LEGEND = None


def _chart_spec(title: str, layers: list[dict], height: int = 340) -> dict[str, Any]:
    return {
        "title": title, "height": height, "layer": layers,
        "config": {"legend": {"labelLimit": 260}},  # longer run labels end in "…"
    }  # fmt: skip


# Drag to pan and scroll to zoom.
_ZOOM = [{"name": "zoom", "select": "interval", "bind": "scales"}]


def loss_chart(
    series: list[tuple[str, list[int], list[float]]],
    labels: dict[str, str],
    smoothing: float = 0.9,
) -> VegaChart:
    """Loss per step: for each (name, steps, losses) the raw curve (faint) and the smoothed one.

    ``labels`` contains the translated texts: title, x, y, raw, smoothed. The data has one row
    per point with columns step, loss, run and curve (the raw or smoothed label).
    """
    frames = []
    for name, steps, losses in series:
        for curve, values in (
            (labels["raw"], losses),
            (labels["smoothed"], smooth(losses, smoothing)),
        ):
            frames.append(
                pd.DataFrame({"step": steps, "loss": values, "run": name, "curve": curve})
            )
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {"step": [], "loss": [], "run": [], "curve": []}
    )  # fmt: skip
    curves = [labels["raw"], labels["smoothed"]]
    line = {
        "mark": {"type": "line", "clip": True},
        "params": _ZOOM,
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": labels["x"],
                  "axis": {"tickMinStep": 1, "format": "d"}},
            "y": {"field": "loss", "type": "quantitative", "title": labels["y"]},
            "color": _run_colors(list(data["run"])),
            "detail": {"field": "curve"},
            "opacity": {"field": "curve", "type": "nominal", "title": None,
                        "scale": {"domain": curves, "range": [0.3, 1.0]}, "legend": _STYLE_LEGEND},
            "strokeWidth": {"field": "curve", "type": "nominal", "title": None,
                            "scale": {"domain": curves, "range": [1.0, 2.5]}, "legend": _STYLE_LEGEND},
            "tooltip": [{"field": "run", "title": labels["title"]}, {"field": "curve", "title": " "},
                        {"field": "step", "title": labels["x"]},
                        {"field": "loss", "title": labels["y"], "format": ".4f"}],
        },
    }  # fmt: skip
    return VegaChart(data, _chart_spec(labels["title"], [line]))


def accuracy_chart(
    series: list[tuple[str, list[int], list[float], list[float]]], labels: dict[str, str]
) -> VegaChart:
    """Accuracy per epoch in %: for each (name, epochs, train_acc, test_acc) two lines.

    ``labels`` contains title, x, y, train and test. Train is dotted, test solid.
    """
    frames = []
    for name, epochs, train_acc, test_acc in series:
        for split, values in ((labels["train"], train_acc), (labels["test"], test_acc)):
            percent = [100 * value for value in values]
            frames.append(pd.DataFrame({"epoch": epochs, "accuracy": percent, "run": name,
                                        "split": split}))  # fmt: skip
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {"epoch": [], "accuracy": [], "run": [], "split": []}
    )  # fmt: skip
    last_epoch = int(data["epoch"].max()) if len(data) else 1  # half an epoch of margin
    line = {
        "mark": {"type": "line", "point": True, "clip": True},
        "params": _ZOOM,
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": labels["x"],
                  "axis": {"tickMinStep": 1, "format": "d"},
                  "scale": {"domain": [0.5, last_epoch + 0.5], "nice": False}},
            "y": {"field": "accuracy", "type": "quantitative", "title": labels["y"],
                  "scale": {"zero": False, "nice": True, "domainMax": 100}},
            "color": _run_colors(list(data["run"])),
            "strokeDash": {"field": "split", "type": "nominal", "title": None,
                           "scale": {"domain": [labels["train"], labels["test"]],
                                     "range": [[2, 3], [1, 0]]}, "legend": _STYLE_LEGEND},
            "tooltip": [{"field": "run", "title": labels["title"]}, {"field": "split", "title": " "},
                        {"field": "epoch", "title": labels["x"]},
                        {"field": "accuracy", "title": labels["y"], "format": ".2f"}],
        },
    }  # fmt: skip
    return VegaChart(data, _chart_spec(labels["title"], [line]))


def lr_figure(x: list[float], rates: list[float], labels: dict[str, str]) -> go.Figure:
    fig = go.Figure(go.Scatter(x=x, y=rates, mode="lines", line=dict(color="#666")))
    fig = _layout(fig, labels["title"], labels["x"], labels["y"], "lr")
    fig.update_layout(height=220)
    return fig


def confusion_figure(
    matrix: np.ndarray, classes: tuple[str, ...], labels: dict[str, str]
) -> go.Figure:
    """Confusion matrix heatmap: rows true class, columns predicted class, counts as text.

    The color follows the square root of the count, so the few mistakes off the diagonal
    stay visible next to the large correct counts on it.
    """
    fig = go.Figure(
        go.Heatmap(
            z=np.sqrt(matrix), x=list(classes), y=list(classes), colorscale=SEQUENTIAL_SCALE,
            text=matrix, texttemplate="%{text}", customdata=matrix,
            hovertemplate=labels["hover"], showscale=False,
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category", title=labels["y"])
    fig.update_xaxes(type="category", title=labels["x"], side="top")
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def bar_probabilities(classes: tuple[str, ...], probabilities: np.ndarray, title: str) -> go.Figure:
    """Horizontal bars of class probabilities (in %), highest first."""
    order = np.argsort(probabilities)
    fig = go.Figure(
        go.Bar(x=100 * probabilities[order], y=[classes[i] for i in order], orientation="h",
               marker=dict(color=probabilities[order], colorscale=SEQUENTIAL_SCALE, cmin=0, cmax=1),
               texttemplate="%{x:.1f} %", textposition="outside")
    )  # fmt: skip
    fig.update_layout(title=title, height=max(240, 26 * len(classes)), xaxis_range=[0, 115],
                      margin=dict(l=10, r=10, t=40, b=10))  # fmt: skip
    fig.update_yaxes(type="category")
    return fig
