"""Step controls and the autograd check / update table of the backpropagation lesson."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnlab.nnbasics.backprop import PARAMETERS, TinyNet, Trace, forward_backward, sgd_update
from cnnlab.nnbasics.backprop_view import pretty
from ui.lang import t
from ui.layout import term


def _move(delta: int, last: int) -> None:
    st.session_state["bp_step"] = min(max(st.session_state.get("bp_step", 0) + delta, 0), last)


def step_buttons(last: int) -> int:
    """Draw previous / next buttons and the step slider; return the chosen step in [0, last]."""
    st.session_state["bp_step"] = min(st.session_state.get("bp_step", 0), last)
    back, forward, slider = st.columns([1, 1, 6], vertical_alignment="bottom")
    back.button(
        t("nn_bp.previous"), key="bp_previous", on_click=_move, args=(-1, last),
        icon=":material/arrow_back:", width="stretch",
    )  # fmt: skip
    forward.button(
        t("nn_bp.next"), key="bp_next", on_click=_move, args=(1, last),
        icon=":material/arrow_forward:", width="stretch",
    )  # fmt: skip
    return slider.slider(t("nn_bp.step"), 0, last, key="bp_step")


def update_section(
    net: TinyNet, trace: Trace, reference: Trace, sample: tuple[float, float, float, str, str]
) -> None:
    """Compare every gradient with autograd, then apply one SGD step and show the new loss."""
    st.header(t("nn_bp.update_header"))
    st.markdown(t("nn_bp.update_text", learning_rate=term("learning_rate")))
    lr = st.slider(t("nn_bp.lr"), 0.01, 2.0, 0.5, 0.01, key="bp_lr")
    updated = sgd_update(net, trace, lr)
    x1, x2, y, activation, loss = sample
    after = forward_backward(updated, x1, x2, y, activation, loss)

    table = pd.DataFrame(
        {
            t("nn_bp.col_param"): [pretty(name) for name in PARAMETERS],
            t("nn_bp.col_value"): [getattr(net, name) for name in PARAMETERS],
            t("nn_bp.col_grad"): [trace.grads[name] for name in PARAMETERS],
            t("nn_bp.col_autograd"): [reference.grads[name] for name in PARAMETERS],
            t("nn_bp.col_new"): [getattr(updated, name) for name in PARAMETERS],
        }
    )
    st.dataframe(table.style.format(precision=6), hide_index=True, width="stretch")
    names = set(trace.grads) & set(reference.grads)
    largest = max(abs(trace.grads[name] - reference.grads[name]) for name in names)
    st.caption(t("nn_bp.autograd_check", diff=f"{largest:.1e}", count=len(names)))

    before_loss, after_loss = trace.values["L"], after.values["L"]
    first, second = st.columns(2)
    first.metric(t("nn_bp.loss_before"), f"{before_loss:.6f}")
    second.metric(t("nn_bp.loss_after"), f"{after_loss:.6f}", f"{after_loss - before_loss:+.6f}",
                  delta_color="inverse")  # fmt: skip
    st.latex(r"\theta \leftarrow \theta - \eta\,\frac{\partial L}{\partial \theta}")
    st.markdown(t("nn_bp.update_lesson"))
