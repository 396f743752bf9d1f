"""Datasets as normalized tensors, ready to be sliced into batches on the training device.

Every loader returns a ``LabData``: images as float32 (N, C, H, W) already normalized with
the training split's per-channel mean and std, labels as int64 (N,). Batches are slices of
a shuffled index (``batch_indices``), never per-sample PIL conversions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from cnnlab.errors import LocalizedError
from cnnlab.paths import MNIST_5K_PATH, data_dir

log = logging.getLogger(__name__)

DIGIT_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


@dataclass
class LabData:
    """A train/test split as normalized tensors.

    ``x_*``: float32 (N, C, H, W), normalized per channel with ``mean``/``std`` of the
    training split (values roughly in [-1, 3]); ``y_*``: int64 (N,) class indices.
    """

    name: str
    classes: tuple[str, ...]
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: tuple[float, ...]  # per channel, of the raw [0, 1] pixels
    std: tuple[float, ...]
    notes: list[str] = field(default_factory=list)

    @property
    def in_channels(self) -> int:
        return self.x_train.shape[1]

    @property
    def image_size(self) -> int:
        return self.x_train.shape[-1]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to(self, device: torch.device | str) -> LabData:
        """Return a copy with every tensor on ``device`` (a no-op copy when already there)."""
        return replace(
            self,
            x_train=self.x_train.to(device),
            y_train=self.y_train.to(device),
            x_test=self.x_test.to(device),
            y_test=self.y_test.to(device),
        )

    def subset_train(self, n: int, seed: int = 0) -> LabData:
        """Return a copy whose training split keeps ``n`` samples, balanced per class."""
        index = stratified_split(self.y_train.cpu().numpy(), n, seed)[1]
        index_t = torch.from_numpy(index).to(self.x_train.device)
        return replace(self, x_train=self.x_train[index_t], y_train=self.y_train[index_t])

    def normalize(self, images01: torch.Tensor) -> torch.Tensor:
        """Normalize raw images in [0, 1], shape (N, C, H, W), like the training data."""
        mean = torch.tensor(self.mean, device=images01.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=images01.device).view(1, -1, 1, 1)
        return (images01 - mean) / std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Map normalized images back to [0, 1] for display (clipped)."""
        mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
        return (x * std + mean).clamp(0, 1)


def stratified_split(labels: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (train, test) with ``n_test`` test samples balanced across classes.

    Deterministic for a given ``seed``; both index arrays are sorted.
    """
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per_class, remainder = divmod(n_test, len(classes))
    test_parts = []
    for i, c in enumerate(classes):
        members = np.flatnonzero(labels == c)
        take = min(len(members), per_class + (1 if i < remainder else 0))
        test_parts.append(rng.choice(members, size=take, replace=False))
    test = np.sort(np.concatenate(test_parts))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def from_uint8(
    name: str,
    classes: tuple[str, ...],
    images: np.ndarray,
    labels: np.ndarray,
    train_index: np.ndarray,
    test_index: np.ndarray,
) -> LabData:
    """Build ``LabData`` from uint8 images (N, H, W) or (N, H, W, C) and integer labels."""
    if images.ndim == 3:
        images = images[:, :, :, None]  # (N, H, W) -> (N, H, W, 1)
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))

    x_train, x_test = x[train_index], x[test_index]
    mean = x_train.mean(dim=(0, 2, 3))
    std = x_train.std(dim=(0, 2, 3)).clamp_min(1e-6)
    view = (1, -1, 1, 1)
    return LabData(
        name=name,
        classes=classes,
        x_train=(x_train - mean.view(view)) / std.view(view),
        y_train=y[train_index],
        x_test=(x_test - mean.view(view)) / std.view(view),
        y_test=y[test_index],
        mean=tuple(mean.tolist()),
        std=tuple(std.tolist()),
    )


def load_mnist_5k(n_test: int = 1000, seed: int = 0, path=MNIST_5K_PATH) -> LabData:
    """Load the shipped 5,000-digit MNIST subset, split into 4,000 train / 1,000 test.

    The split is stratified (100 test digits per class by default) and fixed by ``seed``.
    """
    with np.load(path) as archive:
        images, labels = archive["images"], archive["labels"]
    train, test = stratified_split(labels, n_test, seed)
    return from_uint8("mnist-5k", DIGIT_CLASSES, images, labels, train, test)


# --- torchvision datasets (need a download on first use) ---------------------------------

TORCHVISION_DATASETS = {
    # name: (torchvision class name, classes)
    "mnist": ("MNIST", DIGIT_CLASSES),
    "fashion-mnist": ("FashionMNIST", FASHION_CLASSES),
    "cifar10": ("CIFAR10", CIFAR10_CLASSES),
}


def load_torchvision(
    name: str,
    root=None,
    download: bool = True,
    max_train: int | None = None,
    max_test: int | None = None,
    seed: int = 0,
) -> LabData:
    """Load a torchvision dataset (``mnist``, ``fashion-mnist``, ``cifar10``) as ``LabData``.

    Files are downloaded into ``root`` (default: ``cnnlab.paths.data_dir()``) on first use.
    ``max_train`` / ``max_test`` keep a class-balanced subset, to bound memory and time.
    Raises ``LocalizedError("data.error.download")`` when the files are missing and cannot
    be downloaded (e.g. offline).
    """
    import torchvision.datasets as tvd  # heavy import, only when needed

    if name not in TORCHVISION_DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {list(TORCHVISION_DATASETS)}")
    class_name, classes = TORCHVISION_DATASETS[name]
    root = root or data_dir()
    dataset_cls = getattr(tvd, class_name)
    try:
        train_set = dataset_cls(root=str(root), train=True, download=download)
        test_set = dataset_cls(root=str(root), train=False, download=download)
    except (OSError, RuntimeError) as err:
        # torchvision raises RuntimeError("Dataset not found...") when files are missing and
        # download is off, and URLError (an OSError) when the network is unreachable.
        log.warning("loading %s from %s failed: %s", name, root, err)
        raise LocalizedError("data.error.download", dataset=name, root=str(root)) from err

    images = np.concatenate([_as_uint8(train_set.data), _as_uint8(test_set.data)])
    labels = np.concatenate([np.asarray(train_set.targets), np.asarray(test_set.targets)])
    n_train = len(train_set.data)
    train_index = np.arange(n_train)
    test_index = np.arange(n_train, len(images))
    if max_train is not None and max_train < len(train_index):
        train_index = train_index[stratified_split(labels[train_index], max_train, seed)[1]]
    if max_test is not None and max_test < len(test_index):
        test_index = test_index[stratified_split(labels[test_index], max_test, seed)[1]]
    return from_uint8(name, classes, images, labels, train_index, test_index)


def _as_uint8(data) -> np.ndarray:
    array = data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
    return array.astype(np.uint8, copy=False)


# --- batching and augmentation ------------------------------------------------------------


def batch_indices(
    n: int, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu"
) -> list[torch.Tensor]:
    """Shuffle ``range(n)`` with ``generator`` and cut it into batches (the last may be short)."""
    order = torch.randperm(n, generator=generator).to(device)
    return list(order.split(batch_size))


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by a random integer offset in [-max_shift, max_shift] pixels.

    ``x``: (B, C, H, W). Uncovered pixels get the image's minimum value (the normalized
    background for digits). The offsets come from ``generator`` (a CPU generator), so a
    seeded run is reproducible.
    """
    if max_shift <= 0:
        return x
    b, _, h, w = x.shape
    offsets = torch.randint(-max_shift, max_shift + 1, (2, b), generator=generator).to(x.device)
    fill = x.amin(dim=(1, 2, 3), keepdim=True)
    padded = torch.nn.functional.pad(x - fill, (max_shift,) * 4) + fill  # (B, C, H+2m, W+2m)

    rows = torch.arange(h, device=x.device).view(1, h, 1) + max_shift - offsets[0].view(b, 1, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w) + max_shift - offsets[1].view(b, 1, 1)
    batch = torch.arange(b, device=x.device).view(b, 1, 1)
    shifted = padded.permute(0, 2, 3, 1)[batch, rows, cols]  # (B, H, W, C)
    return shifted.permute(0, 3, 1, 2).contiguous()  # (B, H, W, C) -> (B, C, H, W)
