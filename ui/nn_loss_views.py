"""The label-smoothing and MSE-versus-cross-entropy sections of the loss lesson."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlab.nnbasics.losses import (
    cross_entropy_steps,
    label_smoothing_loss,
    mse_vs_ce_gradients,
    smoothing_curve,
    torch_cross_entropy,
)
from cnnlab.nnbasics.plots import curves_figure, grouped_bar_figure
from ui.lang import t


def smoothing_section(logits: np.ndarray, target: int, names: list[str]) -> None:
    """Draw the label-smoothing control, the smoothed target, and its effect on the loss."""
    st.header(t("nn_loss.smoothing_header"))
    st.markdown(t("nn_loss.smoothing_text"))
    smoothing = st.slider(t("nn_loss.smoothing"), 0.0, 0.5, 0.1, 0.05, key="loss_smoothing")
    smoothed = label_smoothing_loss(logits, target, smoothing)
    plain = cross_entropy_steps(logits, target)

    left, right = st.columns([2, 1])
    left.plotly_chart(
        grouped_bar_figure(
            names, {t("nn_loss.target_q"): smoothed.target_distribution, t("nn_loss.pred_p"): plain.probs},
            t("nn_loss.smoothing_bars"), t("nn_act.probability"),
        ),
        width="stretch", key="loss_smoothing_bars",
    )  # fmt: skip
    with right:
        st.latex(r"q_k = (1 - \varepsilon)\,[k = y] + \frac{\varepsilon}{K}")
        st.latex(r"L = -\sum_k q_k \log p_k")
        st.metric(t("nn_loss.plain_loss"), f"{plain.loss:.6f}")
        st.metric(t("nn_loss.smoothed_loss"), f"{smoothed.loss:.6f}")
        st.caption(
            t("nn_loss.smoothed_torch",
              value=f"{torch_cross_entropy(logits, target, smoothing):.6f}")
        )  # fmt: skip

    gaps = np.linspace(0.0, 15.0, 151)
    curves = {
        t("nn_loss.curve_plain"): smoothing_curve(gaps, logits.size, 0.0),
        t("nn_loss.curve_smoothed", eps=f"{smoothing:g}"): smoothing_curve(
            gaps, logits.size, smoothing
        ),
    }
    labels = {
        "title": t("nn_loss.curve_title", classes=logits.size),
        "x": t("nn_loss.gap"),
        "y": t("nn_loss.loss"),
    }
    st.plotly_chart(
        curves_figure(gaps, curves, labels), width="stretch", key="loss_smoothing_curve"
    )
    st.markdown(t("nn_loss.smoothing_lesson"))


def gradient_section() -> None:
    """Compare the gradients of MSE and cross-entropy for a confidently wrong prediction."""
    st.header(t("nn_loss.grad_header"))
    st.markdown(t("nn_loss.grad_text"))
    logit = st.slider(t("nn_loss.wrong_logit"), -10.0, 4.0, -6.0, 0.5, key="loss_wrong_logit")
    point = mse_vs_ce_gradients(np.array([logit]))

    prob, mse, ce = st.columns(3)
    prob.metric(t("nn_loss.prob_true"), f"{point.prob[0]:.4f}")
    mse.metric(t("nn_loss.mse_grad"), f"{point.mse_grad[0]:.6f}")
    ce.metric(t("nn_loss.ce_grad"), f"{point.ce_grad[0]:.6f}")
    st.latex(
        r"\frac{\partial}{\partial z}(p - 1)^2 = 2\,(p - 1)\,p\,(1 - p), \qquad "
        r"\frac{\partial}{\partial z}\bigl(-\log p\bigr) = p - 1, \qquad p = \sigma(z)"
    )

    z = np.linspace(-10.0, 10.0, 401)
    curve = mse_vs_ce_gradients(z)
    curves = {t("nn_loss.mse_grad"): curve.mse_grad, t("nn_loss.ce_grad"): curve.ce_grad}
    labels = {"title": t("nn_loss.grad_title"), "x": t("nn_loss.logit_axis"), "y": "∂L/∂z"}
    st.plotly_chart(
        curves_figure(z, curves, labels, marker_x=logit), width="stretch", key="loss_grad_curve"
    )
    st.markdown(t("nn_loss.grad_lesson"))
