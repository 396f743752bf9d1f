"""The training loop: plain in-memory PyTorch that reports metrics through a callback.

The loop never prints or draws. ``train`` reports a ``StepMetrics`` after every optimizer
step and an ``EpochMetrics`` after every epoch to ``callback``, and checks ``control``
between batches so pause and stop take effect within one batch.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data import LabData, batch_indices, random_shift
from cnnlab.devices import amp_dtype, pick_device, supports_amp
from cnnlab.models import CNNConfig, build_model, preset, with_input
from cnnlab.schedules import SCHEDULES, make_scheduler

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adam", "adamw")

# Seeding and weight initialization use torch's process-wide generator; this lock keeps two
# jobs that start at the same moment from interleaving there.
_INIT_LOCK = threading.Lock()


@dataclass
class TrainConfig:
    dataset: str = "mnist-5k"
    model: CNNConfig = field(default_factory=lambda: preset("small"))
    optimizer: str = "adam"
    lr: float = 2e-3
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 3
    schedule: str = "constant"
    shift_augment: int = 0  # random translation of training images, in pixels
    label_smoothing: float = 0.0
    seed: int = 0
    device: str = "auto"
    amp: bool = False  # mixed precision; used on CUDA only
    max_steps: int | None = None  # stop early after this many steps (tests, quick demos)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        values = dict(values)
        values["model"] = CNNConfig.from_dict(values["model"])
        return cls(**values)


def recipe_99(epochs: int = 15) -> TrainConfig:
    """Return the MNIST-5k recipe that reaches about 99 % test accuracy.

    BatchNorm, random shifts of up to 2 pixels and a one-cycle schedule; about a minute on
    two CPU cores (see ``bench/RESULTS.md``).
    """
    return TrainConfig(
        model=preset("bn-recipe"),
        optimizer="adamw",
        lr=4e-3,
        weight_decay=5e-4,
        batch_size=128,
        epochs=epochs,
        schedule="onecycle",
        shift_augment=2,
    )


@dataclass(frozen=True)
class StepMetrics:
    step: int  # 1-based optimizer step
    epoch: float  # fractional epoch, e.g. 1.5 halfway through the second epoch
    loss: float
    lr: float
    samples_per_s: float
    elapsed: float  # seconds of training since the start (pauses excluded)


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int  # 1-based
    step: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    lr: float
    samples_per_s: float  # training samples per second in this epoch (evaluation excluded)
    seconds: float  # elapsed since the start, pauses excluded


@dataclass
class TrainResult:
    status: str  # "finished", "stopped" or "diverged"
    model: nn.Module
    steps: int
    last_finite_loss: float | None = None
    final: EpochMetrics | None = None


class RunControl:
    """Pause and stop flags shared between a training loop and whoever watches it."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.resume_event = threading.Event()
        self.resume_event.set()

    def pause(self) -> None:
        self.resume_event.clear()

    def resume(self) -> None:
        self.resume_event.set()

    def stop(self) -> None:
        self.stop_event.set()
        self.resume_event.set()  # wake a paused loop so it can see the stop

    @property
    def paused(self) -> bool:
        return not self.resume_event.is_set()

    def checkpoint(self, on_wait: Callable[[], None] | None = None) -> bool:
        """Block while paused; return False once a stop was requested.

        ``on_wait`` runs about every half second while paused (e.g. an orphan check).
        """
        while not self.resume_event.wait(timeout=0.5):
            if on_wait is not None:
                on_wait()
        return not self.stop_event.is_set()


def make_optimizer(config: TrainConfig, params) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; expected one of {OPTIMIZERS}")


def validate_train_config(config: TrainConfig) -> None:
    """Reject settings the loop cannot run, with a message naming the field."""
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; expected one of {OPTIMIZERS}")
    if config.schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {config.schedule!r}; expected one of {SCHEDULES}")
    if not (config.lr > 0 and math.isfinite(config.lr)):
        raise ValueError(f"lr must be a positive number, got {config.lr}")
    if config.batch_size < 1 or config.epochs < 1:
        raise ValueError("batch_size and epochs must be at least 1")


@torch.inference_mode()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000
) -> tuple[float, float, torch.Tensor]:
    """Return (mean cross-entropy, accuracy in [0, 1], predicted classes (N,)) in eval mode."""
    was_training = model.training
    model.eval()
    total_loss = 0.0
    predictions = []
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size]).float()
        total_loss += F.cross_entropy(logits, y[start : start + batch_size], reduction="sum").item()
        predictions.append(logits.argmax(dim=1))
    model.train(was_training)
    predicted = torch.cat(predictions)
    accuracy = (predicted == y).float().mean().item()
    return total_loss / max(1, len(x)), accuracy, predicted


def planned_steps(config: TrainConfig, n_train: int) -> int:
    """Return how many optimizer steps a run of ``config`` on ``n_train`` samples takes."""
    total = math.ceil(n_train / config.batch_size) * config.epochs
    return min(total, config.max_steps) if config.max_steps is not None else total


def seeded(seed: int, build: Callable[[], nn.Module]) -> nn.Module:
    """Call ``build()`` right after ``torch.manual_seed(seed)``, so its weights are reproducible."""
    with _INIT_LOCK:
        torch.manual_seed(seed)
        return build()


def init_model(config: TrainConfig, data: LabData) -> nn.Module:
    """Build the configured model for ``data``'s shape, seeded by ``config.seed``."""
    model_config = with_input(config.model, data.in_channels, data.image_size, data.num_classes)
    return seeded(config.seed, lambda: build_model(model_config))


def train(
    config: TrainConfig,
    data: LabData,
    model: nn.Module | None = None,
    control: RunControl | None = None,
    callback: Callable[[StepMetrics | EpochMetrics], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    step_hook: Callable[[nn.Module, int], None] | None = None,
) -> TrainResult:
    """Train ``model`` (or a fresh one from ``config.model``) on ``data``.

    Runs on ``config.device`` (``auto`` picks CUDA, MPS or CPU); the data is moved there
    once. Stops early at ``config.max_steps``, when ``control`` asks, or when the loss stops
    being finite (status ``diverged``, with the last finite loss). On the CPU, a run with a
    fixed seed is reproducible when no other job runs at the same time.

    ``step_hook(model, step)`` runs after each optimizer step, while the parameters'
    ``.grad`` still hold that step's gradients (e.g. to record gradient norms).
    """
    # NOTE: dropout draws from torch's process-wide generator, so two jobs with dropout that
    # run at the same time can perturb each other's random masks.
    validate_train_config(config)
    control = control or RunControl()
    callback = callback or (lambda _metrics: None)
    device = pick_device(config.device)
    data = data.to(device)
    model = (model or init_model(config, data)).to(device)
    model.train()

    optimizer = make_optimizer(config, model.parameters())
    total_steps = planned_steps(config, len(data.x_train))
    scheduler = make_scheduler(config.schedule, optimizer, total_steps, config.lr)
    use_amp = config.amp and supports_amp(device)
    dtype = amp_dtype(device)
    scaler = torch.amp.GradScaler(device.type, enabled=use_amp and dtype == torch.float16)
    generator = torch.Generator().manual_seed(config.seed)

    step = 0
    elapsed = 0.0
    last_finite: float | None = None
    final: EpochMetrics | None = None
    for epoch in range(1, config.epochs + 1):
        epoch_loss, epoch_correct, epoch_seen, epoch_time = 0.0, 0, 0, 0.0
        for index in batch_indices(len(data.x_train), config.batch_size, generator, device):
            if not control.checkpoint(on_wait):
                return TrainResult("stopped", model, step, last_finite, final)
            started = time.perf_counter()

            x = random_shift(data.x_train[index], config.shift_augment, generator)
            y = data.y_train[index]
            lr = optimizer.param_groups[0]["lr"]
            with torch.autocast(device.type, dtype=dtype, enabled=use_amp):
                logits = model(x)
                loss = F.cross_entropy(logits.float(), y, label_smoothing=config.label_smoothing)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                # Checked before the update, so the model keeps its last finite weights.
                log.info("run diverged at step %d (last finite loss %s)", step + 1, last_finite)
                return TrainResult("diverged", model, step, last_finite, final)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            if step_hook is not None:
                step_hook(model, step + 1)

            step += 1
            duration = time.perf_counter() - started
            elapsed += duration
            epoch_time += duration
            last_finite = loss_value
            epoch_loss += loss_value * len(y)
            epoch_correct += (logits.argmax(dim=1) == y).sum().item()
            epoch_seen += len(y)
            callback(StepMetrics(step, epoch - 1 + epoch_seen / len(data.x_train), loss_value,
                                 lr, len(y) / max(duration, 1e-9), elapsed))  # fmt: skip
            if step >= total_steps:
                break

        test_loss, test_acc, _ = evaluate(model, data.x_test, data.y_test)
        final = EpochMetrics(
            epoch=epoch,
            step=step,
            train_loss=epoch_loss / max(1, epoch_seen),
            train_acc=epoch_correct / max(1, epoch_seen),
            test_loss=test_loss,
            test_acc=test_acc,
            lr=optimizer.param_groups[0]["lr"],
            samples_per_s=epoch_seen / max(epoch_time, 1e-9),
            seconds=elapsed,
        )
        callback(final)
        if step >= total_steps:
            break
    return TrainResult("finished", model, step, last_finite, final)
