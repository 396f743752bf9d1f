"""Input normalization: per-channel statistics, raw vs normalized training, and the axes
BatchNorm, LayerNorm, GroupNorm and InstanceNorm average over."""

import streamlit as st

from cnnlab.optim.input_norm import (
    INPUT_SCALES,
    NORM_KINDS,
    STAT_DATASETS,
    InputScaleStudy,
    input_scale_trials,
)
from ui.experiments import experiment_panel, start_experiment
from ui.lang import t
from ui.layout import page_header, term
from ui.optim_common import budget_caption, seed_input, start_button, summarize_runs
from ui.optim_norm import data_statistics, norm_layers

page_header("optim_norm.title")
st.markdown(t("optim_norm.intro", normalization=term("normalization")))
st.latex(r"x' = \frac{x - \mu_c}{\sigma_c}")

# ---- 1. Statistics of the data ----
st.header(t("optim_norm.stats_header"))
st.markdown(t("optim_norm.stats_text"))
dataset = st.radio(t("optim_norm.dataset"), STAT_DATASETS, key="norm_dataset", horizontal=True,
                   format_func=lambda name: t(f"lab.dataset_name.{name}"))  # fmt: skip
data_statistics(dataset)

# ---- 2. Training on raw vs normalized inputs ----
st.header(t("optim_norm.train_header"))
st.markdown(t("optim_norm.train_text"))
c1, c2, c3, c4 = st.columns(4)
optimizer = c1.selectbox(t("optim.optimizer"), ("sgd", "adam"), key="norm_optimizer",
                         format_func=lambda name: t(f"lab.optimizer_name.{name}"))  # fmt: skip
lr = c2.select_slider(
    t("optim.lr"),
    (1e-3, 3e-3, 1e-2, 3e-2, 0.1),
    1e-2,
    key="norm_lr",
    format_func=lambda v: f"{v:g}",
)
epochs = c3.slider(t("optim.epochs"), 1, 5, 2, key="norm_epochs")
with c4:
    seed = seed_input("norm_seed")
subset = st.select_slider(t("optim.subset"), (250, 500, 1000, 2000), 1000, key="norm_subset")
study = InputScaleStudy(subset=subset, epochs=epochs, optimizer=optimizer, lr=lr, seed=seed)
budget_caption(study.steps, study.batch_size, seed, subset)
if start_button("norm_start", "norm"):
    labels = {scale: t(f"optim_norm.scale.{scale}") for scale in INPUT_SCALES}
    start_experiment("norm", input_scale_trials(study, list(INPUT_SCALES), labels))
    st.rerun()
experiment_panel("norm", on_done=summarize_runs)

# ---- 3. Normalization layers: which axes? ----
st.header(t("optim_norm.layers_header"))
st.markdown(t("optim_norm.layers_text", bn=term("batch_norm")))
l1, l2, l3 = st.columns(3)
kind = l1.radio(
    t("optim_norm.kind_label"),
    NORM_KINDS,
    key="norm_kind",
    format_func=lambda k: t(f"optim_norm.kind.{k}"),
)
n = l2.slider(t("optim_norm.batch"), 2, 8, 4, key="norm_batch")
groups = l3.select_slider(
    t("optim_norm.groups"), (1, 2, 4, 8), 2, key="norm_groups", help=t("optim_norm.groups_help")
)
norm_layers(kind, n, groups)
