"""Convolution: filter a picture with a kernel, then follow one output value by hand."""

import streamlit as st

from cnnlab.conv_plots import signed_image_figure
from cnnlab.convolution import apply_kernel, suggest_display_method, to_display
from cnnlab.errors import LocalizedError
from ui.conv_controls import (
    display_method_control,
    geometry_controls,
    kernel_controls,
    lesson_image,
    output_size_latex,
)
from ui.conv_learned import learned_vs_classic
from ui.conv_steps import conv_step_view, patch_picker, play_toggle
from ui.lang import t
from ui.layout import page_header, show_error, term

page_header("conv.title", "conv.intro")
image = lesson_image("conv")

# ---- 1. Filter a picture ----
st.header(t("conv.filter_header"))
st.markdown(t("conv.filter_text", kernel=term("kernel"), feature_map=term("feature_map")))
choice = kernel_controls("conv")
geometry = geometry_controls("conv")
color_mode = st.radio(
    t("conv.color_label"), ("per_channel", "grayscale"), format_func=lambda m: t(f"conv.color.{m}"),
    horizontal=True, key="conv_color",
)  # fmt: skip

try:
    result = apply_kernel(
        image, choice.kernel, stride=geometry.stride, padding=geometry.padding,
        padding_mode=geometry.padding_mode, dilation=geometry.dilation, color_mode=color_mode,
    )  # fmt: skip
except LocalizedError as err:
    show_error(err)
    result = None

if result is not None:
    height, width = image.shape[:2]
    out_height, out_width = result.shape[:2]
    kernel_size = choice.kernel.shape[0]
    st.markdown(
        t("conv.sizes", height=height, width=width, out_height=out_height, out_width=out_width)
    )
    st.latex(output_size_latex("H", height, kernel_size, geometry, out_height))
    st.latex(output_size_latex("W", width, kernel_size, geometry, out_width))

    before, after = st.columns(2)
    before.image(image, caption=t("conv.input_caption"), width="stretch")
    with after:
        method = display_method_control(
            "conv", result.shape[2] == 1, suggest_display_method(result)
        )
        if method == "diverging":
            limit = float(abs(result).max())
            st.plotly_chart(
                signed_image_figure(result[:, :, 0], t("conv.output_title"), t("conv.value")),
                width="stretch", key="conv_output_plot",
            )  # fmt: skip
            st.caption(t("conv.display_caption.diverging", limit=f"{limit:.3g}"))
        else:
            shown = to_display(result, method)
            st.image(shown.image, caption=t("conv.output_title"), width="stretch", clamp=True)
            st.caption(
                t(
                    f"conv.display_caption.{method}",
                    low=f"{shown.low:.3g}",
                    high=f"{shown.high:.3g}",
                )
            )
    st.caption(t("conv.range", low=f"{result.min():.3f}", high=f"{result.max():.3f}"))

# ---- 2. One output value by hand ----
st.header(t("conv.step_header"))
st.markdown(t("conv.step_text"))
patch = patch_picker("conv", image)
playing = play_toggle("conv_step")
conv_step_view("conv_step", patch, choice.kernel, geometry, playing)

# ---- 3. Learned filters next to classic kernels ----
st.header(t("conv.learned_header"))
learned_vs_classic("conv")

st.caption(t("conv.cross_correlation_note"))
