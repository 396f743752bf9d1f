"""Home: what cnnlab is, the map of lessons, and how to start."""

import streamlit as st

from ui.lang import t
from ui.navigation import SECTIONS

st.title(t("home.title"))
st.markdown(t("home.intro"))

st.subheader(t("home.start_title"))
st.markdown(t("home.start_steps"))
st.page_link("app_pages/lab.py", label=t("home.open_lab"), icon=":material/model_training:")

st.subheader(t("home.map_title"))
sections = [(key, specs) for key, specs in SECTIONS.items() if specs]
columns = st.columns(2)
for index, (section_key, specs) in enumerate(sections):
    with columns[index % 2].container(border=True):
        st.markdown(f"**{t(section_key)}**")
        for spec in specs:
            st.page_link(spec.path, label=t(spec.title_key), icon=spec.icon)

st.subheader(t("home.teachers_title"))
st.markdown(t("home.teachers"))
