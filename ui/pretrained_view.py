"""Drawing the sections of the "Inspect a pretrained network" page.

Results are cached with ``st.cache_data`` under small keys: the model's ``key`` and a hash
of the image's pixels. A ResNet-18 forward pass takes about a second on a busy 2-core CPU,
so moving a slider must not rerun the network.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
import torch

from cnnlab.gradcam import CamResult, heatmap_rgb, overlay
from cnnlab.imageio import DecodedImage
from cnnlab.inspection import PreparedInput, upscale
from cnnlab.model_inspection import (
    Analysis,
    analyze,
    explain,
    feature_grid,
    first_layer_grid,
    top_classes,
)
from cnnlab.plots import bar_probabilities
from cnnlab.pretrained import LoadedModel
from cnnlab.runs import RunRecord
from ui.lang import current_language, t

DISPLAY_PX = 224  # small inputs (the lab's 28 x 28) are enlarged to about this size
TOP_K = 5


def image_digest(image: DecodedImage) -> str:
    """Return a short SHA-256 of the pixels and shape: the image's key in result caches."""
    digest = hashlib.sha256(str(image.rgb.shape).encode())
    digest.update(image.rgb.tobytes())
    return digest.hexdigest()[:24]


@st.cache_data(max_entries=8, show_spinner=False)
def _analysis(model_key: str, image_key: str, _loaded: LoadedModel, _x: torch.Tensor) -> Analysis:
    return analyze(_loaded, _x)


@st.cache_data(max_entries=16, show_spinner=False)
def _grad_cam(
    model_key: str, image_key: str, class_index: int, layer: str,
    _loaded: LoadedModel, _x: torch.Tensor,
) -> CamResult:  # fmt: skip
    return explain(_loaded, _x, class_index, layer)


def run_analysis(loaded: LoadedModel, prepared: PreparedInput, image_key: str) -> Analysis:
    return _analysis(loaded.key, image_key, loaded, prepared.tensor)


def _for_display(image: np.ndarray) -> np.ndarray:
    """Enlarge small images with nearest-neighbour so pixels stay visible as squares."""
    factor = max(1, DISPLAY_PX // image.shape[0])
    return upscale(image, factor) if factor > 1 else image


def show_model_input(prepared: PreparedInput) -> None:
    """Show the picture the network receives and the preprocessing steps that made it."""
    height, width = prepared.display.shape[:2]
    st.image(_for_display(prepared.display), clamp=True,
             caption=t("pretrained.input.model_view", width=width, height=height))  # fmt: skip
    with st.expander(t("pretrained.input.steps"), expanded=True):
        for number, step in enumerate(prepared.steps, start=1):
            st.markdown(f"{number}. {t(step.key, **step.params)}")


def class_label(loaded: LoadedModel, index: int) -> str:
    """Return the class name, with its index when the name is not unique.

    ImageNet has a few repeated names, e.g. two classes called "crane".
    """
    name = loaded.classes[index]
    return name if loaded.classes.count(name) == 1 else f"{name} #{index}"


def show_prediction(loaded: LoadedModel, analysis: Analysis, record: RunRecord | None) -> None:
    """Bar chart of the top classes and what share the others have."""
    top = top_classes(analysis.probabilities, TOP_K)
    labels = tuple(class_label(loaded, index) for index in top)
    title = t("pretrained.predict.chart_title", count=len(loaded.classes))
    figure = bar_probabilities(labels, analysis.probabilities[top], title)
    st.plotly_chart(figure, width="stretch", key="pretrained_top5_chart")

    rest = len(loaded.classes) - len(top)
    if rest:
        rest_share = 100 * (1 - float(analysis.probabilities[top].sum()))
        st.caption(t("pretrained.predict.rest", count=rest, rest=f"{max(rest_share, 0):.1f}"))
    if record is not None:
        st.caption(t("pretrained.predict.lab_note", count=len(loaded.classes),
                     dataset=record.config.dataset))  # fmt: skip
    else:
        st.caption(t("pretrained.predict.english_names"))


def show_filters(loaded: LoadedModel) -> None:
    grid, limit, shape = first_layer_grid(loaded)
    count, channels, k = shape[0], shape[1], shape[2]
    st.image(grid, clamp=True)
    if channels == 3:
        caption = t("pretrained.filters.caption_rgb", count=count, k=k, limit=f"{limit:.3g}")
    else:
        caption = t("pretrained.filters.caption_gray", count=count, channels=channels, k=k,
                    limit=f"{limit:.3g}")  # fmt: skip
    st.caption(caption)


def show_feature_maps(loaded: LoadedModel, analysis: Analysis) -> None:
    """Stage picker, channel count and scaling controls, then the tiled maps."""
    names = [stage.name for stage in loaded.stages]
    shapes = {stage.name: stage.shape for stage in loaded.stages}
    stage_column, count_column, scale_column = st.columns([3, 3, 2], vertical_alignment="bottom")
    stage = stage_column.selectbox(
        t("pretrained.maps.stage"), options=names, index=len(names) // 2,
        format_func=lambda name: f"{name} · {'×'.join(map(str, shapes[name]))}",
        key=f"pretrained_stage_{loaded.kind}",
    )  # fmt: skip
    total = shapes[stage][0]
    # A fixed range, so the slider keeps its value when a stage has fewer channels.
    count = count_column.slider(t("pretrained.maps.count"), min_value=1, max_value=32, value=16,
                                key="pretrained_maps_count")  # fmt: skip
    per_map = scale_column.toggle(t("pretrained.maps.per_map"), value=True,
                                  help=t("pretrained.maps.per_map_help"),
                                  key="pretrained_maps_per_map")  # fmt: skip

    grid = feature_grid(analysis.maps[stage], min(count, total), columns=8, per_map=per_map)
    st.image(grid.image, clamp=True)
    h, w = shapes[stage][1:]
    low, high = f"{grid.value_range[0]:.3g}", f"{grid.value_range[1]:.3g}"
    shown = ", ".join(map(str, grid.channels))
    kind = "signed" if grid.signed else "unsigned"
    text = t(f"pretrained.maps.caption_{kind}", channels=shown, total=total, h=h, w=w,
             low=low, high=high)  # fmt: skip
    colors = t(f"pretrained.maps.colors_{kind}_{'per_map' if per_map else 'shared'}",
               low=low, high=high, limit=f"{grid.limit:.3g}")  # fmt: skip
    separator = "" if current_language() == "zh" else " "  # Chinese puts no space after 。
    st.caption(f"{text}{separator}{colors}")


def show_grad_cam(
    loaded: LoadedModel, prepared: PreparedInput, image_key: str, analysis: Analysis
) -> None:
    """Class, layer and opacity controls, then the input, the map and the overlay."""
    probabilities = analysis.probabilities
    top = top_classes(probabilities, TOP_K)
    class_column, layer_column, opacity_column = st.columns([3, 3, 2], vertical_alignment="bottom")
    class_index = class_column.selectbox(
        t("pretrained.cam.class"), options=top,
        format_func=lambda index: f"{class_label(loaded, index)} ({100 * probabilities[index]:.1f} %)",
        key="pretrained_cam_class",
    )  # fmt: skip
    layers = {layer.name: layer.shape for layer in loaded.cam_layers}
    layer_names = list(layers)
    layer = layer_column.selectbox(
        t("pretrained.cam.layer"), options=layer_names,
        index=layer_names.index(loaded.default_cam_layer),
        format_func=lambda name: f"{name} · {'×'.join(map(str, layers[name]))}",
        help=t("pretrained.cam.layer_help"), key=f"pretrained_cam_layer_{loaded.kind}",
    )  # fmt: skip
    opacity = opacity_column.slider(t("pretrained.cam.opacity"), 0.0, 1.0, 0.5, 0.05,
                                    key="pretrained_cam_opacity")  # fmt: skip

    result = _grad_cam(loaded.key, image_key, class_index, layer, loaded, prepared.tensor)
    heatmap = result.heatmap[0]
    images = [prepared.display, heatmap_rgb(heatmap), overlay(prepared.display, heatmap, opacity)]
    captions = [t("pretrained.cam.input"), t("pretrained.cam.heatmap"), t("pretrained.cam.overlay")]
    for column, image, caption in zip(st.columns(3), images, captions, strict=True):
        column.image(_for_display(image), caption=caption, clamp=True)

    label = class_label(loaded, class_index)
    channels, h, w = layers[layer]
    peak = float(result.peak[0])
    if peak <= 0:
        st.warning(t("pretrained.cam.empty", label=label), icon=":material/warning:")
    height, width = heatmap.shape
    st.caption(t("pretrained.cam.caption", layer=layer, channels=channels, h=h, w=w, label=label,
                 score=f"{float(result.scores[0]):.3f}", width=width, height=height,
                 peak=f"{peak:.3g}"))  # fmt: skip
    st.caption(t("pretrained.cam.coarse_note", h=h, w=w))
