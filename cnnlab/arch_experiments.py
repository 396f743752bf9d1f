"""Ready-made comparisons for the architecture lessons, as ``Trial`` lists for a ``TrainingJob``.

Budgets are counted in optimizer steps (``max_steps``) so each comparison stays short on a
CPU; a run still evaluates on the test split at the end of each (possibly partial) epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import torch
from torch import nn

from cnnlab.arch_analysis import gradient_norms
from cnnlab.architectures import BlockNet, BlockNetConfig
from cnnlab.data import LabData
from cnnlab.jobs import Trial
from cnnlab.training import TrainConfig, seeded

MNIST_5K_TRAIN = 4000  # training images of MNIST-5k, to turn a step budget into epochs
DEEP_WIDTH = 8  # channels of the deep stacks: narrow, so 2 × 150 steps stay short on a CPU


def deep_stack(block: str, num_blocks: int) -> BlockNetConfig:
    """Return ``num_blocks`` blocks of ``block`` ("plain" or "basic") behind a stride-2 stem.

    All blocks keep 8 channels at 14×14, so there are no projections: the residual version
    differs from the plain one only by its identity shortcuts. Weight layers: the stem,
    2 per block and the classifier, 2 · num_blocks + 2 in all.
    """
    return BlockNetConfig(block=block, stem_channels=DEEP_WIDTH, stem_stride=2,
                          widths=[DEEP_WIDTH], blocks_per_stage=num_blocks)  # fmt: skip


def small_block_net(block: str) -> BlockNetConfig:
    """Return the lightweight lesson's network for 28×28 inputs: a stride-2 stem of 16
    channels, then one ``block`` of 16 channels at 14×14, one of 32 at 7×7 and one of 64
    at 4×4. Three of them trained for 150 steps each took 30 s on a shared 2-core CPU."""
    return BlockNetConfig(
        block=block, stem_channels=16, stem_stride=2, widths=[16, 32, 64], blocks_per_stage=1
    )


def block_net_factory(config: BlockNetConfig) -> Callable[[LabData], nn.Module]:
    """Return a ``Trial.model_factory`` that builds ``config`` for the run's data shape."""

    def build(data: LabData) -> nn.Module:
        return BlockNet(replace(config, in_channels=data.in_channels, image_size=data.image_size,
                                num_classes=data.num_classes))  # fmt: skip

    return build


def step_budget(steps: int, batch_size: int, optimizer: str, lr: float, seed: int) -> TrainConfig:
    """Return a run on MNIST-5k that stops after ``steps`` optimizer steps."""
    epochs = max(1, math.ceil(steps * batch_size / MNIST_5K_TRAIN))
    return TrainConfig(dataset="mnist-5k", optimizer=optimizer, lr=lr, batch_size=batch_size,
                       epochs=epochs, max_steps=steps, seed=seed)  # fmt: skip


def degradation_trials(
    num_blocks: int, steps: int, labels: dict[str, str], seed: int = 0
) -> list[Trial]:
    """Return a plain and a residual deep stack of equal depth, trained on the same budget.

    SGD with momentum 0.9, learning rate 0.05, batch 32. ``labels`` maps "plain" and
    "basic" to the runs' names.
    """
    config = step_budget(steps, batch_size=32, optimizer="sgd", lr=0.05, seed=seed)
    return [
        Trial(labels[block], config, model_factory=block_net_factory(deep_stack(block, num_blocks)))
        for block in ("plain", "basic")
    ]


def block_trials(
    blocks: Sequence[str], steps: int, labels: dict[str, str], seed: int = 0
) -> list[Trial]:
    """Return ``small_block_net`` of each block kind, trained with Adam (lr 0.01, batch 64)."""
    config = step_budget(steps, batch_size=64, optimizer="adam", lr=1e-2, seed=seed)
    return [
        Trial(labels[block], config, model_factory=block_net_factory(small_block_net(block)))
        for block in blocks
    ]


def init_gradient_norms(
    config: BlockNetConfig, x: torch.Tensor, y: torch.Tensor, seed: int = 0
) -> list[tuple[str, float]]:
    """Build ``config`` with seed ``seed`` and return each weight layer's gradient norm on
    the batch (x: float32 (N, C, H, W) normalized, y: int64 (N,))."""
    config = replace(config, in_channels=x.shape[1], image_size=x.shape[-1])
    model = seeded(seed, lambda: BlockNet(config))
    return gradient_norms(model, x, y)
