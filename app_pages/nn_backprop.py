"""Backpropagation step by step on a 2 → 2 → 1 network, every number checked against autograd."""

import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.backprop import (
    HIDDEN_ACTIVATIONS,
    LOSSES,
    TinyNet,
    autograd_trace,
    forward_backward,
    random_net,
    schedule,
)
from cnnlab.nnbasics.backprop_view import state_at, step_equations, to_dot
from ui.lang import t
from ui.layout import page_header, show_error, term
from ui.nn_bp_views import step_buttons, update_section

LOSS_FORMULAS = {
    "mse": r"L = (o - y)^2",
    "bce": r"p = \sigma(o),\quad L = -\left[y \log p + (1 - y) \log (1 - p)\right]",
}

page_header("nn_bp.title")
st.markdown(t("nn_bp.intro", backpropagation=term("backpropagation"), gradient=term("gradient")))
st.latex(
    r"z_i = w_{i1} x_1 + w_{i2} x_2 + b_i,\quad h_i = \mathrm{act}(z_i),\quad "
    r"o = v_1 h_1 + v_2 h_2 + c"
)

# ---- Inputs, target and network ----
columns = st.columns(6)
x1 = columns[0].number_input("x₁", -5.0, 5.0, 1.0, 0.1, key="bp_x1")
x2 = columns[1].number_input("x₂", -5.0, 5.0, 0.5, 0.1, key="bp_x2")
y = columns[2].number_input(t("nn_bp.target"), -5.0, 5.0, 1.0, 0.1, key="bp_y")
activation = columns[3].radio(t("nn_bp.activation"), HIDDEN_ACTIVATIONS, key="bp_activation")
loss = columns[4].radio(
    t("nn_bp.loss"), LOSSES, format_func=lambda name: t(f"nn_bp.loss_{name}"), key="bp_loss"
)
seed = columns[5].number_input(t("nn_bp.seed"), 0, 999, 0, key="bp_seed", help=t("nn_bp.seed_help"))
st.latex(LOSS_FORMULAS[loss])

net = TinyNet() if seed == 0 else random_net(int(seed))
try:
    trace = forward_backward(net, x1, x2, y, activation, loss)
    reference = autograd_trace(net, x1, x2, y, activation, loss)
except LocalizedError as err:
    show_error(err)
    st.stop()

# ---- The graph, one step at a time ----
st.header(t("nn_bp.graph_header"))
last_step = len(schedule(loss)) - 1
step = step_buttons(last_step)
state = state_at(loss, step)
st.subheader(t(f"nn_bp.phase_{state.phase}", step=step, last=last_step))
st.graphviz_chart(to_dot(net, trace, state), width="stretch")
st.caption(t("nn_bp.legend"))
for equation in step_equations(net, trace, state):
    st.latex(equation)
st.markdown(t(f"nn_bp.explain_{state.phase}"))

# ---- Check against autograd, then one gradient-descent step ----
update_section(net, trace, reference, (x1, x2, y, activation, loss))
