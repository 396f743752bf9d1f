"""The lab's dataset registry: one name per dataset, loaded as ``LabData``."""

from __future__ import annotations

from cnnlab.data import LabData, load_mnist_5k, load_torchvision
from cnnlab.shapes import ShapesConfig, load_shapes

OFFLINE_DATASETS = ("mnist-5k", "shapes")
DOWNLOAD_DATASETS = ("mnist", "fashion-mnist", "cifar10")
DATASETS = OFFLINE_DATASETS + DOWNLOAD_DATASETS

# Downloaded datasets are cut to a class-balanced subset so a lesson-sized run stays short
# on a laptop CPU; the full sets are 60,000 (MNIST, Fashion-MNIST) or 50,000 (CIFAR-10).
DOWNLOAD_TRAIN_LIMIT = 10_000
DOWNLOAD_TEST_LIMIT = 2_000


def load_dataset(name: str, seed: int = 0, root=None, download: bool = True) -> LabData:
    """Load dataset ``name`` (see ``DATASETS``) with its fixed split for ``seed``.

    The downloaded ones raise ``LocalizedError`` when they are neither on disk nor
    downloadable.
    """
    if name == "mnist-5k":
        return load_mnist_5k(seed=seed)
    if name == "shapes":
        return load_shapes(ShapesConfig(seed=seed))
    if name in DOWNLOAD_DATASETS:
        return load_torchvision(name, root=root, download=download, seed=seed,
                                max_train=DOWNLOAD_TRAIN_LIMIT, max_test=DOWNLOAD_TEST_LIMIT)  # fmt: skip
    raise ValueError(f"unknown dataset {name!r}; expected one of {DATASETS}")


def dataset_shape(name: str) -> tuple[int, int, int]:
    """Return (channels, image size, number of classes) of ``name`` without loading it."""
    shapes = {
        "mnist-5k": (1, 28, 10),
        "mnist": (1, 28, 10),
        "fashion-mnist": (1, 28, 10),
        "cifar10": (3, 32, 10),
        "shapes": (3, ShapesConfig().image_size, len(ShapesConfig().shapes)),
    }
    if name not in shapes:
        raise ValueError(f"unknown dataset {name!r}; expected one of {DATASETS}")
    return shapes[name]
