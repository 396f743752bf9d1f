"""Results of the learning-rate lesson: the range-test plot and the logged learning rates."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from cnnlab.optim.lr import analyze_range_test, designed_curves, max_lr_deviation, snap_to
from cnnlab.optim.plots import loss_and_lr_figure, lr_range_figure
from cnnlab.runs import RunRecord
from ui.lang import t

BASE_LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)


def _use_suggestion(rate: float) -> None:
    st.session_state["lr_base"] = snap_to(rate, BASE_LRS)


def range_test_result(records: list[RunRecord]) -> None:
    """Plot loss against learning rate and mark the suggestions."""
    steps = records[0].steps if records else []
    result = analyze_range_test([s.lr for s in steps], [s.loss for s in steps])
    if result.steepest_lr is None:
        st.warning(t("optim_lr.range_too_short"))
        return
    marks = {
        t("optim_lr.mark_steepest"): result.steepest_lr,
        t("optim_lr.mark_min10"): result.min_over_10,
    }
    labels = {"title": t("optim_lr.range_title"), "x": t("optim.lr"), "y": t("lab.chart.loss_y"),
              "raw": t("lab.chart.raw"), "smoothed": t("lab.chart.smoothed")}  # fmt: skip
    figure = lr_range_figure(result.rates, result.losses, result.smoothed, marks, labels)
    st.plotly_chart(figure, width="stretch", key="lr_range_chart")
    st.markdown(t("optim_lr.range_result", steepest=f"{result.steepest_lr:.2g}",
                  minimum=f"{result.min_loss_lr:.2g}", min10=f"{result.min_over_10:.2g}",
                  kept=result.cut, total=len(steps)))  # fmt: skip
    st.caption(t("optim_lr.range_caption"))
    snapped = snap_to(result.steepest_lr, BASE_LRS)
    st.button(t("optim_lr.use_suggestion", lr=f"{snapped:g}"), key="lr_use_suggestion",
              on_click=_use_suggestion, args=(result.steepest_lr,), icon=":material/south:")  # fmt: skip


def schedule_result(records: list[RunRecord], names: list[str], steps: int, base_lr: float) -> None:
    """Draw loss over the learning rate actually logged, and check it against the design.

    ``records`` are the runs of ``names`` in order (a stopped experiment has fewer).
    """
    designed = designed_curves(names, steps, base_lr)
    runs, designed_by_label, check = {}, {}, []
    for record, name in zip(records, names, strict=False):
        runs[record.label] = ([s.step for s in record.steps], [s.loss for s in record.steps],
                              [s.lr for s in record.steps])  # fmt: skip
        designed_by_label[record.label] = designed[name]
        deviation = max_lr_deviation(record.steps, designed[name])
        check.append({
            t("exp.col.run"): record.label,
            t("optim_lr.col.steps"): len(record.steps),
            t("optim_lr.col.deviation"): f"{deviation:.1e}" if math.isfinite(deviation) else "∞",
        })  # fmt: skip
    labels = {"title": t("optim_lr.used_title"), "x": t("lab.chart.step"), "loss": t("lab.chart.loss_y"),
              "lr": t("optim.lr"), "logged": t("optim_lr.logged"), "designed": t("optim_lr.designed")}  # fmt: skip
    figure = loss_and_lr_figure(runs, designed_by_label, labels)
    st.plotly_chart(figure, width="stretch", key="lr_used_chart")
    st.caption(t("optim_lr.used_caption"))
    st.dataframe(pd.DataFrame(check), hide_index=True, width="stretch")
