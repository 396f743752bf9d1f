"""Transfer learning: pretrain on one task, then fine-tune on another with few labels.

The source task is MNIST-5k digits 0–4 or the colored-shapes data converted to 28 × 28
grayscale; the target task is digits 5–9 with a few labelled images per class. The target
runs (from scratch, fine-tune everything, freeze the features and train the head, and
discriminative learning rates) all take the same number of steps.

A pretrained ResNet-18 comparison runs only when torchvision's ImageNet weights are already
in the torch hub cache: the lab never downloads them.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from cnnlab.data import LabData, from_uint8, stratified_split
from cnnlab.jobs import Trial
from cnnlab.models import build_model, preset
from cnnlab.shapes import ShapesConfig, class_names, generate_shapes, load_shapes
from cnnlab.training import TrainConfig

log = logging.getLogger(__name__)

SOURCES = ("digits_0_4", "shapes_gray")
TARGET_DIGITS = (5, 6, 7, 8, 9)
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # torchvision's ImageNet weights expect these (RGB)
IMAGENET_STD = (0.229, 0.224, 0.225)


def digit_task(
    data: LabData, digits: tuple[int, ...], per_class: int | None = None, seed: int = 0
) -> LabData:
    """Keep only ``digits`` in both splits, relabelled 0..k-1 in that order.

    ``per_class`` keeps that many training images of each digit (the test split keeps all).
    Pixels stay normalized with the full data set's statistics.
    """

    def select(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keep = torch.isin(y, torch.tensor(digits, device=y.device))
        labels = y[keep]
        relabelled = torch.zeros_like(labels)
        for index, digit in enumerate(digits):
            relabelled[labels == digit] = index
        return x[keep], relabelled

    x_train, y_train = select(data.x_train, data.y_train)
    x_test, y_test = select(data.x_test, data.y_test)
    if per_class is not None and per_class * len(digits) < len(y_train):
        index = stratified_split(y_train.cpu().numpy(), per_class * len(digits), seed)[1]
        index_t = torch.from_numpy(index).to(y_train.device)
        x_train, y_train = x_train[index_t], y_train[index_t]
    classes = tuple(data.classes[d] for d in digits)
    return replace(data, name=f"{data.name} {classes[0]}-{classes[-1]}", classes=classes,
                   x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)  # fmt: skip


def gray_shapes(seed: int = 0, image_size: int = 28) -> LabData:
    """Return the colored-shapes data set drawn at ``image_size`` and converted to grayscale
    (BT.601 luma, ``cv2.COLOR_RGB2GRAY``) so its input matches MNIST's (1, 28, 28)."""
    config = ShapesConfig(image_size=image_size, seed=seed)
    images, labels = generate_shapes(config)  # uint8 RGB (N, S, S, 3)
    gray = np.stack([cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in images])  # (N, S, S)
    train, test = stratified_split(labels, len(labels) // 5, seed)
    return from_uint8("shapes-gray", class_names(config), gray, labels, train, test)


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Return a copy of ``model`` whose last Linear layer is a fresh one with ``num_classes``
    outputs (initialized by PyTorch's default rule, from the current random state)."""
    model = copy.deepcopy(model)
    parent, name, old = None, None, None
    for module in model.modules():
        for child_name, child in module.named_children():
            if isinstance(child, nn.Linear):
                parent, name, old = module, child_name, child
    if old is None:
        raise ValueError("the model has no Linear layer to replace")
    setattr(parent, name, nn.Linear(old.in_features, num_classes).to(old.weight.device))
    return model


def freeze_except(model: nn.Module, trainable: str) -> nn.Module:
    """Set ``requires_grad=False`` on every parameter outside the top-level child ``trainable``."""
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith(f"{trainable}.")
    return model


@dataclass(frozen=True)
class FineTuneStudy:
    source: str = "digits_0_4"  # one of SOURCES
    per_class: int = 10  # labelled target images per digit
    source_epochs: int = 3
    target_epochs: int = 15
    batch_size: int = 32
    lr: float = 2e-3
    feature_lr_factor: float = 0.1  # discriminative run: features learn at lr × this
    seed: int = 0

    @property
    def target_steps(self) -> int:
        """Optimizer steps of each target run (all of them take the same number)."""
        return self.target_epochs * math.ceil(self.per_class * len(TARGET_DIGITS) / self.batch_size)

    def target_config(self, lr_multipliers: dict[str, float] | None = None) -> TrainConfig:
        return TrainConfig(model=preset("small"), lr=self.lr, batch_size=self.batch_size,
                           epochs=self.target_epochs, seed=self.seed,
                           lr_multipliers=lr_multipliers or {})  # fmt: skip


FINE_TUNE_RUNS = ("source", "scratch", "all", "frozen", "discriminative")


def finetune_trials(study: FineTuneStudy, labels: dict[str, str]) -> list[Trial]:
    """Return the source run followed by the four target runs (keys of ``FINE_TUNE_RUNS``).

    The target runs copy the source model as it is after the source run finished, so the
    trials must run in this order in one job (``TrainingJob`` runs them one after another).
    """
    if study.source not in SOURCES:
        raise ValueError(f"unknown source {study.source!r}; expected one of {SOURCES}")
    pretrained: dict[str, nn.Module] = {}

    def source_data(data: LabData) -> LabData:
        if study.source == "shapes_gray":
            return gray_shapes(study.seed)
        return digit_task(data, (0, 1, 2, 3, 4))

    def target_data(data: LabData) -> LabData:
        return digit_task(data, TARGET_DIGITS, study.per_class, study.seed)

    def source_model(data: LabData) -> nn.Module:
        config = replace(preset("small"), in_channels=data.in_channels, image_size=data.image_size,
                         num_classes=data.num_classes)  # fmt: skip
        pretrained["model"] = build_model(config)  # trained in place by the source run
        return pretrained["model"]

    def scratch_model(data: LabData) -> nn.Module:
        config = replace(preset("small"), num_classes=data.num_classes)
        return build_model(config)

    def transferred(freeze: bool) -> Callable[[LabData], nn.Module]:
        def build(data: LabData) -> nn.Module:
            model = replace_head(pretrained["model"], data.num_classes)
            return freeze_except(model, "head") if freeze else model

        return build

    source_config = TrainConfig(model=preset("small"), lr=study.lr, batch_size=64,
                                epochs=study.source_epochs, seed=study.seed)  # fmt: skip
    return [
        Trial(labels["source"], source_config, model_factory=source_model, prepare_data=source_data),
        Trial(labels["scratch"], study.target_config(), model_factory=scratch_model, prepare_data=target_data),
        Trial(labels["all"], study.target_config(), model_factory=transferred(False), prepare_data=target_data),
        Trial(labels["frozen"], study.target_config(), model_factory=transferred(True), prepare_data=target_data),
        Trial(labels["discriminative"], study.target_config({"features": study.feature_lr_factor}),
              model_factory=transferred(False), prepare_data=target_data),
    ]  # fmt: skip


def trainable_parameters(model: nn.Module) -> tuple[int, int]:
    """Return (trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad), total


# --- pretrained ResNet-18 (only from the local cache) ---------------------------------------


def resnet18_weights_path(hub_dir: str | Path | None = None) -> Path:
    """Return where torchvision keeps the ImageNet ResNet-18 weights (it may not exist).

    ``hub_dir`` defaults to ``torch.hub.get_dir()`` (``$TORCH_HOME/hub``).
    """
    from torchvision.models import ResNet18_Weights  # heavy import, only when needed

    directory = Path(hub_dir) if hub_dir is not None else Path(torch.hub.get_dir())
    return directory / "checkpoints" / Path(ResNet18_Weights.IMAGENET1K_V1.url).name


def load_resnet18(num_classes: int, weights: Path | None) -> nn.Module:
    """Return a torchvision ResNet-18 with a fresh ``num_classes`` head.

    ``weights``: a local ImageNet checkpoint to start from, or None for random weights.
    Nothing is downloaded.
    """
    from torchvision.models import resnet18

    model = resnet18(weights=None)
    if weights is not None:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def imagenet_normalized(data: LabData) -> LabData:
    """Return RGB ``data`` re-normalized with ImageNet's mean and std, as the pretrained
    ResNet-18 expects."""
    mean = torch.tensor(IMAGENET_MEAN, device=data.x_train.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=data.x_train.device).view(1, 3, 1, 1)
    return replace(
        data,
        x_train=(data.denormalize(data.x_train) - mean) / std,
        x_test=(data.denormalize(data.x_test) - mean) / std,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
    )


@dataclass(frozen=True)
class ResNetStudy:
    per_class: int = 20  # labelled shapes per class
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0


def resnet_trials(study: ResNetStudy, weights: Path, labels: dict[str, str]) -> list[Trial]:
    """Return ResNet-18 from scratch vs from ImageNet weights (all layers trained, and head
    only) on a few colored shapes (32 × 32 RGB). ``labels``: "scratch", "all", "frozen"."""

    def few_shapes(_data: LabData) -> LabData:
        shapes = load_shapes(ShapesConfig(seed=study.seed))
        index = stratified_split(
            shapes.y_train.numpy(), study.per_class * shapes.num_classes, study.seed
        )[1]
        kept = replace(shapes, x_train=shapes.x_train[index], y_train=shapes.y_train[index])
        return imagenet_normalized(kept)

    def build(pretrained: bool, freeze: bool) -> Callable[[LabData], nn.Module]:
        def factory(data: LabData) -> nn.Module:
            model = load_resnet18(data.num_classes, weights if pretrained else None)
            return freeze_except(model, "fc") if freeze else model

        return factory

    config = TrainConfig(
        lr=study.lr, batch_size=study.batch_size, epochs=study.epochs, seed=study.seed
    )
    return [
        Trial(
            labels["scratch"], config, model_factory=build(False, False), prepare_data=few_shapes
        ),
        Trial(labels["all"], config, model_factory=build(True, False), prepare_data=few_shapes),
        Trial(labels["frozen"], config, model_factory=build(True, True), prepare_data=few_shapes),
    ]
