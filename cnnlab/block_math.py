"""Parameter and FLOP counts of the blocks in ``cnnlab.blocks``, by formula.

The pages show these formulas with the user's numbers; the tests check each one against
``count_parameters`` / ``count_flops`` of the real module. Conventions: convolutions have no
bias, a BatchNorm has 2 parameters per channel (its weight and bias; the running mean and
variance are buffers, not parameters), and a multiply-add counts as 2 FLOPs.
"""

from __future__ import annotations

from cnnlab.blocks import se_channels, transition_channels


def conv_weights(in_channels: int, out_channels: int, kernel_size: int, groups: int = 1) -> int:
    """Return k² · (C_in / g) · C_out, the weights of a bias-free (grouped) convolution."""
    return kernel_size**2 * (in_channels // groups) * out_channels


def conv_flops(
    in_channels: int, out_channels: int, kernel_size: int, out_size: int, groups: int = 1
) -> int:
    """Return 2 · k² · (C_in / g) · C_out · H_out · W_out for a square output of ``out_size``."""
    return 2 * conv_weights(in_channels, out_channels, kernel_size, groups) * out_size**2


def bn_params(channels: int) -> int:
    return 2 * channels


def shortcut_params(in_channels: int, out_channels: int, stride: int) -> int:
    """Return the projection shortcut's C_in · C_out + 2 · C_out, or 0 for the identity."""
    if stride == 1 and in_channels == out_channels:
        return 0
    return conv_weights(in_channels, out_channels, 1) + bn_params(out_channels)


def conv_bn_relu_params(in_channels: int, out_channels: int) -> int:
    return conv_weights(in_channels, out_channels, 3) + bn_params(out_channels)


def plain_block_params(in_channels: int, out_channels: int) -> int:
    return conv_bn_relu_params(in_channels, out_channels) + conv_bn_relu_params(
        out_channels, out_channels
    )


def basic_block_params(in_channels: int, out_channels: int, stride: int = 1) -> int:
    """Return 9·C_in·C_out + 9·C_out² + 4·C_out, plus the projection when the shape changes."""
    return plain_block_params(in_channels, out_channels) + shortcut_params(
        in_channels, out_channels, stride
    )


def bottleneck_params(
    in_channels: int, out_channels: int, stride: int = 1, expansion: int = 4, groups: int = 1
) -> int:
    """Return C_in·w + 9·w²/g + w·C_out + BN (4w + 2·C_out) + shortcut, w = C_out / expansion."""
    width = out_channels // expansion
    return (
        conv_weights(in_channels, width, 1) + bn_params(width)
        + conv_weights(width, width, 3, groups) + bn_params(width)
        + conv_weights(width, out_channels, 1) + bn_params(out_channels)
        + shortcut_params(in_channels, out_channels, stride)
    )  # fmt: skip


def dense_layer_params(in_channels: int, growth_rate: int, bn_size: int = 0) -> int:
    """Return 2·C_in + 9·C_in·k without a bottleneck; with one (width b·k):
    2·C_in + C_in·b·k + 2·b·k + 9·b·k·k."""
    if bn_size <= 0:
        return bn_params(in_channels) + conv_weights(in_channels, growth_rate, 3)
    width = bn_size * growth_rate
    return (
        bn_params(in_channels) + conv_weights(in_channels, width, 1)
        + bn_params(width) + conv_weights(width, growth_rate, 3)
    )  # fmt: skip


def dense_block_params(
    in_channels: int, num_layers: int, growth_rate: int, bn_size: int = 0
) -> int:
    """Return the sum of the layers' parameters, where layer i reads C_in + i·k channels."""
    return sum(
        dense_layer_params(in_channels + i * growth_rate, growth_rate, bn_size)
        for i in range(num_layers)
    )


def dense_channels(in_channels: int, num_layers: int, growth_rate: int) -> list[int]:
    """Return the input channels of each layer of a dense block, C_in + i·k for i = 0..L
    (the last entry is the block's output)."""
    return [in_channels + i * growth_rate for i in range(num_layers + 1)]


def transition_params(in_channels: int, compression: float = 0.5) -> int:
    """Return 2·C + C·⌊θ·C⌋ (BN, then the 1×1 conv; pooling has no parameters)."""
    return bn_params(in_channels) + conv_weights(
        in_channels, transition_channels(in_channels, compression), 1
    )


def depthwise_separable_params(in_channels: int, out_channels: int) -> int:
    """Return 9·C_in + C_in·C_out (the two convs) + 2·C_in + 2·C_out (their BNs)."""
    return (
        conv_weights(in_channels, in_channels, 3, groups=in_channels) + bn_params(in_channels)
        + conv_weights(in_channels, out_channels, 1) + bn_params(out_channels)
    )  # fmt: skip


def grouped_block_params(in_channels: int, out_channels: int, groups: int) -> int:
    return conv_weights(in_channels, out_channels, 3, groups) + bn_params(out_channels)


def se_params(channels: int) -> int:
    """Return 2·C·s + s + C: two 1×1 convs with bias, squeezing C to s = C / 4."""
    squeeze = se_channels(channels)
    return 2 * channels * squeeze + squeeze + channels


def inverted_residual_params(
    in_channels: int, out_channels: int, expand_ratio: int = 6, squeeze_excitation: bool = False
) -> int:
    """Return C_in·t·C_in (expand, when t > 1) + 9·t·C_in (depthwise) + t·C_in·C_out (project)
    + their BNs, plus the SE module."""
    hidden = in_channels * expand_ratio
    expand = conv_weights(in_channels, hidden, 1) + bn_params(hidden) if expand_ratio != 1 else 0
    se = se_params(hidden) if squeeze_excitation else 0
    return (
        expand
        + conv_weights(hidden, hidden, 3, groups=hidden) + bn_params(hidden)
        + se
        + conv_weights(hidden, out_channels, 1) + bn_params(out_channels)
    )  # fmt: skip
