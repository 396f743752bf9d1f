"""A standard 3×3 convolution against its cheap replacements: depthwise-separable and grouped.

Each kind maps C_in channels to C_out channels on an H×W map with stride 1 and padding 1,
as bare bias-free convolutions (no BatchNorm, no activation), so the formulas below are
exactly what ``count_parameters`` and ``count_flops`` report for ``conv_module``.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from cnnlab.block_math import conv_flops, conv_weights
from cnnlab.blocks import conv1x1, conv3x3
from cnnlab.errors import LocalizedError

CONV_KINDS = ("standard", "depthwise_separable", "grouped")
KERNEL_SIZE = 3


@dataclass(frozen=True)
class ConvCost:
    params: int
    flops: int  # one forward pass on one image; a multiply-add counts as 2
    params_latex: str  # the formula with the numbers filled in, ending in "= value"
    flops_latex: str


def check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    """Raise ``LocalizedError`` unless ``groups`` divides both channel counts."""
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise LocalizedError(
            "arch.error.groups", groups=groups, c_in=in_channels, c_out=out_channels
        )


def conv_module(kind: str, in_channels: int, out_channels: int, groups: int = 4) -> nn.Module:
    """Return the bare convolution(s) of ``kind``: (N, C_in, H, W) -> (N, C_out, H, W)."""
    if kind == "standard":
        return conv3x3(in_channels, out_channels)
    if kind == "depthwise_separable":
        return nn.Sequential(
            conv3x3(in_channels, in_channels, groups=in_channels),  # one 3×3 filter per channel
            conv1x1(in_channels, out_channels),  # mixes the channels
        )
    if kind == "grouped":
        check_groups(in_channels, out_channels, groups)
        return conv3x3(in_channels, out_channels, groups=groups)
    raise ValueError(f"unknown convolution kind {kind!r}; expected one of {CONV_KINDS}")


def conv_cost(
    kind: str, in_channels: int, out_channels: int, size: int, groups: int = 4
) -> ConvCost:
    """Return parameters and FLOPs of ``conv_module(kind, ...)`` on a size×size map, by formula."""
    k, c_in, c_out = KERNEL_SIZE, in_channels, out_channels
    if kind == "standard":
        params = conv_weights(c_in, c_out, k)
        flops = conv_flops(c_in, c_out, k, size)
        params_tex = rf"k^2 \cdot C_{{in}} \cdot C_{{out}} = {k}^2 \cdot {c_in} \cdot {c_out}"
        flops_tex = (rf"2 \cdot k^2 \cdot C_{{in}} \cdot C_{{out}} \cdot H \cdot W"
                     rf" = 2 \cdot {k}^2 \cdot {c_in} \cdot {c_out} \cdot {size} \cdot {size}")  # fmt: skip
    elif kind == "depthwise_separable":
        params = conv_weights(c_in, c_in, k, groups=c_in) + conv_weights(c_in, c_out, 1)
        flops = conv_flops(c_in, c_in, k, size, groups=c_in) + conv_flops(c_in, c_out, 1, size)
        params_tex = (rf"k^2 \cdot C_{{in}} + C_{{in}} \cdot C_{{out}}"
                      rf" = {k}^2 \cdot {c_in} + {c_in} \cdot {c_out}")  # fmt: skip
        flops_tex = (rf"2 \cdot (k^2 \cdot C_{{in}} + C_{{in}} \cdot C_{{out}}) \cdot H \cdot W"
                     rf" = 2 \cdot ({k}^2 \cdot {c_in} + {c_in} \cdot {c_out}) \cdot {size} \cdot {size}")  # fmt: skip
    elif kind == "grouped":
        check_groups(c_in, c_out, groups)
        params = conv_weights(c_in, c_out, k, groups)
        flops = conv_flops(c_in, c_out, k, size, groups)
        params_tex = (rf"k^2 \cdot \frac{{C_{{in}}}}{{g}} \cdot C_{{out}}"
                      rf" = {k}^2 \cdot \frac{{{c_in}}}{{{groups}}} \cdot {c_out}")  # fmt: skip
        flops_tex = (rf"2 \cdot k^2 \cdot \frac{{C_{{in}}}}{{g}} \cdot C_{{out}} \cdot H \cdot W"
                     rf" = 2 \cdot {k}^2 \cdot \frac{{{c_in}}}{{{groups}}} \cdot {c_out} \cdot {size} \cdot {size}")  # fmt: skip
    else:
        raise ValueError(f"unknown convolution kind {kind!r}; expected one of {CONV_KINDS}")
    return ConvCost(params, flops, f"{params_tex} = {latex_number(params)}",
                    f"{flops_tex} = {latex_number(flops)}")  # fmt: skip


def latex_number(value: int) -> str:
    """Return ``value`` with thousands separators for LaTeX: 73728 -> ``73{,}728``."""
    return f"{value:,}".replace(",", "{,}")


def separable_ratio(out_channels: int) -> float:
    """Return depthwise-separable / standard cost: 1 / C_out + 1 / k² (weights and FLOPs alike)."""
    return 1 / out_channels + 1 / KERNEL_SIZE**2
