"""Size, FLOPs and depth of well-known torchvision models, built without pretrained weights."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from torch import nn

from cnnlab.arch_analysis import weight_layers
from cnnlab.summary import count_flops, count_parameters
from cnnlab.training import seeded

log = logging.getLogger(__name__)

# name -> torchvision.models builder name; torchvision 0.29 builds each with weights=None.
REFERENCE_MODELS = {
    "resnet18": "resnet18",
    "resnet50": "resnet50",
    "densenet121": "densenet121",
    "mobilenet_v2": "mobilenet_v2",
    "mobilenet_v3_small": "mobilenet_v3_small",
    "mobilenet_v3_large": "mobilenet_v3_large",
    "shufflenet_v2_x1_0": "shufflenet_v2_x1_0",
    "efficientnet_b0": "efficientnet_b0",
}
DISPLAY_NAMES = {
    "resnet18": "ResNet-18",
    "resnet50": "ResNet-50",
    "densenet121": "DenseNet-121",
    "mobilenet_v2": "MobileNetV2",
    "mobilenet_v3_small": "MobileNetV3-Small",
    "mobilenet_v3_large": "MobileNetV3-Large",
    "shufflenet_v2_x1_0": "ShuffleNetV2 x1.0",
    "efficientnet_b0": "EfficientNet-B0",
}
INPUT_SHAPE = (1, 3, 224, 224)


@dataclass(frozen=True)
class ReferenceStats:
    name: str
    params: int
    flops: int  # one 224×224 RGB image, multiply-add = 2, convolutions and matmuls only
    depth: int  # Conv2d + Linear modules, shortcut projections and SE layers included


def build_reference(name: str) -> nn.Module:
    """Build torchvision's ``name`` with random weights (no download)."""
    import torchvision.models as tvm  # heavy import, only when needed

    if name not in REFERENCE_MODELS:
        raise ValueError(
            f"unknown reference model {name!r}; expected one of {list(REFERENCE_MODELS)}"
        )
    return getattr(tvm, REFERENCE_MODELS[name])(weights=None)


def reference_stats(name: str) -> ReferenceStats:
    """Return parameters, FLOPs at 224×224 and depth of ``name`` (a few seconds on a CPU)."""
    # Under the training module's init lock, so this build cannot consume the random numbers
    # of a training job that is seeding its own model at the same moment.
    model = seeded(0, lambda: build_reference(name))
    stats = ReferenceStats(
        name=name,
        params=count_parameters(model),
        flops=count_flops(model, INPUT_SHAPE),
        depth=len(weight_layers(model)),
    )
    log.info("reference model %s: %d parameters, %d FLOPs", name, stats.params, stats.flops)
    return stats
