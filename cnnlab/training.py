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
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data import LabData, batch_indices, random_shift, stratified_split
from cnnlab.devices import amp_dtype, pick_device, supports_amp
from cnnlab.models import CNNConfig, build_model, preset, with_input
from cnnlab.schedules import LR_RANGE_TEST, SCHEDULES, make_scheduler

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
    lr: float = 4e-3
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
    validation_size: int = 0  # training samples held out (class-balanced) as a validation split
    early_stopping_patience: int = 0  # epochs without a new validation-loss minimum; 0: off
    # Learning-rate factor per top-level submodule name, e.g. {"features": 0.1} (discriminative
    # fine-tuning); parameters of submodules not listed train at ``lr``.
    lr_multipliers: dict[str, float] = field(default_factory=dict)
    lr_start: float | None = None  # "lr_range_test" schedule only: the first step's learning rate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        values = dict(values)
        values["model"] = CNNConfig.from_dict(values["model"])
        return cls(**values)


def recipe_99(epochs: int = 12) -> TrainConfig:
    """Return the MNIST-5k recipe that reaches about 99 % test accuracy.

    BatchNorm, random shifts of up to 2 pixels, label smoothing 0.1 and a one-cycle
    schedule. Seeds 0, 1 and 2 ended at 99.0–99.1 % after 12 epochs, about a minute on two
    CPU cores (``bench/recipes.py``, figures in ``bench/RESULTS.md``).
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
        label_smoothing=0.1,
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
    val_loss: float | None = None  # on the held-out validation split, when there is one
    val_acc: float | None = None


@dataclass
class TrainResult:
    status: str  # "finished", "stopped" or "diverged"
    model: nn.Module
    steps: int
    last_finite_loss: float | None = None
    final: EpochMetrics | None = None
    early_stopped_epoch: int | None = None  # the epoch after which early stopping ended the run


class RunControl:
    """Pause and stop flags shared between a training loop and the code that monitors it."""

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


def parameter_groups(model: nn.Module, multipliers: dict[str, float], lr: float) -> list[dict]:
    """Split ``model``'s parameters into optimizer groups by top-level submodule name.

    Each name in ``multipliers`` gets a group with learning rate ``lr * multiplier``; all
    other parameters form one group at ``lr``. Raises ``ValueError`` for a name that is not
    a direct child of ``model``.
    """
    children = dict(model.named_children())
    unknown = set(multipliers) - set(children)
    if unknown:
        raise ValueError(f"lr_multipliers names {sorted(unknown)}, expected among {list(children)}")
    groups, grouped = [], set()
    for name, factor in multipliers.items():
        params = list(children[name].parameters())
        grouped.update(id(p) for p in params)
        groups.append({"params": params, "lr": lr * factor, "name": name})
    rest = [p for p in model.parameters() if id(p) not in grouped]
    if rest:
        groups.insert(0, {"params": rest, "lr": lr, "name": "default"})
    return groups


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
    if config.schedule not in SCHEDULES + (LR_RANGE_TEST,):
        raise ValueError(f"unknown schedule {config.schedule!r}; expected one of {SCHEDULES}")
    if not (config.lr > 0 and math.isfinite(config.lr)):
        raise ValueError(f"lr must be a positive number, got {config.lr}")
    if config.batch_size < 1 or config.epochs < 1:
        raise ValueError("batch_size and epochs must be at least 1")
    if config.validation_size < 0 or config.early_stopping_patience < 0:
        raise ValueError("validation_size and early_stopping_patience must not be negative")
    if config.early_stopping_patience and not config.validation_size:
        raise ValueError("early stopping needs a validation split: set validation_size > 0")
    factors = config.lr_multipliers.values()
    if any(not (factor >= 0 and math.isfinite(factor)) for factor in factors):
        raise ValueError(f"lr_multipliers must be non-negative, got {config.lr_multipliers}")


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
    """Return how many optimizer steps a run of ``config`` on ``n_train`` samples takes.

    ``n_train`` counts the training split before ``config.validation_size`` is held out.
    """
    n_train = max(1, n_train - config.validation_size)
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


def split_validation(data: LabData, size: int, seed: int) -> tuple[LabData, LabData | None]:
    """Hold ``size`` class-balanced training samples out of ``data``.

    Returns (data without them, data whose *test* split is the validation samples), or
    (``data``, None) when ``size`` is 0. Raises ``ValueError`` when nothing would be left.
    """
    if size <= 0:
        return data, None
    if size >= len(data.y_train):
        raise ValueError(f"validation_size {size} must be below the {len(data.y_train)} samples")
    keep, held_out = stratified_split(data.y_train.cpu().numpy(), size, seed)
    keep_t = torch.from_numpy(keep).to(data.x_train.device)
    held_t = torch.from_numpy(held_out).to(data.x_train.device)
    train_part = replace(data, x_train=data.x_train[keep_t], y_train=data.y_train[keep_t])
    validation = replace(data, x_test=data.x_train[held_t], y_test=data.y_train[held_t])
    return train_part, validation


def train(
    config: TrainConfig,
    data: LabData,
    model: nn.Module | None = None,
    control: RunControl | None = None,
    callback: Callable[[StepMetrics | EpochMetrics], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    step_hook: Callable[[nn.Module, int], None] | None = None,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
) -> TrainResult:
    """Train ``model`` (or a fresh one from ``config.model``) on ``data``.

    Runs on ``config.device`` (``auto`` picks CUDA, MPS or CPU); the data is moved there
    once. Stops early at ``config.max_steps``, when ``control`` requests it, or when the loss stops
    being finite (status ``diverged``, with the last finite loss). On the CPU, a run with a
    fixed seed is reproducible when no other job runs at the same time.

    ``step_hook(model, step)`` runs after each optimizer step, while the parameters'
    ``.grad`` still hold that step's gradients (e.g. to record gradient norms).

    ``augment(x, generator)`` transforms each training batch (B, C, H, W), normalized, on
    the training device, after ``config.shift_augment``; it must draw its randomness from
    ``generator`` (a seeded CPU generator) so the run stays reproducible.

    With ``config.validation_size`` > 0 that many training samples are held out, and each
    ``EpochMetrics`` carries their loss and accuracy. With ``config.early_stopping_patience``
    > 0 the run ends (status ``finished``, ``early_stopped_epoch`` set) once the validation
    loss has not reached a new minimum for that many epochs; the model is the last one
    trained, not the best one.
    """
    # NOTE: dropout draws from torch's process-wide generator, so two jobs with dropout that
    # run at the same time can perturb each other's random masks.
    validate_train_config(config)
    control = control or RunControl()
    callback = callback or (lambda _metrics: None)
    device = pick_device(config.device)
    data = data.to(device)
    total_steps = planned_steps(config, len(data.x_train))
    data, validation = split_validation(data, config.validation_size, config.seed)
    model = (model or init_model(config, data)).to(device)
    model.train()

    groups = parameter_groups(model, config.lr_multipliers, config.lr)
    optimizer = make_optimizer(config, groups)
    scheduler = make_scheduler(config.schedule, optimizer, total_steps, config.lr, config.lr_start)
    use_amp = config.amp and supports_amp(device)
    dtype = amp_dtype(device)
    scaler = torch.amp.GradScaler(device.type, enabled=use_amp and dtype == torch.float16)
    generator = torch.Generator().manual_seed(config.seed)

    step = 0
    elapsed = 0.0
    last_finite: float | None = None
    final: EpochMetrics | None = None
    best_val_loss, epochs_without_gain = math.inf, 0
    for epoch in range(1, config.epochs + 1):
        epoch_loss, epoch_correct, epoch_seen, epoch_time = 0.0, 0, 0, 0.0
        for index in batch_indices(len(data.x_train), config.batch_size, generator, device):
            if not control.checkpoint(on_wait):
                return TrainResult("stopped", model, step, last_finite, final)
            started = time.perf_counter()

            x = random_shift(data.x_train[index], config.shift_augment, generator)
            if augment is not None:
                x = augment(x, generator)
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
        val_loss = val_acc = None
        if validation is not None:
            val_loss, val_acc, _ = evaluate(model, validation.x_test, validation.y_test)
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
            val_loss=val_loss,
            val_acc=val_acc,
        )
        callback(final)
        if step >= total_steps:
            break
        if val_loss is not None and val_loss < best_val_loss:
            best_val_loss, epochs_without_gain = val_loss, 0
        elif val_loss is not None:
            epochs_without_gain += 1
        if config.early_stopping_patience and epochs_without_gain >= config.early_stopping_patience:
            log.info(
                "early stopping after epoch %d (best validation loss %.4f)", epoch, best_val_loss
            )
            return TrainResult(
                "finished", model, step, last_finite, final, early_stopped_epoch=epoch
            )
    return TrainResult("finished", model, step, last_finite, final)
