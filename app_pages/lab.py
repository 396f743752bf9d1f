"""Training lab: configure a small CNN, train it live, and study the result."""

import streamlit as st

from cnnlab.datasets import dataset_shape
from cnnlab.models import with_input
from ui.lab_live import draw_curves, live_panel
from ui.lab_results import confusion_and_mistakes, history_panel, outcome
from ui.lab_settings import model_summary, run_labels, settings_panel
from ui.lab_state import current_job, display_label, history, server_slots, start_job
from ui.lang import t

st.title(t("lab.title"))
st.markdown(t("lab.intro"))

settings_column, main_column = st.columns([1.3, 2], gap="medium")

# 1. Settings: data, model, optimizer. The model summary updates as the fields change.
with settings_column:
    config = settings_panel()
    channels, size, classes = dataset_shape(config.dataset)
    config.model = with_input(config.model, channels, size, classes)
    with st.container(border=True):
        valid = model_summary(config.model)

# 2. Start a run. Starting again replaces this session's running job.
with main_column:
    job = current_job()
    running = job is not None and job.alive
    slots = server_slots()
    labels = run_labels(config)
    if st.button(t("lab.restart") if running else t("lab.start"), key="lab_start", type="primary",
                 icon=":material/play_arrow:", disabled=not valid, width="stretch"):  # fmt: skip
        start_job(config, labels)
        st.rerun()
    st.caption(
        t("lab.server_load", running=slots.running, capacity=slots.capacity, waiting=slots.waiting)
    )

    # 3. Live: progress and curves, polled twice a second while a job is alive.
    live_panel()

    # 4. The latest finished run: outcome, curves, confusion matrix, mistakes.
    latest = history().latest
    if latest is not None and current_job() is None:
        outcome(latest)
        draw_curves(latest.steps, latest.epochs, display_label(latest), "lab_latest")
        confusion_and_mistakes(latest)
    elif latest is None and current_job() is None:
        st.info(t("lab.empty"), icon=":material/info:")

# 5. The session's last runs, compared.
history_panel()
