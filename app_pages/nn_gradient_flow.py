"""Gradient flow: vanishing and exploding gradients in a deep plain network, and their remedies."""

import streamlit as st

from cnnlab.errors import LocalizedError
from ui.lang import t
from ui.layout import page_header, show_error, term
from ui.nn_controls import capitalized_term
from ui.nn_gf_views import config_controls, init_view, preset_buttons, training_view

page_header("nn_gf.title")
st.markdown(t("nn_gf.intro", gradient=term("gradient"), backpropagation=term("backpropagation")))


vanishing, exploding = st.columns(2)
vanishing.info(
    t("nn_gf.vanishing", term=capitalized_term("vanishing_gradient")),
    icon=":material/trending_down:",
)
exploding.warning(
    t("nn_gf.exploding", term=capitalized_term("exploding_gradient")), icon=":material/trending_up:"
)

# ---- The network ----
st.header(t("nn_gf.setup_header"))
preset_buttons()
config = config_controls()
st.caption(t("nn_gf.setup_caption"))

# ---- At initialization ----
st.header(t("nn_gf.init_header"))
st.markdown(t("nn_gf.init_text"))
try:
    init_view(config)
except LocalizedError as err:
    show_error(err)
    st.stop()

# ---- During training ----
st.header(t("nn_gf.train_header"))
st.markdown(t("nn_gf.train_text"))
training_view(config)

# ---- Remedies ----
st.header(t("nn_gf.remedies_header"))
st.markdown(t("nn_gf.remedies"))
