"""Plotly figures for the architecture lessons. Pure functions: data in, figure out."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from cnnlab.plots import RUN_COLORS, SEQUENTIAL_SCALE


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = 340) -> go.Figure:
    fig.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=y_title, height=height,
        margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.25),
    )  # fmt: skip
    return fig


def gradient_norm_figure(
    series: Sequence[tuple[str, Sequence[str], Sequence[float]]], labels: dict[str, str]
) -> go.Figure:
    """Gradient norm per weight layer (log scale), one line per network.

    ``series``: (network name, layer names, norms), layers in order from input to output.
    ``labels``: title, x, y.
    """
    fig = go.Figure()
    for index, (name, layers, norms) in enumerate(series):
        fig.add_scatter(
            x=list(range(1, len(norms) + 1)), y=list(norms), mode="lines+markers", name=name,
            text=list(layers), hovertemplate="%{text}<br>%{y:.3g}<extra></extra>",
            line=dict(color=RUN_COLORS[index % len(RUN_COLORS)]),
        )  # fmt: skip
    fig.update_yaxes(type="log")
    return _layout(fig, labels["title"], labels["x"], labels["y"])


def channel_growth_figure(
    layer_names: Sequence[str], channels: Sequence[int], labels: dict[str, str]
) -> go.Figure:
    """Plot the input channels of each layer of a dense block, and the block's output, as bars."""
    fig = go.Figure(
        go.Bar(x=list(layer_names), y=list(channels), text=list(channels),
               marker=dict(color=list(channels), colorscale=SEQUENTIAL_SCALE))
    )  # fmt: skip
    return _layout(fig, labels["title"], labels["x"], labels["y"], height=320)


def cost_scatter_figure(
    names: Sequence[str], flops: Sequence[float], params: Sequence[float], labels: dict[str, str]
) -> go.Figure:
    """Plot one point per model: FLOPs (x) against parameters (y), both in the given units."""
    fig = go.Figure(
        go.Scatter(x=list(flops), y=list(params), mode="markers+text", text=list(names),
                   textposition="top center", marker=dict(size=12, color=RUN_COLORS[0]))
    )  # fmt: skip
    return _layout(fig, labels["title"], labels["x"], labels["y"], height=380)
