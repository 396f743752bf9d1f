"""The lab's live panel: run controls, progress and curves, polled while a job is alive."""

from __future__ import annotations

import streamlit as st

from cnnlab.jobs import JobSnapshot
from cnnlab.plots import accuracy_chart, loss_chart
from ui.lab_state import collect_finished_job, current_job
from ui.lang import t

POLL_SECONDS = 0.5
MAX_RAW_POINTS = 1500  # thin the per-step curve beyond this, so each update stays small


def loss_labels() -> dict[str, str]:
    return {"title": t("lab.chart.loss"), "x": t("lab.chart.step"), "y": t("lab.chart.loss_y"),
            "raw": t("lab.chart.raw"), "smoothed": t("lab.chart.smoothed")}  # fmt: skip


def accuracy_labels() -> dict[str, str]:
    return {"title": t("lab.chart.accuracy"), "x": t("lab.chart.epoch"),
            "y": t("lab.chart.accuracy_y"), "train": t("lab.chart.train"), "test": t("lab.chart.test")}  # fmt: skip


def _thin(xs: list, ys: list) -> tuple[list, list]:
    stride = max(1, len(xs) // MAX_RAW_POINTS)
    return xs[::stride], ys[::stride]


def draw_run_curves(runs: list[tuple[str, list, list]], key_prefix: str) -> None:
    """Draw loss per step and accuracy per epoch side by side for (name, steps, epochs) runs.

    ``steps`` and ``epochs`` are ``StepMetrics`` and ``EpochMetrics`` lists.
    """
    loss_series, accuracy_series = [], []
    for name, steps, epochs in runs:
        loss_series.append((name, *_thin([s.step for s in steps], [s.loss for s in steps])))
        accuracy_series.append((name, [e.epoch for e in epochs], [e.train_acc for e in epochs],
                                [e.test_acc for e in epochs]))  # fmt: skip
    left, right = st.columns(2)
    loss = loss_chart(loss_series, loss_labels())
    left.vega_lite_chart(loss.data, loss.spec, width="stretch", key=f"{key_prefix}_loss_chart")
    accuracy = accuracy_chart(accuracy_series, accuracy_labels())
    right.vega_lite_chart(
        accuracy.data, accuracy.spec, width="stretch", key=f"{key_prefix}_acc_chart"
    )
    st.caption(t("lab.chart.style_note"))


def draw_curves(snapshot_steps, snapshot_epochs, name: str, key_prefix: str) -> None:
    """Draw one run's curves: loss per step and accuracy per epoch side by side."""
    draw_run_curves([(name, snapshot_steps, snapshot_epochs)], key_prefix)


def _progress(snapshot: JobSnapshot, epochs_planned: int) -> None:
    if snapshot.state == "queued":
        st.info(
            t("lab.queued", position=snapshot.queue_position or 1), icon=":material/hourglass_top:"
        )
        return
    total = max(1, snapshot.total_steps)
    done = snapshot.steps[-1].step if snapshot.steps else 0
    epoch = int(snapshot.steps[-1].epoch) + 1 if snapshot.steps else 1
    epoch = min(epoch, epochs_planned)
    if snapshot.steps and done:
        recent = snapshot.steps[-20:]
        seconds_per_step = (recent[-1].elapsed - recent[0].elapsed) / max(1, len(recent) - 1)
        seconds_per_step = seconds_per_step or snapshot.steps[-1].elapsed / done
        eta = t("lab.eta", seconds=f"{(total - done) * seconds_per_step:.0f}")
    else:
        eta = t("lab.eta_unknown")
    text = t("lab.progress", epoch=epoch, epochs=epochs_planned, step=done, steps=total, eta=eta)
    if snapshot.state == "paused":
        text = t("lab.paused") + " · " + text
    st.progress(min(1.0, done / total), text=text)


def _controls(snapshot: JobSnapshot) -> None:
    job = current_job()
    c1, c2, _ = st.columns([1, 1, 3])
    if snapshot.state == "paused":
        c1.button(
            t("lab.resume"), key="lab_resume", on_click=job.resume, icon=":material/play_arrow:"
        )
    else:
        c1.button(t("lab.pause"), key="lab_pause", on_click=job.pause, icon=":material/pause:",
                  disabled=snapshot.state != "running")  # fmt: skip
    c2.button(
        t("lab.stop"), key="lab_stop", on_click=job.stop, icon=":material/stop:", type="primary"
    )


def live_panel() -> None:
    """Draw the running job (if any); poll twice a second while it is alive."""
    job = current_job()
    interval = POLL_SECONDS if job is not None else None

    @st.fragment(run_every=interval)
    def _live() -> None:
        job = current_job()
        if job is None:
            return
        snapshot = job.snapshot()
        if not job.alive:
            # The thread ended: file the run into the history and redraw the whole page, which
            # also turns this polling off.
            collect_finished_job()
            st.rerun()
        _controls(snapshot)
        _progress(snapshot, job.config.epochs)
        if snapshot.epochs:
            last = snapshot.epochs[-1]
            st.caption(t("lab.last_epoch", epoch=last.epoch, test_acc=f"{100 * last.test_acc:.2f}",
                         train_acc=f"{100 * last.train_acc:.2f}", sps=f"{last.samples_per_s:,.0f}",
                         seconds=f"{last.seconds:.1f}"))  # fmt: skip
        draw_curves(snapshot.steps, snapshot.epochs, t("lab.current_run"), "lab_live")

    _live()
