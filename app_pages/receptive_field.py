"""Receptive field: the input region one output pixel depends on, through a stack of layers."""

import pandas as pd
import streamlit as st

from cnnlab.conv_plots import receptive_field_figure
from cnnlab.errors import LocalizedError
from cnnlab.receptive_field import (
    LAYER_KINDS,
    PRESET_STACKS,
    LayerSpec,
    layers_from_rows,
    measure_receptive_field,
    receptive_fields,
)
from ui.lang import t
from ui.layout import page_header, show_error, term

COLUMNS = ("kind", "kernel", "stride", "dilation", "padding")


@st.cache_data(show_spinner=False, max_entries=64)
def _measure(layers: tuple[LayerSpec, ...]):
    return measure_receptive_field(layers)


page_header("conv.rf.title", "conv.rf.intro")
st.latex(
    r"k' = d\,(k-1) + 1 \qquad r_l = r_{l-1} + (k'_l - 1)\, j_{l-1} \qquad j_l = j_{l-1}\, s_l"
)
st.latex(
    r"\mathrm{start}_l = \mathrm{start}_{l-1} + \left(\tfrac{k'_l - 1}{2} - p_l\right) j_{l-1}"
)
st.caption(t("conv.rf.symbols"))

# ---- The stack of layers ----
left, right = st.columns([1, 1])
preset = left.selectbox(
    t("conv.rf.stack"), list(PRESET_STACKS), format_func=lambda p: t(f"conv.rf.preset.{p}"),
    key="rf_preset",
)  # fmt: skip
input_size = right.number_input(t("conv.rf.input_size"), 8, 1024, 64, key="rf_input_size")
rows = pd.DataFrame(
    [{name: getattr(layer, name) for name in COLUMNS} for layer in PRESET_STACKS[preset]]
)
integer = dict(min_value=0, max_value=64, step=1, format="%d")
edited = st.data_editor(
    rows, key=f"rf_layers_{preset}", num_rows="dynamic", hide_index=True, width="stretch",
    column_config={
        "kind": st.column_config.SelectboxColumn(
            t("conv.rf.col_kind"), options=list(LAYER_KINDS), required=True
        ),
        "kernel": st.column_config.NumberColumn(t("conv.rf.col_kernel"), **(integer | {"min_value": 1})),
        "stride": st.column_config.NumberColumn(t("conv.rf.col_stride"), **(integer | {"min_value": 1})),
        "dilation": st.column_config.NumberColumn(t("conv.rf.col_dilation"), **(integer | {"min_value": 1})),
        "padding": st.column_config.NumberColumn(t("conv.rf.col_padding"), **integer),
    },
)  # fmt: skip
st.caption(t("conv.rf.kinds_note"))

# ---- Receptive field after each layer ----
try:
    records = edited.astype(object).where(edited.notna(), None).to_dict("records")
    layers = layers_from_rows(records)
    fields = receptive_fields(layers, int(input_size))
except LocalizedError as err:
    show_error(err)
    st.stop()
if not layers:
    st.info(t("conv.rf.empty"), icon=":material/info:")
    st.stop()

names = [
    f"{index + 1}. {t(f'conv.rf.kind.{layer.kind}')} {layer.kernel}×{layer.kernel}"
    + (f" d={layer.dilation}" if layer.dilation > 1 else "")
    for index, layer in enumerate(layers)
]
table = pd.DataFrame(
    {
        t("conv.rf.col_layer"): names,
        t("conv.rf.col_output"): [f"{f.output_size}×{f.output_size}" for f in fields],
        t("conv.rf.col_rf"): [f.size for f in fields],
        t("conv.rf.col_jump"): [f.jump for f in fields],
        t("conv.rf.col_start"): [f.start for f in fields],
    }
)
st.dataframe(table, hide_index=True, width="stretch", key="rf_table")

final = fields[-1]
formula, measured = st.columns(2)
formula.metric(t("conv.rf.final", rf=term("receptive_field")), f"{final.size}×{final.size}")
try:
    check = _measure(tuple(layers))
    measured.metric(t("conv.rf.measured"), f"{check.size}×{check.size}")
    st.caption(t("conv.rf.measured_note", index=check.output_index, side=check.input_size))
except LocalizedError as err:
    show_error(err)

labels = {"title": t("conv.rf.plot_title"), "x": t("conv.rf.col_layer"),
          "size": t("conv.rf.col_rf"), "jump": t("conv.rf.col_jump")}  # fmt: skip
st.plotly_chart(
    receptive_field_figure(names, [f.size for f in fields], [f.jump for f in fields], labels),
    width="stretch", key="rf_plot",
)  # fmt: skip
st.markdown(t("conv.rf.takeaways"))
