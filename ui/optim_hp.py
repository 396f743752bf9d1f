"""The hyper-parameter search page's moving parts: the job, its live view, its plots and the
hand-over of the best configuration to the training lab."""

from __future__ import annotations

import optuna
import pandas as pd
import streamlit as st

from cnnlab.optim.hpsearch import HyperSearchJob, SearchConfig, SearchSnapshot, TrialRow
from ui.lab_live import POLL_SECONDS
from ui.lab_settings import reset_blocks
from ui.lab_state import cached_dataset, server_slots, session_lease
from ui.lang import current_language, t

JOB_KEY = "hp_job"
FIGURES_KEY = "hp_figures"  # (finished trial count, figures) so plots are rebuilt only on change
PARAMS = ("lr", "weight_decay", "batch_size", "width")


def start_search(config: SearchConfig) -> None:
    """Start a search in the background, stopping this session's previous one."""
    old = st.session_state.get(JOB_KEY)
    if old is not None:
        old.stop()
    job = HyperSearchJob(config, lambda: cached_dataset("mnist-5k", 0), server_slots())
    st.session_state[JOB_KEY] = job
    st.session_state.pop(FIGURES_KEY, None)
    session_lease().watch(job)
    job.start()


def current_search() -> HyperSearchJob | None:
    job = st.session_state.get(JOB_KEY)
    if job is not None:
        job.touch()
        session_lease().watch(job)
    return job


def _params_text(params: dict) -> str:
    return ", ".join(f"{t(f'optim_hp.param.{name}')} {params[name]:g}" if name != "width"
                     else f"{t(f'optim_hp.param.{name}')} {t(f'lab.preset_name.{params[name]}')}"
                     for name in PARAMS)  # fmt: skip


def trials_table(snapshot: SearchSnapshot) -> pd.DataFrame:
    rows = []
    for row in snapshot.trials:
        rows.append({
            t("optim_hp.col.trial"): row.number,
            t("optim_hp.col.state"): t(f"optim_hp.state.{row.state}"),
            t("optim_hp.col.accuracy"): round(100 * row.value, 2) if row.value is not None else None,
            t("optim_hp.col.epochs"): len(row.accuracies),
            **{t(f"optim_hp.param.{name}"): str(row.params[name]) for name in PARAMS},
            t("optim_hp.col.seconds"): round(row.seconds, 1),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _history_figure(study: optuna.Study):
    figure = optuna.visualization.plot_optimization_history(
        study, target_name=t("optim_hp.col.accuracy")
    )
    figure.update_layout(title=t("optim_hp.history_title"), xaxis_title=t("optim_hp.col.trial"),
                         yaxis_title=t("optim_hp.objective"))  # fmt: skip
    for trace in figure.data:
        best = "Best" in (trace.name or "")  # optuna names its running-best line "Best Value"
        trace.name = t("optim_hp.history_best") if best else t("optim_hp.history_value")
    return figure


def _parallel_figure(study: optuna.Study, names: dict[str, str]):
    figure = optuna.visualization.plot_parallel_coordinate(
        study, target_name=t("optim_hp.objective")
    )
    # optuna 5 draws the axes as scatter traces and names them in the x-axis tick texts.
    ticks = figure.layout.xaxis.ticktext
    if ticks:
        figure.update_xaxes(ticktext=[names.get(tick, tick) for tick in ticks])
    figure.update_layout(title=t("optim_hp.parallel_title"))
    return figure


def _importance_figure(study: optuna.Study, names: dict[str, str]):
    try:
        figure = optuna.visualization.plot_param_importances(study)
    except (RuntimeError, ValueError):
        return None  # fewer than two finished trials, or no variation yet
    if not figure.data:
        return None
    for trace in figure.data:
        if trace.type == "bar":
            trace.y = tuple(names.get(name, name) for name in trace.y)
    figure.update_layout(title=t("optim_hp.importance_title"), xaxis_title=t("optim_hp.importance_x"),
                         yaxis_title="")  # fmt: skip
    return figure


def _figures(job: HyperSearchJob, finished: int) -> list:
    """Return the study's figures, rebuilt only when the number of finished trials changed."""
    cached = st.session_state.get(FIGURES_KEY)
    if cached is not None and cached[0] == finished:
        return cached[1]

    names = {name: t(f"optim_hp.param.{name}") for name in PARAMS}
    figures = [_history_figure(job.study), _parallel_figure(job.study, names)]
    importance = _importance_figure(job.study, names)
    if importance is not None:
        figures.append(importance)
    st.session_state[FIGURES_KEY] = (finished, figures)
    return figures


def search_view(snapshot: SearchSnapshot, job: HyperSearchJob) -> None:
    """Progress, the trials table and the three Optuna plots."""
    done = [row for row in snapshot.trials if row.state != "running"]
    if snapshot.state == "queued":
        st.info(
            t("lab.queued", position=snapshot.queue_position or 1), icon=":material/hourglass_top:"
        )
    elif snapshot.alive:
        fraction = (len(done) + snapshot.step / max(1, snapshot.total_steps)) / snapshot.n_trials
        st.progress(min(1.0, fraction), text=t("optim_hp.progress", done=len(done), total=snapshot.n_trials,
                                                step=snapshot.step, steps=snapshot.total_steps))  # fmt: skip
    if snapshot.trials:
        st.dataframe(trials_table(snapshot), hide_index=True, width="stretch")
    finished = len([row for row in done if row.state in ("complete", "pruned")])
    if finished == 0:
        return
    figures = _figures(job, finished)
    columns = st.columns(2)
    for index, figure in enumerate(figures):
        target = columns[index % 2] if index < 2 else st
        target.plotly_chart(figure, width="stretch", key=f"hp_figure_{index}")


def live_search() -> None:
    """Poll this session's search twice a second while it runs."""
    job = current_search()
    interval = POLL_SECONDS if job is not None and job.alive else None

    @st.fragment(run_every=interval)
    def _live() -> None:
        job = current_search()
        if job is None:
            return
        snapshot = job.snapshot()
        if interval is not None and not job.alive:
            st.rerun()  # the search ended: redraw the page once, which also stops polling
        if snapshot.alive:
            st.button(t("lab.stop"), key="hp_stop", on_click=job.stop, icon=":material/stop:")
        search_view(snapshot, job)

    _live()


def best_trial_panel(best: TrialRow, epochs: int) -> None:
    """Show the best configuration and a button that opens the lab with it."""
    st.success(t("optim_hp.best", number=best.number, accuracy=f"{100 * best.value:.2f}",
                 params=_params_text(best.params)), icon=":material/emoji_events:")  # fmt: skip
    if st.button(t("optim_hp.send"), key="hp_send", type="primary", icon=":material/send:"):
        send_to_lab(best.params, epochs)


def send_to_lab(params: dict, epochs: int) -> None:
    """Set the training lab's widgets to ``params`` and switch to the lab."""
    st.session_state.update({
        "lab_dataset": "mnist-5k", "lab_preset": params["width"], "lab_hidden": 0,
        "lab_optimizer": "adam", "lab_lr": params["lr"], "lab_batch": params["batch_size"],
        "lab_weight_decay": params["weight_decay"], "lab_epochs": epochs, "lab_schedule": "constant",
        "lab_shift": 0, "lab_smoothing": 0.0,
    })  # fmt: skip
    reset_blocks(params["width"])  # show the preset's own blocks
    st.switch_page("app_pages/lab.py", query_params={"lang": current_language()})
