"""Pooling: shrink a picture with max or average pooling, then follow one window by hand."""

import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.pooling import pool_image
from ui.conv_controls import Geometry, bounded_slider, lesson_image, output_size_latex
from ui.conv_steps import patch_picker, play_toggle, pool_step_view
from ui.lang import t
from ui.layout import page_header, show_error

page_header("conv.pool.title", "conv.pool.intro")
image = lesson_image("pool")

# ---- Settings shared by the picture and the step-by-step view ----
st.header(t("conv.pool.settings_header"))
columns = st.columns(4)
kind = columns[0].radio(
    t("conv.pool.kind_label"), ("max", "avg"), format_func=lambda k: t(f"conv.pool.kind.{k}"),
    key="pool_kind",
)  # fmt: skip
kernel = columns[1].slider(t("conv.pool.kernel"), 2, 5, 2, key="pool_kernel")
stride = columns[2].slider(t("conv.stride"), 1, 5, 2, key="pool_stride")
with columns[3]:
    # PyTorch rejects padding larger than half the window.
    padding = bounded_slider(t("conv.padding"), 0, kernel // 2, "pool_padding", 0,
                             help=t("conv.pool.padding_help"))  # fmt: skip
count_include_pad = True
if kind == "avg" and padding > 0:
    count_include_pad = st.checkbox(t("conv.pool.count_include_pad"), value=True,
                                    key="pool_count_include_pad",
                                    help=t("conv.pool.count_include_pad_help"))  # fmt: skip
st.markdown(t(f"conv.pool.explain.{kind}"))

# ---- 1. Pool a picture ----
st.header(t("conv.pool.image_header"))
try:
    pooled = pool_image(image, kind, kernel, stride, padding, count_include_pad)
except LocalizedError as err:
    show_error(err)
    pooled = None

if pooled is not None:
    height, width = image.shape[:2]
    out_height, out_width = pooled.shape[:2]
    st.markdown(
        t("conv.sizes", height=height, width=width, out_height=out_height, out_width=out_width)
    )
    geometry = Geometry(stride, padding, padding_mode="zeros", dilation=1, dilated=False)
    st.latex(output_size_latex("H", height, kernel, geometry, out_height))
    st.latex(output_size_latex("W", width, kernel, geometry, out_width))

    before, after = st.columns(2)
    before.image(image, caption=t("conv.input_caption"), width="stretch")
    after.image(pooled, caption=t("conv.pool.output_caption"), width="stretch", clamp=True)
    st.caption(t("conv.pool.pixelated_note", factor=f"{height / out_height:.2g}"))

# ---- 2. One window by hand ----
st.header(t("conv.pool.step_header"))
st.markdown(t("conv.pool.step_text"))
patch = patch_picker("pool", image)
playing = play_toggle("pool_step")
pool_step_view("pool_step", patch, kind, kernel, stride, padding, count_include_pad, playing)
