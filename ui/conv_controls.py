"""Controls shared by the convolution and pooling lessons: picture, kernel, geometry, positions.

Every control function draws its widgets (keys start with the caller's prefix) and returns
the chosen values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from cnnlab.convolution import DISPLAY_METHODS, PADDING_MODES
from cnnlab.kernels import PRESET_NAMES, SIZED_PRESETS, normalize_kernel, preset_kernel
from ui.image_input import image_input
from ui.lang import t


def lesson_image(prefix: str) -> np.ndarray:
    """Draw the shared picture picker and return the picture as uint8 RGB (H, W, 3).

    Stops the page with a hint while there is no picture yet (an upload or camera source
    before the first file).
    """
    decoded = image_input(prefix)
    if decoded is None:
        st.info(t("conv.no_image"), icon=":material/image:")
        st.stop()
    return decoded.rgb


def bounded_slider(label: str, low: int, high: int, key: str, default: int, **kwargs) -> int:
    """Draw an int slider whose stored value is first clamped into [low, high].

    The range of a position slider changes with stride or padding; clamping keeps the
    learner's position instead of raising. A one-value range is shown as a caption.
    """
    value = st.session_state.get(key, default)
    st.session_state[key] = min(max(int(value), low), high)
    if high <= low:
        st.caption(f"{label}: {low}")
        return low
    return st.slider(label, low, high, key=key, **kwargs)


@dataclass(frozen=True)
class KernelChoice:
    """The kernel the learner built."""

    preset: str  # one of PRESET_NAMES
    kernel: np.ndarray  # float64 (k, k): the weights that are applied (normalized if chosen)
    kernel_sum: float  # sum of the edited weights before normalization
    divided: bool  # True when the weights were divided by their sum


def kernel_controls(prefix: str, default_preset: str = "sobel_x") -> KernelChoice:
    """Draw preset, size, sigma, the editable weight grid and the normalize option."""
    settings, grid = st.columns([1, 2])
    with settings:
        preset = st.selectbox(
            t("conv.kernel_label"), PRESET_NAMES, index=PRESET_NAMES.index(default_preset),
            format_func=lambda name: t(f"conv.preset.{name}"), key=f"{prefix}_preset",
        )  # fmt: skip
        size = st.radio(
            t("conv.kernel_size"), (3, 5), format_func=lambda k: f"{k}×{k}", horizontal=True,
            key=f"{prefix}_size",
        )  # fmt: skip
        sigma = st.slider(
            t("conv.sigma"), 0.3, 3.0, 1.0, 0.1, key=f"{prefix}_sigma",
            disabled=preset != "gaussian", help=t("conv.sigma_help"),
        )  # fmt: skip
        normalize = st.checkbox(t("conv.normalize"), value=True, key=f"{prefix}_normalize",
                                help=t("conv.normalize_help"))  # fmt: skip
        if size > 3 and preset not in SIZED_PRESETS:
            st.caption(t("conv.fixed_preset_note"))

    base = preset_kernel(preset, size, sigma)
    with grid:
        st.caption(t("conv.edit_kernel"))
        # The key names the preset, so choosing another preset starts from its weights.
        edited = st.data_editor(
            pd.DataFrame(base, columns=[str(i) for i in range(size)]),
            key=f"{prefix}_weights_{preset}_{size}_{sigma:.1f}", hide_index=True,
            num_rows="fixed", width="stretch",
        )  # fmt: skip
    weights = edited.to_numpy(dtype=np.float64, na_value=0.0)

    if not normalize:
        return KernelChoice(preset, weights, float(weights.sum()), divided=False)
    normalized = normalize_kernel(weights)
    if normalized.divided:
        st.caption(t("conv.normalized", total=f"{normalized.kernel_sum:.4g}"))
    else:
        st.info(t("conv.zero_sum"), icon=":material/info:")
    return KernelChoice(preset, normalized.kernel, normalized.kernel_sum, normalized.divided)


@dataclass(frozen=True)
class Geometry:
    """Stride, padding and dilation of the sliding kernel."""

    stride: int
    padding: int
    padding_mode: str  # one of PADDING_MODES
    dilation: int
    dilated: bool = True  # False for pooling, whose lesson has no dilation control


def geometry_controls(prefix: str, with_dilation: bool = True) -> Geometry:
    """Draw stride, padding amount, padding mode and dilation sliders in one row."""
    columns = st.columns(4)
    stride = columns[0].slider(t("conv.stride"), 1, 4, 1, key=f"{prefix}_stride")
    padding = columns[1].slider(t("conv.padding"), 0, 4, 1, key=f"{prefix}_padding")
    mode = columns[2].selectbox(
        t("conv.padding_mode"), PADDING_MODES, format_func=lambda m: t(f"conv.padding_modes.{m}"),
        key=f"{prefix}_padding_mode", help=t("conv.padding_mode_help"),
    )  # fmt: skip
    dilation = 1
    if with_dilation:
        dilation = columns[3].slider(t("conv.dilation"), 1, 3, 1, key=f"{prefix}_dilation")
    return Geometry(stride, padding, mode, dilation)


def display_method_control(prefix: str, single_channel: bool, suggested: str) -> str:
    """Draw the display-mapping choice and return a method ("diverging" only for one channel)."""
    options = ["auto", *DISPLAY_METHODS] + (["diverging"] if single_channel else [])
    choice = st.selectbox(
        t("conv.display"), options, format_func=lambda m: t(f"conv.display_option.{m}"),
        key=f"{prefix}_display", help=t("conv.display_help"),
    )  # fmt: skip
    return suggested if choice == "auto" else choice


def crop_controls(prefix: str, gray: np.ndarray) -> tuple[int, int, int]:
    """Draw crop size and position sliders for a uint8 gray image; return (top, left, size)."""
    height, width = gray.shape
    size = bounded_slider(t("conv.crop_size"), 6, min(16, height, width), f"{prefix}_crop_size", 10)
    top = bounded_slider(t("conv.crop_top"), 0, height - size, f"{prefix}_crop_top", height // 2)
    left = bounded_slider(t("conv.crop_left"), 0, width - size, f"{prefix}_crop_left", width // 2)
    return top, left, size


def _advance(prefix: str, out_height: int, out_width: int) -> None:
    row = st.session_state.get(f"{prefix}_row", 0)
    col = st.session_state.get(f"{prefix}_col", 0) + 1
    if col >= out_width:
        col, row = 0, (row + 1) % out_height
    st.session_state[f"{prefix}_row"] = row
    st.session_state[f"{prefix}_col"] = col


def position_controls(
    prefix: str, out_height: int, out_width: int, playing: bool
) -> tuple[int, int]:
    """Draw output row/column sliders and a Next button; advance once per run while playing.

    Next and playback go along the row, then to the start of the next row, and wrap around.
    """
    if playing:
        _advance(prefix, out_height, out_width)
    columns = st.columns([2, 2, 1])
    with columns[0]:
        row = bounded_slider(t("conv.out_row"), 0, out_height - 1, f"{prefix}_row", 0)
    with columns[1]:
        col = bounded_slider(t("conv.out_col"), 0, out_width - 1, f"{prefix}_col", 0)
    columns[2].button(
        t("conv.next"), key=f"{prefix}_next", on_click=_advance,
        args=(prefix, out_height, out_width), icon=":material/skip_next:",
    )  # fmt: skip
    return row, col


def output_size_latex(symbol: str, size: int, kernel: int, geometry: Geometry, output: int) -> str:
    """Return the output-size formula for one axis, with the current numbers filled in.

    The dilation term is left out when the geometry has no dilation control (pooling).
    """
    s, p, d = geometry.stride, geometry.padding, geometry.dilation
    if not geometry.dilated:
        general = rf"\frac{{{symbol} + 2p - k}}{{s}}"
        numbers = rf"\frac{{{size} + 2\cdot{p} - {kernel}}}{{{s}}}"
    else:
        general = rf"\frac{{{symbol} + 2p - d(k-1) - 1}}{{s}}"
        numbers = rf"\frac{{{size} + 2\cdot{p} - {d}\cdot({kernel}-1) - 1}}{{{s}}}"
    return (
        rf"{symbol}_{{out}} = \left\lfloor {general} \right\rfloor + 1"
        rf" = \left\lfloor {numbers} \right\rfloor + 1 = {output}"
    )
