"""Single blocks and ``BlockNet``: a small classifier built from one kind of block.

``BlockSpec`` describes one block with the sizes a lesson page lets the learner choose;
``build_block`` turns it into the module of ``cnnlab.blocks`` and ``formula_params`` gives
its parameter count by formula. ``BlockNet`` stacks blocks of one kind behind a stem, with
global average pooling and a linear head, so any block can be trained in the lab's loop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from cnnlab import block_math
from cnnlab.blocks import (
    BasicBlock,
    Bottleneck,
    ConvBNReLU,
    DenseBlock,
    DepthwiseSeparableConv,
    GroupedConvBlock,
    InvertedResidual,
    PlainBlock,
    Transition,
    transition_channels,
)
from cnnlab.errors import LocalizedError

# Block kinds a page can choose, in teaching order.
BLOCK_KINDS = ("conv", "plain", "basic", "bottleneck", "dense", "depthwise", "grouped", "inverted")
BLOCK_CLASSES: dict[str, type[nn.Module]] = {
    cls.__name__: cls
    for cls in (ConvBNReLU, PlainBlock, BasicBlock, Bottleneck, DenseBlock, Transition,
                DepthwiseSeparableConv, GroupedConvBlock, InvertedResidual)
}  # fmt: skip
MAX_CHANNELS = 1024


@dataclass(frozen=True)
class BlockSpec:
    """One block and its sizes; fields that a kind does not use are ignored."""

    kind: str  # one of BLOCK_KINDS
    in_channels: int = 16
    out_channels: int = 32  # ignored by "dense": it outputs in_channels + num_layers * growth_rate
    stride: int = 1
    expansion: int = 4  # bottleneck: out_channels / middle width
    groups: int = 4  # grouped conv
    num_layers: int = 4  # dense block
    growth_rate: int = 12  # dense block: channels each layer adds
    bn_size: int = 0  # dense block: 1×1 bottleneck width in units of growth_rate; 0 turns it off
    expand_ratio: int = 6  # inverted residual: hidden = expand_ratio * in_channels
    squeeze_excitation: bool = False  # inverted residual


@dataclass(frozen=True)
class BlockCall:
    """A block class of ``cnnlab.blocks`` by name, with its constructor's keyword arguments."""

    name: str
    kwargs: dict[str, Any]

    def build(self) -> nn.Module:
        return BLOCK_CLASSES[self.name](**self.kwargs)

    def source(self) -> str:
        """Return the constructor call as Python, e.g. ``BasicBlock(in_channels=16, ...)``."""
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())
        return f"{self.name}({arguments})"


def validate_spec(spec: BlockSpec) -> None:
    """Raise ``LocalizedError`` when a block of ``spec`` cannot be built."""
    if spec.kind not in BLOCK_KINDS:
        raise ValueError(f"unknown block kind {spec.kind!r}; expected one of {BLOCK_KINDS}")
    if not (1 <= spec.in_channels <= MAX_CHANNELS and 1 <= spec.out_channels <= MAX_CHANNELS):
        raise LocalizedError("arch.error.channels", limit=MAX_CHANNELS)
    if spec.stride not in (1, 2):
        raise LocalizedError("arch.error.stride", stride=spec.stride)
    if spec.kind == "grouped" and (
        spec.in_channels % spec.groups or spec.out_channels % spec.groups
    ):
        raise LocalizedError("arch.error.groups", groups=spec.groups, c_in=spec.in_channels,
                             c_out=spec.out_channels)  # fmt: skip
    if spec.kind == "bottleneck" and spec.out_channels // spec.expansion < 1:
        raise LocalizedError(
            "arch.error.bottleneck", c_out=spec.out_channels, expansion=spec.expansion
        )


def block_call(spec: BlockSpec) -> BlockCall:
    """Return the class and arguments that build ``spec``."""
    validate_spec(spec)
    sizes = {
        "in_channels": spec.in_channels,
        "out_channels": spec.out_channels,
        "stride": spec.stride,
    }
    calls = {
        "conv": BlockCall("ConvBNReLU", sizes),
        "plain": BlockCall("PlainBlock", sizes),
        "basic": BlockCall("BasicBlock", sizes),
        "bottleneck": BlockCall("Bottleneck", sizes | {"expansion": spec.expansion}),
        "dense": BlockCall("DenseBlock", {
            "in_channels": spec.in_channels, "num_layers": spec.num_layers,
            "growth_rate": spec.growth_rate, "bn_size": spec.bn_size,
        }),
        "depthwise": BlockCall("DepthwiseSeparableConv", sizes),
        "grouped": BlockCall("GroupedConvBlock", sizes | {"groups": spec.groups}),
        "inverted": BlockCall("InvertedResidual", sizes | {
            "expand_ratio": spec.expand_ratio, "squeeze_excitation": spec.squeeze_excitation,
        }),
    }  # fmt: skip
    return calls[spec.kind]


def build_block(spec: BlockSpec) -> nn.Module:
    return block_call(spec).build()


def block_out_channels(spec: BlockSpec) -> int:
    if spec.kind == "dense":
        return spec.in_channels + spec.num_layers * spec.growth_rate
    return spec.out_channels


def formula_params(spec: BlockSpec) -> int:
    """Return the parameter count of ``spec``'s block by the formulas in ``block_math``."""
    c_in, c_out, stride = spec.in_channels, spec.out_channels, spec.stride
    formulas = {
        "conv": lambda: block_math.conv_bn_relu_params(c_in, c_out),
        "plain": lambda: block_math.plain_block_params(c_in, c_out),
        "basic": lambda: block_math.basic_block_params(c_in, c_out, stride),
        "bottleneck": lambda: block_math.bottleneck_params(c_in, c_out, stride, spec.expansion),
        "dense": lambda: block_math.dense_block_params(c_in, spec.num_layers, spec.growth_rate,
                                                       spec.bn_size),
        "depthwise": lambda: block_math.depthwise_separable_params(c_in, c_out),
        "grouped": lambda: block_math.grouped_block_params(c_in, c_out, spec.groups),
        "inverted": lambda: block_math.inverted_residual_params(c_in, c_out, spec.expand_ratio,
                                                                spec.squeeze_excitation),
    }  # fmt: skip
    return formulas[spec.kind]()


# --- BlockNet --------------------------------------------------------------------------------


@dataclass
class BlockNetConfig:
    """A stem, stages of one block kind, global average pooling and a linear head."""

    block: str = "basic"  # one of BLOCK_KINDS
    in_channels: int = 1
    image_size: int = 28  # square inputs, H = W
    num_classes: int = 10
    stem_channels: int = 16
    stem_stride: int = 1  # 2 halves the feature maps before the first block
    widths: list[int] = field(default_factory=lambda: [16, 32])  # output channels per stage;
    # every stage after the first starts with a stride-2 block (dense: with a transition)
    blocks_per_stage: int = 1  # dense: layers per dense block
    expansion: int = 4
    groups: int = 4
    growth_rate: int = 12
    bn_size: int = 0
    compression: float = 0.5  # dense: transition width = floor(compression * channels)
    expand_ratio: int = 6
    squeeze_excitation: bool = False
    zero_init_residual: bool = False  # start each residual branch's last BN at weight 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BlockNetConfig:
        return cls(**values)


def plan_blocks(config: BlockNetConfig) -> list[BlockCall]:
    """Return the blocks of ``config`` in order, each with its channels and stride.

    Raises ``LocalizedError`` when a stage has no blocks, there is no stage, or the feature
    map would shrink below 1 pixel.
    """
    if not config.widths or config.blocks_per_stage < 1:
        raise LocalizedError("arch.error.no_blocks")
    if config.image_size // config.stem_stride // 2 ** (len(config.widths) - 1) < 1:
        raise LocalizedError("arch.error.too_many_stages", size=config.image_size,
                             stages=len(config.widths))  # fmt: skip
    options = {"expansion": config.expansion, "groups": config.groups, "growth_rate": config.growth_rate,
               "bn_size": config.bn_size, "expand_ratio": config.expand_ratio,
               "squeeze_excitation": config.squeeze_excitation}  # fmt: skip

    calls = []
    channels = config.stem_channels
    for stage, width in enumerate(config.widths):
        if config.block == "dense":
            if stage > 0:
                calls.append(BlockCall("Transition", {"in_channels": channels,
                                                      "compression": config.compression}))  # fmt: skip
                channels = transition_channels(channels, config.compression)
            spec = BlockSpec("dense", channels, num_layers=config.blocks_per_stage, **options)
            calls.append(block_call(spec))
            channels = block_out_channels(spec)
            continue
        for index in range(config.blocks_per_stage):
            stride = 2 if stage > 0 and index == 0 else 1
            calls.append(block_call(BlockSpec(config.block, channels, width, stride, **options)))
            channels = width
    return calls


def call_out_channels(call: BlockCall) -> int:
    """Return the channels a planned block outputs."""
    if call.name == "DenseBlock":
        return call.kwargs["in_channels"] + call.kwargs["num_layers"] * call.kwargs["growth_rate"]
    if call.name == "Transition":
        return transition_channels(call.kwargs["in_channels"], call.kwargs["compression"])
    return call.kwargs["out_channels"]


def init_weights(model: nn.Module, zero_init_residual: bool = False) -> None:
    """Initialize like torchvision's ResNet: He-normal convs (fan_out), BN weight 1, bias 0.

    With ``zero_init_residual`` the last BN of every residual branch starts at weight 0,
    so each residual block starts as (nearly) the identity (Goyal et al., 2017).
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    if not zero_init_residual:
        return
    for module in model.modules():
        if isinstance(module, BasicBlock):
            nn.init.zeros_(module.bn2.weight)
        elif isinstance(module, Bottleneck):
            nn.init.zeros_(module.bn3.weight)
        elif isinstance(module, InvertedResidual) and module.use_residual:
            nn.init.zeros_(module.bn2.weight)


class BlockNet(nn.Module):
    """stem → blocks → global average pooling → linear, from a ``BlockNetConfig``.

    Input: float32 (N, C, H, W) normalized images; output: logits (N, num_classes).
    """

    def __init__(self, config: BlockNetConfig) -> None:
        super().__init__()
        self.config = config
        calls = plan_blocks(config)
        self.stem = ConvBNReLU(config.in_channels, config.stem_channels, config.stem_stride)
        self.blocks = nn.Sequential(*(call.build() for call in calls))

        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(call_out_channels(calls[-1]), config.num_classes)
        init_weights(self, config.zero_init_residual)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)  # (N, C, H, W) -> (N, stem, H/s, W/s)
        return self.blocks(x)  # -> (N, C', H', W')

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        pooled = self.pool(features).flatten(1)  # (N, C', H', W') -> (N, C')
        return self.fc(pooled)  # (N, C') -> (N, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
