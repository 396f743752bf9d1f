"""Receptive field of a stack of convolution and pooling layers: by formula and by measurement.

Coordinates are in input pixels along one axis (layers are square, so rows and columns
behave the same). For the output at index i of a layer, the receptive field covers
``start + i * jump ± (size − 1) / 2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnlab.convolution import conv_output_size, validate_geometry
from cnnlab.errors import LocalizedError

LAYER_KINDS = ("conv", "maxpool", "avgpool")

# Largest input side measure_receptive_field tries before giving up.
MAX_MEASURE_SIZE = 2048


@dataclass(frozen=True)
class LayerSpec:
    """One square layer of the stack."""

    kind: str  # one of LAYER_KINDS
    kernel: int
    stride: int = 1
    dilation: int = 1
    padding: int = 0


@dataclass(frozen=True)
class LayerField:
    """The receptive field of one output pixel after a layer."""

    size: int  # input pixels spanned, from the first to the last that can affect the output
    jump: int  # input pixels between neighbouring outputs (the product of the strides so far)
    start: float  # input coordinate of the centre of output 0's field; .5 for even spans
    output_size: int | None  # feature-map side after the layer, when an input size was given


PRESET_STACKS: dict[str, tuple[LayerSpec, ...]] = {
    "vgg": (
        LayerSpec("conv", 3, padding=1),
        LayerSpec("conv", 3, padding=1),
        LayerSpec("maxpool", 2, 2),
        LayerSpec("conv", 3, padding=1),
        LayerSpec("conv", 3, padding=1),
        LayerSpec("maxpool", 2, 2),
    ),
    "resnet_stem": (
        LayerSpec("conv", 7, 2, padding=3),
        LayerSpec("maxpool", 3, 2, padding=1),
        LayerSpec("conv", 3, padding=1),
        LayerSpec("conv", 3, padding=1),
    ),
    "dilated": (
        LayerSpec("conv", 3, padding=1),
        LayerSpec("conv", 3, dilation=2, padding=2),
        LayerSpec("conv", 3, dilation=4, padding=4),
    ),
}


def layers_from_rows(rows: Sequence[dict[str, object]]) -> list[LayerSpec]:
    """Turn table rows {kind, kernel, stride, dilation, padding} into layers.

    Rows without a kind or a kernel are skipped (a row the learner has only started to
    fill). A missing stride or dilation counts as 1, a missing padding as 0. Raises
    ``LocalizedError`` naming the row (1-based) when a number is not a whole number.
    """
    layers = []
    for number, row in enumerate(rows, start=1):
        kind, kernel = row.get("kind"), row.get("kernel")
        if not isinstance(kind, str) or not kind or _missing(kernel):
            continue
        values = {}
        for name, default in (("kernel", None), ("stride", 1), ("dilation", 1), ("padding", 0)):
            value = row.get(name)
            value = default if _missing(value) else value
            if float(value) != int(float(value)):
                raise LocalizedError(
                    "conv.error.rf_not_integer", row=number, column=name, value=value
                )
            values[name] = int(float(value))
        layers.append(LayerSpec(kind=kind, **values))
    return layers


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _effective_kernel(layer: LayerSpec) -> int:
    return layer.dilation * (layer.kernel - 1) + 1


def _check_layer(layer: LayerSpec) -> None:
    if layer.kind not in LAYER_KINDS:
        raise LocalizedError("conv.error.layer_kind", kind=layer.kind, kinds=", ".join(LAYER_KINDS))
    validate_geometry(layer.kernel, layer.stride, layer.padding, layer.dilation)
    # nn.AvgPool2d has no dilation argument.
    if layer.kind == "avgpool" and layer.dilation != 1:
        raise LocalizedError("conv.error.avgpool_dilation", dilation=layer.dilation)
    # PyTorch's pooling layers reject padding larger than half the kernel.
    if layer.kind != "conv" and layer.padding > layer.kernel // 2:
        raise LocalizedError("conv.error.pool_padding", padding=layer.padding, kernel=layer.kernel)


def receptive_fields(
    layers: Sequence[LayerSpec], input_size: int | None = None
) -> list[LayerField]:
    """Compute the receptive field after each layer, first layer first.

    With k' = d(k − 1) + 1 the dilated kernel, each layer updates
    size ← size + (k' − 1) · jump, start ← start + ((k' − 1) / 2 − p) · jump,
    jump ← jump · s, starting from size 1, jump 1, start 0 at the input.

    With ``input_size``, each entry also carries the feature-map side after the layer.
    Raises ``LocalizedError`` for an invalid layer or a feature map that shrinks to nothing.
    """
    size, jump, start = 1, 1, 0.0
    side = input_size
    fields = []
    for layer in layers:
        _check_layer(layer)
        effective = _effective_kernel(layer)
        if side is not None:
            side = conv_output_size(side, layer.kernel, layer.stride, layer.padding, layer.dilation)

        size = size + (effective - 1) * jump
        start = start + ((effective - 1) / 2 - layer.padding) * jump
        jump = jump * layer.stride
        fields.append(LayerField(size=size, jump=jump, start=start, output_size=side))
    return fields


def build_sequential(layers: Sequence[LayerSpec], channels: int = 1) -> nn.Sequential:
    """Build the stack as real PyTorch layers with ``channels`` channels throughout."""
    modules: list[nn.Module] = []
    for layer in layers:
        _check_layer(layer)
        if layer.kind == "conv":
            modules.append(
                nn.Conv2d(
                    channels,
                    channels,
                    layer.kernel,
                    stride=layer.stride,
                    padding=layer.padding,
                    dilation=layer.dilation,
                )
            )
        elif layer.kind == "maxpool":
            modules.append(nn.MaxPool2d(layer.kernel, layer.stride, layer.padding, layer.dilation))
        else:
            modules.append(nn.AvgPool2d(layer.kernel, layer.stride, layer.padding))
    return nn.Sequential(*modules)


def _measurable(layers: Sequence[LayerSpec]) -> nn.Sequential:
    """Build the stack with all-positive weights so that no input pixel's gradient cancels.

    Max pooling routes the gradient to one pixel per window, which would hide the rest of
    the field. It is therefore replaced by an all-ones convolution with the same kernel,
    stride, padding and dilation.
    """
    stand_ins = [
        LayerSpec("conv", layer.kernel, layer.stride, layer.dilation, layer.padding)
        if layer.kind == "maxpool"
        else layer
        for layer in layers
    ]
    model = build_sequential(stand_ins).to(torch.float64)
    with torch.no_grad():
        for module in model:
            if isinstance(module, nn.Conv2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
    return model


@dataclass(frozen=True)
class MeasuredField:
    """The receptive field found by back-propagating from one output pixel."""

    size: int  # span of the input pixels with a non-zero gradient
    center: float  # centre of that span, in input coordinates
    output_index: int  # which output pixel was measured (same index for row and column)
    input_size: int  # side of the square input used


def measure_receptive_field(layers: Sequence[LayerSpec]) -> MeasuredField:
    """Measure the receptive field of the last layer empirically.

    Runs a real ``nn.Sequential`` of the layers on a zero input, back-propagates from the
    middle output pixel and takes the extent of the non-zero input gradient along the rows.
    The input grows until that pixel's field lies inside it, so padding cannot cut it off.
    Raises ``LocalizedError`` for an empty stack or a field that needs an input larger than
    ``MAX_MEASURE_SIZE``.
    """
    if not layers:
        raise LocalizedError("conv.error.rf_no_layers")
    model = _measurable(layers)
    fields = receptive_fields(layers)
    side = max(16, 2 * fields[-1].size)
    while side <= MAX_MEASURE_SIZE:
        result = _measure_once(model, layers, fields[-1], side)
        if result is not None:
            return result
        side *= 2
    raise LocalizedError("conv.error.rf_too_large", limit=MAX_MEASURE_SIZE)


def _measure_once(
    model: nn.Sequential, layers: Sequence[LayerSpec], field: LayerField, side: int
) -> MeasuredField | None:
    try:
        output_side = receptive_fields(layers, side)[-1].output_size
    except LocalizedError:
        return None
    index = output_side // 2
    low = field.start + index * field.jump - (field.size - 1) / 2
    high = field.start + index * field.jump + (field.size - 1) / 2
    if low < 0 or high > side - 1:
        return None

    x = torch.zeros(1, 1, side, side, dtype=torch.float64, requires_grad=True)
    model(x)[0, 0, index, index].backward()
    touched_rows = np.flatnonzero(x.grad[0, 0].abs().sum(dim=1).numpy())
    first, last = int(touched_rows[0]), int(touched_rows[-1])
    return MeasuredField(
        size=last - first + 1, center=(first + last) / 2, output_index=index, input_size=side
    )
