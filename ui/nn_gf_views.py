"""Controls, presets and charts of the gradient-flow lesson."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import streamlit as st

from cnnlab.nnbasics.gradient_flow import (
    ACTIVATIONS,
    DATASETS,
    INITS,
    NORMS,
    FlowConfig,
    FlowData,
    FlowHistory,
    load_flow_data,
    run_flow,
)
from cnnlab.nnbasics.plots import curves_figure, layer_heatmap, layer_profile
from ui.lang import t
from ui.layout import term
from ui.nn_controls import capitalized_term

# Training runs in the script thread, so the largest run (MNIST, 30 layers of 64 with
# BatchNorm, 100 steps) must stay short. It took 6 s with one torch thread on 2 cores busy
# with other jobs (load average 10). NOTE: with two torch threads on the same busy machine it
# took 190 s, because BatchNorm's small parallel loops wait for a contended second core.
MAX_DEPTH = 30
MAX_STEPS = 100
CLIP_CHOICES = (0.0, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0)
LEARNING_RATES = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0)
WIDTHS = (16, 32, 64)
BASE = {"gf_norm": "none", "gf_residual": False, "gf_clip": 0.0, "gf_depth": 20}
PRESETS = {
    "vanishing": BASE | {"gf_activation": "sigmoid", "gf_init": "small_normal"},
    "exploding": BASE | {"gf_activation": "tanh", "gf_init": "large_normal"},
    "relu_kaiming": BASE | {"gf_activation": "relu", "gf_init": "kaiming"},
    "batchnorm": BASE
    | {"gf_activation": "sigmoid", "gf_init": "small_normal", "gf_norm": "batchnorm"},
    "residual": BASE | {"gf_activation": "sigmoid", "gf_init": "small_normal", "gf_residual": True},
    "clipping": BASE | {"gf_activation": "tanh", "gf_init": "large_normal", "gf_clip": 1.0},
}


@st.cache_resource(show_spinner=False)
def flow_data(name: str) -> FlowData:
    # Read-only tensors shared by every session: run_flow indexes them and never writes.
    return load_flow_data(name)


@st.cache_data(show_spinner=False, max_entries=64)
def cached_flow(fields: tuple) -> FlowHistory:
    config = FlowConfig(*fields)
    return run_flow(config, flow_data(config.dataset))


def _apply_preset(name: str) -> None:
    st.session_state.update(PRESETS[name])
    st.session_state.pop("gf_result", None)


def preset_buttons() -> None:
    """Draw one button per prepared case; a click sets the controls below to that case."""
    st.markdown(t("nn_gf.presets"))
    columns = st.columns(len(PRESETS))
    for column, name in zip(columns, PRESETS, strict=True):
        column.button(
            t(f"nn_gf.preset_{name}"), key=f"gf_preset_{name}", on_click=_apply_preset,
            args=(name,), width="stretch",
        )  # fmt: skip


def config_controls() -> FlowConfig:
    """Draw the network and training controls; return the chosen configuration."""
    default = FlowConfig()
    for key, value in PRESETS["vanishing"].items():
        st.session_state.setdefault(key, value)
    first, second, third = st.columns(3)
    with first:
        dataset = st.radio(
            t("nn_gf.dataset"), DATASETS, format_func=lambda n: t(f"nn_gf.dataset_{n}"),
            key="gf_dataset", horizontal=True,
        )  # fmt: skip
        depth = st.slider(t("nn_gf.depth"), 2, MAX_DEPTH, key="gf_depth")
        width = st.select_slider(t("nn_gf.width"), WIDTHS, default.width, key="gf_width")
        activation = st.selectbox(capitalized_term("activation"), ACTIVATIONS, key="gf_activation")
    with second:
        init = st.selectbox(
            capitalized_term("weight_init"),
            INITS,
            format_func=lambda n: t(f"nn_gf.init_{n}"),
            key="gf_init",
        )
        norm = st.radio(
            t("nn_gf.norm_label"), NORMS, format_func=lambda n: t(f"nn_gf.norm_{n}"),
            key="gf_norm", horizontal=True,
        )  # fmt: skip
        residual = st.checkbox(capitalized_term("residual_connection"), key="gf_residual",
                               help=t("nn_gf.residual_help"))  # fmt: skip
    with third:
        clip = st.select_slider(
            t("nn_gf.clip"), CLIP_CHOICES, key="gf_clip", help=t("nn_gf.clip_help"),
            format_func=lambda v: t("nn_gf.clip_off") if v == 0 else f"{v:g}",
        )  # fmt: skip
        lr = st.select_slider(
            capitalized_term("learning_rate"), LEARNING_RATES, default.lr, key="gf_lr"
        )
        steps = st.slider(t("nn_gf.steps"), 10, MAX_STEPS, default.steps, 10, key="gf_steps")
        seed = st.number_input(t("nn_gf.seed"), 0, 9999, default.seed, key="gf_seed")
    return FlowConfig(
        dataset=dataset, depth=depth, width=width, activation=activation, init=init, norm=norm,
        residual=residual, clip_norm=clip, lr=lr, steps=steps, seed=int(seed),
    )  # fmt: skip


def _orders(ratio: float) -> str:
    if ratio == 0 or not math.isfinite(ratio):
        return "—"
    return f"{math.log10(ratio):+.1f}"


def init_view(config: FlowConfig) -> None:
    """Draw the per-layer gradient norms and activation statistics at initialization."""
    history = cached_flow(dataclasses.astuple(dataclasses.replace(config, steps=0))).as_arrays()
    grads = history["grad_norm"][0]
    first, last = grads[0], grads[-1]

    columns = st.columns(3)
    columns[0].metric(t("nn_gf.first_grad"), f"{first:.3g}")
    columns[1].metric(t("nn_gf.last_grad"), f"{last:.3g}")
    columns[2].metric(t("nn_gf.orders"), _orders(first / last if last else math.inf))
    st.caption(t("nn_gf.orders_help"))

    left, right = st.columns(2)
    labels = {"title": t("nn_gf.grad_profile"), "x": t("nn_gf.layer"), "y": "‖∂L/∂W‖"}
    left.plotly_chart(
        layer_profile({"‖∂L/∂W‖": grads}, labels), width="stretch", key="gf_init_grads"
    )
    stats = {t("nn_gf.mean"): history["act_mean"][0], t("nn_gf.std"): history["act_std"][0]}
    labels = {
        "title": t("nn_gf.act_profile"),
        "x": t("nn_gf.layer"),
        "y": t("nn_gf.activation_value"),
    }
    right.plotly_chart(
        layer_profile(stats, labels, log_y=False), width="stretch", key="gf_init_acts"
    )


def training_view(config: FlowConfig) -> None:
    """Draw the Train button and, after a run, the layer × step heatmaps and the norm curves."""
    if st.button(t("nn_gf.train", steps=config.steps), key="gf_train", type="primary",
                 icon=":material/play_arrow:"):  # fmt: skip
        with st.spinner(t("nn_gf.training")):
            st.session_state["gf_result"] = (config, cached_flow(dataclasses.astuple(config)))
    if "gf_result" not in st.session_state:
        st.info(t("nn_gf.press_train"), icon=":material/info:")
        return
    result_config, history = st.session_state["gf_result"]
    if result_config != config:
        st.warning(t("nn_gf.stale"), icon=":material/history:")
    arrays = history.as_arrays()

    left, right = st.columns(2)
    heat = {"x": term("step"), "y": t("nn_gf.layer")}
    left.plotly_chart(
        layer_heatmap(arrays["grad_norm"], heat | {"title": t("nn_gf.grad_heatmap"), "value": "log₁₀"}),
        width="stretch", key="gf_grad_heatmap",
    )  # fmt: skip
    right.plotly_chart(
        layer_heatmap(arrays["act_std"], heat | {"title": t("nn_gf.std_heatmap"), "value": "log₁₀"}),
        width="stretch", key="gf_std_heatmap",
    )  # fmt: skip
    steps = np.arange(arrays["loss"].size)
    norm_curves = {
        t("nn_gf.total_norm"): arrays["total_norm"],
        t("nn_gf.clipped_norm"): arrays["clipped_norm"],
        t("nn_gf.update_norm"): arrays["update_norm"],
    }
    if result_config.clip_norm > 0:
        norm_curves[t("nn_gf.update_cap")] = np.full(
            steps.size, result_config.lr * result_config.clip_norm
        )
    left, right = st.columns(2)
    left.plotly_chart(
        curves_figure(steps, norm_curves, {"title": t("nn_gf.norm_title"), "x": term("step"), "y": t("nn_gf.norm_axis")},
                      log_y=True, dashed={t("nn_gf.update_cap")}),
        width="stretch", key="gf_norms",
    )  # fmt: skip
    right.plotly_chart(
        curves_figure(steps, {term("loss"): arrays["loss"]},
                      {"title": t("nn_gf.loss_title"), "x": term("step"), "y": term("loss")}),
        width="stretch", key="gf_loss",
    )  # fmt: skip
    _clip_summary(result_config, arrays)


def _clip_summary(config: FlowConfig, arrays: dict[str, np.ndarray]) -> None:
    largest_update = float(np.nanmax(arrays["update_norm"]))
    largest_total = float(np.nanmax(arrays["total_norm"]))
    if config.clip_norm > 0:
        st.markdown(
            t("nn_gf.clip_summary", total=f"{largest_total:.3g}", clip=f"{config.clip_norm:g}",
              update=f"{largest_update:.3g}", cap=f"{config.lr * config.clip_norm:.3g}")
        )  # fmt: skip
    else:
        st.markdown(t("nn_gf.no_clip_summary", total=f"{largest_total:.3g}",
                      update=f"{largest_update:.3g}"))  # fmt: skip
    if not math.isfinite(arrays["loss"][-1]):
        st.error(t("nn_gf.diverged"), icon=":material/error:")
