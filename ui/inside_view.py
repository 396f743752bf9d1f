"""Drawing helpers for the "Inside the network" page: feature-map grids and filters."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from cnnlab.inspection import (
    diverging_rgb,
    filter_images,
    order_by_activity,
    scale_unsigned,
    tile,
    upscale,
)
from ui.lang import t

GRID_COLUMNS = 8


def feature_map_grid(name: str, maps: torch.Tensor, max_maps: int, per_map: bool) -> None:
    """Draw one layer's feature maps (C, H, W) as one composed image, most active first."""
    order = order_by_activity(maps)[:max_maps]
    chosen = maps[order].numpy()
    height = chosen.shape[1]
    factor = max(1, 56 // height)  # enlarge small maps so each pixel stays visible
    if chosen.min() < 0:
        colored, limit = diverging_rgb(chosen)
        images = np.stack([upscale(m, factor) for m in colored])
        range_text = t("inside.range_signed", limit=f"{limit:.3g}")
    else:
        scaled, (lo, hi) = scale_unsigned(chosen, per_map)
        images = np.stack([upscale(m, factor) for m in scaled])
        range_text = t("inside.range_per_map" if per_map else "inside.range_shared",
                       lo=f"{lo:.3g}", hi=f"{hi:.3g}")  # fmt: skip
    st.markdown(t("inside.layer_heading", name=name, channels=maps.shape[0], height=maps.shape[1],
                  width=maps.shape[2], shown=len(order)))  # fmt: skip
    st.image(tile(images, min(GRID_COLUMNS, len(order)), gap=2), clamp=True)
    st.caption(range_text + " " + t("inside.order_note"))


def filter_grid(weight: torch.Tensor) -> None:
    """Draw the first conv layer's filters, enlarged."""
    images, limit = filter_images(weight)
    factor = max(1, 48 // images.shape[1])
    enlarged = np.stack([upscale(f, factor) for f in images])
    # The gaps must not look like weights. In the blue-white-red colors white is a zero
    # weight and dark gray never occurs. In the RGB rendering mid-gray is a zero weight and
    # white (+limit in all three channels) is rare.
    fill = 1.0 if weight.shape[1] == 3 else 0.3
    st.image(tile(enlarged, min(GRID_COLUMNS * 2, len(images)), gap=3, fill=fill), clamp=True)
    note = "inside.filters_rgb" if weight.shape[1] == 3 else "inside.filters_gray"
    st.caption(t(note, limit=f"{limit:.3g}", count=weight.shape[0], k=weight.shape[-1]))
