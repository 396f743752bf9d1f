"""Color spaces: one photo as RGB, HSV, HLS, YUV, YCrCb, Lab and gray, and the traps."""

import streamlit as st

from cnnlab.imageio import fit_within
from ui import color_channels, color_tools
from ui.image_input import image_input
from ui.lang import t
from ui.layout import term

st.title(t("color.title"))
st.markdown(
    t(
        "color.intro",
        channel=term("channel"),
        pixel=term("pixel"),
        color_space=term("color_space"),
    )
)

picker, preview = st.columns([2, 3])
with picker:
    image = image_input("color")
if image is None:
    st.stop()
rgb = image.rgb  # (H, W, 3) uint8 RGB, at most 1024 px on the longer side
with preview:
    height, width = rgb.shape[:2]
    st.image(
        fit_within(rgb, color_channels.DISPLAY_SIDE),
        caption=t("color.image_caption", width=width, height=height),
        width=420,
    )

st.header(t("color.channels_title"))
space = color_channels.space_picker()
color_channels.render_channels(rgb, space)

st.header(t("color.inspector_title"))
st.markdown(t("color.inspector_intro"))
x, y = color_channels.pixel_picker(rgb)
color_channels.render_inspector(rgb, x, y)

st.header(t("color.threshold_title"))
st.markdown(t("color.threshold_intro"))
ranges = color_tools.threshold_controls()
color_tools.render_threshold(rgb, ranges)

st.header(t("color.adjust_title"))
st.markdown(t("color.adjust_intro"))
shift, scale = color_tools.adjust_controls()
color_tools.render_adjust(rgb, shift, scale)

st.header(t("color.traps_title"))
color_tools.render_traps(rgb, x, y)
