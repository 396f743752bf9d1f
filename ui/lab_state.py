"""The training lab's per-session state and server-wide resources.

Per session (``st.session_state``): the current ``TrainingJob`` and the ``RunHistory``.
Per server (``st.cache_resource``): the ``JobSlots`` limit and the loaded datasets.
A session-scoped lease tells running jobs when their browser session has gone.
"""

from __future__ import annotations

import logging

import streamlit as st

from cnnlab.data import LabData
from cnnlab.datasets import load_dataset
from cnnlab.jobs import JobSlots, TrainingJob
from cnnlab.runs import RunHistory, RunRecord, make_record
from cnnlab.training import TrainConfig
from ui.lang import current_language

log = logging.getLogger(__name__)

JOB_KEY = "lab_job"
HISTORY_KEY = "lab_history"
PENDING_KEY = "lab_pending"  # (run_id, {language: label}) of the job in JOB_KEY


@st.cache_resource(show_spinner=False)
def server_slots() -> JobSlots:
    """Return the one ``JobSlots`` shared by every session of this server."""
    return JobSlots()


@st.cache_resource(show_spinner=False, max_entries=8)
def cached_dataset(name: str, seed: int) -> LabData:
    """Load a dataset once per server; callers must not modify its tensors."""
    return load_dataset(name, seed=seed)


class SessionLease:
    """Lives exactly as long as the browser session's connection (scope="session").

    When Streamlit releases it (the tab closed or the network dropped), the session's jobs
    are marked orphaned; they stop after a grace period unless the session reconnects and
    touches them again.
    """

    def __init__(self) -> None:
        self.jobs: list[TrainingJob] = []

    def watch(self, job: TrainingJob) -> None:
        if job not in self.jobs:
            self.jobs.append(job)


def _release_lease(lease: SessionLease) -> None:
    # Runs on the server's event loop: only set flags here.
    for job in lease.jobs:
        job.mark_orphaned()


@st.cache_resource(scope="session", on_release=_release_lease, show_spinner=False)
def session_lease() -> SessionLease:
    return SessionLease()


def history() -> RunHistory:
    if HISTORY_KEY not in st.session_state:
        st.session_state[HISTORY_KEY] = RunHistory()
    return st.session_state[HISTORY_KEY]


def current_job() -> TrainingJob | None:
    """Return this session's job (running or not yet collected) and mark the session alive."""
    job = st.session_state.get(JOB_KEY)
    if job is not None:
        job.touch()
        session_lease().watch(job)
    return job


def start_job(config: TrainConfig, labels: dict[str, str]) -> TrainingJob:
    """Start a job for ``config``, stopping any job this session already runs.

    ``labels`` names the run in each language; the run id is put in front of each.
    """
    old = st.session_state.get(JOB_KEY)
    if old is not None:
        old.stop()
    dataset, seed = config.dataset, config.seed
    job = TrainingJob(config, lambda: cached_dataset(dataset, seed), server_slots())
    run_id = history().next_id()
    st.session_state[JOB_KEY] = job
    st.session_state[PENDING_KEY] = (
        run_id,
        {lang: f"#{run_id} {text}" for lang, text in labels.items()},
    )
    session_lease().watch(job)
    return job.start()


def collect_finished_job() -> RunRecord | None:
    """Move a job that has ended into the history; return its record (None if none ended)."""
    job = st.session_state.get(JOB_KEY)
    if job is None or job.alive:
        return None
    snapshot = job.snapshot()
    pending = st.session_state.get(PENDING_KEY)
    run_id, labels = pending if pending is not None else (history().next_id(), {})
    label = labels.get(current_language(), f"#{run_id}")
    status = "failed" if snapshot.state in ("failed", "cancelled") else snapshot.state
    record = make_record(
        run_id, label, job.config, status, snapshot.steps, snapshot.epochs,
        job.result.model if job.result else None, job.data,
        last_finite_loss=snapshot.last_finite_loss,
    )  # fmt: skip
    record.error = snapshot.error
    record.translations = dict(labels)
    history().add(record)
    del st.session_state[JOB_KEY]
    st.session_state.pop(PENDING_KEY, None)
    return record


def display_label(record: RunRecord) -> str:
    """Return the run's label in the session's language (its start language if no other)."""
    return record.translations.get(current_language(), record.label)


def latest_model():
    """Return the newest trained model of this session (a CPU module in eval mode) or None.

    Other pages use this to show what the lab's network learned; they must not train it.
    """
    return history().latest_model()


def latest_record() -> RunRecord | None:
    for record in reversed(list(history())):
        if record.model is not None and record.status != "diverged":
            return record
    return None
