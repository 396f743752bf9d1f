"""What a loaded model does with one image: top classes, feature maps, filters, Grad-CAM.

Every function that runs the model acquires ``LoadedModel.lock`` (see ``cnnlab.pretrained``),
because the hooks it adds would fire for any other caller of a shared model. Images for
display are float32 RGB (H, W, 3) in [0, 1], returned with the value range that was mapped
onto the colors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from cnnlab.gradcam import CamResult, ClassLogit, GradCAM, heatmap_rgb
from cnnlab.inspection import (
    diverging_rgb,
    filter_images,
    order_by_activity,
    run_with_feature_maps,
    tile,
)
from cnnlab.models import first_conv
from cnnlab.pretrained import LoadedModel

DISPLAY_TILE_PX = 96  # a feature map is enlarged to about this many pixels per side


@dataclass(frozen=True, eq=False)
class Analysis:
    """One image through the model."""

    probabilities: np.ndarray  # (num_classes,) float32 softmax, sums to 1
    maps: dict[str, np.ndarray]  # stage name -> (C, h, w) float32 output of that stage


def analyze(loaded: LoadedModel, x: torch.Tensor) -> Analysis:
    """Run ``x`` (1, C, H, W), normalized, and record the feature maps of every stage."""
    names = [stage.name for stage in loaded.stages]
    with loaded.lock:
        probabilities, maps = run_with_feature_maps(loaded.model, x, names)
    arrays = {name: maps[name].numpy() for name in names}
    return Analysis(probabilities.astype(np.float32), arrays)


def top_classes(probabilities: np.ndarray, k: int = 5) -> list[int]:
    """Return the indices of the ``k`` most probable classes, most probable first."""
    k = min(k, len(probabilities))
    return np.argsort(probabilities)[::-1][:k].tolist()


def explain(loaded: LoadedModel, x: torch.Tensor, class_index: int, layer: str) -> CamResult:
    """Grad-CAM of ``class_index``'s logit at ``layer`` for ``x`` (1, C, H, W).

    Raises ``ValueError`` if ``layer`` is not one of ``loaded.cam_layers``.
    """
    if layer not in {info.name for info in loaded.cam_layers}:
        raise ValueError(f"{layer!r} is not a Grad-CAM layer of {loaded.kind}")
    if not 0 <= class_index < len(loaded.classes):
        raise ValueError(f"class index {class_index} outside 0..{len(loaded.classes) - 1}")
    with loaded.lock, GradCAM(loaded.model, layer) as cam:
        return cam(x, ClassLogit(class_index))


@dataclass(frozen=True, eq=False)
class FeatureGrid:
    """Feature maps tiled into one image."""

    image: np.ndarray  # (H, W, 3) float32 RGB in [0, 1], white lines between maps
    channels: list[int]  # the channel shown in each tile, row by row
    value_range: tuple[float, float]  # (min, max) of the shown maps
    signed: bool  # True: diverging colors on [-limit, limit]; False: Viridis on [min, max]
    limit: float  # the symmetric limit of the diverging colors (largest one when per map)


def feature_grid(maps: np.ndarray, count: int, columns: int, per_map: bool) -> FeatureGrid:
    """Tile the ``count`` most active (mean |value|) maps of ``maps`` (C, h, w).

    Maps with any negative value are drawn with the diverging colors around zero, maps
    that are all >= 0 (after a ReLU) with Viridis from their min to their max. ``per_map``
    scales each map by its own range, else all maps share one.
    """
    channels = order_by_activity(torch.from_numpy(maps))[:count]
    shown = maps[channels]  # (C, h, w) -> (count, h, w)
    low, high = float(shown.min()), float(shown.max())
    signed = low < 0

    if signed:
        limit = float(np.abs(shown).max())
        if per_map:
            limits = np.maximum(np.abs(shown).max(axis=(1, 2), keepdims=True), 1e-12)
            rgb, _ = diverging_rgb(shown / limits, 1.0)  # each map on its own [-L_i, L_i]
        else:
            rgb, _ = diverging_rgb(shown, limit)
    else:
        if per_map:
            mins = shown.min(axis=(1, 2), keepdims=True)
            spans = np.maximum(shown.max(axis=(1, 2), keepdims=True) - mins, 1e-12)
            levels = (shown - mins) / spans
        else:
            levels = (shown - low) / max(high - low, 1e-12)
        rgb = np.stack([heatmap_rgb(level) for level in levels])  # (count, h, w, 3)
        limit = 0.0

    factor = max(1, DISPLAY_TILE_PX // max(shown.shape[1:]))
    image = tile(_enlarge(rgb, factor), columns=min(columns, len(channels)), gap=2)
    return FeatureGrid(image, channels, (low, high), signed, limit)


def first_layer_grid(
    loaded: LoadedModel, columns: int = 16
) -> tuple[np.ndarray, float, tuple[int, ...]]:
    """Tile the first Conv2d's filters; return (image RGB [0, 1], limit L, weight shape).

    Colors follow ``inspection.filter_images``: RGB filters map [-L, L] to [0, 1] per
    channel (0 is mid-gray); single-channel filters use the diverging colors.
    """
    weight = first_conv(loaded.model).weight
    images, limit = filter_images(weight)  # (O, k, k, 3)
    factor = max(1, 48 // images.shape[1])
    grid = tile(_enlarge(images, factor), columns=min(columns, len(images)), gap=2)
    return grid, limit, tuple(weight.shape)


def _enlarge(stack: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement of (N, h, w, ...) so pixels stay visible as squares."""
    return np.repeat(np.repeat(stack, factor, axis=1), factor, axis=2)
