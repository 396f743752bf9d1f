"""Color-spaces page, part 1: the channel views, their histograms and formulas, and the
pixel inspector. The math lives in ``cnnlab.colorspaces``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from cnnlab import colorspaces
from cnnlab.imageio import fit_within
from ui.lang import t

DISPLAY_SIDE = 512  # longer side of the pictures sent to the browser; the math uses full size

# Bar colors of the histograms: RGB channels in their own colors, hue bars in their hue.
_BAR_COLORS = {"R": "#d62728", "G": "#2ca02c", "B": "#1f77b4"}
_NEUTRAL_BAR = "#555555"


def space_label(space: str) -> str:
    """Return the display name of a color space ("Gray" is translated, the rest are symbols)."""
    return t(f"color.space_name.{space}")


def space_picker() -> str:
    """Return the chosen color space id (a key of ``colorspaces.SPACES``)."""
    return st.segmented_control(
        t("color.space"),
        options=list(colorspaces.SPACES),
        format_func=space_label,
        default="hsv",
        required=True,
        key="color_space",
    )


def render_channels(rgb: np.ndarray, space: str) -> None:
    """Draw each channel of ``space`` as an image with its range, then the histograms."""
    spec = colorspaces.SPACES[space]
    converted = colorspaces.convert(rgb, space)  # (H, W, C) uint8
    columns = st.columns(3)
    for index, channel in enumerate(spec.channels):
        values = converted[:, :, index]
        with columns[index]:
            picture = colorspaces.colorize(fit_within(values, DISPLAY_SIDE), channel.kind)
            st.image(picture, width="stretch")
            st.caption(
                t(
                    "color.channel_caption",
                    symbol=channel.symbol,
                    name=t(f"color.ch.{space}.{channel.symbol.lower()}"),
                    high=channel.high,
                    low_seen=int(values.min()),
                    high_seen=int(values.max()),
                )
            )
            st.caption(t(f"color.cmap.{channel.kind}"))

    st.plotly_chart(
        histogram_figure(converted, space), width="stretch", key=f"color_histogram_{space}"
    )
    with st.expander(t("color.formula_title", space=space_label(space))):
        st.latex(t(f"color.formula.{space}.latex"))
        st.markdown(t(f"color.formula.{space}.text"))


def histogram_figure(converted: np.ndarray, space: str) -> go.Figure:
    """Bar chart of every channel's value counts, one panel per channel."""
    spec = colorspaces.SPACES[space]
    figure = make_subplots(
        rows=1,
        cols=len(spec.channels),
        subplot_titles=[channel.symbol for channel in spec.channels],
    )
    for index, channel in enumerate(spec.channels):
        counts = colorspaces.histogram(converted[:, :, index], channel.high)
        values = np.arange(channel.high + 1)
        if channel.kind == "hue":
            hue_colors = colorspaces.colorize(values.astype(np.uint8)[None], "hue")[0]
            colors = [f"rgb({r},{g},{b})" for r, g, b in hue_colors]
        else:
            colors = (
                _BAR_COLORS.get(channel.symbol, _NEUTRAL_BAR) if space == "rgb" else _NEUTRAL_BAR
            )
        figure.add_bar(
            x=values, y=counts, marker_color=colors, marker_line_width=0, row=1, col=index + 1
        )
        figure.update_xaxes(
            title_text=t("color.histogram_x"), range=[-1, channel.high + 1], row=1, col=index + 1
        )
    figure.update_yaxes(title_text=t("color.histogram_y"), row=1, col=1)
    figure.update_layout(
        title=t("color.histogram_title", space=space_label(space)),
        height=300,
        bargap=0,
        showlegend=False,
        margin=dict(l=10, r=10, t=60, b=10),
    )
    return figure


def pixel_picker(rgb: np.ndarray) -> tuple[int, int]:
    """Return the (x, y) pixel chosen with two number inputs, kept inside the image."""
    height, width = rgb.shape[:2]
    # A new, smaller image can leave an old choice outside it: clamp before drawing.
    for key, limit in (("color_x", width - 1), ("color_y", height - 1)):
        if key in st.session_state and st.session_state[key] > limit:
            st.session_state[key] = limit
    left, right = st.columns(2)
    x = left.number_input(t("color.x"), 0, width - 1, width // 2, step=1, key="color_x")
    y = right.number_input(t("color.y"), 0, height - 1, height // 2, step=1, key="color_y")
    return int(x), int(y)


def render_inspector(rgb: np.ndarray, x: int, y: int) -> None:
    """Show the marked image, the pixel's color and its values in every space."""
    picture, table = st.columns([2, 3])
    with picture:
        marked = colorspaces.mark_pixel(rgb, x, y)
        st.image(fit_within(marked, DISPLAY_SIDE), width="stretch")
        red, green, blue = (int(value) for value in rgb[y, x])
        st.caption(t("color.picked", x=x, y=y, r=red, g=green, b=blue))
        swatch = np.zeros((32, 160, 3), dtype=np.uint8)
        swatch[:] = rgb[y, x]
        st.image(swatch)

    rows = colorspaces.pixel_values(rgb, x, y)
    frame = pd.DataFrame(
        {
            t("color.col_space"): [space_label(row["space"]) for row in rows],
            t("color.col_channel"): [row["channel"] for row in rows],
            t("color.col_uint8"): [row["uint8"] for row in rows],
            t("color.col_float"): [round(row["float"], 3) for row in rows],
        }
    )
    table.dataframe(
        frame, hide_index=True, width="stretch", height="content", key="color_pixel_table"
    )
