import streamlit as st

from ui.lang import t

st.title(t("nav.inside"))
