"""Step-by-step views: one output position of a convolution or a pooling, computed by hand."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlab.conv_plots import crop_preview_figure, input_grid_figure, signed_grid_figure
from cnnlab.convolution import (
    conv2d_gray,
    conv_output_size,
    conv_window,
    crop_patch,
    pad_2d,
    shrink_gray,
)
from cnnlab.errors import LocalizedError
from cnnlab.pooling import pool2d, pool_output_size, pool_window
from ui.conv_controls import Geometry, crop_controls, position_controls
from ui.lang import t
from ui.layout import show_error

# The picture is shrunk to this longer side before cropping (see shrink_gray).
STEP_IMAGE_SIDE = 128
PLAY_INTERVAL_S = 1.0


def patch_picker(prefix: str, image: np.ndarray) -> np.ndarray:
    """Draw the crop controls and preview; return the gray patch as float64 (n, n) in 0–255."""
    gray = shrink_gray(image, STEP_IMAGE_SIDE)
    controls, preview = st.columns([3, 2])
    with controls:
        st.caption(t("conv.step_shrunk", side=STEP_IMAGE_SIDE))
        top, left, size = crop_controls(prefix, gray)
    preview.plotly_chart(
        crop_preview_figure(gray, top, left, size, t("conv.crop_preview")),
        width="stretch", key=f"{prefix}_crop_preview",
    )  # fmt: skip
    return crop_patch(gray, top, left, size)


def play_toggle(prefix: str) -> bool:
    """Draw the Play switch; while on, the step view advances every PLAY_INTERVAL_S seconds."""
    return st.toggle(t("conv.play"), key=f"{prefix}_play", help=t("conv.play_help"))


def conv_step_view(
    prefix: str, patch: np.ndarray, kernel: np.ndarray, geometry: Geometry, playing: bool
) -> None:
    """Draw the step-by-step convolution of ``patch``; reruns alone on a timer while playing."""
    run_every = PLAY_INTERVAL_S if playing else None
    st.fragment(_conv_step_body, run_every=run_every)(prefix, patch, kernel, geometry, playing)


def _conv_step_body(
    prefix: str, patch: np.ndarray, kernel: np.ndarray, geometry: Geometry, playing: bool
) -> None:
    g = geometry
    try:
        out_height = conv_output_size(
            patch.shape[0], kernel.shape[0], g.stride, g.padding, g.dilation
        )
        out_width = conv_output_size(
            patch.shape[1], kernel.shape[1], g.stride, g.padding, g.dilation
        )
        padded = pad_2d(patch, g.padding, g.padding_mode)
        reference = conv2d_gray(
            patch, kernel, stride=g.stride, padding=g.padding, padding_mode=g.padding_mode,
            dilation=g.dilation,
        )  # fmt: skip
    except LocalizedError as err:
        show_error(err)
        return

    row, col = position_controls(prefix, out_height, out_width, playing)
    step = conv_window(padded, kernel, row, col, g.stride, g.dilation)

    grid, weights, products = st.columns([3, 2, 2])
    grid.plotly_chart(
        input_grid_figure(padded, g.padding, step.rows, step.cols, t("conv.step_input")),
        width="stretch", key=f"{prefix}_grid",
    )  # fmt: skip
    weights.plotly_chart(signed_grid_figure(kernel, t("conv.step_kernel")), width="stretch",
                         key=f"{prefix}_kernel")  # fmt: skip
    products.plotly_chart(signed_grid_figure(step.products, t("conv.step_products"), decimals=1),
                          width="stretch", key=f"{prefix}_products")  # fmt: skip

    output, numbers = st.columns([3, 4])
    output.plotly_chart(
        signed_grid_figure(reference, t("conv.step_output"), decimals=0, highlight=(row, col), height=360),
        width="stretch", key=f"{prefix}_output",
    )  # fmt: skip
    total, library = numbers.columns(2)
    total.metric(t("conv.step_sum"), f"{step.total:.4f}")
    library.metric(t("conv.step_torch", row=row, col=col), f"{reference[row, col]:.4f}")
    numbers.caption(t("conv.step_explain", rows=len(step.rows), cols=len(step.cols)))


def pool_step_view(
    prefix: str, patch: np.ndarray, kind: str, kernel: int, stride: int, padding: int,
    count_include_pad: bool, playing: bool,
) -> None:  # fmt: skip
    """Draw one pooling window of ``patch`` at a time; reruns alone on a timer while playing."""
    run_every = PLAY_INTERVAL_S if playing else None
    st.fragment(_pool_step_body, run_every=run_every)(
        prefix, patch, kind, kernel, stride, padding, count_include_pad, playing
    )


def _pool_step_body(
    prefix: str, patch: np.ndarray, kind: str, kernel: int, stride: int, padding: int,
    count_include_pad: bool, playing: bool,
) -> None:  # fmt: skip
    try:
        out_height = pool_output_size(patch.shape[0], kernel, stride, padding)
        out_width = pool_output_size(patch.shape[1], kernel, stride, padding)
        reference = pool2d(patch, kind, kernel, stride, padding, count_include_pad)
    except LocalizedError as err:
        show_error(err)
        return

    row, col = position_controls(prefix, out_height, out_width, playing)
    step = pool_window(patch, kind, kernel, stride, row, col, padding, count_include_pad)
    padded = np.pad(patch, padding, constant_values=np.nan)  # (n+2p, n+2p), NaN = padding

    grid, output = st.columns([3, 2])
    grid.plotly_chart(
        input_grid_figure(padded, padding, step.rows, step.cols, t("conv.step_input")),
        width="stretch", key=f"{prefix}_grid",
    )  # fmt: skip
    output.plotly_chart(
        input_grid_figure(reference, 0, [row], [col], t("conv.pool.step_output"), decimals=1 if kind == "avg" else 0),
        width="stretch", key=f"{prefix}_output",
    )  # fmt: skip

    total, library = st.columns(2)
    if kind == "max":
        win_row, win_col = step.argmax
        total.metric(t("conv.pool.step_max"), f"{step.value:.4f}")
        st.caption(t("conv.pool.step_max_explain", row=int(step.rows[win_row]) - padding,
                     col=int(step.cols[win_col]) - padding))  # fmt: skip
    else:
        window_sum = float(np.nansum(step.window))
        total.metric(t("conv.pool.step_avg"), f"{step.value:.4f}")
        st.caption(t("conv.pool.step_avg_explain", total=f"{window_sum:.1f}", divisor=step.divisor))
    library.metric(
        t("conv.pool.step_torch", kind=kind, row=row, col=col), f"{reference[row, col]:.4f}"
    )
