"""Plotly figures for training curves and evaluation. Pure functions: data in, figure out."""

from __future__ import annotations

import numpy as np
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


def loss_figure(
    series: list[tuple[str, list[float], list[float]]],
    labels: dict[str, str],
    smoothing: float = 0.9,
) -> go.Figure:
    """Loss per step: for each (name, epochs, losses) the raw curve (faint) and smoothed.

    ``labels`` holds the translated texts: title, x, y, raw, smoothed.
    """
    fig = go.Figure()
    for index, (name, x, losses) in enumerate(series):
        color = RUN_COLORS[index % len(RUN_COLORS)]
        fig.add_scatter(x=x, y=losses, mode="lines", name=f"{name} · {labels['raw']}",
                        line=dict(color=color, width=1), opacity=0.3)  # fmt: skip
        fig.add_scatter(x=x, y=smooth(losses, smoothing), mode="lines",
                        name=f"{name} · {labels['smoothed']}", line=dict(color=color, width=2.5))  # fmt: skip
    return _layout(fig, labels["title"], labels["x"], labels["y"], "loss")


def accuracy_figure(
    series: list[tuple[str, list[int], list[float], list[float]]], labels: dict[str, str]
) -> go.Figure:
    """Accuracy per epoch: for each (name, epochs, train_acc, test_acc), two lines in %."""
    fig = go.Figure()
    for index, (name, epochs, train_acc, test_acc) in enumerate(series):
        color = RUN_COLORS[index % len(RUN_COLORS)]
        fig.add_scatter(x=epochs, y=[100 * a for a in train_acc], mode="lines+markers",
                        name=f"{name} · {labels['train']}", line=dict(color=color, dash="dot"))  # fmt: skip
        fig.add_scatter(x=epochs, y=[100 * a for a in test_acc], mode="lines+markers",
                        name=f"{name} · {labels['test']}", line=dict(color=color))  # fmt: skip
    fig.update_xaxes(dtick=1, rangemode="nonnegative")
    fig.update_yaxes(range=[0, 100.5])
    return _layout(fig, labels["title"], labels["x"], labels["y"], "accuracy")


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
