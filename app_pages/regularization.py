"""Regularization: an overfitting setup and its remedies, each a run on the same budget."""

import streamlit as st

from cnnlab.optim.regularization import regularization_trials
from ui.experiments import experiment_panel, start_experiment
from ui.lang import t
from ui.layout import page_header, term
from ui.optim_common import budget_caption, start_button
from ui.optim_reg import results, study_controls, trial_labels

page_header("optim_reg.title")
st.markdown(t("optim_reg.intro", overfitting=term("overfitting")))

st.header(t("optim_reg.setup_header"))
st.markdown(t("optim_reg.setup_text"))

st.header(t("optim_reg.remedies_header"))
st.markdown(t("optim_reg.remedies_text", weight_decay=term("weight_decay"),
              augmentation=term("data_augmentation")))  # fmt: skip
study, remedies, combined = study_controls()
budget_caption(study.steps, study.batch_size, study.seed, study.subset)
st.caption(t("optim_reg.early_note", validation=study.validation_size))

if start_button("reg_start", "reg"):
    start_experiment("reg", regularization_trials(study, remedies, combined, trial_labels()))
    st.rerun()
experiment_panel("reg", on_done=results)
