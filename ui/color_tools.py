"""Color-spaces page, part 2: HSV thresholding, hue rotation and the conversion traps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnlab import colorspaces
from cnnlab.imageio import fit_within
from ui.color_channels import DISPLAY_SIDE
from ui.lang import t


@dataclass(frozen=True)
class HsvRanges:
    """Inclusive OpenCV 8-bit ranges; ``hue`` wraps through red when low > high."""

    hue: tuple[int, int]
    saturation: tuple[int, int]
    value: tuple[int, int]


def threshold_controls() -> HsvRanges:
    """Return the HSV ranges set by the sliders (default: the reds, 170..10)."""
    hue_left, hue_right = st.columns(2)
    hue_low = hue_left.slider(t("color.hue_low"), 0, 179, 170, key="color_hue_low")
    hue_high = hue_right.slider(t("color.hue_high"), 0, 179, 10, key="color_hue_high")
    sat_left, value_right = st.columns(2)
    saturation = sat_left.slider(
        t("color.saturation_range"), 0, 255, (80, 255), key="color_saturation"
    )
    value = value_right.slider(t("color.value_range"), 0, 255, (50, 255), key="color_value")
    return HsvRanges((hue_low, hue_high), saturation, value)


def render_threshold(rgb: np.ndarray, ranges: HsvRanges) -> None:
    """Show which hues are selected, the mask, the segmented image and the share selected."""
    low, high = ranges.hue
    if low > high:
        st.caption(t("color.hue_wraps", low=low, high=high))
    else:
        st.caption(t("color.hue_plain", low=low, high=high, low_deg=2 * low, high_deg=2 * high))
    st.image(colorspaces.hue_strip(low, high), caption=t("color.hue_strip"), width="stretch")

    mask = colorspaces.hsv_mask(rgb, ranges.hue, ranges.saturation, ranges.value)  # (H, W) bool
    mask_picture, segmented_picture = st.columns(2)
    mask_picture.image(
        fit_within(mask.astype(np.uint8) * 255, DISPLAY_SIDE),
        caption=t("color.mask"),
        width="stretch",
    )
    segmented_picture.image(
        fit_within(colorspaces.apply_mask(rgb, mask), DISPLAY_SIDE),
        caption=t("color.segmented"),
        width="stretch",
    )
    st.metric(t("color.selected_share"), f"{mask.mean():.1%}")


def adjust_controls() -> tuple[int, float]:
    """Return (hue shift in degrees, saturation scale)."""
    left, right = st.columns(2)
    shift = left.slider(t("color.hue_shift"), -180, 180, 0, step=5, key="color_hue_shift")
    scale = right.slider(
        t("color.saturation_scale"), 0.0, 2.0, 1.0, step=0.05, key="color_saturation_scale"
    )
    return shift, scale


def render_adjust(rgb: np.ndarray, shift: int, scale: float) -> None:
    """Show the image before and after the hue rotation and saturation scaling."""
    adjusted = colorspaces.shift_hue_saturation(rgb, shift, scale)
    before, after = st.columns(2)
    before.image(fit_within(rgb, DISPLAY_SIDE), caption=t("color.original"), width="stretch")
    after.image(
        fit_within(adjusted, DISPLAY_SIDE),
        caption=t("color.adjusted", shift=shift, scale=scale),
        width="stretch",
    )


def render_traps(rgb: np.ndarray, x: int, y: int) -> None:
    """Teach the five conversion traps, with numbers taken from the marked pixel."""
    st.subheader(t("color.trap_bgr_title"))
    st.markdown(t("color.trap_bgr"))
    right_picture, wrong_picture = st.columns(2)
    small = fit_within(rgb, DISPLAY_SIDE)
    right_picture.image(small, caption="RGB", width="stretch")
    wrong_picture.image(
        colorspaces.swap_red_blue(small), caption=t("color.trap_bgr_shown"), width="stretch"
    )
    pixel = rgb[y : y + 1, x : x + 1]  # (1, 1, 3)
    right_hue = int(colorspaces.convert(pixel, "hsv")[0, 0, 0])
    wrong_hue = int(colorspaces.hsv_read_as_bgr(pixel)[0, 0, 0])
    st.markdown(t("color.trap_bgr_hue", right=right_hue, wrong=wrong_hue))

    st.subheader(t("color.trap_hue_title"))
    degrees = float(colorspaces.convert_float(pixel, "hsv")[0, 0, 0])
    st.markdown(t("color.trap_hue", eight_bit=right_hue, degrees=f"{degrees:.1f}"))

    for trap in ("chroma", "lab", "alpha"):
        st.subheader(t(f"color.trap_{trap}_title"))
        st.markdown(t(f"color.trap_{trap}"))
