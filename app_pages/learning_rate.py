"""Learning rate: the LR range test, and schedules designed, applied and logged."""

import streamlit as st

from cnnlab.optim.lr import (
    RangeTestStudy,
    ScheduleStudy,
    designed_curves,
    range_test_trial,
    schedule_trials,
)
from cnnlab.optim.plots import schedules_figure
from cnnlab.schedules import SCHEDULES
from ui.experiments import experiment_panel, start_experiment
from ui.lang import t
from ui.layout import page_header, term
from ui.optim_common import budget_caption, seed_input, start_button, summarize_runs
from ui.optim_lr import BASE_LRS, range_test_result, schedule_result

page_header("optim_lr.title")
st.markdown(t("optim_lr.intro", lr=term("learning_rate"), schedule=term("learning_rate_schedule")))

# ---- 1. The LR range test ----
st.header(t("optim_lr.range_header"))
st.markdown(t("optim_lr.range_text"))
c1, c2, c3, c4 = st.columns(4)
optimizer = c1.selectbox(t("optim.optimizer"), ("sgd", "adam"), key="lr_range_optimizer",
                         format_func=lambda name: t(f"lab.optimizer_name.{name}"))  # fmt: skip
start_lr = c2.select_slider(t("optim_lr.start_lr"), (1e-7, 1e-6, 1e-5, 1e-4), 1e-6, key="lr_range_start",
                            format_func=lambda v: f"{v:g}")  # fmt: skip
end_lr = c3.select_slider(t("optim_lr.end_lr"), (0.1, 0.3, 1.0, 3.0, 10.0), 3.0, key="lr_range_end",
                          format_func=lambda v: f"{v:g}")  # fmt: skip
sweep_steps = c4.select_slider(
    t("optim_lr.sweep_steps"), (50, 100, 200, 300, 400), 200, key="lr_range_steps"
)
study = RangeTestStudy(start_lr=start_lr, end_lr=end_lr, steps=sweep_steps, optimizer=optimizer)
st.caption(t("optim_lr.range_budget", steps=sweep_steps, batch=study.batch_size))
if start_button("lr_range_start_run", "lr_range", "optim_lr.range_start"):
    start_experiment(
        "lr_range", [range_test_trial(study, t("optim_lr.run_range", optimizer=optimizer))]
    )
    st.rerun()
experiment_panel("lr_range", on_done=range_test_result)

# ---- 2. Schedules ----
st.header(t("optim_lr.sched_header"))
st.markdown(t("optim_lr.sched_text"))
s0, s1, s2, s3 = st.columns(4)
sched_subset = s0.select_slider(t("optim.subset"), (250, 500, 1000, 2000), 1000, key="lr_subset")
base_lr = s1.select_slider(t("optim_lr.base_lr"), BASE_LRS, 3e-3, key="lr_base", format_func=lambda v: f"{v:g}",
                           help=t("optim_lr.base_lr_help"))  # fmt: skip
epochs = s2.slider(t("optim.epochs"), 1, 10, 3, key="lr_epochs")
with s3:
    seed = seed_input("lr_seed")
names = st.multiselect(t("optim_lr.schedules"), SCHEDULES, default=list(SCHEDULES), key="lr_schedules",
                       format_func=lambda name: t(f"lab.schedule_name.{name}"))  # fmt: skip
schedule_study = ScheduleStudy(base_lr=base_lr, epochs=epochs, subset=sched_subset, seed=seed)
curves = designed_curves(names, schedule_study.steps, base_lr)
labels = {"title": t("optim_lr.designed_title"), "x": t("lab.chart.step"), "y": t("optim.lr")}
named_curves = {t(f"lab.schedule_name.{name}"): rates for name, rates in curves.items()}
st.plotly_chart(schedules_figure(named_curves, labels), width="stretch", key="lr_designed_chart")
st.markdown(t("optim_lr.sched_explain"))

budget_caption(schedule_study.steps, schedule_study.batch_size, seed, schedule_study.subset)
if not names:
    st.info(t("optim_lr.pick_schedule"))
elif start_button("lr_sched_start", "lr_sched"):
    display = {name: t(f"lab.schedule_name.{name}") for name in names}
    start_experiment("lr_sched", schedule_trials(schedule_study, names, display))
    st.session_state["lr_sched_plan"] = (list(names), schedule_study.steps, base_lr)
    st.rerun()


def _schedules_done(records) -> None:
    plan_names, plan_steps, plan_lr = st.session_state.get(
        "lr_sched_plan", (names, schedule_study.steps, base_lr)
    )
    schedule_result(records, plan_names, plan_steps, plan_lr)
    summarize_runs(records)


experiment_panel("lr_sched", on_done=_schedules_done)
