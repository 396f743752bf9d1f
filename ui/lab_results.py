"""The lab's results: the last run's outcome, confusion matrix, mistakes, history, downloads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnlab.plots import confusion_figure
from cnnlab.runs import RunRecord
from ui.lab_live import draw_run_curves
from ui.lab_state import cached_dataset, history
from ui.lang import t
from ui.layout import term

MAX_MISTAKES = 24


def outcome(record: RunRecord) -> None:
    """Say how the run ended, in one message."""
    accuracy = record.test_accuracy
    if record.status == "finished":
        st.success(t("lab.outcome.finished", label=record.label, acc=f"{100 * (accuracy or 0):.2f}"),
                   icon=":material/check_circle:")  # fmt: skip
    elif record.status == "stopped":
        st.info(t("lab.outcome.stopped", label=record.label, steps=len(record.steps)),
                icon=":material/stop_circle:")  # fmt: skip
    elif record.status == "diverged":
        last = record.last_finite_loss
        st.error(t("lab.outcome.diverged", label=record.label, lr=f"{record.config.lr:g}",
                   last=f"{last:.4f}" if last is not None else "—", step=len(record.steps) + 1),
                 icon=":material/warning:")  # fmt: skip
    else:
        reason = t(record.error.key, **record.error.params) if record.error else "—"
        st.error(
            t("lab.outcome.failed", label=record.label, reason=reason), icon=":material/error:"
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


def history_panel() -> None:
    """Compare the session's last runs: overlaid curves and a table of their configs."""
    runs = list(history())
    if not runs:
        return
    st.subheader(t("lab.history_title"))
    labels = [r.label for r in runs]
    chosen = st.multiselect(t("lab.overlay"), labels, default=labels[-3:], key="lab_overlay")
    selected = [r for r in runs if r.label in chosen]
    if selected:
        draw_run_curves([(r.label, r.steps, r.epochs) for r in selected], "lab_history")
    st.dataframe(pd.DataFrame([_config_row(r) for r in runs]), hide_index=True, width="stretch")
    _downloads(runs)


def _config_row(r: RunRecord) -> dict:
    c = r.config
    blocks = " → ".join(f"{b.out_channels}{'+BN' if b.batch_norm else ''}" for b in c.model.blocks)
    last = r.epochs[-1] if r.epochs else None
    return {
        t("lab.col.run"): r.label,
        t("lab.col.status"): t(f"lab.status.{r.status}"),
        t("lab.dataset"): c.dataset,
        t("lab.col.blocks"): blocks,
        t("lab.col.optimizer"): c.optimizer,
        t("lab.col.lr"): f"{c.lr:g}",
        t("lab.col.batch"): c.batch_size,
        t("lab.epochs"): c.epochs,
        t("lab.col.schedule"): c.schedule,
        t("lab.shift"): c.shift_augment,
        t("lab.col.test_acc"): f"{100 * last.test_acc:.2f} %" if last else "—",
        t("lab.col.seconds"): f"{last.seconds:.1f}" if last else "—",
    }


def _downloads(runs: list[RunRecord]) -> None:
    labels = [r.label for r in runs]
    label = st.selectbox(
        t("lab.download_run"), labels, index=len(labels) - 1, key="lab_download_run"
    )
    record = runs[labels.index(label)]
    stem = f"cnnlab-run{record.run_id}"
    c1, c2, c3 = st.columns(3)
    if record.model is not None:
        c1.download_button(t("lab.download_model"), record.state_dict_bytes(), f"{stem}-state_dict.pt",
                           mime="application/octet-stream", key="lab_dl_model", icon=":material/download:")  # fmt: skip
    c2.download_button(t("lab.download_metrics"), record.metrics_csv(), f"{stem}-metrics.csv",
                       mime="text/csv", key="lab_dl_metrics", icon=":material/download:")  # fmt: skip
    c3.download_button(t("lab.download_config"), record.config_json(), f"{stem}-config.json",
                       mime="application/json", key="lab_dl_config", icon=":material/download:")  # fmt: skip
