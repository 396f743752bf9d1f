"""Grad-CAM: which parts of the image raised the score of one class.

Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017) weighs the feature maps A^k (k = 1..K, each
h × w) of one convolutional layer by how strongly the class score y reacts to them:

    alpha_k = (1 / (h * w)) * sum_ij dy / dA^k_ij       (spatial mean of the gradient)
    CAM     = ReLU(sum_k alpha_k * A^k)                  (h, w)

The ReLU keeps only the places that push the score up. The map is then upsampled to the
input's H × W and divided by its maximum, so it lies in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# A target turns the logits (N, num_classes) into one score per image (N,).
Target = Callable[[torch.Tensor], torch.Tensor]


class ClassLogit:
    """Target that picks the logit (not the softmax probability) of one class."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        return logits[:, self.index]  # (N, num_classes) -> (N,)


@dataclass(frozen=True, eq=False)
class CamResult:
    """Grad-CAM of a batch of N images for one layer, as NumPy float32 arrays."""

    heatmap: np.ndarray  # (N, H, W) in [0, 1] at the input's H x W; all zeros if no evidence
    coarse: np.ndarray  # (N, h, w) >= 0: ReLU(sum_k alpha_k A^k) at the layer's resolution
    alpha: np.ndarray  # (N, K) channel weights alpha_k
    scores: np.ndarray  # (N,) target scores y
    peak: np.ndarray  # (N,) maximum of each upsampled map, the divisor of the normalization
    layer: str


class GradCAM:
    """Computes Grad-CAM maps for one layer of ``model``.

    The instance owns one forward hook on the layer; ``release()`` removes it, and so does
    leaving a ``with`` block, also when the block raises. Gradients are taken with
    ``torch.autograd.grad`` with respect to the layer's output only, so the parameters'
    ``.grad`` stay untouched and a shared model is not modified. The model runs in eval
    mode, so BatchNorm uses its running statistics and a single image works.
    """

    def __init__(self, model: nn.Module, layer: str) -> None:
        modules = dict(model.named_modules())
        if layer not in modules or layer == "":
            raise ValueError(f"no module named {layer!r}; choose one of {list(modules)[1:]}")
        self.model = model
        self.layer = layer
        self._activations: list[torch.Tensor] = []
        self._handle = modules[layer].register_forward_hook(self._keep_output)

    def _keep_output(self, _module: nn.Module, _inputs, output) -> torch.Tensor:
        if not isinstance(output, torch.Tensor) or output.dim() != 4:
            raise ValueError(f"layer {self.layer!r} must output (N, C, h, w) feature maps")
        self._activations.append(output)
        # Later layers receive a copy: an in-place op downstream (a ReLU(inplace=True), a
        # residual "+=") would otherwise overwrite the values kept here.
        return output.clone()

    def __call__(self, x: torch.Tensor, target: Target) -> CamResult:
        """Compute the maps for ``x``, float32 (N, C, H, W) normalized as the model expects.

        Raises ``ValueError`` when the layer does not run exactly once per forward pass.
        """
        if self._handle is None:
            raise RuntimeError("this GradCAM was released; create a new one")
        was_training = self.model.training
        self.model.eval()
        try:
            # inference_mode(False): the caller may sit inside torch.inference_mode().
            with torch.inference_mode(False), torch.enable_grad():
                # The input requires grad so that A does even when the parameters are frozen.
                x = x.detach().clone().requires_grad_(True)
                self._activations.clear()
                logits = self.model(x)
                if len(self._activations) != 1:
                    raise ValueError(
                        f"layer {self.layer!r} ran {len(self._activations)} times in one "
                        "forward pass; Grad-CAM needs a layer that runs exactly once"
                    )
                activations = self._activations[0]  # (N, K, h, w)
                scores = target(logits)  # (N,)
                # The images of a batch are independent in eval mode, so the gradient of the
                # sum gives each image its own dy/dA.
                (gradients,) = torch.autograd.grad(scores.sum(), activations)
        finally:
            self._activations.clear()
            self.model.train(was_training)

        with torch.no_grad():
            alpha = gradients.mean(dim=(2, 3))  # (N, K, h, w) -> (N, K)
            weighted = alpha[:, :, None, None] * activations  # (N, K, h, w)
            coarse = F.relu(weighted.sum(dim=1))  # (N, K, h, w) -> (N, h, w)
            heatmap, peak = upsample_and_normalize(coarse, tuple(x.shape[-2:]))  # -> (N, H, W)
        return CamResult(
            heatmap=heatmap.float().cpu().numpy(),
            coarse=coarse.float().cpu().numpy(),
            alpha=alpha.float().cpu().numpy(),
            scores=scores.detach().float().cpu().numpy(),
            peak=peak.float().cpu().numpy(),
            layer=self.layer,
        )

    def release(self) -> None:
        """Remove the forward hook (safe to call more than once)."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def __enter__(self) -> GradCAM:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def upsample_and_normalize(
    coarse: torch.Tensor, size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resize maps (N, h, w) >= 0 bilinearly to ``size`` (H, W) and divide each by its max.

    Returns the maps (N, H, W) in [0, 1] and the maxima (N,). Dividing by the maximum, not
    min-max scaling, keeps 0 meaning "no positive evidence"; a map without any stays zero.
    """
    upsampled = F.interpolate(coarse[:, None], size=size, mode="bilinear", align_corners=False)
    upsampled = upsampled[:, 0].clamp_min(0)  # (N, 1, H, W) -> (N, H, W)
    peak = upsampled.amax(dim=(1, 2), keepdim=True)  # (N, 1, 1)
    scaled = torch.where(peak > 0, upsampled / peak.clamp_min(1e-12), torch.zeros_like(upsampled))
    return scaled, peak[:, 0, 0]


@dataclass(frozen=True)
class LayerInfo:
    """A module and the shape of its output for one image."""

    name: str  # qualified module name, e.g. "layer4" or "features.3.block.0.0"
    shape: tuple[int, int, int]  # (C, h, w)
    is_conv: bool  # an nn.Conv2d itself, not a block that contains convolutions


def spatial_layers(model: nn.Module, input_shape: tuple[int, int, int]) -> list[LayerInfo]:
    """List the modules that output 4-D feature maps larger than 1 × 1, in execution order.

    Runs one forward pass on zeros of ``input_shape`` (C, H, W). A block is listed after the
    modules inside it, because its hook fires when it returns. Modules that run more than
    once per pass (a ReLU shared inside a ResNet block) are left out, since their output is
    ambiguous.
    """
    calls: dict[str, int] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    order: list[str] = []

    def make_hook(name: str):
        def hook(_module, _inputs, output) -> None:
            calls[name] = calls.get(name, 0) + 1
            if isinstance(output, torch.Tensor):
                shapes[name] = tuple(output.shape)
                if name in order:
                    order.remove(name)
                order.append(name)

        return hook

    modules = dict(model.named_modules())
    handles = [module.register_forward_hook(make_hook(name))
               for name, module in modules.items() if name]  # fmt: skip
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model(torch.zeros(1, *input_shape))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    layers = []
    for name in order:
        shape = shapes[name]
        if calls[name] != 1 or len(shape) != 4 or shape[2] * shape[3] <= 1:
            continue
        layers.append(LayerInfo(name, shape[1:], isinstance(modules[name], nn.Conv2d)))
    return layers


def default_target_layer(layers: Sequence[LayerInfo]) -> str:
    """Return the last spatial layer: the deepest features that still keep a layout.

    With ``spatial_layers``' order that is the outermost block of the last stage (ResNet's
    ``layer4``, MobileNet's ``features``, the lab CNN's ``features``).
    """
    if not layers:
        raise ValueError("the model has no layer with a spatial output larger than 1 x 1")
    return layers[-1].name


def cam_layer_choices(layers: Sequence[LayerInfo], stages: Sequence[str]) -> list[LayerInfo]:
    """Keep the layers that make sense as Grad-CAM targets: every Conv2d and every stage.

    The last spatial layer is always kept, since it is the default target.
    """
    keep = set(stages) | {default_target_layer(layers)}
    return [layer for layer in layers if layer.is_conv or layer.name in keep]


def heatmap_rgb(heatmap: np.ndarray) -> np.ndarray:
    """Color a map (H, W) in [0, 1] with the sequential Viridis colormap.

    Returns float32 RGB (H, W, 3) in [0, 1] (OpenCV's map is BGR; it is flipped to RGB).
    """
    levels = np.clip(np.rint(heatmap * 255), 0, 255).astype(np.uint8)
    bgr = cv2.applyColorMap(levels, cv2.COLORMAP_VIRIDIS)  # (H, W) -> (H, W, 3) BGR
    return bgr[:, :, ::-1].astype(np.float32) / 255.0


def overlay(image: np.ndarray, heatmap: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """Blend the colored heatmap onto an image: ``(1 - opacity) * image + opacity * color``.

    ``image``: float in [0, 1], (H, W) grayscale or (H, W, 3) RGB; ``heatmap``: (H, W) in
    [0, 1]. Returns float32 RGB (H, W, 3) in [0, 1].
    """
    if image.shape[:2] != heatmap.shape:
        raise ValueError(f"image {image.shape[:2]} and heatmap {heatmap.shape} differ in size")
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    rgb = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image
    blended = (1 - opacity) * rgb.astype(np.float32) + opacity * heatmap_rgb(heatmap)
    return np.clip(blended, 0, 1).astype(np.float32)
