"""Plotly figures for the neural-net basics lessons.

Pure functions: arrays and translated labels in, figure out. Probabilities and magnitudes use
the sequential scale, signed values the diverging one (both from ``cnnlab.plots``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from cnnlab.plots import DIVERGING_SCALE, RUN_COLORS, SEQUENTIAL_SCALE

SATURATION_FILL = "rgba(228, 87, 46, 0.15)"
CLASS_COLORS = ("#3b6fd4", "#e4572e")  # class 0, class 1 (points on the decision map)
FUNCTION_COLOR, DERIVATIVE_COLOR = RUN_COLORS[0], RUN_COLORS[1]
BAR_COLOR = sample_colorscale(SEQUENTIAL_SCALE, [0.35])[0]
LOG_FLOOR = 1e-30  # gradient norms of exactly 0 are drawn at this value on log axes


def _finish(fig: go.Figure, title: str, height: int = 340) -> go.Figure:
    fig.update_layout(
        title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", y=-0.3),
    )  # fmt: skip
    return fig


def function_figure(
    x: np.ndarray,
    values: np.ndarray,
    grads: np.ndarray,
    saturated: Sequence[tuple[float, float]],
    labels: dict[str, str],
) -> go.Figure:
    """Plot f(x) and f'(x) over ``x`` (N,), shading the saturated x-intervals.

    ``labels``: title, x, f, df, saturated (legend of the shading).
    """
    fig = go.Figure()
    for start, end in saturated:
        fig.add_vrect(x0=start, x1=end, fillcolor=SATURATION_FILL, line_width=0, layer="below")
    if saturated:
        # A legend entry for the shading (vrects have none of their own).
        fig.add_scatter(
            x=[None], y=[None], mode="markers", name=labels["saturated"],
            marker=dict(size=12, symbol="square", color=SATURATION_FILL),
        )  # fmt: skip
    fig.add_scatter(x=x, y=values, name=labels["f"], line=dict(color=FUNCTION_COLOR, width=3))
    fig.add_scatter(
        x=x, y=grads, name=labels["df"], line=dict(color=DERIVATIVE_COLOR, width=2, dash="dash")
    )
    fig.update_xaxes(title=labels["x"], zeroline=True)
    fig.update_yaxes(zeroline=True)
    return _finish(fig, labels["title"], height=380)


def histogram_figure(values: np.ndarray, title: str, x_title: str, color: str) -> go.Figure:
    """Histogram of ``values`` (N,) with 60 bins, y as share of samples."""
    fig = go.Figure(go.Histogram(x=values, nbinsx=60, histnorm="probability", marker_color=color))
    fig.update_xaxes(title=x_title)
    return _finish(fig, title, height=280)


def bar_figure(
    categories: Sequence[str],
    values: np.ndarray,
    title: str,
    y_title: str,
    y_range: tuple[float, float] | None = None,
    text_format: str = ".3f",
) -> go.Figure:
    """Vertical bars with their values printed on top (probabilities, rates).

    With more than 12 bars the printed values would overlap, so they are left to the hover.
    """
    labelled = len(categories) <= 12
    fig = go.Figure(
        go.Bar(
            x=list(categories), y=values, marker_color=BAR_COLOR,
            texttemplate=f"%{{y:{text_format}}}" if labelled else None,
            textposition="outside" if labelled else None,
            hovertemplate=f"%{{x}}: %{{y:{text_format}}}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(type="category")
    fig.update_yaxes(title=y_title, range=y_range)
    return _finish(fig, title, height=300)


def grouped_bar_figure(
    categories: Sequence[str], series: dict[str, np.ndarray], title: str, y_title: str
) -> go.Figure:
    """Side-by-side bars, one group per category and one color per series."""
    fig = go.Figure()
    for index, (name, values) in enumerate(series.items()):
        fig.add_bar(
            x=list(categories), y=values, name=name, marker_color=RUN_COLORS[index],
            texttemplate="%{y:.3f}", textposition="outside",
        )  # fmt: skip
    fig.update_xaxes(type="category")
    fig.update_yaxes(title=y_title, range=[0, 1.15])
    return _finish(fig, title, height=300)


def curves_figure(
    x: np.ndarray,
    curves: dict[str, np.ndarray],
    labels: dict[str, str],
    marker_x: float | None = None,
    log_y: bool = False,
    dashed: set[str] | frozenset[str] = frozenset(),
) -> go.Figure:
    """Lines sharing one x axis; an optional dotted vertical line marks ``marker_x``.

    ``labels``: title, x, y. Curves named in ``dashed`` (limits, thresholds) are drawn dashed.
    """
    fig = go.Figure()
    for index, (name, values) in enumerate(curves.items()):
        line = dict(color=RUN_COLORS[index], dash="dash" if name in dashed else "solid")
        fig.add_scatter(x=x, y=values, name=name, mode="lines", line=line)
    if marker_x is not None:
        fig.add_vline(x=marker_x, line=dict(color="#666", dash="dot"))
    fig.update_xaxes(title=labels["x"])
    fig.update_yaxes(title=labels["y"], type="log" if log_y else "linear")
    return _finish(fig, labels["title"])


def decision_figure(
    axis: np.ndarray,
    probs: np.ndarray,
    points: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    labels: dict[str, str],
) -> go.Figure:
    """Decision map: P(class 1) over the grid, the 0.5 contour, and the data points.

    ``axis`` (R,) is the grid's x and y coordinates, ``probs`` (R, R) has rows along y.
    ``points`` is (x_train (N, 2), y_train (N,), x_test (M, 2), y_test (M,)) as NumPy.
    ``labels``: title, prob, train, test, class0, class1.
    """
    fig = go.Figure(
        go.Heatmap(
            x=axis, y=axis, z=probs, zmin=0, zmax=1, colorscale=SEQUENTIAL_SCALE, opacity=0.85,
            colorbar=dict(title=labels["prob"], len=0.8), hoverinfo="skip", showlegend=False,
        )
    )  # fmt: skip
    fig.add_contour(
        x=axis, y=axis, z=probs, contours=dict(start=0.5, end=0.5, coloring="none"),
        line=dict(color="white", width=3), showscale=False, hoverinfo="skip", showlegend=False,
    )  # fmt: skip
    x_train, y_train, x_test, y_test = points
    # Training points have a white outline, test points are diamonds with a dark outline.
    for split, xs, ys, symbol, outline in (
        ("train", x_train, y_train, "circle", "white"), ("test", x_test, y_test, "diamond", "#222222")
    ):  # fmt: skip
        for label in (0, 1):
            chosen = xs[ys == label]
            fig.add_scatter(
                x=chosen[:, 0], y=chosen[:, 1], mode="markers",
                name=f"{labels[split]} · {labels[f'class{label}']}",
                marker=dict(
                    color=CLASS_COLORS[label], symbol=symbol, size=7,
                    line=dict(color=outline, width=1),
                ),
            )  # fmt: skip
    limit = float(abs(axis).max())
    fig.update_xaxes(range=[-limit, limit], constrain="domain", showgrid=False)
    fig.update_yaxes(range=[-limit, limit], scaleanchor="x", showgrid=False)
    fig.update_layout(uirevision="decision")
    return _finish(fig, labels["title"], height=480)


def layer_heatmap(
    values: np.ndarray, labels: dict[str, str], log10: bool = True, signed: bool = False
) -> go.Figure:
    """Heatmap of a (steps, layers) array: layer on the y axis (input at the bottom), step on x.

    ``log10`` draws log10 of the values (zeros at ``LOG_FLOOR``); ``signed`` uses the
    diverging scale centred on zero. ``labels``: title, x, y, value.
    """
    z = values.T  # (steps, layers) -> (layers, steps)
    if log10:
        z = np.log10(np.maximum(np.nan_to_num(z, nan=LOG_FLOOR, posinf=1e38), LOG_FLOOR))
    scale = (
        dict(colorscale=DIVERGING_SCALE, zmid=0) if signed else dict(colorscale=SEQUENTIAL_SCALE)
    )
    fig = go.Figure(
        go.Heatmap(
            z=z, x=np.arange(values.shape[0]), y=np.arange(1, values.shape[1] + 1),
            colorbar=dict(title=labels["value"]), **scale,
        )
    )  # fmt: skip
    fig.update_xaxes(title=labels["x"])
    fig.update_yaxes(title=labels["y"])
    return _finish(fig, labels["title"], height=360)


def layer_profile(
    series: dict[str, np.ndarray], labels: dict[str, str], log_y: bool = True
) -> go.Figure:
    """Plot one line per series over the layer index (1 = the input side), with markers."""
    fig = go.Figure()
    for index, (name, values) in enumerate(series.items()):
        plotted = np.maximum(values, LOG_FLOOR) if log_y else values
        fig.add_scatter(
            x=np.arange(1, len(values) + 1), y=plotted, name=name, mode="lines+markers",
            line=dict(color=RUN_COLORS[index % len(RUN_COLORS)]),
        )  # fmt: skip
    fig.update_xaxes(title=labels["x"], dtick=max(1, len(next(iter(series.values()))) // 10))
    fig.update_yaxes(title=labels["y"], type="log" if log_y else "linear", exponentformat="power")
    return _finish(fig, labels["title"])
