"""A small-CNN builder from a typed config (sizes and FLOPs are in ``cnnlab.summary``).

Every classifier splits into ``forward_features`` (the last spatial feature map, NCHW) and
``forward_head`` (logits), so inspection code hooks into that seam.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
from torch import nn

from cnnlab.errors import LocalizedError

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}
POOLS = ("max", "avg", "none")


@dataclass
class ConvBlockConfig:
    """One conv block: Conv2d -> [BatchNorm2d] -> activation -> [pool] -> [Dropout2d]."""

    out_channels: int = 16
    kernel_size: int = 3
    stride: int = 1
    padding: int = 1
    activation: str = "relu"
    pool: str = "max"  # "max", "avg" or "none"
    pool_size: int = 2  # kernel and stride of the pooling layer
    batch_norm: bool = False
    dropout: float = 0.0  # Dropout2d probability after the block


@dataclass
class CNNConfig:
    in_channels: int = 1
    image_size: int = 28  # square inputs, H = W
    num_classes: int = 10
    blocks: list[ConvBlockConfig] = field(
        default_factory=lambda: [ConvBlockConfig(16), ConvBlockConfig(32)]
    )
    hidden_units: int = 0  # 0: the head is one Linear layer
    head_dropout: float = 0.0
    global_pool: bool = False  # average over H, W before the head instead of flattening

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CNNConfig:
        values = dict(values)
        values["blocks"] = [ConvBlockConfig(**b) for b in values.get("blocks", [])]
        return cls(**values)


def preset(
    name: str, in_channels: int = 1, image_size: int = 28, num_classes: int = 10
) -> CNNConfig:
    """Return a named model config: ``tiny``, ``small``, ``medium`` or ``bn-recipe``.

    ``bn-recipe`` is the 99 %-on-MNIST-5k recipe's model (with BatchNorm); the others are
    plain CNNs of growing width.
    """
    blocks = {
        "tiny": [ConvBlockConfig(8), ConvBlockConfig(16)],
        "small": [ConvBlockConfig(16), ConvBlockConfig(32)],
        "medium": [ConvBlockConfig(32), ConvBlockConfig(64), ConvBlockConfig(64, pool="none")],
        "bn-recipe": [
            ConvBlockConfig(32, batch_norm=True),
            ConvBlockConfig(64, batch_norm=True),
            ConvBlockConfig(128, batch_norm=True, pool="none"),
        ],
    }
    if name not in blocks:
        raise ValueError(f"unknown preset {name!r}; expected one of {list(blocks)}")
    hidden = 0
    return CNNConfig(in_channels, image_size, num_classes, blocks[name], hidden_units=hidden)


PRESETS = ("tiny", "small", "medium", "bn-recipe")


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Return floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def validate_config(config: CNNConfig) -> list[int]:
    """Check a config and return the spatial size after each block.

    Raises ``LocalizedError`` naming the block and the sizes when a layer's output would
    shrink below 1 pixel, or when a field is out of range.
    """
    if config.in_channels < 1 or config.num_classes < 2 or config.image_size < 1:
        raise LocalizedError("models.error.basic", channels=config.in_channels,
                             classes=config.num_classes, size=config.image_size)  # fmt: skip
    if not config.blocks:
        raise LocalizedError("models.error.no_blocks")
    sizes = []
    size = config.image_size
    for number, block in enumerate(config.blocks, start=1):
        if block.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {block.activation!r}; use one of {list(ACTIVATIONS)}"
            )
        if block.pool not in POOLS:
            raise ValueError(f"unknown pool {block.pool!r}; use one of {POOLS}")
        if block.out_channels < 1 or block.kernel_size < 1 or block.stride < 1 or block.padding < 0:
            raise LocalizedError("models.error.block_fields", block=number)
        if not 0 <= block.dropout < 1:
            raise LocalizedError("models.error.dropout", block=number, value=block.dropout)
        conv_size = conv_output_size(size, block.kernel_size, block.stride, block.padding)
        if conv_size < 1:
            raise LocalizedError("models.error.conv_too_small", block=number, size_in=size,
                                 kernel=block.kernel_size, stride=block.stride,
                                 padding=block.padding, size_out=conv_size)  # fmt: skip
        size = conv_size
        if block.pool != "none":
            pooled = conv_output_size(size, block.pool_size, block.pool_size, 0)
            if pooled < 1:
                raise LocalizedError("models.error.pool_too_small", block=number, size_in=size,
                                     pool=block.pool_size, size_out=pooled)  # fmt: skip
            size = pooled
        sizes.append(size)
    return sizes


class ConvBlock(nn.Sequential):
    """Conv2d -> [BatchNorm2d] -> activation -> [pool] -> [Dropout2d], as one module."""

    def __init__(self, in_channels: int, cfg: ConvBlockConfig) -> None:
        layers: dict[str, nn.Module] = {
            # BatchNorm has its own shift, so the conv's bias would be redundant.
            "conv": nn.Conv2d(
                in_channels,
                cfg.out_channels,
                cfg.kernel_size,
                cfg.stride,
                cfg.padding,
                bias=not cfg.batch_norm,
            ),  # fmt: skip
        }
        if cfg.batch_norm:
            layers["bn"] = nn.BatchNorm2d(cfg.out_channels)
        layers["act"] = ACTIVATIONS[cfg.activation]()
        if cfg.pool == "max":
            layers["pool"] = nn.MaxPool2d(cfg.pool_size)
        elif cfg.pool == "avg":
            layers["pool"] = nn.AvgPool2d(cfg.pool_size)
        if cfg.dropout > 0:
            layers["drop"] = nn.Dropout2d(cfg.dropout)
        super().__init__()
        for name, module in layers.items():
            self.add_module(name, module)


class SmallCNN(nn.Module):
    """A stack of ``ConvBlock``s and a classifier head, built from a ``CNNConfig``.

    Input: float32 (N, C, H, W) normalized images; output: logits (N, num_classes).
    """

    def __init__(self, config: CNNConfig) -> None:
        super().__init__()
        validate_config(config)
        self.config = config

        blocks = []
        channels = config.in_channels
        for block_cfg in config.blocks:
            blocks.append(ConvBlock(channels, block_cfg))
            channels = block_cfg.out_channels
        self.features = nn.Sequential(*blocks)

        # The head's input size comes from a dummy forward, not from hand arithmetic. It runs
        # in eval mode so BatchNorm's running statistics and the random generator stay untouched.
        self.features.eval()
        with torch.no_grad():
            dummy = torch.zeros(1, config.in_channels, config.image_size, config.image_size)
            feature_shape = self.features(dummy).shape  # (1, C', H', W')
        self.features.train()
        flat = feature_shape[1] if config.global_pool else feature_shape[1:].numel()

        head: list[nn.Module] = [nn.AdaptiveAvgPool2d(1)] if config.global_pool else []
        head.append(nn.Flatten())
        if config.hidden_units:
            head += [nn.Linear(flat, config.hidden_units), nn.ReLU()]
            if config.head_dropout > 0:
                head.append(nn.Dropout(config.head_dropout))
            flat = config.hidden_units
        elif config.head_dropout > 0:
            head.append(nn.Dropout(config.head_dropout))
        head.append(nn.Linear(flat, config.num_classes))
        self.head = nn.Sequential(*head)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # (N, C, H, W) -> (N, C', H', W')

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(features)  # (N, C', H', W') -> (N, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def build_model(config: CNNConfig) -> SmallCNN:
    return SmallCNN(config)


def first_conv(model: nn.Module) -> nn.Conv2d:
    """Return the first ``nn.Conv2d`` of ``model`` (its filters see the raw input)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module
    raise ValueError("the model has no Conv2d layer")


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """Return (qualified name, module) of every Conv2d in forward order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def with_input(config: CNNConfig, in_channels: int, image_size: int, num_classes: int) -> CNNConfig:
    """Return ``config`` adapted to a dataset's channels, image size and classes."""
    return replace(config, in_channels=in_channels, image_size=image_size, num_classes=num_classes)
