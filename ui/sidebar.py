"""Sidebar widgets shown on every page."""

from __future__ import annotations

import streamlit as st

from cnnlab.devices import describe_device, pick_device
from ui.lang import t


@st.cache_resource(show_spinner=False)
def _device_info():
    # Read-only and the same for every session: the server has one device choice.
    return describe_device(pick_device("auto"))


def device_badge() -> None:
    """Show which device training uses and its name."""
    info = _device_info()
    st.markdown(t("app.device", device=info.type.upper(), name=info.name))
    if info.type == "cpu":
        st.caption(t("app.device_cpu_note", threads=info.threads))
