"""Looking inside a trained CNN: input preparation, feature maps, filters, predictions.

Images for display come back as float arrays in [0, 1] (H, W) or (H, W, 3) RGB, together
with the value range that was mapped onto [0, 1], so a page can state it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Step:
    """One preprocessing step, as a translation key and its values."""

    key: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedInput:
    tensor: torch.Tensor  # (1, C, S, S) float32, normalized like the training data
    display: np.ndarray  # (S, S) or (S, S, 3) float in [0, 1]: what the model sees
    steps: tuple[Step, ...]


def prepare_image(
    rgb: np.ndarray,
    in_channels: int,
    image_size: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    invert: bool | None = None,
) -> PreparedInput:
    """Turn an RGB uint8 image (H, W, 3) into the model's input, recording every step.

    Grayscale models get luma (``cv2.COLOR_RGB2GRAY``, BT.601 weights). ``invert=None``
    inverts automatically when the border is brighter than the centre region's mean, since
    MNIST digits are light strokes on black and photos of handwriting are the opposite.
    The image is resized with area averaging (``cv2.INTER_AREA``) to ``image_size`` square,
    after padding it to a square with its border color so the aspect ratio is kept.
    """
    steps = [Step("inside.step.original", {"width": rgb.shape[1], "height": rgb.shape[0]})]
    image = rgb
    if in_channels == 1:
        image = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        steps.append(Step("inside.step.gray"))

    if image.shape[0] != image.shape[1]:
        image = _pad_to_square(image)
        steps.append(Step("inside.step.pad"))
    if image.shape[0] != image_size:
        interpolation = cv2.INTER_AREA if image.shape[0] > image_size else cv2.INTER_LINEAR
        image = cv2.resize(image, (image_size, image_size), interpolation=interpolation)
    steps.append(Step("inside.step.resize", {"size": image_size}))

    if invert is None:
        invert = _border_is_brighter(image)
        if invert:
            steps.append(Step("inside.step.invert_auto"))
    elif invert:
        steps.append(Step("inside.step.invert"))
    if invert:
        image = 255 - image

    display = image.astype(np.float32) / 255.0
    chw = display[None] if display.ndim == 2 else display.transpose(2, 0, 1)  # (S,S,3)->(3,S,S)
    tensor = torch.from_numpy(np.ascontiguousarray(chw)).unsqueeze(0)  # -> (1, C, S, S)
    mean_t = torch.tensor(mean).view(1, -1, 1, 1)
    std_t = torch.tensor(std).view(1, -1, 1, 1)
    steps.append(Step("inside.step.normalize", {"mean": _fmt(mean), "std": _fmt(std)}))
    return PreparedInput((tensor - mean_t) / std_t, display, tuple(steps))


def _fmt(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _pad_to_square(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    if h == w:
        return image
    size = max(h, w)
    top, left = (size - h) // 2, (size - w) // 2
    return cv2.copyMakeBorder(image, top, size - h - top, left, size - w - left,
                              cv2.BORDER_REPLICATE)  # fmt: skip


def _border_is_brighter(image: np.ndarray) -> bool:
    gray = image if image.ndim == 2 else image.mean(axis=2)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(border.mean()) > 127


class ActivationRecorder:
    """Records the outputs of named modules during a forward pass.

    Use as a context manager; the hooks are removed on exit (or by ``release()``), also
    when the forward pass raises.
    """

    def __init__(self, model: nn.Module, module_names: list[str]) -> None:
        modules = dict(model.named_modules())
        missing = [name for name in module_names if name not in modules]
        if missing:
            raise ValueError(f"no modules named {missing}; available: {list(modules)[1:]}")
        self.outputs: dict[str, torch.Tensor] = {}
        self._handles = [
            modules[name].register_forward_hook(self._hook(name)) for name in module_names
        ]

    def _hook(self, name: str):
        def hook(_module, _inputs, output) -> None:
            self.outputs[name] = output.detach()

        return hook

    def release(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> ActivationRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def block_outputs(model: nn.Module) -> list[str]:
    """Return names of the modules whose outputs are a conv layer's feature maps.

    For each ``Conv2d`` this is the activation that follows it when there is one (the
    feature map after the non-linearity), else the conv itself.
    """
    names = []
    modules = list(model.named_modules())
    for index, (name, module) in enumerate(modules):
        if not isinstance(module, nn.Conv2d):
            continue
        chosen = name
        for later_name, later in modules[index + 1 : index + 4]:
            if isinstance(later, nn.Conv2d):
                break
            if type(later).__name__ in ACTIVATION_NAMES:
                chosen = later_name
                break
        names.append(chosen)
    return names


ACTIVATION_NAMES = {"ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Tanh", "Sigmoid", "ReLU6",
                    "Hardswish"}  # fmt: skip


@torch.inference_mode()
def run_with_feature_maps(
    model: nn.Module, x: torch.Tensor, module_names: list[str] | None = None
) -> tuple[np.ndarray, dict[str, torch.Tensor]]:
    """Return (class probabilities (K,), {module name: feature maps (C, H, W)}) for one image.

    ``x``: (1, C, S, S). The model runs in eval mode, so BatchNorm uses its running
    statistics and a single image is fine.
    """
    was_training = model.training
    model.eval()
    names = module_names if module_names is not None else block_outputs(model)
    device = next(model.parameters()).device
    try:
        with ActivationRecorder(model, names) as recorder:
            logits = model(x.to(device))
        maps = {name: recorder.outputs[name][0].float().cpu() for name in names}
    finally:
        model.train(was_training)
    probabilities = F.softmax(logits.float(), dim=1)[0].cpu().numpy()
    return probabilities, maps


def order_by_activity(maps: torch.Tensor) -> list[int]:
    """Return channel indices of ``maps`` (C, H, W), the most active (mean |value|) first."""
    return torch.argsort(maps.abs().mean(dim=(1, 2)), descending=True).tolist()


def tile(images: np.ndarray, columns: int, gap: int = 1, fill: float = 1.0) -> np.ndarray:
    """Arrange (N, H, W) or (N, H, W, 3) images in a grid with ``gap``-pixel lines."""
    n, h, w = images.shape[:3]
    rows = int(np.ceil(n / columns))
    extra = images.shape[3:]
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, *extra), fill,
                   dtype=np.float32)  # fmt: skip
    for index in range(n):
        r, c = divmod(index, columns)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = images[index]
    return grid


def scale_unsigned(maps: np.ndarray, per_map: bool) -> tuple[np.ndarray, tuple[float, float]]:
    """Map values to [0, 1] with min-max scaling, per map or shared over all maps.

    Returns the scaled maps and the (min, max) range that was mapped (the overall range
    when ``per_map``).
    """
    lo, hi = float(maps.min()), float(maps.max())
    if per_map:
        mins = maps.min(axis=(1, 2), keepdims=True)
        spans = np.maximum(maps.max(axis=(1, 2), keepdims=True) - mins, 1e-12)
        return (maps - mins) / spans, (lo, hi)
    return (maps - lo) / max(hi - lo, 1e-12), (lo, hi)


def diverging_rgb(values: np.ndarray, limit: float | None = None) -> tuple[np.ndarray, float]:
    """Color signed values blue (negative) - white (0) - red (positive), symmetric range.

    Returns float RGB in [0, 1] with shape ``values.shape + (3,)`` and the limit L such
    that [-L, L] was mapped.
    """
    limit = float(np.abs(values).max()) if limit is None else limit
    t = np.clip(values / max(limit, 1e-12), -1, 1)[..., None]
    blue, white, red = np.array([0.13, 0.4, 0.75]), np.ones(3), np.array([0.75, 0.13, 0.15])
    rgb = np.where(t < 0, white + (-t) * (blue - white), white + t * (red - white))
    return rgb.astype(np.float32), limit


def filter_images(weight: torch.Tensor) -> tuple[np.ndarray, float]:
    """Render first-layer filters (O, C, k, k) as images for display.

    One input channel: diverging colors (blue negative, red positive) on a symmetric range
    shared by all filters. Three channels: RGB images, each channel mapped from the shared
    [-L, L] to [0, 1] (0 -> mid-gray). Returns (images (O, k, k, 3) float [0, 1], L).
    """
    w = weight.detach().float().cpu().numpy()
    limit = float(np.abs(w).max())
    if w.shape[1] == 1:
        return diverging_rgb(w[:, 0], limit)
    if w.shape[1] == 3:
        return (w.transpose(0, 2, 3, 1) / max(limit, 1e-12) + 1) / 2, limit
    return diverging_rgb(w.mean(axis=1), limit)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Enlarge with nearest-neighbour so single pixels stay visible as squares."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
