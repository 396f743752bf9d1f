"""Plotly figures for the convolution, pooling and receptive-field lessons.

Pure functions: arrays and translated labels in, figure out. Grids are drawn with row 0 at
the top, like an image, and the cells under a window get an outline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from cnnlab.plots import DIVERGING_SCALE, SEQUENTIAL_SCALE

WINDOW_COLOR = "#e4572e"
INPUT_EDGE_COLOR = "#3b6fd4"
GRAY_SCALE = [[0.0, "black"], [1.0, "white"]]  # pixel intensities are drawn as an image
BAR_COLOR = sample_colorscale(SEQUENTIAL_SCALE, [0.35])[0]


def _cell_text(values: np.ndarray, decimals: int, blank: str = "") -> list[list[str]]:
    return [
        [blank if np.isnan(v) else f"{v + 0.0:.{decimals}f}" for v in row]
        for row in np.asarray(values, float)
    ]


def _outline_cells(fig: go.Figure, rows: Sequence[int], cols: Sequence[int], **subplot) -> None:
    for row in rows:
        for col in cols:
            fig.add_shape(
                type="rect", x0=col - 0.5, x1=col + 0.5, y0=row - 0.5, y1=row + 0.5,
                line=dict(color=WINDOW_COLOR, width=3), **subplot,
            )  # fmt: skip


def _square_axes(fig: go.Figure, height: int) -> go.Figure:
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showgrid=False)
    fig.update_xaxes(side="top", constrain="domain", showgrid=False)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=10))
    return fig


def input_grid_figure(
    padded: np.ndarray,
    padding: int,
    window_rows: Sequence[int],
    window_cols: Sequence[int],
    title: str,
    value_range: tuple[float, float] = (0.0, 255.0),
    decimals: int = 0,
) -> go.Figure:
    """Draw a padded 2-D input as a gray grid with its values and the window's cells outlined.

    ``padded`` is (H + 2p, W + 2p); NaN cells (padding that has no value) stay blank. Axis
    ticks count input pixels, so padding cells have negative indices or indices ≥ H / W.
    A blue frame marks the real input inside the padding.
    """
    height, width = padded.shape
    ticks_y = list(range(-padding, height - padding))
    ticks_x = list(range(-padding, width - padding))
    fig = go.Figure(
        go.Heatmap(
            z=padded, text=_cell_text(padded, decimals), texttemplate="%{text}",
            colorscale=GRAY_SCALE, zmin=value_range[0], zmax=value_range[1], showscale=False,
            hoverinfo="skip", x=list(range(width)), y=list(range(height)),
        )
    )  # fmt: skip
    if padding:
        fig.add_shape(
            type="rect", x0=padding - 0.5, x1=width - padding - 0.5, y0=padding - 0.5,
            y1=height - padding - 0.5, line=dict(color=INPUT_EDGE_COLOR, width=2, dash="dash"),
        )  # fmt: skip
    _outline_cells(fig, window_rows, window_cols)
    fig.update_xaxes(tickvals=list(range(width)), ticktext=ticks_x)
    fig.update_yaxes(tickvals=list(range(height)), ticktext=ticks_y)
    fig.update_layout(title=title)
    return _square_axes(fig, height=min(640, 120 + 30 * height))


def signed_grid_figure(
    values: np.ndarray,
    title: str,
    decimals: int = 2,
    height: int = 300,
    highlight: tuple[int, int] | None = None,
) -> go.Figure:
    """Draw a small signed 2-D array (a kernel, products, an output) on the diverging scale.

    Zero is white and the range is ±max|value|. ``highlight`` = (row, col) outlines one cell.
    """
    values = np.asarray(values, dtype=np.float64)
    limit = float(np.nanmax(np.abs(values))) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=values, text=_cell_text(values, decimals), texttemplate="%{text}",
            colorscale=DIVERGING_SCALE, zmin=-limit, zmax=limit, showscale=False, hoverinfo="skip",
        )
    )  # fmt: skip
    if highlight is not None:
        _outline_cells(fig, [highlight[0]], [highlight[1]])
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(title=title)
    return _square_axes(fig, height=height)


def signed_image_figure(values: np.ndarray, title: str, colorbar_title: str) -> go.Figure:
    """Draw a signed 2-D result as an image on the diverging scale, zero white, range ±max|value|."""
    limit = float(np.abs(values).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=values, colorscale=DIVERGING_SCALE, zmin=-limit, zmax=limit,
            colorbar=dict(title=colorbar_title), hovertemplate="(%{y}, %{x}): %{z:.3f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(title=title)
    return _square_axes(fig, height=420)


def crop_preview_figure(gray: np.ndarray, top: int, left: int, size: int, title: str) -> go.Figure:
    """Draw a uint8 gray image (H, W) with the square crop at (top, left) outlined."""
    fig = go.Figure(go.Heatmap(z=gray, colorscale=GRAY_SCALE, zmin=0, zmax=255, showscale=False))
    fig.add_shape(
        type="rect", x0=left - 0.5, x1=left + size - 0.5, y0=top - 0.5, y1=top + size - 0.5,
        line=dict(color=WINDOW_COLOR, width=3),
    )  # fmt: skip
    fig.update_layout(title=title)
    return _square_axes(fig, height=300)


def kernel_gallery_figure(
    kernels: Sequence[np.ndarray], titles: Sequence[str], columns: int = 6
) -> go.Figure:
    """Draw 2-D kernels as small diverging heatmaps, each scaled to its own ±max|weight|.

    Titles may contain ``<br>`` for a second line.
    """
    rows = max(1, -(-len(kernels) // columns))
    height = 70 + 170 * rows
    fig = make_subplots(
        rows=rows, cols=columns, subplot_titles=list(titles),
        horizontal_spacing=0.02, vertical_spacing=50 / height,  # 50 px for two-line titles
    )  # fmt: skip
    for index, kernel in enumerate(kernels):
        limit = float(np.abs(kernel).max()) or 1.0
        fig.add_trace(
            go.Heatmap(
                z=kernel, colorscale=DIVERGING_SCALE, zmin=-limit, zmax=limit, showscale=False,
                hovertemplate="%{z:.3f}<extra></extra>",
            ),
            row=index // columns + 1, col=index % columns + 1,
        )  # fmt: skip
    fig.update_xaxes(showticklabels=False, showgrid=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, autorange="reversed")
    fig.update_annotations(font_size=11)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=50, b=10))
    return fig


def receptive_field_figure(
    layer_names: Sequence[str], sizes: Sequence[int], jumps: Sequence[int], labels: dict[str, str]
) -> go.Figure:
    """Plot the receptive-field size (bars) and jump (line) after each layer.

    ``labels`` contains the translated texts: title, x, size, jump.
    """
    fig = go.Figure()
    fig.add_bar(x=list(layer_names), y=list(sizes), name=labels["size"], text=list(sizes),
                marker_color=BAR_COLOR)  # fmt: skip
    fig.add_scatter(x=list(layer_names), y=list(jumps), name=labels["jump"], mode="lines+markers",
                    line=dict(color=WINDOW_COLOR))  # fmt: skip
    fig.update_layout(
        title=labels["title"], xaxis_title=labels["x"], height=340,
        margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.25),
    )  # fmt: skip
    return fig
