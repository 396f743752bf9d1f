"""Side-by-side experiments: several short training runs in one background job.

Lesson pages (architectures, optimization tricks) build a list of ``Trial``s, start them
with ``start_experiment`` and draw them with ``experiment_panel``. Finished runs are filed
into the training lab's run history, so they can be compared there too.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from cnnlab.jobs import JobSnapshot, TrainingJob, Trial
from cnnlab.runs import RunRecord, make_record
from ui.lab_live import draw_run_curves
from ui.lab_state import cached_dataset, history, server_slots, session_lease
from ui.lang import t


def _job_key(key: str) -> str:
    return f"{key}_experiment_job"


def _records_key(key: str) -> str:
    return f"{key}_experiment_records"


def start_experiment(
    key: str, trials: list[Trial], dataset: str = "mnist-5k", seed: int = 0
) -> None:
    """Start ``trials`` one after another in the background, replacing ``key``'s last job."""
    old = st.session_state.get(_job_key(key))
    if old is not None:
        old.stop()
    job = TrainingJob(trials, lambda: cached_dataset(dataset, seed), server_slots())
    st.session_state[_job_key(key)] = job
    st.session_state.pop(_records_key(key), None)
    session_lease().watch(job)
    job.start()


def experiment_job(key: str) -> TrainingJob | None:
    job = st.session_state.get(_job_key(key))
    if job is not None:
        job.touch()
        session_lease().watch(job)
    return job


def experiment_records(key: str) -> list[RunRecord] | None:
    """Return the finished experiment's runs (one record per trial that ran), or None."""
    return st.session_state.get(_records_key(key))


def _collect(key: str, job: TrainingJob) -> None:
    snapshot = job.snapshot()
    records = []
    for index, (trial, run) in enumerate(zip(job.trials, snapshot.runs, strict=True)):
        result = job.results[index]
        if result is None:
            continue
        run_id = history().next_id()
        # A trial's prepare_data may change the classes (a fine-tuning target task), so each
        # record is evaluated on the data its trial was tested on.
        data = job.trial_data[index] if job.trial_data[index] is not None else job.data
        record = make_record(run_id, f"#{run_id} {trial.label}", trial.config, result.status,
                             run.steps, run.epochs, result.model, data,
                             last_finite_loss=result.last_finite_loss)  # fmt: skip
        history().add(record)
        records.append(record)
    st.session_state[_records_key(key)] = records
    del st.session_state[_job_key(key)]


def draw_comparison(runs, key: str) -> None:
    """Overlay loss and accuracy curves of several runs (``RunRecord`` or ``RunMetrics``)."""
    draw_run_curves([(r.label, r.steps, r.epochs) for r in runs], f"{key}_cmp")


def comparison_table(records: list[RunRecord]) -> pd.DataFrame:
    """Build one row per run: final train/test accuracy, their gap, training time."""
    rows = []
    for r in records:
        last = r.epochs[-1] if r.epochs else None
        rows.append({
            t("exp.col.run"): r.label,
            t("exp.col.status"): t(f"lab.status.{r.status}"),
            t("exp.col.train_acc"): round(100 * last.train_acc, 2) if last else None,
            t("exp.col.test_acc"): round(100 * last.test_acc, 2) if last else None,
            t("exp.col.gap"): round(100 * (last.train_acc - last.test_acc), 2) if last else None,
            t("exp.col.test_loss"): round(last.test_loss, 4) if last else None,
            t("exp.col.seconds"): round(last.seconds, 1) if last else None,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _progress(snapshot: JobSnapshot) -> None:
    if snapshot.state == "queued":
        st.info(
            t("lab.queued", position=snapshot.queue_position or 1), icon=":material/hourglass_top:"
        )
        return
    run = snapshot.runs[snapshot.current]
    done = run.steps[-1].step if run.steps else 0
    fraction = (snapshot.current + done / max(1, run.total_steps)) / len(snapshot.runs)
    st.progress(min(1.0, fraction), text=t("exp.progress", index=snapshot.current + 1,
                                           count=len(snapshot.runs), label=run.label,
                                           step=done, steps=run.total_steps))  # fmt: skip


def experiment_panel(key: str, on_done: Callable[[list[RunRecord]], None] | None = None) -> None:
    """Draw ``key``'s experiment: live while it runs, then the comparison and ``on_done``."""
    job = experiment_job(key)
    # Slower than the lab's poll: each update redraws several runs' curves, and on a small
    # CPU that drawing competes with the training thread.
    interval = 1.5 if job is not None else None

    @st.fragment(run_every=interval)
    def _live() -> None:
        job = experiment_job(key)
        if job is None:
            return
        if not job.alive:
            _collect(key, job)
            st.rerun()
        snapshot = job.snapshot()
        c1, _ = st.columns([1, 4])
        c1.button(t("lab.stop"), key=f"{key}_exp_stop", on_click=job.stop, icon=":material/stop:")
        _progress(snapshot)
        draw_comparison([r for r in snapshot.runs if r.steps], f"{key}_live")

    _live()
    records = experiment_records(key)
    if records is None or experiment_job(key) is not None:
        return
    if not records:
        st.warning(t("exp.nothing_ran"))
        return
    draw_comparison(records, f"{key}_done")
    st.dataframe(comparison_table(records), hide_index=True, width="stretch")
    if on_done is not None:
        on_done(records)
