"""Residual and dense blocks: what a block costs in parameters, FLOPs and activation memory."""

import streamlit as st

from cnnlab.arch_plots import channel_growth_figure
from cnnlab.architectures import BlockSpec, formula_params
from cnnlab.block_math import dense_channels, transition_channels, transition_params
from cnnlab.errors import LocalizedError
from cnnlab.lightweight import latex_number
from ui.arch_common import (
    CHANNEL_CHOICES,
    SIZE_CHOICES,
    block_dot,
    block_summary,
    format_bytes,
    format_count,
    kind_label,
    label_term,
    layer_frame,
)
from ui.lang import t
from ui.layout import page_header, show_error

KINDS = ("plain", "basic", "bottleneck", "dense")
FORMULAS = {
    "plain": r"9 C_{in} C_{out} + 9 C_{out}^2 + 4 C_{out}",
    "basic": r"9 C_{in} C_{out} + 9 C_{out}^2 + 4 C_{out} \;[+\, C_{in} C_{out} + 2 C_{out}]",
    "bottleneck": r"C_{in} w + 9 w^2 + w C_{out} + 4w + 2 C_{out} \;[+\, C_{in} C_{out} + 2 C_{out}],"
                  r"\quad w = C_{out} / e",
    "dense": r"\sum_{i=0}^{L-1} \big(2 c_i + 9 c_i k\big),\quad c_i = C_{in} + i k",
    "dense_b": r"\sum_{i=0}^{L-1} \big(2 c_i + c_i\, b k + 2 b k + 9\, b k \cdot k\big),"
               r"\quad c_i = C_{in} + i k",
}  # fmt: skip

page_header("arch.blocks.title", "arch.blocks.intro")

# ---- Choose a block and its sizes ----
kind = st.segmented_control(t("arch.blocks.kind"), KINDS, format_func=kind_label, key="blocks_kind",
                            default="basic", required=True)  # fmt: skip
c1, c2, c3, c4 = st.columns(4)
in_channels = c1.select_slider(t("arch.in_channels"), CHANNEL_CHOICES, value=32, key="blocks_in")
size = c4.select_slider(t("arch.blocks.size"), SIZE_CHOICES, value=28, key="blocks_size")
options = {}
if kind == "dense":
    options["num_layers"] = c2.slider(t("arch.blocks.layers"), 1, 12, 4, key="blocks_layers")
    options["growth_rate"] = c3.select_slider(t("arch.blocks.growth"), (4, 8, 12, 16, 24, 32), value=12,
                                              key="blocks_growth")  # fmt: skip
    bottleneck = st.toggle(
        t("arch.blocks.bn_size"), key="blocks_bn_size", help=t("arch.blocks.bn_size_help")
    )
    options["bn_size"] = 4 if bottleneck else 0
else:
    options["out_channels"] = c2.select_slider(t("arch.out_channels"), CHANNEL_CHOICES, value=64,
                                               key="blocks_out")  # fmt: skip
    options["stride"] = c3.radio(label_term("stride"), (1, 2), horizontal=True, key="blocks_stride")
    if kind == "bottleneck":
        options["expansion"] = st.radio(t("arch.blocks.expansion"), (2, 4), index=1, horizontal=True,
                                        key="blocks_expansion")  # fmt: skip
spec = BlockSpec(kind, in_channels, **options)

try:
    summary = block_summary(spec, size)
except LocalizedError as err:
    show_error(err)
    st.stop()

# ---- What it costs ----
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("arch.col.params"), f"{summary.params:,}")
m2.metric(t("glossary.term.flops"), format_count(summary.flops), help=t("arch.flops_help"))
m3.metric(
    t("arch.blocks.memory"),
    format_bytes(summary.activation_bytes),
    help=t("arch.blocks.memory_help"),
)
m4.metric(t("arch.blocks.output"), " × ".join(map(str, summary.output_shape)))
formula_key = "dense_b" if kind == "dense" and options["bn_size"] else kind
value = latex_number(formula_params(spec))
st.latex(rf"\text{{{t('arch.blocks.formula')}}} = {FORMULAS[formula_key]} = {value}")
st.caption(t("arch.blocks.formula_caption", params=f"{summary.params:,}"))

left, right = st.columns([1, 2])
with left:
    st.markdown(f"**{t('arch.blocks.diagram')}**")
    st.graphviz_chart(block_dot(spec))
with right:
    st.markdown(f"**{t('arch.blocks.layer_table')}**")
    st.dataframe(layer_frame(summary.rows), hide_index=True, width="stretch", key="blocks_table")

# ---- DenseNet: concatenation grows the channels ----
if kind == "dense":
    st.subheader(t("arch.blocks.growth_heading"))
    compression = st.slider(
        t("arch.blocks.compression"), 0.25, 1.0, 0.5, step=0.25, key="blocks_compression"
    )
    channels = dense_channels(in_channels, options["num_layers"], options["growth_rate"])
    names = [t("arch.blocks.layer_input", index=i + 1) for i in range(options["num_layers"])]
    names += [t("arch.blocks.block_output"), t("arch.blocks.transition_output")]
    channels.append(transition_channels(channels[-1], compression))
    labels = {
        "title": t("arch.blocks.growth_title"),
        "x": t("arch.col.layer"),
        "y": label_term("channel"),
    }
    st.plotly_chart(
        channel_growth_figure(names, channels, labels), width="stretch", key="blocks_growth_chart"
    )
    st.caption(t("arch.blocks.growth_caption", k=options["growth_rate"], c_in=in_channels,
                 c_out=channels[-2], theta=compression, c_t=channels[-1],
                 params=f"{transition_params(channels[-2], compression):,}"))  # fmt: skip

st.markdown(t("arch.blocks.takeaways"))
