"""Controls and results of the regularization lesson."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnlab.optim.plots import accuracy_bars
from cnnlab.optim.regularization import REMEDIES, RegularizationStudy, weight_norm
from cnnlab.runs import RunRecord
from ui.lang import t
from ui.optim_common import seed_input, summarize_runs


def study_controls() -> tuple[RegularizationStudy, list[str], bool]:
    """Draw the setup and remedy settings; return the study, the remedies and "combined"."""
    c1, c2, c3 = st.columns(3)
    subset = c1.select_slider(t("optim.subset"), (100, 200, 300, 500, 1000), 300, key="reg_subset")
    epochs = c2.slider(t("optim.epochs"), 5, 60, 30, key="reg_epochs")
    with c3:
        seed = seed_input("reg_seed")
    remedies = st.multiselect(t("optim_reg.remedies"), REMEDIES, default=list(REMEDIES), key="reg_remedies",
                              format_func=lambda name: t(f"optim_reg.remedy.{name}"))  # fmt: skip
    combined = st.checkbox(t("optim_reg.combined"), value=True, key="reg_combined",
                           help=t("optim_reg.combined_help"))  # fmt: skip
    with st.expander(t("optim_reg.settings")):
        s1, s2 = st.columns(2)
        weight_decay = s1.select_slider(t("optim_reg.weight_decay"), (0.05, 0.1, 0.5, 1.0, 2.0, 5.0), 0.5,
                                        key="reg_wd", help=t("optim_reg.weight_decay_help"))  # fmt: skip
        dropout = s2.slider(t("optim_reg.dropout"), 0.1, 0.7, 0.5, 0.1, key="reg_dropout",
                            help=t("optim_reg.dropout_help"))  # fmt: skip
        smoothing = s1.slider(t("optim_reg.smoothing"), 0.05, 0.3, 0.1, 0.05, key="reg_smoothing",
                              help=t("optim_reg.smoothing_help"))  # fmt: skip
        patience = s2.slider(t("optim_reg.patience"), 1, 10, 3, key="reg_patience",
                             help=t("optim_reg.patience_help"))  # fmt: skip
    study = RegularizationStudy(subset=subset, epochs=epochs, weight_decay=weight_decay, dropout=dropout,
                                label_smoothing=smoothing, patience=patience, seed=seed)  # fmt: skip
    return study, remedies, combined


def trial_labels() -> dict[str, str]:
    names = {name: t(f"optim_reg.remedy.{name}") for name in REMEDIES}
    return names | {"baseline": t("optim_reg.baseline"), "combined": t("optim_reg.combined_run")}


def results(records: list[RunRecord]) -> None:
    """Bars of train vs test accuracy, then each run's weight norm and stopping epoch."""
    finished = [r for r in records if r.epochs]
    runs = [(r.label, r.epochs[-1].train_acc, r.epochs[-1].test_acc) for r in finished]
    labels = {"title": t("optim_reg.bars_title"), "y": t("lab.chart.accuracy_y"),
              "train": t("lab.chart.train"), "test": t("lab.chart.test")}  # fmt: skip
    st.plotly_chart(accuracy_bars(runs, labels), width="stretch", key="reg_bars")
    st.caption(t("optim_reg.train_acc_note"))
    rows = [{
        t("exp.col.run"): r.label,
        t("optim_reg.col.epochs"): f"{len(r.epochs)} / {r.config.epochs}",
        t("optim_reg.col.norm"): round(weight_norm(r.model), 2) if r.model is not None else None,
    } for r in finished]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(t("optim_reg.table_note"))
    summarize_runs(records)
