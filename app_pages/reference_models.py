"""Reference models: size, cost and depth of torchvision's classics, and how far they see."""

import json

import pandas as pd
import streamlit as st

from cnnlab.arch_analysis import receptive_field_path
from cnnlab.arch_experiments import small_block_net
from cnnlab.arch_plots import cost_scatter_figure
from cnnlab.architectures import BLOCK_KINDS, BlockNet, BlockNetConfig
from cnnlab.conv_plots import receptive_field_figure
from cnnlab.errors import LocalizedError
from cnnlab.models import CNNConfig, build_model
from cnnlab.reference_models import (
    DISPLAY_NAMES,
    REFERENCE_MODELS,
    build_reference,
    reference_stats,
)
from cnnlab.training import seeded
from ui.arch_common import kind_label
from ui.arch_lab_source import lab_settings_config, latest_run
from ui.lang import t
from ui.layout import page_header, show_error, term

SOURCES = ("lab", "block", "reference")


@st.cache_data(show_spinner=False)
def _stats(name: str):
    return reference_stats(name)


@st.cache_data(show_spinner=False, max_entries=32)
def _field_path(source: str, detail: str) -> list[tuple[str, int, int, int]]:
    """Return (layer, kernel, jump, receptive field) along the network's main path."""
    if source == "reference":
        model, channels, size = seeded(0, lambda: build_reference(detail)), 3, 224
    elif source == "block":
        config = small_block_net(detail)
        model, channels, size = (
            seeded(0, lambda: BlockNet(config)),
            config.in_channels,
            config.image_size,
        )
    else:
        values = json.loads(detail)
        if "block" in values:  # a BlockNetConfig (runs of the architecture lessons)
            config = BlockNetConfig.from_dict(values)
            model = seeded(0, lambda: BlockNet(config))
        else:
            config = CNNConfig.from_dict(values)
            model = seeded(0, lambda: build_model(config))
        channels, size = config.in_channels, config.image_size
    return [(name, spec.kernel, field.jump, field.size)
            for name, spec, field in receptive_field_path(model, channels, size)]  # fmt: skip


page_header("arch.ref.title", "arch.ref.intro")

# ---- 1. The table, computed from the models themselves ----
chosen = st.multiselect(t("arch.ref.models"), list(REFERENCE_MODELS), default=["resnet18", "mobilenet_v2"],
                        format_func=DISPLAY_NAMES.__getitem__, key="ref_models")  # fmt: skip
rows = []
for name in chosen:
    with st.spinner(t("arch.ref.computing", model=DISPLAY_NAMES[name])):
        stats = _stats(name)
    rows.append({
        t("arch.ref.col_model"): DISPLAY_NAMES[name],
        t("arch.ref.col_params"): round(stats.params / 1e6, 2),
        t("arch.ref.col_gflops"): round(stats.flops / 1e9, 2),
        t("arch.ref.col_depth"): stats.depth,
    })  # fmt: skip
if rows:
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, width="stretch", key="ref_table")
    labels = {
        "title": t("arch.ref.scatter_title"),
        "x": t("arch.ref.col_gflops"),
        "y": t("arch.ref.col_params"),
    }
    st.plotly_chart(cost_scatter_figure(frame.iloc[:, 0], frame.iloc[:, 2], frame.iloc[:, 1], labels),
                    width="stretch", key="ref_scatter")  # fmt: skip
st.caption(t("arch.ref.caption", flops=t("glossary.term.flops")))

# ---- 2. Receptive-field growth through a chosen network ----
st.subheader(t("arch.ref.rf_heading", rf=term("receptive_field")))
source = st.segmented_control(t("arch.ref.rf_source"), SOURCES, format_func=lambda s: t(f"arch.ref.source.{s}"),
                              default="block", required=True, key="ref_rf_source")  # fmt: skip
if source == "reference":
    detail = st.selectbox(t("arch.ref.rf_model"), list(REFERENCE_MODELS), format_func=DISPLAY_NAMES.__getitem__,
                          key="ref_rf_model")  # fmt: skip
    note = t("arch.ref.rf_note_reference")
elif source == "block":
    detail = st.selectbox(t("arch.ref.rf_block"), BLOCK_KINDS, index=BLOCK_KINDS.index("basic"),
                          format_func=kind_label, key="ref_rf_block")  # fmt: skip
    note = t("arch.ref.rf_note_block")
else:
    latest = latest_run()
    if latest is not None:
        model_config, note = latest[2], t("arch.ref.rf_note_run", label=latest[0])
    else:
        model_config, note = (
            lab_settings_config(st.session_state).model,
            t("arch.ref.rf_note_settings"),
        )
    detail = json.dumps(model_config.to_dict())
st.caption(note)

try:
    with st.spinner(t("arch.ref.rf_spinner")):
        path = _field_path(source, detail)
except LocalizedError as err:
    show_error(err)
    st.stop()
names = [f"{index}. {name}" for index, (name, *_rest) in enumerate(path, start=1)]
sizes = [size for *_rest, size in path]
jumps = [jump for _name, _kernel, jump, _size in path]
labels = {"title": t("arch.ref.rf_title"), "x": t("arch.col.layer"), "size": t("arch.ref.rf_size"),
          "jump": t("arch.ref.rf_jump")}  # fmt: skip
st.plotly_chart(
    receptive_field_figure(names, sizes, jumps, labels), width="stretch", key="ref_rf_chart"
)
st.metric(t("arch.ref.rf_final", rf=term("receptive_field")), f"{sizes[-1]} × {sizes[-1]}")
st.caption(t("arch.ref.rf_caption"))
st.markdown(t("arch.ref.takeaways"))
