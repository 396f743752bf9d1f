"""Softmax and cross-entropy: step by step, numerical stability, label smoothing, MSE vs CE."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnlab.errors import LocalizedError
from cnnlab.nnbasics.losses import compare_stability, cross_entropy_steps, torch_cross_entropy
from ui.lang import t
from ui.layout import page_header, show_error, term
from ui.nn_controls import class_names, logits_input
from ui.nn_loss_views import gradient_section, smoothing_section


def target_control(classes: int) -> int:
    """Draw the target-class input, first clamping a stored value that no longer exists."""
    stored = st.session_state.get("loss_target", 0)
    st.session_state["loss_target"] = min(max(int(stored), 0), classes - 1)
    return int(st.number_input(t("nn_loss.target"), 0, classes - 1, step=1, key="loss_target"))


page_header("nn_loss.title")
st.markdown(
    t("nn_loss.intro", softmax=term("softmax"), cross_entropy=term("cross_entropy"),
      loss=term("loss"))
)  # fmt: skip

# ---- 1. Step by step ----
st.header(t("nn_loss.steps_header"))
left, right = st.columns([1, 2])
with left:
    logits = logits_input(t("nn_loss.logits"), "loss_logits", "2, 1, 0.1")
    target = target_control(logits.size)
try:
    steps = cross_entropy_steps(logits, target)
    reference = torch_cross_entropy(logits, target)
except LocalizedError as err:
    show_error(err)
    st.stop()

names = class_names(logits.size)
table = pd.DataFrame(
    {
        t("nn_loss.col_class"): names,
        "z": steps.logits,
        "z − m": steps.logits - steps.max_logit,
        "exp(z − m)": steps.exps,
        "p = softmax(z)": steps.probs,
    }
)
with right:
    st.dataframe(table.style.format(precision=6), hide_index=True, width="stretch")
    st.caption(t("nn_loss.table_caption", target=names[target]))

z_y = steps.logits[target]
st.latex(rf"m = \max_k z_k = {steps.max_logit:.6f}")
st.latex(rf"S = \sum_k e^{{z_k - m}} = {steps.sum_exps:.6f}")
st.latex(rf"\log \sum_k e^{{z_k}} = m + \log S = {steps.log_sum_exp:.6f}")
st.latex(rf"p_y = \frac{{e^{{z_y - m}}}}{{S}} = {steps.probs[target]:.6f}")
st.latex(
    rf"L = -\log p_y = \log \sum_k e^{{z_k}} - z_y = {steps.log_sum_exp:.6f} - ({z_y:.6f}) "
    rf"= {steps.loss:.6f}"
)
st.markdown(t("nn_loss.by_hand", value=f"{steps.loss:.6f}"))
logits_text = ", ".join(f"{value:g}" for value in steps.logits)
st.code(
    f"F.cross_entropy(torch.tensor([[{logits_text}]], dtype=torch.float64), "
    f"torch.tensor([{target}]))",
    language="python",
)
st.markdown(t("nn_loss.by_torch", value=f"{reference:.6f}"))

# ---- 2. Numerical stability ----
st.header(t("nn_loss.stability_header"))
st.markdown(t("nn_loss.stability_text"))
scale = st.slider(t("nn_loss.scale"), 1, 100, 50, key="loss_scale", help=t("nn_loss.scale_help"))
comparison = compare_stability(logits * scale, target)
stable_table = pd.DataFrame(
    {
        t("nn_loss.col_class"): names,
        t("nn_loss.col_scaled"): (logits * scale).astype(np.float32),
        t("nn_loss.col_naive_exp"): [f"{value:.4g}" for value in comparison.naive_exps],
        t("nn_loss.col_naive_p"): [f"{value:.4g}" for value in comparison.naive_probs],
    }
)
st.dataframe(stable_table, hide_index=True, width="stretch")
naive, stable, library = st.columns(3)
naive.metric(t("nn_loss.naive_loss"), f"{comparison.naive_loss:.6g}")
stable.metric(t("nn_loss.stable_loss"), f"{comparison.stable_loss:.6g}")
library.metric(t("nn_loss.torch_loss"), f"{comparison.torch_loss:.6g}")
st.latex(r"\log \sum_k e^{z_k} = m + \log \sum_k e^{z_k - m}, \quad m = \max_k z_k")
if comparison.overflowed:
    st.warning(t("nn_loss.overflowed"), icon=":material/warning:")
else:
    st.info(t("nn_loss.no_overflow"), icon=":material/info:")

# ---- 3. Label smoothing ----
smoothing_section(logits, target, names)

# ---- 4. MSE versus cross-entropy gradients ----
gradient_section()
