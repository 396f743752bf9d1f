"""Data augmentation: a gallery of ``torchvision.transforms.v2`` transforms on one picture,
MixUp/CutMix on a small batch, and a per-sample augmentation for training batches.

The gallery works on uint8 RGB pictures (H, W, 3). The training augmentation works on
normalized float batches (B, C, H, W) already on the training device and draws every
random number from the trainer's seeded generator, so a run stays reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms import v2

from cnnlab.data import LabData
from cnnlab.jobs import Trial
from cnnlab.optim.study import SubsetBudget
from cnnlab.shapes import ShapesConfig, class_names, generate_shapes
from cnnlab.training import TrainConfig, seeded


@dataclass(frozen=True)
class ParamSpec:
    """One slider of the gallery: its range, default and step."""

    name: str  # translation suffix and keyword of build_transform
    low: float
    high: float
    default: float
    step: float
    integer: bool = False  # whole numbers only (angles in degrees, kernel sizes)


GALLERY: dict[str, tuple[ParamSpec, ...]] = {
    "hflip": (ParamSpec("p", 0.0, 1.0, 0.5, 0.1),),
    "vflip": (ParamSpec("p", 0.0, 1.0, 0.5, 0.1),),
    "resized_crop": (ParamSpec("scale_min", 0.05, 1.0, 0.3, 0.05),),
    "rotation": (ParamSpec("degrees", 0, 180, 30, 5, integer=True),),
    "affine": (
        ParamSpec("degrees", 0, 90, 15, 5, integer=True),
        ParamSpec("translate", 0.0, 0.5, 0.1, 0.05),
        ParamSpec("scale", 0.0, 0.5, 0.2, 0.05),
        ParamSpec("shear", 0, 45, 10, 5, integer=True),
    ),
    "color_jitter": (
        ParamSpec("brightness", 0.0, 1.0, 0.4, 0.05),
        ParamSpec("contrast", 0.0, 1.0, 0.4, 0.05),
        ParamSpec("saturation", 0.0, 1.0, 0.4, 0.05),
        ParamSpec("hue", 0.0, 0.5, 0.1, 0.05),
    ),
    "blur": (
        ParamSpec("kernel_size", 3, 31, 9, 2, integer=True),
        ParamSpec("sigma_max", 0.1, 10.0, 3.0, 0.1),
    ),
    "erasing": (ParamSpec("p", 0.0, 1.0, 1.0, 0.1), ParamSpec("scale_max", 0.02, 0.5, 0.2, 0.02)),
}
GALLERY_MAX_SIDE = 256  # the gallery shrinks pictures to this longer side, to stay quick


def default_params(name: str) -> dict[str, float]:
    """Return the default value of each parameter of gallery transform ``name``."""
    return {spec.name: spec.default for spec in GALLERY[name]}


def build_transform(name: str, params: dict[str, float], size: tuple[int, int]) -> v2.Transform:
    """Return the ``torchvision.transforms.v2`` transform ``name`` with ``params``.

    ``size`` is the picture's (H, W); a resized crop returns pictures of that size.
    Raises ``ValueError`` for a name not in ``GALLERY``.
    """
    if name == "hflip":
        return v2.RandomHorizontalFlip(p=params["p"])
    if name == "vflip":
        return v2.RandomVerticalFlip(p=params["p"])
    if name == "resized_crop":
        return v2.RandomResizedCrop(size, scale=(params["scale_min"], 1.0), antialias=True)
    if name == "rotation":
        return v2.RandomRotation(params["degrees"])
    if name == "affine":
        scale = params["scale"]
        return v2.RandomAffine(
            degrees=params["degrees"],
            translate=(params["translate"], params["translate"]),
            scale=(1 - scale, 1 + scale),
            shear=params["shear"],
        )
    if name == "color_jitter":
        return v2.ColorJitter(params["brightness"], params["contrast"], params["saturation"],
                              params["hue"])  # fmt: skip
    if name == "blur":
        kernel = int(params["kernel_size"]) | 1  # GaussianBlur needs an odd size
        return v2.GaussianBlur(kernel, sigma=(0.1, max(0.1, params["sigma_max"])))
    if name == "erasing":
        return v2.RandomErasing(p=params["p"], scale=(0.02, max(0.02, params["scale_max"])))
    raise ValueError(f"unknown augmentation {name!r}; expected one of {list(GALLERY)}")


def fit_for_gallery(rgb: np.ndarray, max_side: int = GALLERY_MAX_SIDE) -> np.ndarray:
    """Shrink a uint8 RGB picture (H, W, 3) so its longer side is at most ``max_side``."""
    height, width = rgb.shape[:2]
    factor = max_side / max(height, width)
    if factor >= 1:
        return rgb
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _run_seeded(seed: int, fn: Callable[[], torch.Tensor]) -> torch.Tensor:
    # v2 transforms draw from torch's process-wide generator. fork_rng restores it afterwards,
    # so training jobs in other threads keep their random stream apart from this window.
    with torch.random.fork_rng(devices=[]):
        return seeded(seed, fn)


def augment_variants(
    rgb: np.ndarray, name: str, params: dict[str, float], seed: int, count: int
) -> list[np.ndarray]:
    """Apply gallery transform ``name`` ``count`` times to a uint8 RGB picture (H, W, 3).

    Returns ``count`` uint8 RGB pictures of the input's size. The same ``seed`` gives the
    same pictures.
    """
    image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)  # (H,W,3)->(3,H,W)
    transform = build_transform(name, params, (rgb.shape[0], rgb.shape[1]))
    batch = _run_seeded(seed, lambda: torch.stack([transform(image) for _ in range(count)]))
    return [b.permute(1, 2, 0).numpy() for b in batch]  # (3, H, W) -> (H, W, 3)


def compose_grid(images: list[np.ndarray], columns: int, gap: int = 4) -> np.ndarray:
    """Tile equally sized uint8 pictures (H, W, 3) into one picture, white between tiles."""
    height, width = images[0].shape[:2]
    rows = math.ceil(len(images) / columns)
    grid = np.full((rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3),
                   255, dtype=np.uint8)  # fmt: skip
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        top, left = row * (height + gap), col * (width + gap)
        grid[top : top + height, left : left + width] = image
    return grid


# --- MixUp and CutMix --------------------------------------------------------------------

MIX_KINDS = ("mixup", "cutmix")


@dataclass(frozen=True)
class MixedBatch:
    images: list[np.ndarray]  # uint8 RGB (H, W, 3) each, the mixed pictures
    soft_labels: np.ndarray  # float (B, K): each row is the mixed target, summing to 1


def mix_batch(
    images: np.ndarray, labels: np.ndarray, num_classes: int, kind: str, alpha: float, seed: int
) -> MixedBatch:
    """Mix a batch with ``v2.MixUp`` or ``v2.CutMix`` (each image with the previous one).

    ``images``: uint8 RGB (B, H, W, 3); ``labels``: int (B,). ``alpha`` is the Beta(α, α)
    parameter of the mixing weight λ. Both transforms pair image i with image i - 1
    (the batch rolled by one), so the soft labels show which two classes each picture mixes.
    """
    if kind not in MIX_KINDS:
        raise ValueError(f"unknown mix {kind!r}; expected one of {MIX_KINDS}")
    batch = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255  # (B,H,W,3)->(B,3,H,W)
    targets = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    mixer = (v2.MixUp if kind == "mixup" else v2.CutMix)(alpha=alpha, num_classes=num_classes)
    mixed, soft = _run_seeded(seed, lambda: mixer(batch, targets))
    pictures = (mixed.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return MixedBatch(list(pictures), soft.numpy())


# --- augmentation of training batches ----------------------------------------------------


@dataclass(frozen=True)
class BatchAugmentConfig:
    """Per-sample random augmentation of normalized training batches."""

    rotation: float = 15.0  # degrees; each image turns by an angle drawn from [-r, r]
    translate: float = 0.1  # fraction of the side; shift drawn from [-t, t] on each axis
    scale: float = 0.1  # zoom factor drawn from [1 - s, 1 + s]
    erase_prob: float = 0.0  # chance of blanking one random rectangle (2-20 % of the area)
    hflip: bool = False  # mirrors change digits and letters, so this is off by default


def affine_matrices(
    angles_deg: torch.Tensor, scales: torch.Tensor, shifts: torch.Tensor
) -> torch.Tensor:
    """Return ``F.affine_grid`` matrices (B, 2, 3) that rotate, zoom and shift each image.

    Angles in degrees (counter-clockwise on screen, as ``torchvision`` rotates), zoom
    factors (> 1 enlarges), shifts (B, 2) as (x, y) fractions of the width and height.
    The matrix maps output coordinates to input coordinates, so it contains the inverse motion.
    Angles are exact for square images only: the grid's [-1, 1] coordinates stretch with
    the aspect ratio.
    """
    radians = torch.deg2rad(angles_deg)
    cos, sin = torch.cos(radians) / scales, torch.sin(radians) / scales
    tx, ty = -2 * shifts[:, 0], -2 * shifts[:, 1]  # a fraction f of the side is 2f in [-1, 1]
    row_x = torch.stack([cos, -sin, cos * tx - sin * ty], dim=1)
    row_y = torch.stack([sin, cos, sin * tx + cos * ty], dim=1)
    return torch.stack([row_x, row_y], dim=1)  # (B, 2, 3)


def _uniform(low: float, high: float, n: int, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


class BatchAugment:
    """A callable ``(x, generator) -> x`` for ``train(augment=...)``.

    ``x``: normalized float (B, C, H, W). Pixels that an affine motion uncovers get each
    image's minimum, which is the background for digits. Erased rectangles get 0, the data
    set's mean after normalization, as ``torchvision``'s ``RandomErasing`` fills by default.
    """

    def __init__(self, config: BatchAugmentConfig) -> None:
        self.config = config

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        cfg = self.config
        b = x.shape[0]
        if cfg.hflip:
            flip = (torch.rand(b, generator=generator) < 0.5).to(x.device)
            x = torch.where(flip.view(b, 1, 1, 1), x.flip(-1), x)
        if cfg.rotation or cfg.translate or cfg.scale:
            angles = _uniform(-cfg.rotation, cfg.rotation, b, generator)
            scales = _uniform(1 - cfg.scale, 1 + cfg.scale, b, generator)
            shifts = _uniform(-cfg.translate, cfg.translate, 2 * b, generator).view(b, 2)
            theta = affine_matrices(angles, scales, shifts).to(x.device, x.dtype)
            x = warp(x, theta)
        if cfg.erase_prob > 0:
            x = _erase(x, cfg.erase_prob, generator)
        return x


def warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample each image of ``x`` (B, C, H, W) through its matrix ``theta`` (B, 2, 3).

    Bilinear; uncovered pixels take the image's minimum value.
    """
    fill = x.amin(dim=(1, 2, 3), keepdim=True)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    warped = F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros",
                           align_corners=False)  # fmt: skip
    return warped + fill


def _erase(x: torch.Tensor, prob: float, generator: torch.Generator) -> torch.Tensor:
    b, _, h, w = x.shape
    area = _uniform(0.02, 0.2, b, generator) * h * w
    log_ratio = _uniform(math.log(0.3), math.log(3.3), b, generator)
    heights = (area * torch.exp(log_ratio)).sqrt().round().clamp(1, h).long()
    widths = (area / torch.exp(log_ratio)).sqrt().round().clamp(1, w).long()
    tops = (torch.rand(b, generator=generator) * (h - heights + 1)).long()
    lefts = (torch.rand(b, generator=generator) * (w - widths + 1)).long()
    chosen = torch.rand(b, generator=generator) < prob

    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    inside = ((rows >= tops.view(b, 1, 1)) & (rows < (tops + heights).view(b, 1, 1))
              & (cols >= lefts.view(b, 1, 1)) & (cols < (lefts + widths).view(b, 1, 1)))  # fmt: skip
    mask = (inside & chosen.view(b, 1, 1)).unsqueeze(1).to(x.device)  # (B, 1, H, W)
    return x.masked_fill(mask, 0.0)


# --- the comparison ----------------------------------------------------------------------


@dataclass(frozen=True)
class AugmentStudy(SubsetBudget):
    """Train with vs without augmentation on a small subset, on the same budget."""

    subset: int = 500  # training images kept (class-balanced)
    epochs: int = 15
    batch_size: int = 64
    lr: float = 2e-3
    augment: BatchAugmentConfig = BatchAugmentConfig()
    seed: int = 0


def augment_trials(study: AugmentStudy, labels: dict[str, str]) -> list[Trial]:
    """Return the two trials: the same small CNN, seed and steps, without and with
    augmentation. ``labels`` maps "plain" and "augmented" to the runs' display names."""
    config = TrainConfig(epochs=study.epochs, batch_size=study.batch_size, lr=study.lr,
                         seed=study.seed)  # fmt: skip

    def subset(data: LabData) -> LabData:
        return data.subset_train(study.subset, seed=study.seed)

    return [
        Trial(labels["plain"], config, prepare_data=subset),
        Trial(
            labels["augmented"], config, prepare_data=subset, augment=BatchAugment(study.augment)
        ),
    ]


def augmentation_preview(
    data: LabData, config: BatchAugmentConfig, count: int, seed: int, factor: int = 3
) -> np.ndarray:
    """Return one uint8 RGB picture: ``count`` training images on the first row, their
    augmented versions (``BatchAugment(config)``, seeded) on the second, enlarged ``factor``
    times, one image per class in label order. Pixels are the raw [0, 1] values mapped to
    0-255."""
    labels = data.y_train.cpu()
    index = [
        int(torch.nonzero(labels == k)[0]) for k in range(data.num_classes) if (labels == k).any()
    ]
    images = data.x_train.cpu()[index[:count]]
    augmented = BatchAugment(config)(images, torch.Generator().manual_seed(seed))
    pictures = data.denormalize(torch.cat([images, augmented]))  # (2B, C, H, W) in [0, 1]
    pictures = (
        (pictures * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    )  # -> (2B, H, W, C)
    if pictures.shape[-1] == 1:
        pictures = np.repeat(pictures, 3, axis=-1)  # gray -> RGB, for the grid
    return compose_grid([enlarge(p, factor) for p in pictures], columns=count)


def shapes_batch(seed: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Draw four colored-shape pictures, each a different shape in a different color.

    Returns uint8 RGB images (4, 32, 32, 3), int64 shape labels (4,) and the class names.
    """
    config = ShapesConfig(samples_per_class=1, noise_std=0.0, seed=seed)
    images, labels = generate_shapes(config)  # one picture per (color, shape), colors outer
    n_shapes = len(config.shapes)
    take = [k * n_shapes + k for k in range(min(n_shapes, len(config.colors)))]  # diagonal
    return images[take], labels[take], class_names(config)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Scale a small uint8 picture up by an integer ``factor`` with nearest-neighbour pixels."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
