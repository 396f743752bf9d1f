"""Weight initialization: statistics at initialization, short runs per scheme, symmetry."""

import streamlit as st

from cnnlab.optim.initialization import INIT_ACTIVATIONS, SCHEMES, InitStudy, init_trials
from ui.experiments import experiment_panel, start_experiment
from ui.lang import t
from ui.layout import page_header, term
from ui.optim_common import budget_caption, seed_input, start_button
from ui.optim_init import statistics_view, symmetry_view

page_header("optim_init.title")
st.markdown(t("optim_init.intro", init=term("weight_init")))
st.markdown(t("optim_init.schemes_text"))

# ---- 1. At initialization ----
st.header(t("optim_init.stats_header"))
st.markdown(
    t(
        "optim_init.stats_text",
        vanishing=term("vanishing_gradient"),
        exploding=term("exploding_gradient"),
    )
)
c1, c2, c3, c4 = st.columns(4)
depth = c1.slider(t("optim_init.depth"), 3, 20, 8, key="init_depth")
width = c2.select_slider(t("optim_init.width"), (4, 8, 16), 8, key="init_width")
activation = c3.radio(
    t("optim_init.activation"), tuple(INIT_ACTIVATIONS), key="init_activation", horizontal=True
)
with c4:
    seed = seed_input("init_seed")
statistics_view(depth, width, activation, seed)

# ---- 2. A short training run per scheme ----
st.header(t("optim_init.train_header"))
st.markdown(t("optim_init.train_text"))
s1, s2 = st.columns([3, 1])
schemes = s1.multiselect(t("optim_init.schemes"), SCHEMES, default=list(SCHEMES), key="init_schemes",
                         format_func=lambda s: t(f"optim_init.scheme.{s}"))  # fmt: skip
epochs = s2.slider(t("optim.epochs"), 1, 5, 2, key="init_epochs")
study = InitStudy(depth=depth, width=width, activation=activation, epochs=epochs, seed=seed)
budget_caption(study.steps, study.batch_size, seed, study.subset)
if not schemes:
    st.info(t("optim_init.pick_scheme"))
elif start_button("init_start", "init"):
    labels = {s: t(f"optim_init.scheme.{s}") for s in schemes}
    start_experiment("init", init_trials(study, schemes, labels))
    st.rerun()


experiment_panel("init", on_done=symmetry_view)
