"""2-D playground: train a small MLP on toy data and watch the decision boundary move."""

import streamlit as st

from ui.lang import t
from ui.layout import page_header, term
from ui.nn_pg_views import config_controls, current_playground, live_view, transport_buttons

page_header("nn_pg.title")
st.markdown(t("nn_pg.intro"))

controls, view = st.columns([1, 2], gap="large")
with controls:
    config = config_controls()
    st.caption(t("nn_pg.link_note"))

playground = current_playground(config)
if playground is None:
    st.stop()

with view:
    playing = transport_buttons()
    live_view(playing)

st.markdown(t("nn_pg.lesson", overfitting=term("overfitting")))
