"""cnnlab entry point: page set-up, sidebar (language, device) and the lesson router."""

import streamlit as st

import ui.startup  # noqa: F401  (one-time process set-up: threads, logging, gc.freeze)
from ui.lang import language_switch, t
from ui.navigation import build_navigation
from ui.sidebar import device_badge

st.set_page_config(page_title="cnnlab", page_icon=":material/neurology:", layout="wide")

page = build_navigation()

with st.sidebar:
    language_switch()
    device_badge()
    st.caption(t("app.sidebar_footer"))

page.run()
