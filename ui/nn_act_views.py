"""The dead-ReLU and softmax-temperature sections of the activation-function lesson."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.activations import dead_relu_share, softmax_with_temperature
from cnnlab.nnbasics.plots import bar_figure
from ui.lang import t
from ui.layout import show_error, term
from ui.nn_controls import class_names, logits_input


def dead_relu_section() -> None:
    """Draw a linear layer with an adjustable bias and count the ReLU units that never fire."""
    st.header(t("nn_act.dead_header"))
    st.markdown(t("nn_act.dead_text", relu=term("relu")))
    bias = st.slider(t("nn_act.bias"), -5.0, 2.0, -1.5, 0.25, key="act_bias")
    result = dead_relu_share(bias)

    left, right = st.columns([1, 2])
    left.metric(t("nn_act.dead_units"), f"{result.dead_share:.0%}")
    left.caption(t("nn_act.dead_units_help", mean=f"{result.pre_activation_mean:.2f}"))
    rates = np.sort(result.active_rate)
    right.plotly_chart(
        bar_figure(
            [str(i + 1) for i in range(rates.size)], rates, t("nn_act.active_rate_title"),
            t("nn_act.active_rate_axis"), y_range=(0, 1.05), text_format=".0%",
        ),
        width="stretch", key="act_dead_bars",
    )  # fmt: skip
    st.markdown(t("nn_act.dead_lesson"))


def softmax_section() -> None:
    """Draw editable logits and a temperature, and the resulting softmax probabilities."""
    st.header(t("nn_act.softmax_header"))
    st.markdown(t("nn_act.softmax_text", softmax=term("softmax"), logit=term("logit")))
    left, right = st.columns([1, 2])
    with left:
        logits = logits_input(t("nn_act.logits"), "act_logits", "2, 1, 0.1, -1")
        temperature = st.slider(
            t("nn_act.temperature"), 0.1, 10.0, 1.0, 0.1, key="act_temperature",
            help=t("nn_act.temperature_help"),
        )  # fmt: skip
    try:
        probs = softmax_with_temperature(logits, temperature)
    except LocalizedError as err:
        show_error(err)
        return
    with left:
        st.latex(r"p_k = \frac{e^{z_k / T}}{\sum_j e^{z_j / T}}")
        st.markdown(t("nn_act.softmax_max", p=f"{probs.max():.4f}", k=int(np.argmax(probs))))
    right.plotly_chart(
        bar_figure(class_names(logits.size), probs, t("nn_act.softmax_title", T=f"{temperature:g}"),
                   t("nn_act.probability"), y_range=(0, 1.1), text_format=".3f"),
        width="stretch", key="act_softmax_bars",
    )  # fmt: skip
    st.markdown(t("nn_act.softmax_lesson"))
