"""Fine-tuning: pretrain on one task, then adapt to another with few labels, compared at
equal steps; and a pretrained ResNet-18 when its weights are cached locally."""

import pandas as pd
import streamlit as st

from cnnlab.optim.finetune import (
    FINE_TUNE_RUNS,
    SOURCES,
    FineTuneStudy,
    ResNetStudy,
    finetune_trials,
    resnet18_weights_path,
    resnet_trials,
    trainable_parameters,
)
from ui.experiments import experiment_panel, start_experiment
from ui.lang import t
from ui.layout import page_header, term
from ui.optim_common import seed_input, start_button, summarize_runs

page_header("optim_ft.title")
st.markdown(t("optim_ft.intro", fine_tuning=term("fine_tuning")))

# ---- 1. Source task -> target task ----
st.header(t("optim_ft.compare_header"))
st.markdown(t("optim_ft.compare_text"))
c1, c2, c3, c4, c5 = st.columns(5)
source = c1.radio(
    t("optim_ft.source"),
    SOURCES,
    key="ft_source",
    format_func=lambda s: t(f"optim_ft.source_name.{s}"),
)
per_class = c2.select_slider(t("optim_ft.per_class"), (2, 5, 10, 20, 50), 10, key="ft_per_class")
epochs = c3.slider(t("optim_ft.target_epochs"), 2, 40, 15, key="ft_epochs")
factor = c4.select_slider(t("optim_ft.factor"), (0.01, 0.03, 0.1, 0.3), 0.1, key="ft_factor",
                          help=t("optim_ft.factor_help"))  # fmt: skip
with c5:
    seed = seed_input("ft_seed")
source_epochs = st.slider(t("optim_ft.source_epochs"), 1, 6, 3, key="ft_source_epochs")
study = FineTuneStudy(source=source, per_class=per_class, source_epochs=source_epochs, target_epochs=epochs,
                      feature_lr_factor=factor, seed=seed)  # fmt: skip
st.caption(t("optim_ft.budget", steps=study.target_steps, images=per_class * 5, batch=study.batch_size,
             source_epochs=study.source_epochs))  # fmt: skip
if start_button("ft_start", "ft"):
    labels = {name: t(f"optim_ft.run.{name}") for name in FINE_TUNE_RUNS}
    start_experiment("ft", finetune_trials(study, labels))
    st.rerun()


def _parameters_table(records) -> None:
    rows = []
    for record in records:
        if record.model is None:
            continue
        trainable, total = trainable_parameters(record.model)
        rows.append({t("exp.col.run"): record.label, t("optim_ft.col.trainable"): f"{trainable:,} / {total:,}",
                     t("optim_ft.col.lr"): ", ".join(f"{k}: ×{v:g}" for k, v in record.config.lr_multipliers.items())
                     or "×1"})  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(t("optim_ft.source_note"))


def _done(records) -> None:
    summarize_runs(records[1:])
    _parameters_table(records)


experiment_panel("ft", on_done=_done)

# ---- 2. A pretrained ResNet-18 ----
st.header(t("optim_ft.resnet_header"))
weights = resnet18_weights_path()
if not weights.exists():
    st.info(t("optim_ft.resnet_missing", path=str(weights)), icon=":material/cloud_off:")
    st.stop()
st.markdown(t("optim_ft.resnet_text"))
r1, r2 = st.columns(2)
resnet_per_class = r1.select_slider(
    t("optim_ft.per_class"), (5, 10, 20, 50), 20, key="ft_resnet_per_class"
)
resnet_epochs = r2.slider(t("optim_ft.target_epochs"), 2, 20, 8, key="ft_resnet_epochs")
if start_button("ft_resnet_start", "ft_resnet"):
    labels = {name: t(f"optim_ft.resnet_run.{name}") for name in ("scratch", "all", "frozen")}
    resnet = ResNetStudy(per_class=resnet_per_class, epochs=resnet_epochs, seed=seed)
    start_experiment("ft_resnet", resnet_trials(resnet, weights, labels))
    st.rerun()
experiment_panel("ft_resnet", on_done=summarize_runs)
