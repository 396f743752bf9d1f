"""Model summaries: parameter count, FLOPs and a per-layer table of output shapes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Return the number of parameters (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Return the FLOPs of one forward pass on a zero input of ``input_shape`` (N, C, H, W).

    Counted by ``torch.utils.flop_counter``: a multiply-add is 2 FLOPs, and only matrix
    multiplications and convolutions are counted (activations, pooling and BatchNorm are
    not), the usual convention for CNN FLOP tables. The model runs in eval mode on the CPU.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(torch.zeros(input_shape, device=device))
        return int(counter.get_total_flops())
    finally:
        model.train(was_training)


@dataclass(frozen=True)
class LayerRow:
    name: str  # qualified module name, e.g. "features.0.conv"
    kind: str  # module class name, e.g. "Conv2d"
    output_shape: tuple[int, ...]  # without the batch dimension
    parameters: int


def layer_table(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerRow]:
    """Run one forward pass and return every leaf module's output shape and parameter count.

    Rows come in execution order; a module called twice appears twice.
    """
    rows: list[LayerRow] = []
    handles = []

    def record(name: str):
        def hook(module: nn.Module, _inputs, output) -> None:
            shape = tuple(output.shape[1:]) if isinstance(output, torch.Tensor) else ()
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(LayerRow(name, type(module).__name__, shape, params))

        return hook

    for name, module in model.named_modules():
        if name and not list(module.children()):
            handles.append(module.register_forward_hook(record(name)))
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            model(torch.zeros(input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return rows
