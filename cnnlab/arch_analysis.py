"""Measurements of a network's architecture: activation memory, gradient norms per layer at
initialization, the receptive field along the main path, and the latency of a module.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import benchmark
from torchvision.ops import SqueezeExcitation

from cnnlab.receptive_field import LayerField, LayerSpec, receptive_fields
from cnnlab.summary import LayerRow, count_flops, count_parameters, layer_table

log = logging.getLogger(__name__)

BYTES_PER_FLOAT32 = 4

# Submodules that run beside the main path, whose layers the receptive-field path leaves
# out: ResNet's shortcut projection ("downsample", in cnnlab and torchvision) and the
# shortcut branch of torchvision's ShuffleNetV2 units ("branch1").
_SIDE_BRANCH_NAMES = ("downsample", "branch1")


def activation_bytes(rows: list[LayerRow]) -> int:
    """Return the sum of every leaf layer's output size for one image, in float32 bytes.

    ``rows`` comes from ``summary.layer_table``. Each layer's output counts once. What
    autograd keeps for the backward pass differs (in-place ops, saved inputs), so this is
    an estimate of activation memory, not a measurement.
    """
    return BYTES_PER_FLOAT32 * sum(math.prod(row.output_shape) for row in rows)


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Return (qualified name, module) of every ``Conv2d`` and ``Linear`` in definition order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[tuple[str, float]]:
    """Return the L2 norm of each weight layer's gradient for one batch, in definition order.

    ``x``: float32 (N, C, H, W) normalized images; ``y``: int64 (N,) labels. The model runs
    in training mode (BatchNorm uses the batch's statistics) and its ``.grad`` fields are
    cleared afterwards; its weights are not changed.
    """
    was_training = model.training
    model.train()
    model.zero_grad(set_to_none=True)
    try:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return [(name, module.weight.grad.norm().item()) for name, module in weight_layers(model)]
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)


def _pair_first(value: int | tuple[int, ...]) -> int:
    return value[0] if isinstance(value, tuple) else int(value)


def _layer_spec(module: nn.Module) -> LayerSpec | None:
    if isinstance(module, nn.Conv2d):
        return LayerSpec("conv", _pair_first(module.kernel_size), _pair_first(module.stride),
                         _pair_first(module.dilation), _pair_first(module.padding))  # fmt: skip
    if isinstance(module, nn.MaxPool2d):
        stride = module.stride if module.stride is not None else module.kernel_size
        return LayerSpec("maxpool", _pair_first(module.kernel_size), _pair_first(stride),
                         _pair_first(module.dilation), _pair_first(module.padding))  # fmt: skip
    if isinstance(module, nn.AvgPool2d):
        stride = module.stride if module.stride is not None else module.kernel_size
        return LayerSpec("avgpool", _pair_first(module.kernel_size), _pair_first(stride), 1,
                         _pair_first(module.padding))  # fmt: skip
    return None


def receptive_field_path(
    model: nn.Module, in_channels: int, image_size: int
) -> list[tuple[str, LayerSpec, LayerField]]:
    """Return (layer name, layer, receptive field after it) along the feature extractor.

    Runs ``model.forward_features`` (or ``forward``) once on a zero image and lists the
    convolution and pooling layers in execution order. Shortcut branches (see
    ``_SIDE_BRANCH_NAMES``) are left out, because a residual block's widest path is its main
    branch. A DenseNet's widest path chains every layer, in execution order.
    NOTE: squeeze-and-excitation layers are left out too, although their global pooling
    lets every output depend on the whole image through a channel weight.
    """
    visited: list[tuple[str, LayerSpec]] = []
    handles = []

    def record(name: str, spec: LayerSpec):
        def hook(_module, _inputs, _output) -> None:
            visited.append((name, spec))

        return hook

    inside_se = {
        id(inner)
        for module in model.modules()
        if isinstance(module, SqueezeExcitation)
        for inner in module.modules()
    }
    for name, module in model.named_modules():
        spec = _layer_spec(module)
        if spec is None or id(module) in inside_se:
            continue
        if any(part in _SIDE_BRANCH_NAMES for part in name.split(".")):
            continue
        handles.append(module.register_forward_hook(record(name, spec)))
    forward = getattr(model, "forward_features", model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            forward(torch.zeros(1, in_channels, image_size, image_size))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    fields = receptive_fields([spec for _, spec in visited], image_size)
    return [(name, spec, f) for (name, spec), f in zip(visited, fields, strict=True)]


@dataclass(frozen=True)
class Latency:
    median_ms: float
    iqr_ms: float  # interquartile range of the measured blocks
    device: str  # "cpu", "cuda", ...
    threads: int  # torch's CPU threads during the measurement


def measure_latency(
    module: nn.Module, input_shape: tuple[int, ...], device: torch.device, min_run_time: float = 0.2
) -> Latency:
    """Time one forward pass of a copy of ``module`` on a random input of ``input_shape``.

    Uses ``torch.utils.benchmark.Timer.blocked_autorange``, which repeats the call in blocks
    for at least ``min_run_time`` seconds and synchronizes CUDA. Other work on the same
    machine (other users' training jobs) slows the numbers down.
    """
    module = copy.deepcopy(module).to(device).eval()
    x = torch.randn(input_shape, device=device)
    threads = torch.get_num_threads()
    timer = benchmark.Timer(
        stmt="module(x)", globals={"module": module, "x": x}, num_threads=threads
    )
    with torch.inference_mode():
        module(x)  # warm-up: the first call allocates and picks kernels
        measurement = timer.blocked_autorange(min_run_time=min_run_time)
    return Latency(1e3 * measurement.median, 1e3 * measurement.iqr, device.type, threads)


@dataclass(frozen=True)
class BlockSummary:
    params: int
    flops: int  # one forward pass on one image (summary.count_flops)
    activation_bytes: int  # see activation_bytes
    output_shape: tuple[int, ...]  # (C, H, W)
    rows: list[LayerRow]  # summary.layer_table rows, execution order


def summarize_block(module: nn.Module, input_shape: tuple[int, int, int, int]) -> BlockSummary:
    """Return parameters, FLOPs, activation memory and per-layer shapes of ``module``.

    ``input_shape`` is (1, C, H, W). The model runs in eval mode on zeros.
    """
    rows = layer_table(module, input_shape)
    was_training = module.training
    module.eval()
    with torch.no_grad():
        output_shape = tuple(module(torch.zeros(input_shape)).shape[1:])
    module.train(was_training)
    return BlockSummary(
        params=count_parameters(module),
        flops=count_flops(module, input_shape),
        activation_bytes=activation_bytes(rows),
        output_shape=output_shape,
        rows=rows,
    )
