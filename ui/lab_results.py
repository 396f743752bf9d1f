"""The lab's results: the last run's outcome, confusion matrix, mistakes, history, downloads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnlab.plots import confusion_figure
from cnnlab.runs import RunRecord
from ui.lab_live import draw_run_curves
from ui.lab_state import cached_dataset, display_label, history
from ui.lang import t
from ui.layout import term

MAX_MISTAKES = 24


def outcome(record: RunRecord) -> None:
    """Say how the run ended, in one message."""
    accuracy = record.test_accuracy
    if record.status == "finished":
        st.success(t("lab.outcome.finished", label=display_label(record), acc=f"{100 * (accuracy or 0):.2f}"),
                   icon=":material/check_circle:")  # fmt: skip
    elif record.status == "stopped":
        st.info(t("lab.outcome.stopped", label=display_label(record), steps=len(record.steps)),
                icon=":material/stop_circle:")  # fmt: skip
    elif record.status == "diverged":
        last = record.last_finite_loss
        st.error(t("lab.outcome.diverged", label=display_label(record), lr=f"{record.config.lr:g}",
                   last=f"{last:.4f}" if last is not None else "—", step=len(record.steps) + 1),
                 icon=":material/warning:")  # fmt: skip
    else:
        reason = t(record.error.key, **record.error.params) if record.error else "—"
        st.error(
            t("lab.outcome.failed", label=display_label(record), reason=reason),
            icon=":material/error:",
        )


def _select_cell() -> None:
    """Chart-click callback: copy the clicked confusion-matrix cell into the two selectboxes."""
    event = st.session_state.get("lab_confusion")
    points = event.selection.points if event and event.selection else []
    if points:
        st.session_state["lab_true_class"] = str(points[0]["y"])
        st.session_state["lab_pred_class"] = str(points[0]["x"])


def confusion_and_mistakes(record: RunRecord) -> None:
    matrix = record.confusion_matrix()
    if matrix is None:
        return
    st.subheader(term("confusion_matrix", capital=True))
    st.caption(t("lab.confusion_title"))
    labels = {"title": t("lab.confusion_title"), "x": t("lab.predicted"), "y": t("lab.true"),
              "hover": t("lab.confusion_hover")}  # fmt: skip
    st.plotly_chart(confusion_figure(matrix, record.classes, labels), width="stretch",
                    key="lab_confusion", on_select=_select_cell, selection_mode="points")  # fmt: skip

    any_label = t("lab.any_class")
    options = [any_label, *record.classes]
    st.caption(t("lab.confusion_help"))
    c1, c2 = st.columns(2)
    true_name = c1.selectbox(t("lab.true"), options, key="lab_true_class")
    pred_name = c2.selectbox(t("lab.predicted"), options, key="lab_pred_class")
    true_class = None if true_name not in record.classes else record.classes.index(true_name)
    pred_class = None if pred_name not in record.classes else record.classes.index(pred_name)

    indices = record.misclassified(true_class, pred_class)
    st.markdown(t("lab.mistakes_count", count=len(indices), total=len(record.test_labels)))
    if len(indices) == 0:
        return
    data = cached_dataset(record.config.dataset, record.config.seed)
    shown = indices[:MAX_MISTAKES]
    images = (
        data.denormalize(data.x_test[shown]).permute(0, 2, 3, 1).numpy()
    )  # (N,C,H,W)->(N,H,W,C)
    if images.shape[-1] == 1:
        images = images[..., 0]
    captions = [
        t("lab.mistake_caption", true=record.classes[record.test_labels[i]],
          pred=record.classes[record.test_predictions[i]])
        for i in shown
    ]  # fmt: skip
    st.image([np.kron(img, np.ones((3, 3) + img.shape[2:])) for img in images], caption=captions,
             clamp=True)  # fmt: skip


def _select_new_runs(run_ids: list[int]) -> None:
    """Add runs the overlay has not offered before to its selection (the last three at first).

    The multiselect keeps the learner's choice across reruns. A run that just finished is
    added once, so the history shows it and runs the learner removed stay removed.
    """
    offered = st.session_state.setdefault("lab_overlay_offered", [])
    new = [run_id for run_id in run_ids if run_id not in offered]
    if not new:
        return
    chosen = [run_id for run_id in st.session_state.get("lab_overlay", []) if run_id in run_ids]
    st.session_state["lab_overlay"] = (chosen + new)[-3:] if not offered else chosen + new
    offered.extend(new)


def history_panel() -> None:
    """Compare the session's last runs: overlaid curves and a table of their configs."""
    runs = list(history())
    if not runs:
        return
    st.subheader(t("lab.history_title"))
    by_id = {r.run_id: r for r in runs}
    _select_new_runs(list(by_id))
    chosen = st.multiselect(t("lab.overlay"), list(by_id), key="lab_overlay",
                            format_func=lambda run_id: display_label(by_id[run_id]))  # fmt: skip
    selected = [by_id[run_id] for run_id in chosen if run_id in by_id]
    if selected:
        draw_run_curves([(display_label(r), r.steps, r.epochs) for r in selected], "lab_history")
    st.dataframe(pd.DataFrame([_config_row(r) for r in runs]), hide_index=True, width="stretch")
    _downloads(runs)


def _config_row(r: RunRecord) -> dict:
    c = r.config
    blocks = " → ".join(f"{b.out_channels}{'+BN' if b.batch_norm else ''}" for b in c.model.blocks)
    last = r.epochs[-1] if r.epochs else None
    return {
        t("lab.col.run"): r.label,
        t("lab.col.status"): t(f"lab.status.{r.status}"),
        t("lab.dataset"): _name("lab.dataset_name", c.dataset),
        t("lab.col.blocks"): blocks,
        t("lab.col.optimizer"): _name("lab.optimizer_name", c.optimizer),
        t("lab.col.lr"): f"{c.lr:g}",
        t("lab.col.batch"): c.batch_size,
        t("lab.epochs"): c.epochs,
        t("lab.col.schedule"): _name("lab.schedule_name", c.schedule),
        t("lab.shift"): c.shift_augment,
        t("lab.col.test_acc"): f"{100 * last.test_acc:.2f} %" if last else "—",
        t("lab.col.seconds"): f"{last.seconds:.1f}" if last else "—",
    }


def _name(prefix: str, value: str) -> str:
    """Translate ``{prefix}.{value}``; a value without a translation is shown as it is."""
    try:
        return t(f"{prefix}.{value}")
    except KeyError:
        return value


def _downloads(runs: list[RunRecord]) -> None:
    by_id = {r.run_id: r for r in runs}
    run_id = st.selectbox(t("lab.download_run"), list(by_id), index=len(by_id) - 1, key="lab_download_run",
                          format_func=lambda i: display_label(by_id[i]))  # fmt: skip
    record = by_id[run_id]
    stem = f"cnnlab-run{record.run_id}"
    c1, c2, c3 = st.columns(3)
    if record.model is not None:
        c1.download_button(t("lab.download_model"), record.state_dict_bytes(), f"{stem}-state_dict.pt",
                           mime="application/octet-stream", key="lab_dl_model", icon=":material/download:")  # fmt: skip
    c2.download_button(t("lab.download_metrics"), record.metrics_csv(), f"{stem}-metrics.csv",
                       mime="text/csv", key="lab_dl_metrics", icon=":material/download:")  # fmt: skip
    c3.download_button(t("lab.download_config"), record.config_json(), f"{stem}-config.json",
                       mime="application/json", key="lab_dl_config", icon=":material/download:")  # fmt: skip
