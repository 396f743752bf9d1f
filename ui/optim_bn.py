"""Sections of the BatchNorm lesson: activation statistics, train vs eval, folding."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from torch import nn

from cnnlab.optim.batchnorm import (
    batchnorm_by_hand,
    check_against_torch,
    first_batchnorm_input,
    fold_and_compare,
    warmed_up_model,
)
from cnnlab.optim.plots import layer_stats_figure
from ui.experiments import experiment_records
from ui.lab_state import cached_dataset, display_label
from ui.lang import t

RECORDERS_KEY = "bn_recorders"
FOLD_KEY = "bn_fold_report"


@st.cache_resource(show_spinner=False, max_entries=2)
def _warmed_up(seed: int) -> nn.Module:
    # Read-only: callers run it in eval mode or copy it.
    return warmed_up_model(cached_dataset("mnist-5k", 0), seed=seed)


def lesson_model() -> tuple[nn.Module, str]:
    """Return the BatchNorm model the lesson inspects and a caption saying where it is from:
    the trained run of the comparison when there is one, else a freshly initialized model."""
    for record in reversed(experiment_records("bn") or []):
        if record.model is not None and any(
            isinstance(m, nn.BatchNorm2d) for m in record.model.modules()
        ):
            return record.model, t("optim_bn.model_trained", label=display_label(record))
    return _warmed_up(0), t("optim_bn.model_fresh")


def activation_stats() -> None:
    """Draw the recorded per-layer pre-activation mean and std of the last comparison."""
    recorders = st.session_state.get(RECORDERS_KEY)
    if not recorders:
        return
    runs = {label: recorder.rows() for label, recorder in recorders.items()}
    labels = {"title": t("optim_bn.stats_title"), "x": t("lab.chart.step"),
              "mean": t("optim_bn.stats_mean"), "std": t("optim_bn.stats_std")}  # fmt: skip
    st.plotly_chart(layer_stats_figure(runs, labels), width="stretch", key="bn_stats_chart")
    st.caption(t("optim_bn.stats_caption"))


def train_vs_eval() -> None:
    """Run the first BatchNorm layer on one test batch in both modes, with the numbers."""
    model, source = lesson_model()
    st.caption(source)
    data = cached_dataset("mnist-5k", 0)
    c1, c2 = st.columns(2)
    batch = c1.select_slider(
        t("optim_bn.mode_batch"), (1, 2, 4, 8, 16, 64, 256), 8, key="bn_mode_batch"
    )
    bn, x = first_batchnorm_input(model, data.x_test[:batch])
    channel = c2.slider(
        t("optim_bn.mode_channel"), 0, bn.num_features - 1, 0, key="bn_mode_channel"
    )
    report = batchnorm_by_hand(bn, x)
    train_diff, eval_diff = check_against_torch(bn, x, report)

    c = channel
    frame = pd.DataFrame({
        t("optim_bn.col.quantity"): [t("optim_bn.q.batch_mean"), t("optim_bn.q.batch_var"),
                                     t("optim_bn.q.running_mean"), t("optim_bn.q.running_var"),
                                     t("optim_bn.q.next_mean"), t("optim_bn.q.next_var"),
                                     "γ", "β"],
        t("optim_bn.col.value"): [report.batch_mean[c], report.batch_var[c], report.running_mean[c],
                                  report.running_var[c], report.next_running_mean[c],
                                  report.next_running_var[c], report.weight[c], report.bias[c]],
    })  # fmt: skip
    frame[t("optim_bn.col.value")] = frame[t("optim_bn.col.value")].map(
        lambda v: round(float(v), 5)
    )
    left, right = st.columns([2, 3])
    left.dataframe(frame, hide_index=True, width="stretch")
    center = x.shape[-1] // 2
    value = float(x[0, c, center, center])
    with right:
        st.markdown(t("optim_bn.mode_pixel", size=x.shape[-1], row=center, col=center))
        st.latex(
            _formula("train", value, report.batch_mean[c], report.batch_var[c], report, c, center)
        )
        st.latex(
            _formula(
                "eval", value, report.running_mean[c], report.running_var[c], report, c, center
            )
        )
        gap = (report.train_output - report.eval_output)[:, c].abs().mean().item()
        st.metric(t("optim_bn.mode_gap"), f"{gap:.4f}")
    st.caption(t("optim_bn.mode_check", train=f"{train_diff:.1e}", eval=f"{eval_diff:.1e}"))


def _formula(mode: str, x: float, mean, var, report, c: int, center: int) -> str:
    output = report.train_output if mode == "train" else report.eval_output
    y = float(output[0, c, center, center])
    gamma, beta = float(report.weight[c]), float(report.bias[c])
    return (rf"\text{{{t('optim_bn.mode_' + mode)}}}:\ y = {gamma:.3f}\cdot"
            rf"\frac{{{x:.3f} - ({float(mean):.3f})}}{{\sqrt{{{float(var):.4f} + 10^{{-5}}}}}}"
            rf" + ({beta:.3f}) = {y:.4f}")  # fmt: skip


def folding() -> None:
    """Fold the model's BatchNorm layers into their convolutions, check and time it."""
    model, source = lesson_model()
    st.caption(source)
    if st.button(t("optim_bn.fold_run"), key="bn_fold_run", icon=":material/compress:"):
        data = cached_dataset("mnist-5k", 0)
        with st.spinner(t("optim_bn.fold_running")):
            st.session_state[FOLD_KEY] = fold_and_compare(model, data.x_test[:256], repeats=21)
    report = st.session_state.get(FOLD_KEY)
    if report is None:
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(t("optim_bn.fold_pairs"), report.pairs)
    c2.metric(t("optim_bn.fold_diff"), f"{report.max_abs_diff:.1e}",
              help=t("optim_bn.fold_diff_help", tolerance=f"{report.tolerance:.0e}"))  # fmt: skip
    c3.metric(t("optim_bn.fold_time"), f"{report.folded_ms:.2f} ms",
              delta=f"{-report.saved_percent:.0f} %", delta_color="inverse")  # fmt: skip
    c4.metric(t("optim_bn.fold_params"), f"{report.parameters_after:,}",
              delta=f"{report.parameters_after - report.parameters_before:,}", delta_color="inverse")  # fmt: skip
    verdict = "optim_bn.fold_ok" if report.matches else "optim_bn.fold_mismatch"
    st.markdown(t(verdict, diff=f"{report.max_abs_diff:.1e}", tolerance=f"{report.tolerance:.0e}"))
    st.caption(t("optim_bn.fold_timing", original=f"{report.original_ms:.2f}", folded=f"{report.folded_ms:.2f}",
                 batch=report.batch_size, repeats=report.repeats))  # fmt: skip
