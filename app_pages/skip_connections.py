"""Skip connections: what the shortcut adds, and why deep plain stacks train worse."""

import streamlit as st

from cnnlab.arch_experiments import deep_stack, degradation_trials, init_gradient_norms
from cnnlab.arch_plots import gradient_norm_figure
from cnnlab.architectures import BlockSpec
from ui.arch_common import (
    CHANNEL_CHOICES,
    block_dot,
    budget_control,
    kind_label,
    label_term,
    mnist_batch,
)
from ui.experiments import experiment_panel, start_experiment
from ui.lang import t
from ui.layout import page_header

BATCH = 128


@st.cache_data(show_spinner=False, max_entries=32)
def _gradient_norms(block: str, num_blocks: int) -> list[tuple[str, float]]:
    x, y = mnist_batch(BATCH)
    return init_gradient_norms(deep_stack(block, num_blocks), x, y)


page_header("arch.skip.title", "arch.skip.intro")
st.latex(r"y = \mathrm{ReLU}\big(F(x) + x\big) \qquad \frac{\partial y}{\partial x} = "
         r"\mathrm{ReLU}'(\cdot)\Big(\frac{\partial F}{\partial x} + I\Big)")  # fmt: skip
st.caption(t("arch.skip.formula_caption"))

# ---- 1. The block, drawn from its own forward() ----
st.subheader(t("arch.skip.diagram_heading"))
c1, c2, c3 = st.columns(3)
in_channels = c1.select_slider(t("arch.in_channels"), CHANNEL_CHOICES, value=16, key="skip_in")
out_channels = c2.select_slider(t("arch.out_channels"), CHANNEL_CHOICES, value=16, key="skip_out")
stride = c3.radio(label_term("stride"), (1, 2), horizontal=True, key="skip_stride")
left, right = st.columns(2)
for column, kind in ((left, "plain"), (right, "basic")):
    column.markdown(f"**{kind_label(kind)}**")
    column.graphviz_chart(block_dot(BlockSpec(kind, in_channels, out_channels, stride)))
projection = stride != 1 or in_channels != out_channels
st.caption(
    t(
        "arch.skip.diagram_caption_projection"
        if projection
        else "arch.skip.diagram_caption_identity"
    )
)

# ---- 2. Gradients at initialization ----
st.subheader(t("arch.skip.grad_heading"))
num_blocks = st.slider(t("arch.skip.blocks"), 2, 16, 8, key="skip_blocks")
depth = 2 * num_blocks + 2
st.caption(t("arch.skip.depth", blocks=num_blocks, depth=depth))
with st.spinner(t("arch.skip.grad_spinner")):
    norms = {block: _gradient_norms(block, num_blocks) for block in ("plain", "basic")}
series = [(kind_label(block), [name for name, _ in values], [norm for _, norm in values])
          for block, values in norms.items()]  # fmt: skip
labels = {
    "title": t("arch.skip.grad_title"),
    "x": t("arch.skip.grad_x"),
    "y": t("arch.skip.grad_y"),
}
st.plotly_chart(gradient_norm_figure(series, labels), width="stretch", key="skip_grad_chart")
first_plain, first_residual = norms["plain"][0][1], norms["basic"][0][1]
m1, m2 = st.columns(2)
m1.metric(t("arch.skip.first_layer", network=kind_label("plain")), f"{first_plain:.3g}")
m2.metric(t("arch.skip.first_layer", network=kind_label("basic")), f"{first_residual:.3g}")
st.caption(t("arch.skip.grad_caption", batch=BATCH))

# ---- 3. Training side by side: the degradation problem ----
st.subheader(t("arch.skip.train_heading"))
st.markdown(t("arch.skip.train_intro", depth=depth))
steps = budget_control("skip_steps")
if st.button(t("arch.train.start"), key="skip_start", type="primary", icon=":material/play_arrow:"):
    names = {block: t("arch.skip.run_label", network=kind_label(block), depth=depth)
             for block in ("plain", "basic")}  # fmt: skip
    start_experiment("skip", degradation_trials(num_blocks, steps, names))
st.caption(t("arch.skip.train_caption"))
experiment_panel("skip")

st.markdown(t("arch.skip.takeaways"))
