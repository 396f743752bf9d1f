"""Hyper-parameter search: an Optuna study over learning rate, weight decay, batch size and
width, with pruning, live plots, and the best configuration sent to the training lab."""

import streamlit as st

from cnnlab.optim.hpsearch import SearchConfig
from ui.lang import t
from ui.layout import page_header, show_error
from ui.optim_common import seed_input
from ui.optim_hp import best_trial_panel, current_search, live_search, start_search

page_header("optim_hp.title")
st.markdown(t("optim_hp.intro"))
st.markdown(t("optim_hp.space"))

st.header(t("optim_hp.setup_header"))
c1, c2, c3, c4 = st.columns(4)
n_trials = c1.slider(t("optim_hp.n_trials"), 3, 40, 12, key="hp_trials")
epochs = c2.slider(t("optim_hp.epochs"), 1, 5, 3, key="hp_epochs", help=t("optim_hp.epochs_help"))
subset = c3.select_slider(t("optim.subset"), (250, 500, 1000, 2000, 4000), 1000, key="hp_subset")
with c4:
    seed = seed_input("hp_seed")
pruning = st.checkbox(
    t("optim_hp.pruning"), value=True, key="hp_pruning", help=t("optim_hp.pruning_help")
)
st.caption(t("optim_hp.test_note"))

job = current_search()
running = job is not None and job.alive
if st.button(t("optim.restart") if running else t("optim_hp.start"), key="hp_start", type="primary",
             icon=":material/play_arrow:"):  # fmt: skip
    start_search(
        SearchConfig(n_trials=n_trials, epochs=epochs, subset=subset, pruning=pruning, seed=seed)
    )
    st.rerun()

st.header(t("optim_hp.results_header"))
live_search()

job = current_search()
if job is None:
    st.info(t("optim_hp.empty"), icon=":material/info:")
elif not job.alive:
    snapshot = job.snapshot()
    if snapshot.error is not None:
        show_error(snapshot.error)
    best = snapshot.best
    if best is not None:
        best_trial_panel(best, job.config.epochs)
    elif snapshot.state in ("finished", "stopped"):
        st.warning(t("optim_hp.no_best"))
