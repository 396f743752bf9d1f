"""Views of the input-normalization lesson: data statistics and normalization layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

from cnnlab.optim.input_norm import (
    channel_stats,
    feature_batch,
    normalize_by_hand,
    pixel_samples,
    standardize,
    torch_norm_layer,
    training_images,
)
from cnnlab.optim.plots import histogram_figure, norm_axes_figure
from ui.lab_state import cached_dataset
from ui.lang import t

CHANNELS = {1: ("gray",), 3: ("R", "G", "B")}


@st.cache_data(show_spinner=False, max_entries=4)
def _stats(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images = training_images(name)
    mean, std = channel_stats(images)
    return mean, std, pixel_samples(images)


def data_statistics(name: str) -> None:
    """Table of per-channel mean and std, and histograms before and after normalizing."""
    mean, std, samples = _stats(name)
    names = CHANNELS[len(mean)]
    frame = pd.DataFrame({
        t("optim_norm.col.channel"): [t(f"optim_norm.channel.{c}") for c in names],
        t("optim_norm.col.mean"): np.round(mean, 4),
        t("optim_norm.col.std"): np.round(std, 4),
        t("optim_norm.col.mean255"): np.round(255 * mean, 1),
        t("optim_norm.col.std255"): np.round(255 * std, 1),
    })  # fmt: skip
    st.dataframe(frame, hide_index=True, width="stretch")

    normalized = standardize(samples, mean, std)
    before = {t(f"optim_norm.channel.{c}"): samples[:, i] for i, c in enumerate(names)}
    after = {t(f"optim_norm.channel.{c}"): normalized[:, i] for i, c in enumerate(names)}
    left, right = st.columns(2)
    labels = {
        "x": t("optim_norm.hist_x_raw"),
        "y": t("optim_norm.hist_y"),
        "title": t("optim_norm.hist_before"),
    }
    left.plotly_chart(histogram_figure(before, labels), width="stretch", key="norm_hist_before")
    labels = {
        "x": t("optim_norm.hist_x_norm"),
        "y": t("optim_norm.hist_y"),
        "title": t("optim_norm.hist_after"),
    }
    right.plotly_chart(histogram_figure(after, labels), width="stretch", key="norm_hist_after")
    st.caption(t("optim_norm.hist_caption", count=len(samples)))


def norm_layers(kind: str, n: int, groups: int) -> None:
    """Normalize one batch of feature maps by hand, draw the axes and check against PyTorch."""
    x = feature_batch(cached_dataset("mnist-5k", 0), n)  # (N, 8, 28, 28)
    result = normalize_by_hand(x, kind, groups)
    layer = torch_norm_layer(kind, x.shape[1], x.shape[2], x.shape[3], groups)
    with torch.no_grad():
        difference = (layer(x) - result.output).abs().max().item()

    labels = {"title": t("optim_norm.axes_title", kind=t(f"optim_norm.kind.{kind}")),
              "x": t("optim_norm.axes_x"), "y": t("optim_norm.axes_y"), "hover": t("optim_norm.axes_hover")}  # fmt: skip
    left, right = st.columns([2, 3])
    left.plotly_chart(
        norm_axes_figure(result.groups, labels), width="stretch", key="norm_axes_chart"
    )
    left.caption(t("optim_norm.axes_caption"))
    with right:
        st.markdown(t(f"optim_norm.axes.{kind}", groups=groups, size=x.shape[1] // groups))
        st.markdown(t("optim_norm.sets", sets=len(np.unique(result.groups)),
                      values=x[0, 0].numel() * int((result.groups == result.groups[0, 0]).sum())))  # fmt: skip
        means = pd.DataFrame(result.mean, columns=[f"c{j}" for j in range(x.shape[1])],
                             index=[f"n{i}" for i in range(n)]).round(3)  # fmt: skip
        st.caption(t("optim_norm.means_caption"))
        st.dataframe(means, width="stretch")
    st.metric(
        t("optim_norm.check"),
        f"{difference:.1e}",
        help=t("optim_norm.check_help", layer=type(layer).__name__),
    )
