"""Lightweight design: depthwise-separable and grouped convolutions against a standard 3×3."""

import pandas as pd
import streamlit as st

from cnnlab.arch_analysis import measure_latency
from cnnlab.arch_experiments import block_trials
from cnnlab.devices import describe_device, pick_device
from cnnlab.errors import LocalizedError
from cnnlab.lightweight import CONV_KINDS, conv_cost, conv_module, separable_ratio
from cnnlab.summary import count_parameters
from cnnlab.training import seeded
from ui.arch_common import CHANNEL_CHOICES, SIZE_CHOICES, budget_control, format_count, kind_label
from ui.experiments import experiment_panel, start_experiment
from ui.lang import t
from ui.layout import page_header, show_error

TRAINABLE = ("conv", "depthwise", "grouped", "inverted")
LATENCY_KEY = "light_latency"


def _show_sizes(records) -> None:
    """``experiment_panel`` callback: parameters next to accuracy and time."""
    rows = [{
        t("exp.col.run"): r.label,
        t("arch.col.params"): count_parameters(r.model) if r.model is not None else None,
        t("exp.col.test_acc"): round(100 * r.test_accuracy, 2) if r.test_accuracy is not None else None,
        t("exp.col.seconds"): round(r.epochs[-1].seconds, 1) if r.epochs else None,
    } for r in records]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="light_sizes")


page_header("arch.light.title", "arch.light.intro")

# ---- 1. One layer, three ways ----
c1, c2, c3, c4 = st.columns(4)
in_channels = c1.select_slider(t("arch.in_channels"), CHANNEL_CHOICES, value=64, key="light_in")
out_channels = c2.select_slider(t("arch.out_channels"), CHANNEL_CHOICES, value=128, key="light_out")
size = c3.select_slider(t("arch.blocks.size"), SIZE_CHOICES, value=28, key="light_size")
groups = c4.select_slider(t("arch.light.groups"), (1, 2, 4, 8, 16, 32), value=4, key="light_groups")

try:
    costs = {kind: conv_cost(kind, in_channels, out_channels, size, groups) for kind in CONV_KINDS}
except LocalizedError as err:
    show_error(err)
    st.stop()

for kind, cost in costs.items():
    st.markdown(f"**{t(f'arch.light.kind.{kind}')}** — {t(f'arch.light.explain.{kind}')}")
    st.latex(rf"\text{{{t('arch.light.weights')}}}: {cost.params_latex}")
    st.latex(rf"\text{{FLOPs}}: {cost.flops_latex}")
standard = costs["standard"]
ratio = separable_ratio(out_channels)
st.info(t("arch.light.ratio", ratio=f"{ratio:.3f}", inverse=f"{1 / ratio:.1f}", c_out=out_channels,
          grouped=f"{standard.params / costs['grouped'].params:.0f}"), icon=":material/calculate:")  # fmt: skip
st.caption(t("arch.light.formula_caption"))

# ---- 2. Measured latency on this server ----
st.subheader(t("arch.light.latency_heading"))
if st.button(t("arch.light.measure"), key="light_measure", icon=":material/timer:"):
    device = pick_device("auto")
    with st.spinner(t("arch.light.measuring")):
        shape = (1, in_channels, size, size)
        timings = {kind: measure_latency(seeded(0, lambda k=kind: conv_module(k, in_channels, out_channels, groups)),
                                         shape, device) for kind in CONV_KINDS}  # fmt: skip
    st.session_state[LATENCY_KEY] = ((in_channels, out_channels, size, groups), timings,
                                     describe_device(device).name)  # fmt: skip
measured = st.session_state.get(LATENCY_KEY)
if measured is None:
    st.caption(t("arch.light.latency_hint"))
else:
    (m_in, m_out, m_size, m_groups), timings, device_name = measured
    first = next(iter(timings.values()))
    table = pd.DataFrame({
        t("arch.light.col_kind"): [t(f"arch.light.kind.{kind}") for kind in timings],
        t("glossary.term.flops"): [format_count(conv_cost(kind, m_in, m_out, m_size, m_groups).flops) for kind in timings],
        t("arch.light.col_median"): [round(lat.median_ms, 3) for lat in timings.values()],
        t("arch.light.col_iqr"): [round(lat.iqr_ms, 3) for lat in timings.values()],
    })  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch", key="light_latency_table")
    st.caption(t("arch.light.latency_caption", c_in=m_in, c_out=m_out, size=m_size, groups=m_groups,
                 device=first.device.upper(), name=device_name, threads=first.threads))  # fmt: skip

# ---- 3. The same small network from each block, trained on the same budget ----
st.subheader(t("arch.light.train_heading"))
st.markdown(t("arch.light.train_intro"))
chosen = st.multiselect(t("arch.light.blocks"), TRAINABLE, default=["conv", "depthwise", "grouped"],
                        format_func=kind_label, key="light_blocks")  # fmt: skip
steps = budget_control("light_steps")
if st.button(t("arch.train.start"), key="light_start", type="primary", icon=":material/play_arrow:",
             disabled=not chosen):  # fmt: skip
    start_experiment(
        "light", block_trials(chosen, steps, {kind: kind_label(kind) for kind in chosen})
    )
st.caption(t("arch.light.train_caption"))
experiment_panel("light", on_done=_show_sizes)

st.markdown(t("arch.light.takeaways"))
