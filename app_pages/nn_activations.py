"""Activation functions: each function with its autograd derivative, and where gradients die."""

import numpy as np
import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.activations import (
    ACTIVATIONS,
    closed_form_derivative,
    push_distribution,
    saturation_intervals,
    value_and_grad,
)
from cnnlab.nnbasics.plots import (
    DERIVATIVE_COLOR,
    FUNCTION_COLOR,
    function_figure,
    histogram_figure,
)
from ui.lang import t
from ui.layout import page_header, show_error, term
from ui.nn_act_views import dead_relu_section, softmax_section

page_header("nn_act.title")
st.markdown(
    t("nn_act.intro", activation=term("activation"), gradient=term("gradient"),
      backpropagation=term("backpropagation"))
)  # fmt: skip

# ---- 1. The function and its derivative ----
st.header(t("nn_act.curve_header"))
left, right = st.columns([1, 2])
with left:
    name = st.selectbox(
        t("nn_act.pick"), list(ACTIVATIONS), format_func=lambda n: ACTIVATIONS[n].label,
        key="act_name",
    )  # fmt: skip
    low, high = st.slider(t("nn_act.range"), -10.0, 10.0, (-6.0, 6.0), 0.5, key="act_range")
    threshold = st.select_slider(
        t("nn_act.threshold"), [0.001, 0.01, 0.05, 0.1], value=0.01, key="act_threshold",
        help=t("nn_act.threshold_help"),
    )  # fmt: skip
    probe = st.number_input(t("nn_act.probe"), -20.0, 20.0, 1.0, 0.1, key="act_probe")

spec = ACTIVATIONS[name]
if high <= low:
    high = low + 0.5
x = np.linspace(low, high, 601)
values, grads = value_and_grad(name, x)
saturated = saturation_intervals(x, grads, threshold)
probe_value, probe_grad = value_and_grad(name, np.array([probe]))

with right:
    labels = {
        "title": t("nn_act.plot_title", name=spec.label), "x": "x", "f": t("nn_act.legend_f"),
        "df": t("nn_act.legend_df"), "saturated": t("nn_act.legend_saturated", threshold=threshold),
    }  # fmt: skip
    st.plotly_chart(
        function_figure(x, values, grads, saturated, labels), width="stretch", key="act_curve"
    )

with left:
    st.markdown(t("nn_act.formula"))
    st.latex(spec.formula)
    st.latex(spec.derivative)
    st.markdown(
        t("nn_act.probe_result", x=f"{probe:g}", value=f"{probe_value[0]:.6f}",
          grad=f"{probe_grad[0]:.6f}")
    )  # fmt: skip
st.markdown(t(f"nn_act.desc.{name}"))
difference = float(np.max(np.abs(grads - closed_form_derivative(name, x))))
st.caption(
    t("nn_act.check", diff=f"{difference:.1e}", share=f"{np.mean(np.abs(grads) < threshold):.0%}")
)

# ---- 2. Push a distribution of inputs through ----
st.header(t("nn_act.dist_header"))
st.markdown(t("nn_act.dist_text", vanishing=term("vanishing_gradient")))
controls, metric = st.columns([2, 1])
with controls:
    mean = st.slider(t("nn_act.mean"), -8.0, 8.0, 0.0, 0.5, key="act_mean")
    std = st.slider(t("nn_act.std"), 0.1, 5.0, 1.0, 0.1, key="act_std")
try:
    pushed = push_distribution(name, mean, std, threshold)
except LocalizedError as err:
    show_error(err)
    st.stop()
with metric:
    st.metric(t("nn_act.dead_metric", threshold=threshold), f"{pushed.dead_share:.1%}")
    st.caption(t("nn_act.dead_metric_help"))

columns = st.columns(3)
histograms = [
    (pushed.inputs, t("nn_act.hist_inputs"), "x", "#888888"),
    (pushed.outputs, t("nn_act.hist_outputs", name=spec.label), "f(x)", FUNCTION_COLOR),
    (pushed.grads, t("nn_act.hist_grads"), "f′(x)", DERIVATIVE_COLOR),
]
for column, (data, title, axis, color) in zip(columns, histograms, strict=True):
    column.plotly_chart(
        histogram_figure(data, title, axis, color), width="stretch", key=f"act_hist_{axis}"
    )
st.markdown(t("nn_act.dist_lesson"))

# ---- 3. Dead ReLUs ----
dead_relu_section()

# ---- 4. Softmax with temperature ----
softmax_section()
