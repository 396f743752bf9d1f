"""Building blocks of well-known CNN architectures, written bottom-up as small ``nn.Module``s.

Every block takes a float32 (N, C_in, H, W) tensor and returns (N, C_out, H', W') with
H' = ceil(H / stride). Convolutions carry no bias because a BatchNorm follows each one.
The ReLUs are not in-place, so forward hooks see every intermediate tensor unchanged.

Where the designs come from:

- ``BasicBlock``, ``Bottleneck``: ResNet (He et al., 2016).
- ``DenseBlock``, ``Transition``: DenseNet (Huang et al., 2017).
- ``DepthwiseSeparableConv``: MobileNet (Howard et al., 2017).
- ``channel_shuffle``: ShuffleNet (Zhang et al., 2018).
- ``InvertedResidual``: MobileNetV2 (Sandler et al., 2018).
- Squeeze-and-excitation: SENet (Hu et al., 2018), taken from ``torchvision.ops``.
"""

from __future__ import annotations

import torch
import torch.fx
from torch import nn
from torchvision.ops import SqueezeExcitation


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """Return a 3×3 convolution with padding 1 and no bias (H' = ceil(H / stride))."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1,
                     groups=groups, bias=False)  # fmt: skip


def conv1x1(in_channels: int, out_channels: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """Return a 1×1 (pointwise) convolution without bias."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, groups=groups,
                     bias=False)  # fmt: skip


def projection(in_channels: int, out_channels: int, stride: int) -> nn.Sequential | None:
    """Return the shortcut's 1×1 conv + BN when the shape changes, else None (identity)."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))


def se_channels(channels: int) -> int:
    """Return the squeeze width of an SE module on ``channels`` channels: a quarter, at least 1."""
    return max(1, channels // 4)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` groups so the next grouped conv mixes them.

    Output channel ``k * groups + g`` is input channel ``g * (C / groups) + k``: the first
    channel of every group, then the second of every group, and so on.
    """
    n, channels, h, w = x.shape
    x = x.view(n, groups, channels // groups, h, w)  # (N, C, H, W) -> (N, g, C/g, H, W)
    x = x.transpose(1, 2)  # (N, g, C/g, H, W) -> (N, C/g, g, H, W)
    return x.reshape(n, channels, h, w)  # (N, C/g, g, H, W) -> (N, C, H, W)


# Block diagrams trace forward() with torch.fx; the shuffle stays one node there instead of
# the reshapes inside it.
torch.fx.wrap("channel_shuffle")


class ConvBNReLU(nn.Sequential):
    """One standard 3×3 convolution, BatchNorm and ReLU: the unit every other block refines."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = conv3x3(in_channels, out_channels, stride)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()


class PlainBlock(nn.Module):
    """Two 3×3 conv + BN layers with ReLUs: a ``BasicBlock`` without its shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(x)  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)
        return self.relu(out)


class BasicBlock(nn.Module):
    """ResNet's basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    The shortcut is the identity when stride is 1 and the channels stay the same, and a
    1×1 conv + BN projection (``downsample``) otherwise.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.downsample = projection(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x

        out = self.conv1(x)  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)
        out = self.bn2(out)

        if self.downsample is not None:
            identity = self.downsample(x)  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        out = out + identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """ResNet's bottleneck: 1×1 reduce, 3×3 (optionally grouped), 1×1 expand, plus shortcut.

    The middle width is ``out_channels // expansion`` (ResNet-50 uses an expansion of 4).
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, expansion: int = 4,
        groups: int = 1,
    ) -> None:  # fmt: skip
        super().__init__()
        width = out_channels // expansion
        if width < 1 or width % groups:
            raise ValueError(
                f"out_channels // expansion = {width} must be a positive multiple of groups={groups}"
            )
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.downsample = projection(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x

        out = self.conv1(x)  # (N, C_in, H, W) -> (N, width, H, W)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.conv2(out)  # (N, width, H, W) -> (N, width, H/s, W/s)
        out = self.bn2(out)
        out = self.relu(out)

        out = self.conv3(out)  # (N, width, H/s, W/s) -> (N, C_out, H/s, W/s)
        out = self.bn3(out)

        if self.downsample is not None:
            identity = self.downsample(x)
        out = out + identity
        return self.relu(out)


class Concat(nn.Module):
    """Concatenate a list of (N, C_i, H, W) tensors along channels.

    A module of its own so that layer tables and memory counts see DenseNet's growing input.
    """

    def forward(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(tensors, dim=1)  # [(N, C_i, H, W)] -> (N, sum C_i, H, W)


class DenseLayer(nn.Module):
    """One DenseNet layer: BN-ReLU-Conv3×3 producing ``growth_rate`` new channels.

    With ``bn_size`` > 0 a BN-ReLU-Conv1×1 ``bottleneck`` to ``bn_size * growth_rate``
    channels comes first (DenseNet-B, as in DenseNet-121, where ``bn_size`` is 4).
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 0) -> None:
        super().__init__()
        self.concat = Concat()
        width = in_channels
        self.bottleneck = None
        if bn_size > 0:
            width = bn_size * growth_rate
            self.bottleneck = nn.Sequential(
                nn.BatchNorm2d(in_channels), nn.ReLU(), conv1x1(in_channels, width)
            )
        self.norm = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.conv = conv3x3(width, growth_rate)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        out = self.concat(features)  # [(N, C_i, H, W)] -> (N, C_in, H, W)
        if self.bottleneck is not None:
            out = self.bottleneck(out)  # (N, C_in, H, W) -> (N, bn_size * k, H, W)

        out = self.norm(out)
        out = self.relu(out)
        return self.conv(out)  # -> (N, growth_rate, H, W)


class DenseBlock(nn.Module):
    """``num_layers`` DenseLayers, each taking the concatenation of the input and all earlier
    layers' outputs, so the block returns in_channels + num_layers * growth_rate channels.
    """

    def __init__(
        self, in_channels: int, num_layers: int, growth_rate: int, bn_size: int = 0
    ) -> None:
        super().__init__()
        self.out_channels = in_channels + num_layers * growth_rate
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size)
            for i in range(num_layers)
        )
        self.concat = Concat()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(features))  # each adds (N, growth_rate, H, W)
        return self.concat(features)  # -> (N, C_in + num_layers * growth_rate, H, W)


def transition_channels(in_channels: int, compression: float) -> int:
    """Return DenseNet's transition width: floor(compression * in_channels), at least 1."""
    return max(1, int(in_channels * compression))


class Transition(nn.Sequential):
    """DenseNet's transition between dense blocks: BN-ReLU-Conv1×1 (compression), 2×2 avg pool."""

    def __init__(self, in_channels: int, compression: float = 0.5) -> None:
        super().__init__()
        out_channels = transition_channels(in_channels, compression)
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU()
        self.conv = conv1x1(in_channels, out_channels)  # (N, C, H, W) -> (N, θC, H, W)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)  # (N, θC, H, W) -> (N, θC, H/2, W/2)


class DepthwiseSeparableConv(nn.Module):
    """MobileNet's unit: a depthwise 3×3 conv (one filter per channel), then a pointwise 1×1
    conv that mixes channels, each followed by BN and ReLU.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = conv3x3(in_channels, in_channels, stride, groups=in_channels)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.pointwise = conv1x1(in_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.depthwise(x)  # (N, C_in, H, W) -> (N, C_in, H/s, W/s)
        out = self.bn1(out)
        out = self.relu(out)

        out = self.pointwise(out)  # (N, C_in, H/s, W/s) -> (N, C_out, H/s, W/s)
        out = self.bn2(out)
        return self.relu(out)


class GroupedConvBlock(nn.Module):
    """A grouped 3×3 conv, BN and ReLU, then a channel shuffle.

    Each of the ``groups`` groups reads only C_in / groups input channels, which divides
    weights and FLOPs by ``groups``. The shuffle lets the next grouped conv read every group.
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, groups: int = 4
    ) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels={in_channels} and out_channels={out_channels} must be multiples "
                f"of groups={groups}"
            )
        self.groups = groups
        self.conv = conv3x3(in_channels, out_channels, stride, groups)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)  # (N, C_in, H, W) -> (N, C_out, H/s, W/s), groups kept apart
        out = self.bn(out)
        out = self.relu(out)
        return channel_shuffle(out, self.groups)


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expand with 1×1, depthwise 3×3, project with a linear 1×1.

    The projection has no activation (the "linear bottleneck"). The input is added back
    only when stride is 1 and the channels stay the same. ``squeeze_excitation`` inserts an
    SE module after the depthwise conv, as MobileNetV3 does (squeezed to a quarter).
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int = 1, expand_ratio: int = 6,
        squeeze_excitation: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        self.expand = None
        if expand_ratio != 1:
            self.expand = nn.Sequential(
                conv1x1(in_channels, hidden), nn.BatchNorm2d(hidden), nn.ReLU6()
            )
        self.depthwise = conv3x3(hidden, hidden, stride, groups=hidden)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.relu = nn.ReLU6()
        self.se = SqueezeExcitation(hidden, se_channels(hidden)) if squeeze_excitation else None
        self.project = conv1x1(hidden, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x

        out = x
        if self.expand is not None:
            out = self.expand(out)  # (N, C_in, H, W) -> (N, t·C_in, H, W)

        out = self.depthwise(out)  # (N, t·C_in, H, W) -> (N, t·C_in, H/s, W/s)
        out = self.bn1(out)
        out = self.relu(out)
        if self.se is not None:
            out = self.se(out)  # rescales each channel by a weight in (0, 1)

        out = self.project(out)  # (N, t·C_in, H/s, W/s) -> (N, C_out, H/s, W/s)
        out = self.bn2(out)

        if self.use_residual:
            out = out + identity
        return out
