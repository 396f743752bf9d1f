"""Batch normalization: with vs without, per-layer activation statistics during training,
train vs eval mode, tiny batches, and folding BatchNorm into the preceding convolution.

BatchNorm2d normalizes each channel over the batch and both spatial axes:
``y = γ · (x − μ_B) / sqrt(σ²_B + ε) + β`` in training mode (μ_B, σ²_B of the current
batch, σ² biased), and with the running estimates in eval mode. After each training-mode
forward pass the running estimates move: ``r ← (1 − m) · r + m · s`` with ``m`` the layer's
``momentum`` and ``s`` the batch mean or the *unbiased* batch variance.
"""

from __future__ import annotations

import copy
import statistics
import threading
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from cnnlab.data import LabData
from cnnlab.jobs import Trial
from cnnlab.models import CNNConfig, ConvBlockConfig, SmallCNN, build_model, with_input
from cnnlab.optim.study import SubsetBudget
from cnnlab.training import TrainConfig, seeded

# --- activation statistics during training -------------------------------------------------


@dataclass(frozen=True)
class LayerStat:
    step: int
    layer: str  # e.g. "block 1"
    mean: float  # over the batch, channels and pixels
    std: float


class ActivationRecorder:
    """Records the mean and std of each conv block's pre-activation (the input of its ReLU).

    ``attach(model)`` adds forward hooks that keep the latest training batch's statistics;
    ``step_hook`` (pass it to ``train``) copies them every ``every`` steps. That is the
    conv output without BatchNorm and the BatchNorm output with it. Thread-safe: the job
    thread writes, the page reads ``rows()``.
    """

    def __init__(self, every: int = 5) -> None:
        self.every = every
        self._latest: dict[str, tuple[float, float]] = {}
        self._rows: list[LayerStat] = []
        self._lock = threading.Lock()
        self._handles: list = []

    def attach(self, model: nn.Module) -> nn.Module:
        """Hook every ``act`` module of ``model``'s conv blocks; return ``model``."""
        blocks = [m for m in model.modules() if isinstance(m, nn.Sequential) and hasattr(m, "act")]
        for number, block in enumerate(blocks, start=1):
            self._handles.append(block.act.register_forward_hook(self._hook(f"block {number}")))
        return model

    def _hook(self, name: str):
        def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], output) -> None:
            if not module.training:
                return  # evaluation passes are not training steps
            x = inputs[0].detach().float()
            self._latest[name] = (x.mean().item(), x.std().item())

        return record

    def step_hook(self, model: nn.Module, step: int) -> None:
        if step != 1 and step % self.every:
            return
        with self._lock:
            for name, (mean, std) in self._latest.items():
                self._rows.append(LayerStat(step, name, mean, std))

    def rows(self) -> list[LayerStat]:
        with self._lock:
            return list(self._rows)

    def release(self) -> None:
        """Remove the hooks."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


# --- the comparisons --------------------------------------------------------------------


def deep_cnn(batch_norm: bool, widths: tuple[int, ...] = (16, 16, 32, 32)) -> CNNConfig:
    """Return a plain stack of 3×3 conv blocks (max-pooling after every second one)."""
    blocks = [
        ConvBlockConfig(width, pool="max" if index % 2 else "none", batch_norm=batch_norm)
        for index, width in enumerate(widths)
    ]
    return CNNConfig(blocks=blocks)


@dataclass(frozen=True)
class BatchNormStudy(SubsetBudget):
    """With vs without BatchNorm: same data, seed, optimizer and steps."""

    subset: int = 2000
    epochs: int = 2
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.01
    seed: int = 0

    def config(self, batch_norm: bool) -> TrainConfig:
        return TrainConfig(model=deep_cnn(batch_norm), optimizer=self.optimizer, lr=self.lr,
                           batch_size=self.batch_size, epochs=self.epochs, seed=self.seed)  # fmt: skip


@dataclass
class BatchNormExperiment:
    """The trials and the recorders the page reads while they run."""

    trials: list[Trial]
    recorders: dict[str, ActivationRecorder] = field(default_factory=dict)  # by trial label


def batchnorm_trials(study: BatchNormStudy, labels: dict[str, str]) -> BatchNormExperiment:
    """Return the two trials ("plain" and "bn" in ``labels``), each with an activation recorder."""
    experiment = BatchNormExperiment([])
    for key, batch_norm in (("plain", False), ("bn", True)):
        recorder = ActivationRecorder()
        config = study.config(batch_norm)

        def factory(data: LabData, config=config, recorder=recorder) -> nn.Module:
            model_config = with_input(config.model, data.in_channels, data.image_size,
                                      data.num_classes)  # fmt: skip
            return recorder.attach(build_model(model_config))

        def subset(data: LabData) -> LabData:
            return data.subset_train(study.subset, seed=study.seed)

        experiment.trials.append(Trial(labels[key], config, model_factory=factory,
                                       prepare_data=subset, step_hook=recorder.step_hook))  # fmt: skip
        experiment.recorders[labels[key]] = recorder
    return experiment


def batch_size_trials(
    subset: int,
    epochs: int,
    small_batch: int,
    large_batch: int,
    labels: dict[str, str],
    seed: int = 0,
) -> list[Trial]:
    """Return BatchNorm runs at a tiny and a normal batch size, and a plain run at the tiny one.

    All three see the same images for the same number of epochs (so the tiny batches take
    many more steps). ``labels`` names "bn_small", "bn_large" and "plain_small".
    """

    def prepare(data: LabData) -> LabData:
        return data.subset_train(subset, seed=seed)

    def config(batch_norm: bool, batch_size: int) -> TrainConfig:
        # Adam's per-parameter scaling keeps one learning rate usable for both batch sizes.
        return TrainConfig(model=deep_cnn(batch_norm), optimizer="adam", lr=1e-3,
                           batch_size=batch_size, epochs=epochs, seed=seed)  # fmt: skip

    return [
        Trial(labels["bn_small"], config(True, small_batch), prepare_data=prepare),
        Trial(labels["bn_large"], config(True, large_batch), prepare_data=prepare),
        Trial(labels["plain_small"], config(False, small_batch), prepare_data=prepare),
    ]


# --- train mode vs eval mode ----------------------------------------------------------------


@dataclass(frozen=True)
class ModeReport:
    """One BatchNorm2d layer on one batch, in training and in eval mode (per channel)."""

    batch_mean: torch.Tensor  # (C,) mean over N, H, W
    batch_var: torch.Tensor  # (C,) biased variance over N, H, W: what training mode divides by
    running_mean: torch.Tensor  # (C,) before this batch
    running_var: torch.Tensor  # (C,)
    weight: torch.Tensor  # (C,) γ
    bias: torch.Tensor  # (C,) β
    eps: float
    train_output: torch.Tensor  # (N, C, H, W), our formula with the batch statistics
    eval_output: torch.Tensor  # (N, C, H, W), our formula with the running estimates
    next_running_mean: torch.Tensor  # (C,) after a training-mode pass over this batch
    next_running_var: torch.Tensor  # (C,)


def batchnorm_by_hand(bn: nn.BatchNorm2d, x: torch.Tensor) -> ModeReport:
    """Compute what ``bn`` does to ``x`` (N, C, H, W) in both modes, without calling it.

    ``bn`` must track running statistics and have affine parameters (PyTorch's defaults).
    """
    with torch.no_grad():
        n = x.shape[0] * x.shape[2] * x.shape[3]
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        shape = (1, -1, 1, 1)
        gamma, beta = bn.weight.detach(), bn.bias.detach()

        def normalize(mu: torch.Tensor, sigma2: torch.Tensor) -> torch.Tensor:
            scaled = (x - mu.view(shape)) / torch.sqrt(sigma2.view(shape) + bn.eps)
            return gamma.view(shape) * scaled + beta.view(shape)

        m = bn.momentum
        unbiased = var * n / max(1, n - 1)
        return ModeReport(
            batch_mean=mean,
            batch_var=var,
            running_mean=bn.running_mean.clone(),
            running_var=bn.running_var.clone(),
            weight=gamma.clone(),
            bias=beta.clone(),
            eps=bn.eps,
            train_output=normalize(mean, var),
            eval_output=normalize(bn.running_mean, bn.running_var),
            next_running_mean=(1 - m) * bn.running_mean + m * mean,
            next_running_var=(1 - m) * bn.running_var + m * unbiased,
        )


def first_batchnorm_input(model: nn.Module, x: torch.Tensor) -> tuple[nn.BatchNorm2d, torch.Tensor]:
    """Return ``model``'s first BatchNorm2d and the tensor it receives for input ``x``."""
    bn = next((m for m in model.modules() if isinstance(m, nn.BatchNorm2d)), None)
    if bn is None:
        raise ValueError("the model has no BatchNorm2d layer")
    captured: list[torch.Tensor] = []
    handle = bn.register_forward_pre_hook(
        lambda module, inputs: captured.append(inputs[0].detach())
    )
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(x)
        model.train(was_training)
    finally:
        handle.remove()
    return bn, captured[0]


def warmed_up_model(
    data: LabData, batches: int = 20, batch_size: int = 64, seed: int = 0
) -> SmallCNN:
    """Return a freshly initialized BatchNorm CNN whose running statistics have seen
    ``batches`` training batches (forward passes only, no weight updates)."""
    config = with_input(deep_cnn(True), data.in_channels, data.image_size, data.num_classes)
    model = seeded(seed, lambda: build_model(config))
    model.train()
    with torch.no_grad():
        for start in range(0, batches * batch_size, batch_size):
            model(data.x_train[start : start + batch_size])
    return model.eval()


# --- folding BatchNorm into the convolution -------------------------------------------------


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """Return one Conv2d equal to ``bn(conv(x))`` with ``bn`` in eval mode.

    ``W' = W · γ / sqrt(σ² + ε)`` per output channel and
    ``b' = (b − μ) · γ / sqrt(σ² + ε) + β`` with μ, σ² the running estimates.
    """
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)  # (C_out,)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                       conv.padding, conv.dilation, conv.groups, bias=True,
                       padding_mode=conv.padding_mode)  # fmt: skip
    with torch.no_grad():
        folded.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        folded.bias.copy_((bias - bn.running_mean) * scale + bn.bias.detach())
    return folded


def fold_model(model: nn.Module) -> tuple[nn.Module, int]:
    """Return an eval-mode copy of ``model`` with every ``conv`` → ``bn`` pair folded, and
    the number of pairs folded. A pair is a module with children named ``conv`` and ``bn``
    (``cnnlab.models.ConvBlock``); the ``bn`` becomes ``nn.Identity``."""
    folded = copy.deepcopy(model).cpu().eval()
    count = 0
    for module in folded.modules():
        conv, bn = getattr(module, "conv", None), getattr(module, "bn", None)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
            module.conv = fold_conv_bn(conv, bn)
            module.bn = nn.Identity()
            count += 1
    return folded, count


@dataclass(frozen=True)
class FoldReport:
    pairs: int  # conv → BatchNorm pairs folded
    max_abs_diff: float  # largest |logit difference| between the two models
    tolerance: float
    original_ms: float  # median time of one forward pass of the batch
    folded_ms: float
    batch_size: int
    repeats: int
    parameters_before: int
    parameters_after: int

    @property
    def matches(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    @property
    def saved_percent(self) -> float:
        return 100 * (1 - self.folded_ms / self.original_ms) if self.original_ms > 0 else 0.0


FOLD_TOLERANCE = 1e-4  # float32 rounding: a warmed-up MNIST model differed by ~1e-7


def _median_ms(model: nn.Module, x: torch.Tensor, repeats: int) -> float:
    times = []
    with torch.inference_mode():
        model(x)  # warm-up: first-call allocations
        for _ in range(repeats):
            started = time.perf_counter()
            model(x)
            times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def fold_and_compare(model: nn.Module, x: torch.Tensor, repeats: int = 20) -> FoldReport:
    """Fold ``model``'s BatchNorm layers, check the logits on ``x`` (N, C, H, W) and time both.

    Times are medians of ``repeats`` forward passes on this machine's CPU, in alternating
    order so background load hits both models alike.
    """
    original = copy.deepcopy(model).cpu().eval()
    folded, pairs = fold_model(original)
    x = x.cpu()
    with torch.inference_mode():
        diff = (original(x) - folded(x)).abs().max().item()
    original_ms, folded_ms = [], []
    for _ in range(3):
        original_ms.append(_median_ms(original, x, max(1, repeats // 3)))
        folded_ms.append(_median_ms(folded, x, max(1, repeats // 3)))
    return FoldReport(
        pairs=pairs,
        max_abs_diff=diff,
        tolerance=FOLD_TOLERANCE,
        original_ms=statistics.median(original_ms),
        folded_ms=statistics.median(folded_ms),
        batch_size=len(x),
        repeats=3 * max(1, repeats // 3),
        parameters_before=sum(p.numel() for p in original.parameters()),
        parameters_after=sum(p.numel() for p in folded.parameters()),
    )


def check_against_torch(
    bn: nn.BatchNorm2d, x: torch.Tensor, report: ModeReport
) -> tuple[float, float]:
    """Return the largest |difference| between ``report``'s outputs and PyTorch's layer, in
    training and in eval mode. Runs on a copy, so ``bn``'s running statistics stay as they are."""
    layer = copy.deepcopy(bn)
    with torch.no_grad():
        layer.eval()
        eval_diff = (layer(x) - report.eval_output).abs().max().item()
        layer.train()
        train_diff = (layer(x) - report.train_output).abs().max().item()
    return train_diff, eval_diff
