"""Input normalization and normalization layers.

Input: per-channel mean and standard deviation of a data set's training split, the
histograms before and after ``x' = (x − μ) / σ``, and training runs on raw vs normalized
pixels. Layers: BatchNorm, LayerNorm, GroupNorm and InstanceNorm computed by hand on one
batch of feature maps, with the axes each one averages over.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from cnnlab.data import LabData, stratified_split
from cnnlab.jobs import Trial
from cnnlab.models import preset
from cnnlab.optim.study import SubsetBudget
from cnnlab.paths import MNIST_5K_PATH
from cnnlab.shapes import ShapesConfig, generate_shapes
from cnnlab.training import TrainConfig

STAT_DATASETS = ("mnist-5k", "shapes")


def training_images(name: str, seed: int = 0) -> np.ndarray:
    """Return the training split of ``name`` as uint8 (N, H, W, C), the same split the lab
    uses (MNIST-5k: 4,000 of 5,000; shapes: 80 %)."""
    if name == "mnist-5k":
        with np.load(MNIST_5K_PATH) as archive:
            images, labels = archive["images"], archive["labels"]
        train = stratified_split(labels, 1000, seed)[0]
        return images[train][..., None]  # (N, 28, 28) -> (N, 28, 28, 1)
    if name == "shapes":
        images, labels = generate_shapes(ShapesConfig(seed=seed))
        train = stratified_split(labels, len(labels) // 5, seed)[0]
        return images[train]
    raise ValueError(f"unknown dataset {name!r}; expected one of {STAT_DATASETS}")


def channel_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return per-channel (mean, std) of uint8 images (N, H, W, C), on the [0, 1] scale.

    The std is the unbiased one over all N · H · W values of a channel, as ``torch.std``
    (and so ``LabData``) computes it.
    """
    values = images.astype(np.float64) / 255.0
    flat = values.reshape(-1, values.shape[-1])  # (N·H·W, C)
    return flat.mean(axis=0), flat.std(axis=0, ddof=1)


def pixel_samples(images: np.ndarray, count: int = 20_000, seed: int = 0) -> np.ndarray:
    """Return ``count`` random pixels (count, C) of uint8 images (N, H, W, C), in [0, 1]."""
    flat = images.reshape(-1, images.shape[-1])
    index = np.random.default_rng(seed).choice(len(flat), size=min(count, len(flat)), replace=False)
    return flat[index].astype(np.float64) / 255.0


def standardize(values: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Return (values − mean) / std per channel; ``values`` (..., C) on the [0, 1] scale."""
    return (values - mean) / std


# --- training on raw vs normalized inputs --------------------------------------------------

INPUT_SCALES = ("normalized", "unit", "bytes")  # (x − μ)/σ, x in [0, 1], x in [0, 255]


def rescale_inputs(data: LabData, scale: str) -> LabData:
    """Return ``data`` with both splits' pixels on ``scale`` (see ``INPUT_SCALES``)."""
    if scale == "normalized":
        return data
    factor = 255.0 if scale == "bytes" else 1.0
    if scale not in INPUT_SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {INPUT_SCALES}")
    return replace(data, x_train=data.denormalize(data.x_train) * factor,
                   x_test=data.denormalize(data.x_test) * factor)  # fmt: skip


@dataclass(frozen=True)
class InputScaleStudy(SubsetBudget):
    subset: int = 1000
    epochs: int = 3
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.01
    seed: int = 0


def input_scale_trials(
    study: InputScaleStudy, scales: list[str], labels: dict[str, str]
) -> list[Trial]:
    """Return one run per input scale: same CNN, data, seed, optimizer and steps."""
    config = TrainConfig(model=preset("small"), optimizer=study.optimizer, lr=study.lr,
                         batch_size=study.batch_size, epochs=study.epochs, seed=study.seed)  # fmt: skip

    def prepare(scale: str):
        def derive(data: LabData) -> LabData:
            return rescale_inputs(data.subset_train(study.subset, seed=study.seed), scale)

        return derive

    return [Trial(labels[scale], config, prepare_data=prepare(scale)) for scale in scales]


# --- normalization layers by hand ----------------------------------------------------------

NORM_KINDS = ("batch", "layer", "group", "instance")
NORM_EPS = 1e-5


@dataclass(frozen=True)
class NormResult:
    output: torch.Tensor  # (N, C, H, W)
    groups: np.ndarray  # (N, C) int: cells with the same id share one mean and variance
    mean: np.ndarray  # (N, C): the mean used for each (sample, channel) cell
    std: np.ndarray  # (N, C): sqrt(biased variance + eps) used for each cell


def group_ids(kind: str, n: int, c: int, groups: int = 2) -> np.ndarray:
    """Return (N, C) ids of the sets of cells each ``kind`` normalizes together.

    batch: one set per channel (over N, H, W). layer: one per sample (over C, H, W).
    group: one per sample and group of C / groups channels. instance: one per cell (H, W).
    """
    samples = np.arange(n)[:, None]
    channels = np.arange(c)[None, :]
    if kind == "batch":
        return np.broadcast_to(channels, (n, c)).copy()
    if kind == "layer":
        return np.broadcast_to(samples, (n, c)).copy()
    if kind == "group":
        if c % groups:
            raise ValueError(f"{c} channels cannot be split into {groups} equal groups")
        return samples * groups + channels // (c // groups)
    if kind == "instance":
        return samples * c + channels
    raise ValueError(f"unknown normalization {kind!r}; expected one of {NORM_KINDS}")


def normalize_by_hand(
    x: torch.Tensor, kind: str, groups: int = 2, eps: float = NORM_EPS
) -> NormResult:
    """Normalize feature maps ``x`` (N, C, H, W) like ``kind`` does, without affine scale.

    Each set of cells from ``group_ids`` gets its mean subtracted and is divided by
    sqrt(biased variance + eps), the variance taken over all its cells' H · W values.
    """
    n, c = x.shape[:2]
    ids = group_ids(kind, n, c, groups)
    ids_t = torch.from_numpy(ids).to(x.device)
    output = torch.empty_like(x)
    mean = np.zeros((n, c))
    std = np.zeros((n, c))
    for group in np.unique(ids):
        cells = ids_t == group  # (N, C) mask
        values = x[cells]  # (cells, H, W)
        mu = values.mean()
        sigma = torch.sqrt(values.var(unbiased=False) + eps)
        output[cells] = (values - mu) / sigma
        mean[ids == group] = mu.item()
        std[ids == group] = sigma.item()
    return NormResult(output, ids, mean, std)


def torch_norm_layer(
    kind: str, channels: int, height: int, width: int, groups: int = 2
) -> nn.Module:
    """Return PyTorch's layer for ``kind``, without learned scale and shift, in training mode."""
    if kind == "batch":
        return nn.BatchNorm2d(channels, eps=NORM_EPS, affine=False, track_running_stats=False)
    if kind == "layer":
        return nn.LayerNorm([channels, height, width], eps=NORM_EPS, elementwise_affine=False)
    if kind == "group":
        return nn.GroupNorm(groups, channels, eps=NORM_EPS, affine=False)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, eps=NORM_EPS, affine=False)
    raise ValueError(f"unknown normalization {kind!r}; expected one of {NORM_KINDS}")


def feature_batch(data: LabData, n: int, channels: int = 8, seed: int = 0) -> torch.Tensor:
    """Return real feature maps to normalize: a seeded random 3×3 conv with ReLU applied to
    the first ``n`` test images. Shape (n, channels, H, W), float32, values >= 0."""
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(channels, data.in_channels, 3, 3, generator=generator) / 3
    bias = torch.randn(channels, generator=generator) * 0.5
    with torch.no_grad():
        return torch.relu(
            torch.nn.functional.conv2d(data.x_test[:n].cpu(), weight, bias, padding=1)
        )
