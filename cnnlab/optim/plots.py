"""Plotly figures of the optimization lessons. Pure functions: data and translated labels in,
figure out. Color scales come from ``cnnlab.plots``."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnlab.plots import DIVERGING_SCALE, RUN_COLORS, SEQUENTIAL_SCALE, smooth

DASHES = ("solid", "dash", "dot", "dashdot")


def _finish(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=60, b=10),
                      legend=dict(orientation="h", y=-0.2))  # fmt: skip
    return fig


def layer_stats_figure(
    runs: dict[str, list], labels: dict[str, str], fields: tuple[str, str] = ("mean", "std")
) -> go.Figure:
    """Per-layer statistics over training steps, two panels side by side.

    ``runs`` maps a run's name to objects with ``step``, ``layer`` and the two ``fields``
    (e.g. ``LayerStat``). Colors tell layers apart, line styles tell runs apart.
    ``labels``: title, x, and one panel title per field.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=[labels[f] for f in fields])
    layers = sorted({row.layer for rows in runs.values() for row in rows})
    for run_index, (run, rows) in enumerate(runs.items()):
        for layer_index, layer in enumerate(layers):
            points = [row for row in rows if row.layer == layer]
            for col, name in enumerate(fields, start=1):
                fig.add_scatter(
                    x=[p.step for p in points], y=[getattr(p, name) for p in points], mode="lines",
                    name=f"{run} · {layer}", legendgroup=f"{run} · {layer}", showlegend=col == 1,
                    line=dict(color=RUN_COLORS[layer_index % len(RUN_COLORS)],
                              dash=DASHES[run_index % len(DASHES)]),
                    row=1, col=col,
                )  # fmt: skip
    fig.update_xaxes(title_text=labels["x"])
    return _finish(fig, labels["title"], 380)


def lr_range_figure(
    rates: list[float], losses: list[float], smoothed: list[float], marks: dict[str, float],
    labels: dict[str, str],
) -> go.Figure:  # fmt: skip
    """Loss against learning rate on a log axis, raw and smoothed, with vertical marks.

    ``marks`` maps a translated label to a learning rate to mark (the suggestion, min/10).
    """
    fig = go.Figure()
    fig.add_scatter(x=rates, y=losses, mode="lines", name=labels["raw"],
                    line=dict(color=RUN_COLORS[0], width=1), opacity=0.35)  # fmt: skip
    fig.add_scatter(x=rates, y=smoothed, mode="lines", name=labels["smoothed"],
                    line=dict(color=RUN_COLORS[0], width=2.5))  # fmt: skip
    for index, (name, rate) in enumerate(marks.items(), start=1):
        fig.add_vline(x=rate, line=dict(color=RUN_COLORS[index], dash="dash"))
        fig.add_scatter(x=[rate], y=[float(np.interp(np.log(rate), np.log(rates), smoothed))],
                        mode="markers", marker=dict(color=RUN_COLORS[index], size=11),
                        name=f"{name}: {rate:.2g}")  # fmt: skip
    fig.update_xaxes(type="log", title_text=labels["x"])
    fig.update_yaxes(title_text=labels["y"])
    return _finish(fig, labels["title"])


def schedules_figure(curves: dict[str, list[float]], labels: dict[str, str]) -> go.Figure:
    """Designed learning rate per step, one line per schedule (``curves``: name -> rates)."""
    fig = go.Figure()
    for index, (name, rates) in enumerate(curves.items()):
        fig.add_scatter(x=list(range(1, len(rates) + 1)), y=rates, mode="lines", name=name,
                        line=dict(color=RUN_COLORS[index % len(RUN_COLORS)], width=2))  # fmt: skip
    fig.update_xaxes(title_text=labels["x"])
    fig.update_yaxes(title_text=labels["y"])
    return _finish(fig, labels["title"])


def loss_and_lr_figure(
    runs: dict[str, tuple[list[int], list[float], list[float]]],
    designed: dict[str, list[float]],
    labels: dict[str, str],
) -> go.Figure:
    """Loss (top) and the learning rate actually used (bottom) per step, sharing the x-axis.

    ``runs``: name -> (steps, losses, logged rates). ``designed``: name -> the designed rate
    per step, drawn dotted under the logged one so any mismatch would show.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38],
                        vertical_spacing=0.06)  # fmt: skip
    for index, (name, (steps, losses, rates)) in enumerate(runs.items()):
        color = RUN_COLORS[index % len(RUN_COLORS)]
        fig.add_scatter(x=steps, y=smooth(losses, 0.9), mode="lines", name=name, legendgroup=name,
                        line=dict(color=color, width=2), row=1, col=1)  # fmt: skip
        fig.add_scatter(x=steps, y=rates, mode="lines", name=f"{name} · {labels['logged']}",
                        legendgroup=name, showlegend=False, line=dict(color=color, width=3),
                        opacity=0.5, row=2, col=1)  # fmt: skip
        if name in designed:
            planned = designed[name]
            fig.add_scatter(x=list(range(1, len(planned) + 1)), y=planned, mode="lines",
                            name=f"{name} · {labels['designed']}", legendgroup=name,
                            showlegend=False, line=dict(color="#222", width=1, dash="dot"),
                            row=2, col=1)  # fmt: skip
    fig.update_yaxes(title_text=labels["loss"], row=1, col=1)
    fig.update_yaxes(title_text=labels["lr"], row=2, col=1)
    fig.update_xaxes(title_text=labels["x"], row=2, col=1)
    return _finish(fig, labels["title"], 520)


def layer_heatmap(
    values: np.ndarray, layers: list[str], schemes: list[str], title: str, colorbar: str,
    log_scale: bool = True,
) -> go.Figure:  # fmt: skip
    """Heatmap of one statistic: rows are schemes, columns layers (``values`` (S, L) >= 0).

    With ``log_scale`` the color is log10 of the value (zeros shown as 1e-12), so values
    spanning many orders of magnitude stay readable. The text shows the raw value.
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    shown = np.log10(np.maximum(values, 1e-12)) if log_scale else values.copy()
    shown[~finite] = np.nan  # overflowed activations (inf or NaN) stay blank, labelled below
    fig = go.Figure(go.Heatmap(
        z=shown, x=layers, y=schemes, colorscale=SEQUENTIAL_SCALE, customdata=values,
        hovertemplate="%{y} · %{x}: %{customdata:.3g}<extra></extra>",
        colorbar=dict(title=colorbar), text=[[f"{v:.2g}" for v in row] for row in values],
        texttemplate="%{text}",
    ))  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return _finish(fig, title, 120 + 40 * len(schemes))


def histogram_figure(
    series: dict[str, np.ndarray], labels: dict[str, str], bins: int = 60
) -> go.Figure:
    """Overlaid histograms (probability density) of several value arrays."""
    fig = go.Figure()
    for index, (name, values) in enumerate(series.items()):
        fig.add_histogram(x=values, nbinsx=bins, name=name, opacity=0.6, histnorm="probability density",
                          marker=dict(color=RUN_COLORS[index % len(RUN_COLORS)]))  # fmt: skip
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text=labels["x"])
    fig.update_yaxes(title_text=labels["y"])
    return _finish(fig, labels["title"], 320)


def norm_axes_figure(groups: np.ndarray, labels: dict[str, str]) -> go.Figure:
    """Which (sample, channel) cells share one mean and std: ``groups`` (N, C) of group ids.

    Cells with the same id (and color) are normalized together; each cell stands for all
    H × W positions of that channel in that sample.
    """
    n, c = groups.shape
    fig = go.Figure(go.Heatmap(
        z=groups, x=[f"c{j}" for j in range(c)], y=[f"n{i}" for i in range(n)],
        colorscale=SEQUENTIAL_SCALE, showscale=False, text=groups, texttemplate="%{text}",
        hovertemplate=labels["hover"] + "<extra></extra>", xgap=2, ygap=2,
    ))  # fmt: skip
    fig.update_yaxes(autorange="reversed", title_text=labels["y"])
    fig.update_xaxes(title_text=labels["x"])
    fig.update_layout(
        title=labels["title"], height=130 + 34 * n, margin=dict(l=10, r=10, t=50, b=10)
    )
    return fig


def signed_heatmap(values: np.ndarray, title: str) -> go.Figure:
    """A zero-centred diverging heatmap of a 2-D array of filters side by side (NaN gaps)."""
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    limit = limit or 1.0  # all zeros: any symmetric range shows them as the centre color
    fig = go.Figure(go.Heatmap(z=values, colorscale=DIVERGING_SCALE, zmin=-limit, zmax=limit))
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    return _finish(fig, title, 300)


def accuracy_bars(runs: list[tuple[str, float, float]], labels: dict[str, str]) -> go.Figure:
    """Grouped bars of train and test accuracy (in %) per run: ``runs`` of (name, train, test)."""
    names = [name for name, _, _ in runs]
    fig = go.Figure()
    fig.add_bar(x=names, y=[100 * train for _, train, _ in runs], name=labels["train"],
                marker=dict(color=RUN_COLORS[0]), texttemplate="%{y:.1f}")  # fmt: skip
    fig.add_bar(x=names, y=[100 * test for _, _, test in runs], name=labels["test"],
                marker=dict(color=RUN_COLORS[1]), texttemplate="%{y:.1f}")  # fmt: skip
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text=labels["y"], range=[0, 105])
    return _finish(fig, labels["title"], 380)
