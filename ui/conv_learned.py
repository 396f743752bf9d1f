"""Learned first-layer filters from the training lab, next to the classic kernels they resemble."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnlab.conv_plots import kernel_gallery_figure
from cnnlab.errors import LocalizedError
from cnnlab.kernels import classic_kernels, match_learned_filters
from cnnlab.models import first_conv
from ui.lab_state import latest_model
from ui.lang import t
from ui.layout import show_error

GALLERY_COLUMNS = 8


def learned_vs_classic(prefix: str) -> None:
    """Show the classic kernels, then each learned filter with its closest classic kernel.

    Shows an info message with a link to the lab when this session has no trained model.
    """
    classic = classic_kernels(3)
    names = list(classic)
    st.markdown(t("conv.learned_text"))
    st.plotly_chart(
        kernel_gallery_figure([classic[n] for n in names], [t(f"conv.preset.{n}") for n in names],
                              columns=len(names)),
        width="stretch", key=f"{prefix}_classic_gallery",
    )  # fmt: skip

    model = latest_model()
    if model is None:
        st.info(t("conv.learned_none"), icon=":material/model_training:")
        st.page_link("app_pages/lab.py", label=t("conv.open_lab"), icon=":material/model_training:")
        return

    try:
        conv = first_conv(model)
        matches = match_learned_filters(conv.weight, classic)
    except LocalizedError as err:
        show_error(err)
        return
    except ValueError:
        # first_conv raises a plain ValueError when the model has no Conv2d layer.
        st.info(t("conv.learned_no_conv"), icon=":material/info:")
        return

    out_channels, in_channels, kernel_height, kernel_width = conv.weight.shape
    st.caption(
        t("conv.learned_shape", filters=out_channels, channels=in_channels,
          height=kernel_height, width=kernel_width)
    )  # fmt: skip
    titles = [
        f"#{m.index} · {m.similarity:+.2f}<br>{t(f'conv.preset.{m.best_name}')}" for m in matches
    ]
    st.plotly_chart(
        kernel_gallery_figure([m.filter_2d for m in matches], titles, columns=GALLERY_COLUMNS),
        width="stretch", key=f"{prefix}_learned_gallery",
    )  # fmt: skip
    table = pd.DataFrame(
        {
            t("conv.learned_col_filter"): [m.index for m in matches],
            t("conv.learned_col_best"): [t(f"conv.preset.{m.best_name}") for m in matches],
            t("conv.learned_col_cosine"): [round(m.similarity, 3) for m in matches],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", key=f"{prefix}_learned_table")
    st.caption(t("conv.learned_method"))
